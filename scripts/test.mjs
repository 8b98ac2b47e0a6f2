#!/usr/bin/env node
// `npm test`: installs what is missing, builds, starts the services each tier needs on free loopback ports,
// runs every tier, stops everything it started, and ends with one line: `N passed, N failed`.
//   --tier unit|integration|adapter|vscode   run only these tiers (repeatable)
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build, ensureDebianPackages, ensureNodeModules, log, packageVsix, root } from './lib/bootstrap.mjs';

const TIERS = ['unit', 'integration', 'adapter', 'vscode'];
const { values } = parseArgs({ options: { tier: { type: 'string', multiple: true } } });
const selected = values.tier?.length ? values.tier : TIERS;
for (const tier of selected) if (!TIERS.includes(tier)) throw new Error(`unknown tier "${tier}"; tiers are ${TIERS.join(', ')}`);

const started = Date.now();
const results = []; // { tier, passed, failed, skipped, note }
const cleanups = [];
const resultsDir = join(root, 'test-results');

async function cleanup() {
  for (const stop of cleanups.splice(0).reverse()) await stop().catch((e) => log(`cleanup: ${e.message}`));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    log(`${signal}: stopping services`);
    await cleanup();
    process.exit(130);
  });
}

function testFiles(dir) {
  const full = join(root, 'out', 'test', dir);
  const files = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else if (entry.name.endsWith('.test.js')) files.push(join(d, entry.name));
    }
  };
  walk(full);
  return files.sort();
}

/** Runs node's test runner with a spec reporter for people and a TAP file to count from. */
function nodeTier(tier, { concurrency, timeoutMs, env }) {
  const files = testFiles(tier);
  const tap = join(resultsDir, `${tier}.tap`);
  const args = [
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${timeoutMs}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    child.once('exit', (code, signal) => {
      const counts = { passed: 0, failed: 0, skipped: 0 };
      try {
        const text = readFileSync(tap, 'utf8');
        const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
        counts.passed = count('pass');
        counts.failed = count('fail') + count('cancelled');
        counts.skipped = count('skipped') + count('todo');
      } catch {
        /* no TAP file: the runner itself failed */
      }
      if ((code !== 0 || signal) && counts.failed === 0) counts.failed = 1;
      resolve({ tier, ...counts, note: files.length === 0 ? 'no test files' : undefined });
    });
  });
}

/** Runs a tool to completion with its output shown; resolves with whether it exited 0. */
function runTool(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** tsc on each configuration: Node code, the browser code of the webviews, the suite that runs in VS Code. */
async function typecheck() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  let ok = true;
  for (const project of ['.', 'webviews', 'test/vscode']) ok = (await runTool([tsc, '--noEmit', '-p', project])) && ok;
  return { tier: 'typecheck', passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0 };
}

/** ESLint with the type-checked rules of eslint.config.mjs; any finding fails the line. */
async function lint() {
  const ok = await runTool([join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--max-warnings', '0', '.']);
  return { tier: 'lint', passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0 };
}

let exitCode = 0;
try {
  ensureDebianPackages(['nats-server', 'clickhouse-server', 'chromium', 'rg', 'krb5-config', 'go', 'openssl', 'prometheus', 'promtool', 'zsh']);
  ensureNodeModules();
  build();
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });

  log('typecheck (tsc --noEmit)');
  results.push(await typecheck());
  log('lint (eslint)');
  results.push(await lint());

  const require = createRequire(import.meta.url);
  const { startNatsServer } = require(join(root, 'out/src/launch/nats.js'));
  const { startClickHouse } = require(join(root, 'out/src/launch/clickhouse.js'));
  const env = {};
  if (selected.some((t) => t !== 'unit')) {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    env.SG_TEST_NATS_URL = nats.url;
    log(`nats-server ${nats.url} (pid ${nats.process.pid})`);
  }
  if (selected.includes('integration')) {
    const clickhouse = await startClickHouse();
    cleanups.push(() => clickhouse.stop());
    env.SG_TEST_CLICKHOUSE_URL = clickhouse.url;
    log(`clickhouse-server ${clickhouse.url} (pid ${clickhouse.process.pid})`);
  }

  for (const tier of selected) {
    const tierStart = Date.now();
    log(`tier: ${tier}`);
    if (tier === 'unit') results.push(await nodeTier('unit', { concurrency: 2, timeoutMs: 60_000, env }));
    if (tier === 'integration') results.push(await nodeTier('integration', { concurrency: 1, timeoutMs: 180_000, env }));
    if (tier === 'adapter') results.push(await nodeTier('adapter', { concurrency: 1, timeoutMs: 60_000, env }));
    if (tier === 'vscode') {
      if (process.platform !== 'linux') {
        results.push({ tier, passed: 0, failed: 0, skipped: 1, note: 'code-server + Debian Chromium run on Linux only; use npm run test:electron' });
      } else {
        const vsix = packageVsix();
        const { runVsCodeSuite } = require(join(root, 'out/test/vscode/harness.js'));
        const r = await runVsCodeSuite({ repoRoot: root, vsix, resultsDir, natsUrl: env.SG_TEST_NATS_URL, log: (l) => process.stdout.write(`${l}\n`) });
        for (const f of r.failures) process.stdout.write(`  ✗ ${f}\n`);
        results.push({ tier, passed: r.passed, failed: r.failed, skipped: 0 });
      }
    }
    log(`tier ${tier} took ${((Date.now() - tierStart) / 1000).toFixed(1)} s`);
  }
} catch (error) {
  log(`\x1b[31m${error.stack ?? error}\x1b[0m`);
  results.push({ tier: 'setup', passed: 0, failed: 1, skipped: 0, note: error.message });
} finally {
  await cleanup();
}

const total = results.reduce((a, r) => ({ passed: a.passed + r.passed, failed: a.failed + r.failed, skipped: a.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
process.stdout.write('\n');
for (const r of results) {
  process.stdout.write(`  ${r.tier.padEnd(12)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed${r.skipped ? ` ${r.skipped} skipped` : ''}${r.note ? `  (${r.note})` : ''}\n`);
}
process.stdout.write(`  total time ${((Date.now() - started) / 1000).toFixed(0)} s\n\n`);
process.stdout.write(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}\n`);
exitCode = total.failed > 0 ? 1 : 0;
process.exit(exitCode);
