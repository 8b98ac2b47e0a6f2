/**
 * What the non-breaking debugger costs and how fast it answers, on real gateway pods:
 *   throughput   gateway req/s with a breakpoint whose condition is false on the request handler's line, as a
 *                ratio to the same run without it (arms interleaved round by round; gateway pinned to CPU 0); and
 *                the pod's CPU time per request (from /proc), whose ratio is what throughput would be if the pod
 *                had its core to itself (the wall-clock ratio swings with whatever else the machine runs)
 *   capture      pod time per snapshot on that line (captureMs reported by the pod: from the hit to the
 *                snapshot built, wall clock; and captureCpuMs, the CPU time over the same span), p50/p99, taken
 *                without pausing (the default) and pausing; at the default 10 snapshots a minute and at one per hit
 *   latency      from the hit on a pod to the `stopped` event in a DAP client (the adapter as a process)
 *   install      setBreakpoints to "installed on 10/10 pods" on a fleet of 10 pods
 *   memory       a pod's RSS and heap (after GC) before and after 100 000 captures, and after detaching
 *   v8           what V8 itself charges per hit of a conditional breakpoint whose condition is `false`, in a
 *                two-line function (this process, its own inspector session): the floor under any condition
 *
 *   npm run bench -- debugCapture     (SG_BENCH_SECONDS=15 per arm, SG_BENCH_ROUNDS=2, SG_BENCH_CAPTURES=100000)
 *   SG_BENCH_ONLY=capture SG_BENCH_CAPTURE_LINE=publish npm run bench -- debugCapture
 *                (capture at the gateway's publish, the line the VS Code test and the docs' examples use, instead
 *                of the request handler's)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { connect, type NatsConnection } from 'nats';
import { LOADTEST_TENANT } from '../demo/gateway/tenants';
import { startNatsServer, type NatsServer } from '../src/launch/nats';
import { findExecutable, spawnService, waitUntil, type ServiceProcess } from '../src/launch/process';
import { startSandbox } from '../src/launch/sandbox';
import { POD_READY_PREFIX } from '../src/protocol/cli';
import type { BreakpointSpec, SnapshotEvent } from '../src/protocol/nats';
import { tempDirectory } from './support';

const root = join(__dirname, '..', '..');
const SECONDS = Number(process.env.SG_BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.SG_BENCH_ROUNDS ?? 2);
const CAPTURES = Number(process.env.SG_BENCH_CAPTURES ?? 100_000);
const SOURCE = join(root, 'demo', 'gateway', 'server.ts');
const lineOf = (file: string, text: string) => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
const HANDLER_LINE = lineOf(SOURCE, 'const route = routeOf(');
const SIGNATURE_LINE = lineOf(SOURCE, 'const signature = incidents.isActive');
const CAPTURE_LINE = process.env.SG_BENCH_CAPTURE_LINE === 'publish' ? SIGNATURE_LINE : HANDLER_LINE;
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const ms = (v: number) => `${v.toFixed(3)} ms`;

/** CPU time (user + system) of a process so far, ms, from /proc (clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function gateway(natsUrl: string, pod: string): Promise<{ service: ServiceProcess; port: number }> {
  const dir = tempDirectory('sg-bench-gw-');
  const logFile = join(dir, 'pod.log');
  const taskset = findExecutable('taskset');
  const args = ['--enable-source-maps', join(root, 'dist', 'demo', 'gateway.js'), '--pod', pod, '--nats', natsUrl, '--data-dir', join(dir, 'data'), '--state-dir', join(dir, 'state'), '--no-tracing'];
  const service = taskset ? spawnService(pod, taskset, ['-c', '0', process.execPath, ...args], { logFile }) : spawnService(pod, process.execPath, args, { logFile });
  let port = 0;
  await waitUntil(`${pod}`, async () => {
    const line = readFileSync(logFile, 'utf8').split('\n').find((l) => l.startsWith(POD_READY_PREFIX));
    if (line) port = (JSON.parse(line.slice(POD_READY_PREFIX.length)) as { port: number }).port;
    return port > 0;
  }, { service, timeoutMs: 30_000 });
  return { service, port };
}

/** Load for `seconds` on a pod: requests per second, and the pod's CPU time per request (µs). */
async function measuredLoad(pod: { service: ServiceProcess; port: number }, seconds: number): Promise<{ rate: number; cpuPerRequestUs: number }> {
  const before = processCpuMs(pod.service.pid);
  const rate = await load(pod.port, seconds);
  const cpu = processCpuMs(pod.service.pid) - before;
  return { rate, cpuPerRequestUs: (cpu * 1000) / (rate * seconds) };
}

/** Closed-loop load: 16 keep-alive connections posting small JSON messages for `seconds`. */
async function load(port: number, seconds: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const body = JSON.stringify({ type: 'bench', data: 'z'.repeat(200) });
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/streams/bench/messages', agent, headers: { authorization: `Bearer ${LOADTEST_TENANT.apiKey}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.once('end', () => {
          done++;
          resolve();
        });
      });
      req.once('error', () => resolve());
      req.end(body);
    });
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (performance.now() < deadline) await one();
  }));
  agent.destroy();
  return done / seconds;
}

async function sync(nc: NatsConnection, pod: string, session: string, breakpoints: BreakpointSpec[]): Promise<string> {
  const reply = await nc.request(`sg.dbg.${pod}.sync`, JSON.stringify({ session, identity: 'bench', breakpoints }), { timeout: 30_000 });
  const error = reply.headers?.get('Nats-Service-Error');
  if (error) throw new Error(`sync on ${pod}: ${error}`);
  return new TextDecoder().decode(reply.data);
}

const spec = (id: string, line: number, extra: Partial<BreakpointSpec> = {}): BreakpointSpec => ({ id, kind: 'snapshot', file: 'demo/gateway/server.ts', line, expiresAt: Date.now() + 3600_000, ...extra });

async function throughput(nats: NatsServer): Promise<void> {
  const nc = await connect({ servers: nats.url });
  const pod = await gateway(nats.url, 'bench-gw');
  const snapshots: SnapshotEvent[] = [];
  nc.subscribe('sg.dbgevt.benchsess.*', { callback: (_e, m) => {
    const event = JSON.parse(new TextDecoder().decode(m.data)) as { kind: string };
    if (event.kind === 'snapshot') snapshots.push(event as SnapshotEvent);
  } });
  try {
    await load(pod.port, 5); // warm up
    const arms = ['false condition, budget 100 % (stays installed)', 'false condition, default budget 1 %'] as const;
    const ratios = new Map<string, { wall: number[]; cpu: number[] }>(arms.map((a) => [a, { wall: [], cpu: [] }]));
    // The condition the issue names, with the handler's own local (esbuild renames `url` in the bundle; the
    // pod's agent evaluates the condition in the bundle's scope, so it names what the bundle has).
    const condition = 'url2.pathname === "/never"';
    for (let round = 0; round < ROUNDS; round++) {
      await sync(nc, 'bench-gw', 'benchsess', []);
      await new Promise((r) => setTimeout(r, 11_000)); // the inspector detaches 10 s after the last breakpoint
      const base = await measuredLoad(pod, SECONDS);
      await sync(nc, 'bench-gw', 'benchsess', [spec(`f1-${round}`, HANDLER_LINE, { condition, cpuBudgetPercent: 100 })]);
      const stays = await measuredLoad(pod, SECONDS);
      const kept = await sync(nc, 'bench-gw', 'benchsess', [spec(`f1-${round}`, HANDLER_LINE, { condition, cpuBudgetPercent: 100 })]);
      await sync(nc, 'bench-gw', 'benchsess', [spec(`f2-${round}`, HANDLER_LINE, { condition })]);
      const guarded = await measuredLoad(pod, SECONDS);
      const state = await sync(nc, 'bench-gw', 'benchsess', [spec(`f2-${round}`, HANDLER_LINE, { condition })]);
      for (const [arm, run] of [[arms[0], stays], [arms[1], guarded]] as const) {
        ratios.get(arm)!.wall.push(run.rate / base.rate);
        ratios.get(arm)!.cpu.push(base.cpuPerRequestUs / run.cpuPerRequestUs);
      }
      const describeRun = (r: { rate: number; cpuPerRequestUs: number }) => `${r.rate.toFixed(0)} req/s, ${r.cpuPerRequestUs.toFixed(0)} µs CPU/req`;
      console.log(
        `round ${round + 1}: baseline ${describeRun(base)}; false condition ${describeRun(stays)} (wall ${(stays.rate / base.rate).toFixed(3)}, CPU ${(base.cpuPerRequestUs / stays.cpuPerRequestUs).toFixed(3)}; ${/"state":"installed"/.test(kept) ? 'stayed installed' : `NOT installed: ${kept}`}); default budget ${describeRun(guarded)} (wall ${(guarded.rate / base.rate).toFixed(3)}, CPU ${(base.cpuPerRequestUs / guarded.cpuPerRequestUs).toFixed(3)}; ${/"state":"disabled"/.test(state) ? 'the breakpoint disabled itself: ' + (/"message":"([^"]*)"/.exec(state)?.[1] ?? '') : 'still installed'})`,
      );
    }
    for (const [arm, values] of ratios) console.log(`THROUGHPUT ${arm}: median ratio ${quantile(values.wall, 0.5).toFixed(3)} wall clock, ${quantile(values.cpu, 0.5).toFixed(3)} by pod CPU per request, over ${values.wall.length} rounds (goal ≥ 0.97)`);
  } finally {
    await pod.service.stop();
    await nc.close();
  }
}

async function captureCost(nats: NatsServer): Promise<void> {
  const nc = await connect({ servers: nats.url });
  const pod = await gateway(nats.url, 'bench-cap');
  const snapshots: SnapshotEvent[] = [];
  nc.subscribe('sg.dbgevt.capsess.*', { callback: (_e, m) => {
    const event = JSON.parse(new TextDecoder().decode(m.data)) as { kind: string };
    if (event.kind === 'snapshot') snapshots.push(event as SnapshotEvent);
  } });
  try {
    await load(pod.port, 5);
    for (const [label, extra, seconds] of [
      ['default limits (10 a minute), without pausing', {}, Math.max(SECONDS, 70)],
      ['one per hit, without pausing', { snapshotsPerMinute: 1_000_000 }, SECONDS],
      ['one per hit, pausing every hit', { snapshotsPerMinute: 1_000_000, limits: { pauseEveryHit: true } }, SECONDS],
    ] as const) {
      snapshots.length = 0;
      await sync(nc, 'bench-cap', 'capsess', [spec(`c-${label.length}`, CAPTURE_LINE, { cpuBudgetPercent: 100, ...extra })]);
      const rate = await load(pod.port, seconds);
      await sync(nc, 'bench-cap', 'capsess', []);
      await new Promise((r) => setTimeout(r, 500));
      const later = snapshots.slice(1); // the first is the full (pausing) one
      const wall = later.map((s) => s.captureMs);
      const cpu = later.map((s) => s.captureCpuMs ?? NaN);
      console.log(
        `CAPTURE ${label}: ${later.length} snapshots in ${seconds} s at ${rate.toFixed(0)} req/s; pod time per snapshot (wall) p50 ${ms(quantile(wall, 0.5))}, p90 ${ms(quantile(wall, 0.9))}, p99 ${ms(quantile(wall, 0.99))}; CPU p50 ${ms(quantile(cpu, 0.5))}, p90 ${ms(quantile(cpu, 0.9))}, p99 ${ms(quantile(cpu, 0.99))} (goal p99 ≤ 1 ms); first snapshot ${ms(snapshots[0]?.captureMs ?? NaN)} wall, ${ms(snapshots[0]?.captureCpuMs ?? NaN)} CPU; bytes p50 ${quantile(snapshots.map((s) => s.bytes), 0.5)}; cut by the time budget ${later.filter((s) => s.leftOut.some((r) => r.includes('(maxCaptureMs)'))).length}/${later.length} (line ${CAPTURE_LINE})`,
      );
    }
  } finally {
    await pod.service.stop();
    await nc.close();
  }
}

async function latency(nats: NatsServer): Promise<void> {
  const fleet = await startSandbox({ pods: 2, natsUrl: nats.url, stateDir: tempDirectory('sg-bench-lat-'), distDir: join(root, 'dist'), loadgen: false });
  const dc = new DebugClient(process.execPath, join(root, 'dist', 'adapter.js'), 'streamgate');
  await dc.start();
  try {
    await dc.initializeRequest({ adapterID: 'streamgate', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    await dc.attachRequest({ nats: nats.url, localRoot: root, snapshotsPerMinute: 6000 } as DebugProtocol.AttachRequestArguments);
    const samples: number[] = [];
    dc.on('stopped', (event: DebugProtocol.StoppedEvent) => {
      const received = Date.now();
      void dc.customRequest('streamgate.snapshot', { threadId: event.body.threadId }).then((r) => {
        samples.push(received - Date.parse((r.body as { at: string }).at));
        return dc.continueRequest({ threadId: event.body.threadId! });
      });
    });
    await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [{ line: SIGNATURE_LINE }] });
    const deadline = Date.now() + 20_000;
    let i = 0;
    while (samples.length < 200 && Date.now() < deadline) {
      const pod = fleet.pods[i++ % fleet.pods.length]!;
      await fetch(`http://127.0.0.1:${pod.port}/v1/streams/lat/messages`, { method: 'POST', headers: { authorization: `Bearer ${LOADTEST_TENANT.apiKey}`, 'content-type': 'application/json' }, body: '{"n":1}' }).then((r) => r.arrayBuffer());
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`LATENCY hit → stopped: ${samples.length} snapshots; p50 ${quantile(samples, 0.5)} ms, p99 ${quantile(samples, 0.99)} ms, max ${Math.max(...samples)} ms (goal p99 ≤ 300 ms; clock resolution 1 ms)`);
  } finally {
    await dc.disconnectRequest().catch(() => undefined);
    await dc.stop();
    await fleet.stop();
  }
}

async function installOnTen(nats: NatsServer): Promise<void> {
  const fleet = await startSandbox({ pods: 10, natsUrl: nats.url, stateDir: tempDirectory('sg-bench-ten-'), distDir: join(root, 'dist'), loadgen: false });
  const dc = new DebugClient(process.execPath, join(root, 'dist', 'adapter.js'), 'streamgate');
  await dc.start();
  try {
    await dc.initializeRequest({ adapterID: 'streamgate', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    await dc.attachRequest({ nats: nats.url, localRoot: root } as DebugProtocol.AttachRequestArguments);
    const lines = [HANDLER_LINE, SIGNATURE_LINE, lineOf(SOURCE, 'const tenant = this.authenticate(req, scope);'), lineOf(SOURCE, 'const wait = this.limiter.take'), lineOf(SOURCE, 'const raw = await readBody')];
    const times: string[] = [];
    for (const n of lines.keys()) {
      const started = performance.now();
      const { body } = await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: lines.slice(0, n + 1).map((l) => ({ line: l })) });
      const took = performance.now() - started;
      times.push(`${took.toFixed(0)} ms (${body.breakpoints.at(-1)?.message ?? ''})`);
    }
    console.log(`INSTALL setBreakpoints → installed on 10 pods: ${times.join('; ')} (goal ≤ 1 s; the first includes attaching the inspector on every pod)`);
  } finally {
    await dc.disconnectRequest().catch(() => undefined);
    await dc.stop();
    await fleet.stop();
  }
}

async function memory(nats: NatsServer): Promise<void> {
  const pod = spawn(process.execPath, ['--expose-gc', join(root, 'out', 'bench', 'fixtures', 'capturePod.js'), '--nats', nats.url, '--pod', 'cap-1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  pod.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const nc = await connect({ servers: nats.url });
  let captured = 0;
  let stopped: string | undefined;
  nc.subscribe('sg.dbgevt.memsess.*', {
    callback: (_e, m) => {
      const event = JSON.parse(new TextDecoder().decode(m.data)) as { kind: string; breakpoint?: { state: string; message?: string } };
      if (event.kind === 'snapshot') captured++;
      // A breakpoint that switches itself off (its CPU budget) takes no more snapshots: say so instead of waiting.
      if (event.kind === 'status' && event.breakpoint && event.breakpoint.state !== 'installed') stopped = `${event.breakpoint.state}: ${event.breakpoint.message ?? ''}`;
    },
  });
  const mem = async () => {
    const before = out.length;
    pod.kill('SIGUSR2');
    await waitUntil('MEM', async () => out.slice(before).includes('MEM '), { timeoutMs: 10_000 });
    const line = out.slice(before).split('\n').find((l) => l.startsWith('MEM '))!;
    return JSON.parse(line.slice(4)) as { rss: number; heapUsed: number; external: number };
  };
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  try {
    await waitUntil('capture pod', async () => out.includes('CAPTURE_POD_READY'), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 3000));
    const before = await mem();
    const line = lineOf(join(root, 'test', 'fixtures', 'debugTarget.ts'), '// BREAK:handleOrder');
    const breakpoints: BreakpointSpec[] = [{ id: 'm', kind: 'snapshot', file: 'test/fixtures/debugTarget.ts', line, expiresAt: Date.now() + 3600_000, snapshotsPerMinute: 1_000_000, cpuBudgetPercent: 100 }];
    await sync(nc, 'cap-1', 'memsess', breakpoints);
    // A session renews its lease by syncing, as the adapter does; without it the pod ends the session after 45 s
    // (what stopped an earlier 300k run at ~151k captures).
    const renew = setInterval(() => void sync(nc, 'cap-1', 'memsess', breakpoints).catch(() => undefined), 15_000);
    const started = Date.now();
    let marks = '';
    for (const mark of [...new Set([Math.min(1_000, CAPTURES), Math.min(10_000, CAPTURES), CAPTURES / 2, CAPTURES])]) {
      await waitUntil(`${mark} captures`, async () => {
        if (stopped) throw new Error(`the memory pod's breakpoint stopped after ${captured} captures (${stopped})`);
        return captured >= mark;
      }, { timeoutMs: 30 * 60_000, intervalMs: 200 });
      const m = await mem();
      marks += ` after ${captured}: rss ${mb(m.rss)}, heap ${mb(m.heapUsed)};`;
      console.log(`memory: ${captured} captures after ${((Date.now() - started) / 1000).toFixed(0)} s: rss ${mb(m.rss)}, heap ${mb(m.heapUsed)}`);
    }
    const after = await mem();
    clearInterval(renew);
    await sync(nc, 'cap-1', 'memsess', []);
    await new Promise((r) => setTimeout(r, 12_000)); // the inspector detaches 10 s after the last breakpoint
    const detached = await mem();
    console.log(`MEMORY ${captured} captures in ${((Date.now() - started) / 1000).toFixed(0)} s. Before: rss ${mb(before.rss)}, heap ${mb(before.heapUsed)};${marks} after detaching: rss ${mb(detached.rss)}, heap ${mb(detached.heapUsed)}. Heap growth over the captures ${mb(after.heapUsed - before.heapUsed)}, RSS growth ${mb(after.rss - before.rss)}`);
  } finally {
    pod.kill('SIGTERM');
    await nc.close();
  }
}

/** Two lines, not inlined anywhere interesting: the breakpoint's function. */
function tiny(x: number): number {
  const y = x * 2;
  return y + 1;
}

/**
 * V8 evaluates a breakpoint's condition through its debug-evaluate machinery (the frame's scopes materialised, the
 * condition compiled as a fresh script, reported to the inspector): its cost per hit, with the simplest condition
 * in the smallest function, against the same calls without a breakpoint, alternating.
 */
async function v8Floor(): Promise<void> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}) => new Promise<T>((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
  await post('Debugger.enable', { maxScriptsCacheSize: 0 });
  (globalThis as { sgBenchTiny?: unknown }).sgBenchTiny = tiny;
  const { result } = await post<{ result: { objectId: string } }>('Runtime.evaluate', { expression: 'sgBenchTiny' });
  const run = (n: number) => {
    const t = process.hrtime.bigint();
    let acc = 0;
    for (let i = 0; i < n; i++) acc += tiny(i);
    if (acc === -1) console.log(acc);
    return Number(process.hrtime.bigint() - t) / 1000 / n;
  };
  const with_: number[] = [];
  const without: number[] = [];
  for (let round = 0; round < 5; round++) {
    without.push(run(2_000_000));
    const { breakpointId } = await post<{ breakpointId: string }>('Debugger.setBreakpointOnFunctionCall', { objectId: result.objectId, condition: 'false' });
    with_.push(run(5_000));
    await post('Debugger.removeBreakpoint', { breakpointId });
  }
  session.disconnect();
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`V8 a conditional breakpoint (condition \`false\`) on a two-line function: ${med(with_).toFixed(1)} µs a hit (rounds ${with_.map((x) => x.toFixed(0)).join(', ')}), the call without it ${(med(without) * 1000).toFixed(1)} ns: ×${(med(with_) / med(without)).toFixed(0)}`);
}

async function main(): Promise<void> {
  const nats = await startNatsServer();
  try {
    const only = process.env.SG_BENCH_ONLY?.split(',');
    const parts: [string, (n: NatsServer) => Promise<void>][] = [['throughput', throughput], ['capture', captureCost], ['latency', latency], ['install', installOnTen], ['memory', memory], ['v8', () => v8Floor()]];
    for (const [name, part] of parts) if (!only || only.includes(name)) await part(nats);
  } finally {
    await nats.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
