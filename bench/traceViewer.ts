/**
 * The trace viewer on a huge trace, in Debian's Chromium (playwright-core, as the VS Code tier drives it):
 * - host: assembling a generated 50,000-span trace (with logs) and building the viewer's rows, as the
 *   language server does, against a 500-span trace in the same run;
 * - first frame: from the trace message's JSON arriving in the built webview (dist/webviews/traces.js, VS Code's
 *   acquireVsCodeApi replaced by a MOCK that drops what the page posts) to the first frame painted with rows,
 *   50,000 spans against 500 spans (goal: < 300 ms);
 * - scrolling: the waterfall scrolled 5 rows a frame for 240 frames; frames per second and the slowest frames,
 *   against the same page's frame rate when idle (goal: 60 fps).
 *
 *   npm run bench -- traceViewer          (SG_BENCH_ROUNDS=5; the machine's other load shows in the spread)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { findExecutable } from '../src/launch/process';
import { assembleTrace, type StoredLog, type StoredSpan } from '../src/server/traces/assembly';
import { TraceViewModel } from '../src/server/traces/traceView';
import { tempDirectory } from './support';

const ROUNDS = Number(process.env.SG_BENCH_ROUNDS ?? 5);

/** The page's globals used by the functions evaluated in Chromium (this file compiles without the DOM library). */
interface PageGlobals {
  dispatchEvent(event: unknown): void;
  MessageEvent: new (type: string, init: { data: unknown }) => unknown;
  requestAnimationFrame(callback: (time: number) => void): number;
  document: { querySelectorAll(selector: string): { length: number }; querySelector(selector: string): { scrollTop: number } | null };
}
const root = join(__dirname, '..', '..');

/** A trace like a busy fan-out: services calling each other, depth up to ~12, some errors, a log per 10 spans. */
export function generateTrace(spanCount: number, seed = 1): { spans: StoredSpan[]; logs: StoredLog[] } {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const services = ['gateway', 'auth', 'fanout', 'storage', 'billing', 'search', 'cache', 'notify'];
  const traceId = 'f'.repeat(32);
  const t0 = Date.now() - 60_000;
  const spans: StoredSpan[] = [];
  const logs: StoredLog[] = [];
  const id = (n: number) => n.toString(16).padStart(16, '0');
  spans.push({ traceId, spanId: id(1), parentSpanId: '', service: 'gateway', pod: 'gw-1', name: 'GET /v1/streams/:stream/subscribe', kind: 2, start: t0, durationMs: 5000, statusCode: 0, statusMessage: '', route: 'GET /v1/streams/:stream/subscribe', attributes: { 'http.route': 'GET /v1/streams/:stream/subscribe' }, events: [], links: [] });
  const open = [0];
  while (spans.length < spanCount) {
    const parentIndex = open[Math.floor(random() * open.length)]!;
    const parent = spans[parentIndex]!;
    const service = services[Math.floor(random() * services.length)]!;
    const start = parent.start + random() * parent.durationMs * 0.8;
    const durationMs = Math.max(0.01, (parent.start + parent.durationMs - start) * random() * 0.9);
    const n = spans.length + 1;
    spans.push({
      traceId,
      spanId: id(n),
      parentSpanId: parent.spanId,
      service,
      pod: `${service}-${1 + (n % 3)}`,
      name: `${service}.${['read', 'write', 'publish', 'query', 'check'][n % 5]}`,
      kind: 1 + (n % 5),
      start,
      durationMs,
      statusCode: random() < 0.01 ? 2 : 0,
      statusMessage: '',
      route: '',
      attributes: { 'code.filepath': `/srv/${service}/handler.ts`, 'code.lineno': 10 + (n % 200), 'item.id': n },
      events: [],
      links: [],
    });
    if (n % 10 === 0) logs.push({ ts: start + durationMs / 2, spanId: id(n), service, pod: `${service}-1`, level: n % 100 === 0 ? 'error' : 'info', msg: `handled item ${n} in ${durationMs.toFixed(2)} ms` });
    const depth = depthOf(spans, spans.length - 1);
    if (depth < 12 && durationMs > 0.5) open.push(spans.length - 1);
    if (open.length > 2000) open.splice(0, 1000);
  }
  return { spans, logs };
}

function depthOf(spans: StoredSpan[], index: number): number {
  let depth = 0;
  for (let span = spans[index]; span?.parentSpanId; depth++) span = spans[parseInt(span.parentSpanId, 16) - 1];
  return depth;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function hostModel(spanCount: number): { json: string; ms: number; rows: number } {
  const { spans, logs } = generateTrace(spanCount);
  const started = performance.now();
  const trace = assembleTrace({ traceId: spans[0]!.traceId, spans, logs });
  const model = new TraceViewModel(trace);
  const ms = performance.now() - started;
  return { json: JSON.stringify({ type: 'trace', slot: 0, view: model.view }), ms, rows: model.view.rows.ref.length };
}

function page(dir: string): string {
  const assets = join(root, 'dist', 'webviews');
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="file://${assets}/webview.css"><link rel="stylesheet" href="file://${assets}/traces.css">
<style>body{--vscode-charts-blue:#3794ff;--vscode-charts-orange:#d18616;--vscode-charts-green:#89d185;--vscode-charts-purple:#b180d7;--vscode-charts-red:#f14c4c;--vscode-charts-yellow:#cca700;background:#1e1e1e;color:#ccc;font:13px sans-serif}</style>
<script>/* MOCK of VS Code's webview API: the page's messages go nowhere. */ window.acquireVsCodeApi = () => ({ postMessage() {}, getState() {}, setState() {} });</script>
</head><body><main id="app"></main><script src="file://${assets}/traces.js"></script></body></html>`;
  const file = join(dir, 'traces.html');
  writeFileSync(file, html);
  return `file://${file}`;
}

/** ms from the message's JSON text to the first painted frame that shows rows. */
async function firstFrame(p: Page, json: string): Promise<{ ms: number; rowsInDom: number }> {
  return p.evaluate(async (text) => {
    const page = globalThis as unknown as PageGlobals;
    const started = performance.now();
    page.dispatchEvent(new page.MessageEvent('message', { data: JSON.parse(text) as unknown }));
    // The frame after this rAF callback is the one that paints what the handler built.
    await new Promise<void>((resolve) => page.requestAnimationFrame(() => setTimeout(resolve, 0)));
    const rows = page.document.querySelectorAll('.wf-row:not([hidden])').length;
    return { ms: performance.now() - started, rowsInDom: rows };
  }, json);
}

async function frameRate(p: Page, scroll: boolean, frames = 240): Promise<{ fps: number; p95: number; worst: number; slow: number }> {
  return p.evaluate(
    async ({ scroll, frames }) => {
      const page = globalThis as unknown as PageGlobals;
      const viewport = page.document.querySelector('.wf-viewport')!;
      viewport.scrollTop = 0;
      const stamps: number[] = [];
      await new Promise<void>((resolve) => {
        const step = (t: number) => {
          stamps.push(t);
          if (scroll) viewport.scrollTop += 5 * 22;
          if (stamps.length > frames) resolve();
          else page.requestAnimationFrame(step);
        };
        page.requestAnimationFrame(step);
      });
      const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
      const sorted = [...gaps].sort((a, b) => a - b);
      return {
        fps: (1000 * gaps.length) / (stamps[stamps.length - 1]! - stamps[0]!),
        p95: sorted[Math.floor(sorted.length * 0.95)]!,
        worst: sorted[sorted.length - 1]!,
        slow: gaps.filter((g) => g > 1000 / 60 + 4).length,
      };
    },
    { scroll, frames },
  );
}

async function main(): Promise<void> {
  const executablePath = findExecutable('chromium');
  if (!executablePath) throw new Error('Debian chromium is required: apt-get install chromium');
  const small = hostModel(500);
  const large = hostModel(50_000);
  const hostSmall: number[] = [];
  const hostLarge: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    hostSmall.push(hostModel(500).ms);
    hostLarge.push(hostModel(50_000).ms);
  }
  console.log(`host (assembly + rows), median of ${ROUNDS}: 500 spans ${median(hostSmall).toFixed(1)} ms, 50,000 spans ${median(hostLarge).toFixed(1)} ms (${large.rows} rows with logs, message ${(large.json.length / 1e6).toFixed(1)} MB of JSON)`);

  const dir = tempDirectory('sg-bench-traces-');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--allow-file-access-from-files', '--disable-background-timer-throttling', '--disable-renderer-backgrounding'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const firstSmall: number[] = [];
    const firstLarge: number[] = [];
    let dom = 0;
    for (let i = 0; i < ROUNDS; i++) {
      for (const [model, into] of [
        [small, firstSmall],
        [large, firstLarge],
      ] as const) {
        const p = await context.newPage();
        await p.goto(page(dir));
        await p.waitForSelector('.search');
        const { ms, rowsInDom } = await firstFrame(p, model.json);
        if (rowsInDom === 0) throw new Error('the waterfall drew no rows');
        if (model === large) dom = rowsInDom;
        into.push(ms);
        await p.close();
      }
    }
    console.log(`first frame, median of ${ROUNDS}: 500 spans ${median(firstSmall).toFixed(1)} ms, 50,000 spans ${median(firstLarge).toFixed(1)} ms (ratio ${(median(firstLarge) / median(firstSmall)).toFixed(2)}; goal < 300 ms; ${dom} rows in the DOM)`);

    const p = await context.newPage();
    await p.goto(page(dir));
    await p.waitForSelector('.search');
    await firstFrame(p, large.json);
    const idle: Awaited<ReturnType<typeof frameRate>>[] = [];
    const scrolled: Awaited<ReturnType<typeof frameRate>>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      idle.push(await frameRate(p, false));
      scrolled.push(await frameRate(p, true));
    }
    const fps = (list: typeof idle) => median(list.map((r) => r.fps));
    const p95 = (list: typeof idle) => median(list.map((r) => r.p95));
    console.log(
      `scrolling the 50,000-span waterfall 5 rows a frame, median of ${ROUNDS} × 240 frames: ${fps(scrolled).toFixed(1)} fps (idle page ${fps(idle).toFixed(1)} fps, ratio ${(fps(scrolled) / fps(idle)).toFixed(3)}), ` +
        `p95 frame ${p95(scrolled).toFixed(1)} ms (idle ${p95(idle).toFixed(1)} ms), worst ${Math.max(...scrolled.map((r) => r.worst)).toFixed(1)} ms, frames over 20.7 ms: ${scrolled.map((r) => r.slow).join(', ')}`,
    );
    await p.close();
  } finally {
    await browser.close();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
