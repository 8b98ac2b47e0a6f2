// The platforms the extension ships for, and how one platform's VSIX is made: DuckDB's native binding for that
// platform is fetched from the npm registry (through npm's cache, so a second run is offline), staged beside
// the built bundles, and `vsce package --target` packs the stage. Plain JavaScript: it runs before any build.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, packageJson, root } from './bootstrap.mjs';

/**
 * VS Code's platform names (`vsce package --target`) → the DuckDB binding package for it and what its native
 * files must be. `universal` is the VSIX every other platform (linux-armhf, web-less remotes, …) falls back to:
 * it has no binding, so the embedded store is unavailable there and the extension says so (docs/packaging.md).
 */
export const VSIX_TARGETS = {
  'linux-x64': { binding: 'linux-x64', format: 'ELF', arch: 'x64', libc: 'glibc' },
  'linux-arm64': { binding: 'linux-arm64', format: 'ELF', arch: 'arm64', libc: 'glibc' },
  'alpine-x64': { binding: 'linux-x64-musl', format: 'ELF', arch: 'x64', libc: 'musl' },
  'alpine-arm64': { binding: 'linux-arm64-musl', format: 'ELF', arch: 'arm64', libc: 'musl' },
  'darwin-x64': { binding: 'darwin-x64', format: 'Mach-O', arch: 'x64' },
  'darwin-arm64': { binding: 'darwin-arm64', format: 'Mach-O', arch: 'arm64' },
  'win32-x64': { binding: 'win32-x64', format: 'PE', arch: 'x64' },
  'win32-arm64': { binding: 'win32-arm64', format: 'PE', arch: 'arm64' },
  universal: { binding: undefined },
};

/** The VS Code target of the machine we run on (what `npm run package` builds by default). */
export function hostTarget() {
  if (process.platform === 'linux' && isMusl()) return `alpine-${process.arch}`;
  return `${process.platform}-${process.arch}`;
}

function isMusl() {
  const report = /** @type {{ header?: { glibcVersionRuntime?: string } }} */ (process.report?.getReport() ?? {});
  return !report.header?.glibcVersionRuntime;
}

export function vsixFile(target) {
  const pkg = packageJson();
  return join(root, 'dist-vsix', target === 'universal' ? `${pkg.name}-${pkg.version}.vsix` : `${pkg.name}-${target}-${pkg.version}.vsix`);
}

function duckdbVersion() {
  return JSON.parse(readFileSync(join(root, 'node_modules', '@duckdb', 'node-bindings', 'package.json'), 'utf8')).version;
}

/**
 * The unpacked binding package for a target: the host's comes from node_modules (npm ci installed it); any
 * other is `npm pack`ed from the registry with --prefer-offline, so once npm's cache holds it no network is used.
 * `offline: true` forbids the network (the tests' way of asking "is it cached?").
 */
export function bindingDir(target, { offline = false } = {}) {
  const spec = VSIX_TARGETS[target];
  if (!spec) throw new Error(`unknown target "${target}"; targets are ${Object.keys(VSIX_TARGETS).join(', ')}`);
  if (!spec.binding) return undefined;
  const name = `@duckdb/node-bindings-${spec.binding}`;
  const version = duckdbVersion();
  const installed = join(root, 'node_modules', name);
  if (existsSync(join(installed, 'duckdb.node')) && JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version === version) return installed;
  const cache = join(root, 'node_modules', '.cache', 'duckdb-bindings', version);
  const unpacked = join(cache, spec.binding, 'package');
  if (existsSync(join(unpacked, 'duckdb.node'))) return unpacked;
  mkdirSync(cache, { recursive: true });
  log(`fetch ${name}@${version}${offline ? ' (offline, from the npm cache)' : ''}`);
  let tarball;
  try {
    const out = execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', cache, '--silent', offline ? '--offline' : '--prefer-offline'], {
      cwd: cache,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    tarball = join(cache, out.trim().split('\n').pop());
  } catch (error) {
    const reason = String(error.stderr ?? error.message).trim().split('\n').slice(-3).join(' ');
    throw new Error(`cannot fetch ${name}@${version} for ${target}${offline ? ' from the npm cache (run npm run package -- --all once with the registry reachable)' : ''}: ${reason}`);
  }
  mkdirSync(join(cache, spec.binding), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(cache, spec.binding)]);
  rmSync(tarball);
  return unpacked;
}

/**
 * Copies one slice out of a universal ("fat") Mach-O, as `lipo -thin` does: each slice is a complete Mach-O with
 * its own code signature, so the copy loads and verifies like the original. DuckDB's macOS packages carry a
 * libduckdb.dylib for both Intel and Apple silicon; a darwin-x64 VSIX needs only the x86_64 half.
 */
export function thinMachO(bytes, arch) {
  if (bytes.readUInt32BE(0) !== 0xcafebabe) return bytes;
  const wanted = arch === 'arm64' ? 0x0100000c : 0x01000007;
  const count = bytes.readUInt32BE(4);
  for (let i = 0; i < count; i++) {
    const entry = 8 + i * 20;
    if (bytes.readUInt32BE(entry) !== wanted) continue;
    const offset = bytes.readUInt32BE(entry + 8);
    const size = bytes.readUInt32BE(entry + 12);
    return bytes.subarray(offset, offset + size);
  }
  throw new Error(`the universal Mach-O has no ${arch} slice`);
}

/** Copies a folder's files (not sub-folders) into another, thinning Mach-O libraries to the target's arch. */
function copyBinding(from, to, spec) {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (!statSync(join(from, name)).isFile()) continue;
    const bytes = readFileSync(join(from, name));
    writeFileSync(join(to, name), spec.format === 'Mach-O' ? thinMachO(bytes, spec.arch) : bytes);
  }
}

const SCREENSHOT_LINK = /\]\(\.\.\/docs\/images\/([\w.-]+\.png)\)/g;

/**
 * The folder vsce packs for one target: the manifest, the user README (marketplace/README.md, its screenshots
 * copied in from docs/images), CHANGELOG, LICENSE, media, grammar, the bundles, the alert runbooks, and in node_modules only
 * DuckDB's loader, detect-libc (which it asks musl or glibc) and the target's binding. `@duckdb/node-api` is
 * bundled into dist/server.js; its package.json is staged only so that vsce's `npm ls` finds the tree whole.
 */
export function stage(target, options = {}) {
  const spec = VSIX_TARGETS[target];
  const dir = join(root, 'dist-vsix', `.stage-${target}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of ['package.json', '.vscodeignore', 'LICENSE']) cpSync(join(root, file), join(dir, file));
  // No source maps, but the sandbox gateway's: its pods map breakpoints in demo/gateway with it.
  const shippedMap = join(root, 'dist', 'demo', 'gateway.js.map');
  for (const folder of ['media', 'syntaxes', 'dist']) cpSync(join(root, folder), join(dir, folder), { recursive: true, filter: (src) => !src.endsWith('.map') || src === shippedMap });
  // The alert rules' runbooks: StreamGate: Open Alert Runbook… opens them from the installed extension.
  cpSync(join(root, 'docs', 'runbooks'), join(dir, 'docs', 'runbooks'), { recursive: true });
  const readme = readFileSync(join(root, 'marketplace', 'README.md'), 'utf8');
  mkdirSync(join(dir, 'media', 'screenshots'), { recursive: true });
  for (const [, image] of readme.matchAll(SCREENSHOT_LINK)) cpSync(join(root, 'docs', 'images', image), join(dir, 'media', 'screenshots', image));
  writeFileSync(join(dir, 'README.md'), readme.replace(SCREENSHOT_LINK, '](media/screenshots/$1)'));
  cpSync(join(root, 'marketplace', 'CHANGELOG.md'), join(dir, 'CHANGELOG.md'));
  const modules = join(dir, 'node_modules');
  const nodeApi = join(modules, '@duckdb', 'node-api');
  mkdirSync(nodeApi, { recursive: true });
  cpSync(join(root, 'node_modules', '@duckdb', 'node-api', 'package.json'), join(nodeApi, 'package.json'));
  cpSync(join(root, 'node_modules', '@duckdb', 'node-bindings'), join(modules, '@duckdb', 'node-bindings'), { recursive: true });
  cpSync(join(root, 'node_modules', 'detect-libc'), join(modules, 'detect-libc'), { recursive: true });
  if (spec.binding) copyBinding(bindingDir(target, options), join(modules, '@duckdb', `node-bindings-${spec.binding}`), spec);
  return dir;
}

/** Builds the VSIX of one target from the current dist/ (build first); returns its path. */
export function packageTarget(target, options = {}) {
  if (!VSIX_TARGETS[target]) throw new Error(`unknown target "${target}"; targets are ${Object.keys(VSIX_TARGETS).join(', ')}`);
  const dir = stage(target, options);
  const out = vsixFile(target);
  mkdirSync(join(root, 'dist-vsix'), { recursive: true });
  log(`package ${out} (target ${target})`);
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
      'package',
      ...(target === 'universal' ? [] : ['--target', target]),
      '--out',
      out,
      '--no-rewrite-relative-links',
    ],
    { cwd: dir, stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit'] },
  );
  rmSync(dir, { recursive: true, force: true });
  return out;
}
