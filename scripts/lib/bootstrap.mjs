// What `npm start` and `npm test` need before any TypeScript exists: Debian packages, node_modules and a
// build. Plain JavaScript on purpose: it runs on a fresh clone.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostTarget, packageTarget } from './vsixTargets.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Debian packages by the program they provide: what each tier and `npm start` run for real. */
export const DEBIAN_PACKAGES = {
  'nats-server': 'nats-server',
  'clickhouse-server': 'clickhouse-server',
  chromium: 'chromium',
  rg: 'ripgrep',
  go: 'golang-go',
  'krb5-config': 'libkrb5-dev',
  openssl: 'openssl',
  prometheus: 'prometheus',
  promtool: 'prometheus',
  zsh: 'zsh',
};

export function log(message) {
  process.stderr.write(`\x1b[36m▸\x1b[0m ${message}\n`);
}

export function which(program) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Installs the missing Debian packages when we are root; otherwise says exactly what to run. */
export function ensureDebianPackages(programs) {
  const missing = programs.filter((p) => !which(p)).map((p) => DEBIAN_PACKAGES[p] ?? p);
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !which('apt-get')) {
    throw new Error(
      `missing programs: ${missing.join(', ')}. Install them with: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

/** `npm ci` when node_modules is missing or older than the lockfile. */
export function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) return;
  log('npm ci');
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root });
}

export function build() {
  log('build (esbuild)');
  run(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root });
}

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.signal ?? `exit ${result.status}`})`);
  }
}

export function packageJson() {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
}

/** Builds the VSIX of this machine's platform (scripts/lib/vsixTargets.mjs; `npm run package -- --all` for every one). */
export function packageVsix() {
  return packageTarget(hostTarget());
}
