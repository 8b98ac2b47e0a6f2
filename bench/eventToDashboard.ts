/**
 * From a pod's event to the real dashboard webview, and the language server's memory, under sustained load:
 * pods emit business events at BENCH_RATE events/s (default 20 000) for BENCH_SECONDS (default 600) into a real
 * NATS; a real VS Code (code-server in Debian Chromium) with the packaged extension in embedded mode ingests
 * them into DuckDB, keeps the live windows and pushes the dashboard at most once a second. A MutationObserver
 * in the webview records when each new session count appears on screen; the pods record when they emitted
 * each event. The language server's RSS is sampled every 5 s.
 *
 * Two figures per update, on the same clock (one machine):
 * - delay per event: emit → first screen update that counts it (includes the wait for the next push, up to
 *   the 1 s push interval the design asks for);
 * - freshness at each update: how old the newest event on screen was when it appeared.
 *
 *   npm run bench -- eventToDashboard        (BENCH_RATE, BENCH_SECONDS)
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { startAgent, type Agent } from '../src/agent';
import { ensureStreamsAt } from '../src/common/streams';
import { ensureCodeServer, installVsix, startCodeServer } from '../src/launch/codeServer';
import { startNatsServer } from '../src/launch/nats';
import { findExecutable } from '../src/launch/process';
import { CHROMIUM_ARGS } from '../test/vscode/harness';
import { tempDirectory } from './support';

const RATE = Number(process.env.BENCH_RATE ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 600);
const root = join(__dirname, '..', '..');

/** The pods, in a process of their own: 4 agents emitting session starts in 10 ms ticks, logging what they sent. */
async function produce(natsUrl: string, logFile: string): Promise<void> {
  const agents: Agent[] = await Promise.all([1, 2, 3, 4].map((i) => startAgent({ nats: natsUrl, service: 'gateway', pod: `bench-${i}`, version: '1.0.0', heapIntervalBytes: 0 })));
  const perTick = RATE / 100;
  let sent = 0;
  const started = Date.now();
  const lines: string[] = [];
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const owed = Math.max(0, Math.floor(((Date.now() - started) / 10) * perTick) - sent);
      for (let i = 0; i < owed; i++) agents[i % 4]!.event('session.started', { tenant: `t${i % 16}`, session: `s${sent + i}`, attrs: { client: `c${(sent + i) % 500}` } });
      sent += owed;
      lines.push(`${Date.now()} ${sent}`);
      if (lines.length >= 100) appendFileSync(logFile, `${lines.splice(0).join('\n')}\n`);
      if (Date.now() - started >= SECONDS * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  appendFileSync(logFile, `${lines.join('\n')}\n`);
  for (const agent of agents) await agent.stop();
}

function languageServerPid(extensionsDir: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(extensionsDir) && cmd.includes('server.js')) return Number(pid);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return kb / 1024;
}

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  if (process.argv[2] === '--produce') return produce(process.argv[3]!, process.argv[4]!);
  const { packageVsix } = (await import(pathToFileURL(join(root, 'scripts', 'lib', 'bootstrap.mjs')).href)) as { packageVsix: () => string };
  const vsix = packageVsix();
  ensureCodeServer((l) => console.log(l));
  const nats = await startNatsServer();
  await ensureStreamsAt(nats.url);
  const dir = tempDirectory('sg-bench-e2d-');
  const profileDir = join(dir, 'profile');
  const workspace = join(dir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  installVsix(vsix, profileDir);
  const server = await startCodeServer({
    profileDir,
    workspace,
    settings: { 'streamgate.nats.url': nats.url, 'streamgate.server.mode': 'embedded', 'streamgate.dataDirectory': join(dir, 'data'), 'workbench.startupEditor': 'none' },
  });
  const browser = await chromium.launch({ executablePath: findExecutable('chromium'), args: CHROMIUM_ARGS, headless: true });
  const emitLog = join(dir, 'emitted.log');
  writeFileSync(emitLog, '');
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The command is enabled once the language server runs, a few seconds after the window opens: ask the
    // palette until it offers it.
    for (let attempt = 0; ; attempt++) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await page.locator('.quick-input-widget input').fill('>StreamGate: Open Analytics Dashboard');
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Analytics Dashboard' }).first();
      if (await row.waitFor({ timeout: 5000 }).then(() => true, () => false)) break;
      if (attempt > 24) throw new Error('the palette never offered StreamGate: Open Analytics Dashboard');
    }
    await page.keyboard.press('Enter');
    let frame;
    for (let i = 0; i < 150 && !frame; i++) {
      await page.waitForTimeout(200);
      for (const outer of page.frames()) {
        if (!outer.url().includes('webview')) continue;
        const inner = outer.childFrames().find((f) => f.name() === 'active-frame' || f.url().includes('fake.html'));
        if (inner && (await inner.title().catch(() => '')) === 'StreamGate Analytics') frame = inner;
      }
    }
    if (!frame) {
      mkdirSync(join(root, 'bench-results'), { recursive: true });
      await page.screenshot({ path: join(root, 'bench-results', 'eventToDashboard-failed.png') });
      throw new Error('the dashboard did not open (bench-results/eventToDashboard-failed.png)');
    }
    await frame.waitForSelector('.funnel-step', { state: 'attached', timeout: 30_000 });
    // Runs in the webview (kept as text: this file is compiled for Node, without the DOM's types).
    await frame.evaluate(`(() => {
      window.__samples = [];
      const box = document.querySelector('.funnel');
      const read = () => {
        const value = Number(box.querySelector('.funnel-step data')?.getAttribute('value') ?? NaN);
        const last = window.__samples[window.__samples.length - 1];
        if (Number.isFinite(value) && (!last || last[1] !== value)) window.__samples.push([Date.now(), value]);
      };
      new MutationObserver(read).observe(box, { childList: true, subtree: true, characterData: true, attributes: true });
    })()`);
    const lsPid = languageServerPid(join(profileDir, 'extensions'));
    const rss: [number, number][] = [];
    const sampler = setInterval(() => lsPid && rss.push([Date.now(), rssMiB(lsPid)]), 5000);
    const producer = spawn(process.execPath, [__filename, '--produce', nats.url, emitLog], { stdio: 'inherit' });
    await new Promise((resolve) => producer.once('exit', resolve));
    await page.waitForTimeout(3000);
    clearInterval(sampler);
    const samples = await frame.evaluate<[number, number][]>('window.__samples');
    const emitted = readFileSync(emitLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ').map(Number) as [number, number]);
    const total = emitted[emitted.length - 1]![1];
    // Delay per tick of the pods: the first screen update whose count includes that tick's last event.
    const delays: number[] = [];
    let s = 0;
    for (const [t, n] of emitted) {
      if (n === 0) continue;
      while (s < samples.length && samples[s]![1] < n) s++;
      if (s < samples.length) delays.push(samples[s]![0] - t);
    }
    // Freshness: at each update, how long ago the newest event it counts was emitted.
    const freshness: number[] = [];
    let e = 0;
    for (const [t, value] of samples) {
      while (e < emitted.length - 1 && emitted[e]![1] < value) e++;
      if (emitted[e]![1] >= value && value > 0) freshness.push(t - emitted[e]![0]);
    }
    delays.sort((a, b) => a - b);
    freshness.sort((a, b) => a - b);
    const gaps = samples.slice(1).map((x, i) => x[0] - samples[i]![0]).sort((a, b) => a - b);
    const last = samples[samples.length - 1]?.[1] ?? 0;
    console.log(`${RATE.toLocaleString('en')} events/s for ${SECONDS} s from 4 pods → NATS → the language server (embedded, DuckDB) → the dashboard webview in code-server ${'4.100.3'} / Chromium`);
    console.log(`events emitted ${total.toLocaleString('en')}, last count on screen ${last.toLocaleString('en')} (${((last / total) * 100).toFixed(2)} %), ${samples.length} screen updates, interval between updates p50 ${pct(gaps, 0.5)} ms p99 ${pct(gaps, 0.99)} ms`);
    console.log('| figure | p50 | p90 | p99 | max |');
    console.log('|---|---|---|---|---|');
    console.log(`| delay per event, emit → on screen | ${pct(delays, 0.5)} ms | ${pct(delays, 0.9)} ms | ${pct(delays, 0.99)} ms | ${delays[delays.length - 1]} ms |`);
    console.log(`| freshness of each update (age of its newest event) | ${pct(freshness, 0.5)} ms | ${pct(freshness, 0.9)} ms | ${pct(freshness, 0.99)} ms | ${freshness[freshness.length - 1]} ms |`);
    if (rss.length) {
      const values = rss.map(([, m]) => m);
      const half = values.slice(Math.floor(values.length / 2));
      console.log(`language server RSS: start ${values[0]!.toFixed(0)} MiB, max ${Math.max(...values).toFixed(0)} MiB, end ${values[values.length - 1]!.toFixed(0)} MiB; second half min–max ${Math.min(...half).toFixed(0)}–${Math.max(...half).toFixed(0)} MiB (${rss.length} samples)`);
    }
    mkdirSync(join(root, 'bench-results'), { recursive: true });
    await page.screenshot({ path: join(root, 'bench-results', 'eventToDashboard.png') }).catch(() => {});
  } finally {
    await browser.close();
    await server.stop();
    await nats.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
