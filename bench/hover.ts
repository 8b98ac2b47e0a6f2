/**
 * Hover answer time, through the real language server process over LSP: a hover on a metric name in code
 * (live value, rate, p99 and a 15-minute sparkline from the live windows) against, in the same run, a hover on
 * plain code (the LSP round trip the editor pays anyway). Three pods feed the server real telemetry.
 *
 *   npm run bench -- hover
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { startAgent, type Agent } from '../src/agent';
import { ensureStreamsAt } from '../src/common/streams';
import { startNatsServer } from '../src/launch/nats';
import { StatusRequest } from '../src/protocol/lsp';
import type { ServerStatus } from '../src/protocol/status';
import { tempDirectory } from './support';

const HOVERS = Number(process.env.BENCH_HOVERS ?? 300);
const SOURCE = [
  "this.requests.set(key, telemetry.counter('gw_http_requests_total', { route, code }));",
  "const latency = telemetry.histogram('gw_http_request_duration_ms', { route });",
  'const unrelated = compute(route);',
].join('\n');

const p = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  const nats = await startNatsServer();
  await ensureStreamsAt(nats.url);
  const agents: Agent[] = await Promise.all(['gw-1', 'gw-2', 'gw-3'].map((pod) => startAgent({ nats: nats.url, service: 'gateway', pod, version: '1.0.0', heapIntervalBytes: 0 })));
  const routes = ['POST /v1/sessions', 'POST /v1/streams/:stream/messages', 'GET /v1/streams/:stream/history'];
  let n = 0;
  const traffic = setInterval(() => {
    for (const agent of agents) {
      for (let i = 0; i < 3; i++) {
        const route = routes[n++ % routes.length]!;
        agent.counter('gw_http_requests_total', { route, code: n % 97 === 0 ? '500' : '200' }).inc();
        agent.histogram('gw_http_request_duration_ms', { route }).record(Math.exp((n % 50) / 10));
      }
    }
  }, 10);
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    const settings = { nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDirectory('sg-bench-hover-'), 'hover.duckdb') } };
    await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { workspace: {} }, initializationOptions: { settings } });
    await connection.sendNotification('initialized', {});
    const uri = 'file:///bench/telemetry.ts';
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text: SOURCE } });
    // Let the fleet fill the windows for half a minute, as an editor that has been open a while would see.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
    const status = await connection.sendRequest<ServerStatus>(StatusRequest.method);
    if (status.live?.state !== 'live' || status.nats.state !== 'connected') throw new Error(`the server is not live: ${JSON.stringify(status.live)}`);
    const hover = (line: number, character: number) => connection.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: { line, character } });
    const first = await hover(0, 50);
    if (!first || !/Rate \*\*/.test(first.contents.value)) throw new Error(`no live hover: ${JSON.stringify(first)}`);
    const metric: number[] = [];
    const plain: number[] = [];
    const histogram: number[] = [];
    for (let i = 0; i < HOVERS; i++) {
      let t = performance.now();
      await hover(0, 50);
      metric.push(performance.now() - t);
      t = performance.now();
      await hover(1, 50);
      histogram.push(performance.now() - t);
      t = performance.now();
      await hover(2, 10);
      plain.push(performance.now() - t);
    }
    for (const list of [metric, histogram, plain]) list.sort((a, b) => a - b);
    console.log(`${HOVERS} hovers each, real language server over LSP (stdio), ${status.live.series} live series from 3 pods`);
    console.log('| hover on | p50 | p99 | p99 / plain-code p99 |');
    console.log('|---|---|---|---|');
    for (const [name, list] of [['a counter name (rate, total, 15-minute sparkline)', metric], ['a histogram name (p50, p99, rate, sparkline)', histogram], ['plain code (baseline: the LSP round trip)', plain]] as const) {
      console.log(`| ${name} | ${p(list, 0.5).toFixed(2)} ms | ${p(list, 0.99).toFixed(2)} ms | ${(p(list, 0.99) / p(plain, 0.99)).toFixed(1)} |`);
    }
  } finally {
    clearInterval(traffic);
    await connection.sendRequest('shutdown').catch(() => {});
    child.kill();
    for (const agent of agents) await agent.stop();
    await nats.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
