#!/usr/bin/env node
// What publishing would do, without publishing: `vsce ls` on the staged extension (the files vsce would pack),
// then `ovsx publish` of every VSIX in dist-vsix/ (or those named) against a stand-in of the Open VSX registry on
// loopback. The stand-in (MOCK: the real registry is a service on the internet) receives each upload, checks it
// is byte for byte the file, and refuses it as Open VSX would when the package lacks what the registry requires:
// a manifest, a publisher and name it accepts, a semantic version, engines.vscode, a license, a platform it serves.
//   node scripts/publish-dry-run.mjs [file.vsix ...]
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { root } from './lib/bootstrap.mjs';
import { readZip } from './lib/vsixCheck.mjs';
import { hostTarget, stage } from './lib/vsixTargets.mjs';

const OPEN_VSX_PLATFORMS = ['universal', 'win32-x64', 'win32-ia32', 'win32-arm64', 'linux-x64', 'linux-arm64', 'linux-armhf', 'alpine-x64', 'alpine-arm64', 'darwin-x64', 'darwin-arm64', 'web'];

let failed = false;
const fail = (message) => {
  failed = true;
  process.stdout.write(`✗ ${message}\n`);
};

// --- vsce ls ---------------------------------------------------------------------------------------------------
const target = hostTarget();
const dir = stage(target);
try {
  const listed = execFileSync(process.execPath, [join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
  const binding = listed.filter((f) => f.startsWith('node_modules/@duckdb/node-bindings-'));
  if (!listed.includes('dist/extension.js') || binding.length === 0) fail(`vsce ls (${target}) lacks the extension bundle or the binding: ${listed.join(', ')}`);
  // The one map shipped is the sandbox gateway's (its pods map breakpoints with it; see scripts/lib/vsixCheck.mjs).
  const leaks = listed.filter((f) => (f.endsWith('.map') && f !== 'dist/demo/gateway.js.map') || f.endsWith('.ts') || f.startsWith('src/') || f.startsWith('test/'));
  if (leaks.length) fail(`vsce ls (${target}) would pack sources or maps: ${leaks.join(', ')}`);
  process.stdout.write(`✓ vsce ls (${target}): ${listed.length} files, ${binding.length} of them DuckDB's binding\n`);
} catch (error) {
  fail(`vsce ls failed: ${error.message}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// --- ovsx publish against the stand-in registry ----------------------------------------------------------------
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(join(root, 'dist-vsix')).filter((f) => f.endsWith('.vsix')).map((f) => join(root, 'dist-vsix', f));
if (files.length === 0) fail('no VSIX to publish: npm run package first');

/** What Open VSX checks on an upload, as far as the package alone can tell. */
function openVsxVerdict(bytes) {
  const entries = new Map(readZip(bytes).map((e) => [e.name, e]));
  const pkgEntry = entries.get('extension/package.json');
  const manifest = entries.get('extension.vsixmanifest')?.read().toString('utf8');
  if (!pkgEntry || !manifest) return { error: 'not a VS Code extension package: extension/package.json or extension.vsixmanifest is missing' };
  const pkg = JSON.parse(pkgEntry.read().toString('utf8'));
  const targetPlatform = /TargetPlatform="([^"]+)"/.exec(manifest)?.[1] ?? 'universal';
  const problems = [];
  if (!/^[\w\-+$~]+$/.test(pkg.publisher ?? '')) problems.push(`invalid namespace "${pkg.publisher}"`);
  if (!/^[\w\-+$~]+$/.test(pkg.name ?? '')) problems.push(`invalid extension name "${pkg.name}"`);
  if (!/^\d+\.\d+\.\d+(-[\w.-]+)?$/.test(pkg.version ?? '')) problems.push(`version "${pkg.version}" is not semantic`);
  if (!pkg.engines?.vscode) problems.push('engines.vscode is missing');
  if (!pkg.license && ![...entries.keys()].some((n) => /^extension\/licen[cs]e(\.(md|txt))?$/i.test(n))) problems.push('no license');
  if (!OPEN_VSX_PLATFORMS.includes(targetPlatform)) problems.push(`unsupported target platform ${targetPlatform}`);
  if (problems.length) return { error: problems.join('; ') };
  return { namespace: pkg.publisher, name: pkg.name, version: pkg.version, targetPlatform };
}

const received = [];
const registry = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://registry');
    res.setHeader('content-type', 'application/json');
    if (req.method === 'POST' && url.pathname === '/api/-/publish') {
      const body = Buffer.concat(chunks);
      received.push(createHash('sha256').update(body).digest('hex'));
      let verdict;
      try {
        verdict = openVsxVerdict(body);
      } catch (error) {
        verdict = { error: `unreadable package: ${error.message}` };
      }
      res.statusCode = verdict.error ? 400 : 201;
      res.end(JSON.stringify(verdict));
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ error: `not found: ${url.pathname}` }));
  });
});
await new Promise((resolve) => registry.listen(0, '127.0.0.1', resolve));
const registryUrl = `http://127.0.0.1:${registry.address().port}`;
try {
  for (const file of files) {
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    const before = received.length;
    const out = await new Promise((resolve) => {
      const child = spawn(process.execPath, [join(root, 'node_modules', 'ovsx', 'bin', 'ovsx'), 'publish', file, '--registryUrl', registryUrl, '--pat', 'dry-run'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.once('exit', (code) => resolve({ code, text: text.trim() }));
    });
    const published = /Published (.+)$/m.exec(out.text)?.[1];
    if (out.code !== 0 || !published) fail(`ovsx publish ${file}: exit ${out.code}: ${out.text}`);
    else if (received.length !== before + 1 || received.at(-1) !== sha) fail(`ovsx publish ${file}: the registry did not receive the file as it is`);
    else process.stdout.write(`✓ ovsx publish (dry run): ${published} from ${file}\n`);
  }
} finally {
  registry.close();
}
process.exitCode = failed ? 1 : 0;
