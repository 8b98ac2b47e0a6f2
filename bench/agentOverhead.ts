/**
 * What the agent costs a pod: the sandbox gateway's CPU per request (the headline: steadier than throughput on
 * shared machines), throughput and latency under a saturating load, in three arms:
 *   baseline      no instrumentation at all (`--no-agent`)
 *   agent         the agent: metrics, events, logs, runtime metrics, heap sampling, and one 10-second CPU
 *                 profile per minute of load
 *   agent+traces  the same plus OpenTelemetry tracing with 5 % head sampling (`--trace-sample 0.05`)
 * Gateways are pinned to CPU 0, the load generators and nats-server to CPU 1 (taskset). By default the three
 * arms run at the same time, sharing CPU 0, each under its own closed-loop load: the kernel interleaves them
 * every few milliseconds, so whatever else a shared machine does hits all arms alike, and with fair shares
 * of one core their throughput ratio is the inverse of their CPU-per-request ratio. SG_BENCH_MODE=sequential
 * runs one arm after the other instead, each alone on CPU 0, in an order that rotates from round to round.
 * Ratios are taken against the baseline of the same round; the median over rounds is reported with its
 * quartiles and range.
 *
 * SG_BENCH_COLLECTOR=server replaces the one mid-run profile by continuous collection as the product does it:
 * a real server (startHeadless, DuckDB in memory) whose collector profiles the agent arms on its own schedule
 * (every SG_BENCH_PROFILE_EVERY seconds, default 30, a CPU profile of a sixth of that and a heap profile each
 * round), storing them; the p99 latency of requests within a second of a CPU profile's start or stop is then
 * reported beside the p99 of the rest (profilers that stop one profile before starting the next showed spikes).
 *
 * SG_BENCH_MODE=interleaved keeps the three gateways up for the whole run and gives each arm in turn short slices
 * of load alone on CPU 0 (see runInterleaved): steady-state pods, measured a few seconds apart.
 *
 *   npm run bench -- agentOverhead      (SG_BENCH_SECONDS=60 per run, SG_BENCH_ROUNDS=8, SG_BENCH_MODE=concurrent|sequential|interleaved,
 *                                        SG_BENCH_SLICE_SECONDS=10 and SG_BENCH_FRESH=1 (new gateways each round) in interleaved mode,
 *                                        SG_BENCH_COLLECTOR=mid-run|server|none)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { connect } from 'nats';
import { LOADTEST_TENANT } from '../demo/gateway/tenants';
import { fetchProfile } from '../src/common/podClient';
import { ensureStreamsAt } from '../src/common/streams';
import { startNatsServer } from '../src/launch/nats';
import { findExecutable, freePort, httpOk, spawnService, waitUntil } from '../src/launch/process';
import { startHeadless, type HeadlessServer } from '../src/server/headless';
import type { StoredProfileMeta } from '../src/server/profiles/profileStore';
import { cpuSeconds, pinned, tempDirectory } from './support';

const root = join(__dirname, '..', '..');
const SECONDS = Number(process.env.SG_BENCH_SECONDS ?? 60);
const ROUNDS = Number(process.env.SG_BENCH_ROUNDS ?? 8);
/**
 * concurrent (default): the three gateways run at the same time, all pinned to CPU 0, each with its own load,
 * so whatever else the machine does in a round hits every arm alike; sequential: one arm after the other,
 * each alone on CPU 0 (the arms then see different moments of a shared machine).
 */
const MODE = process.env.SG_BENCH_MODE === 'sequential' ? 'sequential' : process.env.SG_BENCH_MODE === 'interleaved' ? 'interleaved' : 'concurrent';
/** Interleaved mode: seconds of load per slice; a round is SLICES_PER_ROUND slices of each arm. */
const SLICE_SECONDS = Number(process.env.SG_BENCH_SLICE_SECONDS ?? 10);
const SLICES_PER_ROUND = 6;
/**
 * Interleaved mode with SG_BENCH_FRESH=1: new gateway processes for every round. Two processes of the same code
 * differ by a few % CPU per request for as long as they live (stop 20), so an arm measured on one process carries
 * that process's luck; fresh ones each round turn it into round-to-round spread that the median sees.
 */
const FRESH = process.env.SG_BENCH_FRESH === '1';
/** Continuous profiling's duty cycle: one 10-second CPU profile per minute of load. */
const PROFILE_SECONDS = Math.max(1, Math.round(SECONDS / 6));
const WARMUP_SECONDS = 5;
/** mid-run (default): one CPU profile in the middle of each run; server: a real collector; none: no profile, to tell the agent's own cost from profiling's. */
const COLLECTOR = process.env.SG_BENCH_COLLECTOR === 'server' ? 'server' : process.env.SG_BENCH_COLLECTOR === 'none' ? 'none' : 'mid-run';
const COLLECT_EVERY = Number(process.env.SG_BENCH_PROFILE_EVERY ?? 30);
type Arm = 'baseline' | 'agent' | 'agent+traces' | 'agent-no-heap' | 'agent-heap-4m';
const ALL_ARM_ARGS: Record<Arm, string[]> = {
  baseline: ['--no-agent'],
  agent: ['--no-tracing'],
  'agent+traces': ['--trace-sample', '0.05'],
  // To tell the heap sampler's share: the agent arm with V8's sampling heap profiler off.
  'agent-no-heap': ['--no-tracing', '--heap-sampling-bytes', '0'],
  // Does the heap sampler's cost follow its sample rate? The agent arm sampling every 4 MiB instead of 512 KiB.
  'agent-heap-4m': ['--no-tracing', '--heap-sampling-bytes', String(4 * 1024 * 1024)],
};
/** SG_BENCH_ARMS picks the arms (baseline always runs): default agent and agent+traces. */
const ARM_ARGS: Partial<Record<Arm, string[]>> = Object.fromEntries(
  ['baseline', ...(process.env.SG_BENCH_ARMS ?? 'agent,agent+traces').split(',').filter((a) => a !== 'baseline')].map((a) => {
    if (!(a in ALL_ARM_ARGS)) throw new Error(`SG_BENCH_ARMS: unknown arm "${a}" (${Object.keys(ALL_ARM_ARGS).join(', ')})`);
    return [a, ALL_ARM_ARGS[a as Arm]];
  }),
);
const CONCURRENCY = 24;

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
  /** Each request's end (epoch ms) and latency (ms). */
  timeline: [number, number][];
}

/** The load generator (its own process): closed loop, CONCURRENCY keep-alive connections. */
async function loader(port: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const body = JSON.stringify({ type: 'bench', data: 'z'.repeat(400) });
  const latencies: number[] = [];
  const timeline: [number, number][] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/v1/streams/bench/messages', agent, headers: { authorization: `Bearer ${LOADTEST_TENANT.apiKey}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.once('end', () => {
            if (res.statusCode === 202) {
              const latency = performance.now() - started;
              latencies.push(latency);
              timeline.push([Date.now(), Math.round(latency * 100) / 100]);
            } else errors++;
            resolve();
          });
        },
      );
      req.once('error', () => (errors++, resolve()));
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, seconds: elapsed, p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0, timeline };
}

interface ArmResult extends LoadResult {
  arm: Arm;
  round: number;
  cpuSeconds: number;
  cpuPerThousand: number;
  /** Seconds of CPU profile taken during the run (0: none). */
  profiled: number;
  /** With the server collecting: p99 of requests within 1 s of a CPU profile's start or stop, and of the rest. */
  p99NearProfileEdges?: number;
  p99Elsewhere?: number;
  heapProfiles?: number;
}

interface RunningGateway {
  arm: Arm;
  pod: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startGateway(arm: Arm, round: number, natsUrl: string): Promise<RunningGateway> {
  const port = await freePort();
  const pod = `bench-${arm.replace('+', '-')}-${round}`;
  const dir = tempDirectory('sg-bench-gw-');
  const [command, args] = pinned(0, process.execPath, [
    join(root, 'dist', 'demo', 'gateway.js'),
    '--pod', pod,
    '--port', String(port),
    '--nats', natsUrl,
    '--data-dir', dir,
    '--state-dir', dir,
    ...ARM_ARGS[arm]!,
  ]);
  const gateway = spawnService(`gateway (${arm})`, command, args, { logFile: join(dir, 'gateway.log') });
  try {
    await waitUntil('the gateway', () => httpOk(`http://127.0.0.1:${port}/healthz`), { service: gateway });
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  // taskset execs the command, so this is the gateway itself
  return { arm, pod, port, pid: gateway.pid, stop: () => gateway.stop() };
}

/** One 10-second CPU profile per minute of load, as continuous profiling would take, from the middle of the run. */
async function profileMidRun(natsUrl: string, pod: string): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  try {
    await new Promise((r) => setTimeout(r, Math.max(0, ((SECONDS - PROFILE_SECONDS) / 2) * 1000)));
    await fetchProfile(nc, pod, { type: 'cpu', seconds: PROFILE_SECONDS });
    return PROFILE_SECONDS;
  } finally {
    await nc.close();
  }
}

/** A real server collecting profiles from every pod on the bench's NATS, as the product does; what it stored. */
async function startCollector(natsUrl: string): Promise<{ server: HeadlessServer; stored: StoredProfileMeta[] }> {
  const server = await startHeadless(
    { nats: { url: natsUrl }, store: { kind: 'duckdb', path: ':memory:' }, profiling: { intervalSeconds: COLLECT_EVERY, cpuSeconds: Math.max(1, Math.round(COLLECT_EVERY / 6)) } },
    { logLevel: 'warn' },
  );
  const stored: StoredProfileMeta[] = [];
  server.backend.profiling.onStored((meta) => stored.push(meta));
  return { server, stored };
}

const p99Of = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]! : NaN);

/** Loads the given gateways at the same time and measures each one's requests and CPU over the same window. */
async function measure(gateways: RunningGateway[], round: number, natsUrl: string): Promise<ArmResult[]> {
  const collector = COLLECTOR === 'server' ? await startCollector(natsUrl) : undefined;
  try {
    await Promise.all(gateways.map((g) => runLoader(g.port, WARMUP_SECONDS)));
    const cpuBefore = gateways.map((g) => cpuSeconds(g.pid));
    const window = { from: Date.now(), to: 0 };
    const profiles = gateways.map((g) => (g.arm === 'baseline' || collector || COLLECTOR === 'none' ? Promise.resolve(0) : profileMidRun(natsUrl, g.pod)));
    const loads = await Promise.all(gateways.map((g) => runLoader(g.port, SECONDS)));
    window.to = Date.now();
    const profiled = await Promise.all(profiles);
    return gateways.map((g, i) => {
      const cpu = cpuSeconds(g.pid) - cpuBefore[i]!;
      const load = loads[i]!;
      const result: ArmResult = { arm: g.arm, round, ...load, timeline: [], cpuSeconds: cpu, cpuPerThousand: (cpu / Math.max(1, load.requests)) * 1000, profiled: profiled[i]! };
      if (collector) {
        const mine = collector.stored.filter((m) => m.pod === g.pod);
        const cpuProfiles = mine.filter((m) => m.type === 'cpu');
        result.profiled = cpuProfiles.reduce((a, m) => a + Math.max(0, Math.min(m.to, window.to) - Math.max(m.from, window.from)), 0) / 1000;
        result.heapProfiles = mine.filter((m) => m.type === 'heap' && m.from >= window.from && m.from <= window.to).length;
        const edges = cpuProfiles.flatMap((m) => [m.from, m.to]);
        const near = (t: number) => edges.some((e) => Math.abs(t - e) <= 1000);
        result.p99NearProfileEdges = p99Of(load.timeline.filter(([t]) => near(t)).map(([, l]) => l));
        result.p99Elsewhere = p99Of(load.timeline.filter(([t]) => !near(t)).map(([, l]) => l));
      }
      return result;
    });
  } finally {
    await collector?.server.close();
  }
}

/** A round: the arms one after the other (sequential), or all at once sharing CPU 0 (concurrent). */
async function runRound(round: number, order: Arm[], natsUrl: string): Promise<ArmResult[]> {
  if (MODE === 'sequential') {
    const out: ArmResult[] = [];
    for (const arm of order) {
      const gateway = await startGateway(arm, round, natsUrl);
      try {
        out.push(...(await measure([gateway], round, natsUrl)));
      } finally {
        await gateway.stop();
      }
    }
    return out;
  }
  const gateways: RunningGateway[] = [];
  try {
    for (const arm of order) gateways.push(await startGateway(arm, round, natsUrl));
    return await measure(gateways, round, natsUrl);
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
  }
}

/**
 * Interleaved mode: the three gateways start once and stay up, like long-running pods (JIT warm, source maps
 * read by a first profile during warm-up); then, round after round, each arm alone gets SLICE_SECONDS of load
 * in turn, the order rotated per cycle, SLICES_PER_ROUND cycles a round. Arms are thus never more than a few
 * seconds apart, so a shared machine's drift hits them alike, and each runs alone on CPU 0 at a full pod's rate.
 * In each round one slice of every agent arm carries the default collection schedule's work: a CPU profile as
 * long as the slice (10 s of every 60 s of load, with its timeline) and a heap profile; that slice's CPU is
 * counted until both profiles are back (their conversion and compression included).
 */
async function runInterleaved(natsUrl: string): Promise<ArmResult[]> {
  const arms = Object.keys(ARM_ARGS) as Arm[];
  const gateways: RunningGateway[] = [];
  const nc = await connect({ servers: natsUrl });
  const results: ArmResult[] = [];
  try {
    const startAll = async (round: number) => {
      for (const arm of arms) gateways.push(await startGateway(arm, round, natsUrl));
      for (const g of gateways) {
        const warm = runLoader(g.port, WARMUP_SECONDS * 3);
        if (g.arm !== 'baseline') await fetchProfile(nc, g.pod, { type: 'cpu', seconds: 2, timeline: true });
        await warm;
      }
    };
    await startAll(0);
    for (let round = 0; round < ROUNDS; round++) {
      if (FRESH && round > 0) {
        await Promise.all(gateways.splice(0).map((g) => g.stop()));
        await startAll(round);
      }
      const acc = new Map<Arm, { cpu: number; requests: number; seconds: number; errors: number; p50: number[]; p99: number[]; profiled: number; heapProfiles: number }>();
      for (const arm of arms) acc.set(arm, { cpu: 0, requests: 0, seconds: 0, errors: 0, p50: [], p99: [], profiled: 0, heapProfiles: 0 });
      const profiledCycle = round % SLICES_PER_ROUND;
      for (let cycle = 0; cycle < SLICES_PER_ROUND; cycle++) {
        const shift = round * SLICES_PER_ROUND + cycle;
        for (let i = 0; i < gateways.length; i++) {
          const g = gateways[(i + shift) % gateways.length]!;
          const a = acc.get(g.arm)!;
          const profile = cycle === profiledCycle && g.arm !== 'baseline';
          const before = cpuSeconds(g.pid);
          const work = profile
            ? Promise.all([fetchProfile(nc, g.pod, { type: 'cpu', seconds: SLICE_SECONDS, timeline: true }), g.arm === 'agent-no-heap' ? undefined : fetchProfile(nc, g.pod, { type: 'heap' })])
            : Promise.resolve();
          const load = await runLoader(g.port, SLICE_SECONDS);
          await work;
          a.cpu += cpuSeconds(g.pid) - before;
          a.requests += load.requests;
          a.seconds += load.seconds;
          a.errors += load.errors;
          a.p50.push(load.p50);
          a.p99.push(load.p99);
          if (profile) {
            a.profiled += SLICE_SECONDS;
            if (g.arm !== 'agent-no-heap') a.heapProfiles++;
          }
        }
      }
      for (const [arm, a] of acc) {
        const r: ArmResult = { arm, round, requests: a.requests, errors: a.errors, seconds: a.seconds, p50: median(a.p50), p99: median(a.p99), timeline: [], cpuSeconds: a.cpu, cpuPerThousand: (a.cpu / Math.max(1, a.requests)) * 1000, profiled: a.profiled, heapProfiles: a.heapProfiles };
        results.push(r);
        process.stderr.write(`  round ${round + 1} ${arm}: ${(r.requests / r.seconds).toFixed(0)} req/s, ${r.cpuPerThousand.toFixed(4)} CPU s per 1000 requests\n`);
      }
    }
    return results;
  } finally {
    await nc.close();
    await Promise.all(gateways.map((g) => g.stop()));
  }
}

function runLoader(port: number, seconds: number): Promise<LoadResult> {
  const [command, args] = pinned(1, process.execPath, [__filename, '--loader', String(port), String(seconds)]);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`loader exited ${code}`))));
  });
}

const median = (xs: number[]) => quantile(xs, 0.5);

/** Linear-interpolated quantile of a sample. */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
}

/** "×1.004 (quartiles 0.998–1.010, range 0.990–1.020)" of per-round ratios. */
function spread(ratios: number[], digits = 3): string {
  const f = (x: number) => x.toFixed(digits);
  return `×${f(median(ratios))} (quartiles ${f(quantile(ratios, 0.25))}–${f(quantile(ratios, 0.75))}, range ${f(Math.min(...ratios))}–${f(Math.max(...ratios))})`;
}

async function main(): Promise<void> {
  const [flag, portArg, secondsArg] = process.argv.slice(2);
  if (flag === '--loader') {
    process.stdout.write(JSON.stringify(await loader(Number(portArg), Number(secondsArg))));
    return;
  }
  const nats = await startNatsServer();
  await ensureStreamsAt(nats.url);
  const taskset = findExecutable('taskset');
  if (taskset) execFileSync(taskset, ['-cp', '1', String(nats.process.pid)], { stdio: 'ignore' });
  try {
    const arms = Object.keys(ARM_ARGS) as Arm[];
    const results: ArmResult[] = MODE === 'interleaved' ? await runInterleaved(nats.url) : [];
    for (let round = 0; round < (MODE === 'interleaved' ? 0 : ROUNDS); round++) {
      // Rotate the order so that no arm always runs (or starts) first.
      const order = arms.map((_, i) => arms[(i + round) % arms.length]!);
      for (const r of await runRound(round, order, nats.url)) {
        results.push(r);
        process.stderr.write(`  round ${round + 1} ${r.arm}: ${(r.requests / r.seconds).toFixed(0)} req/s, ${r.cpuPerThousand.toFixed(4)} CPU s per 1000 requests\n`);
      }
    }
    const rate = (r: ArmResult) => r.requests / r.seconds;
    const how =
      MODE === 'concurrent'
        ? `${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up, the three arms at once, sharing CPU 0`
        : MODE === 'sequential'
          ? `${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up, one arm after the other, rotated, each alone on CPU 0`
          : `long-running gateways warmed for ${WARMUP_SECONDS * 3} s, ${SLICE_SECONDS} s slices of load interleaved, each arm alone on CPU 0, ${SLICES_PER_ROUND} slices of each arm a round`;
    console.log(`gateway under a saturating closed-loop load (${CONCURRENCY} connections per gateway, ${ROUNDS} rounds, ${how}${taskset ? '; gateways pinned to CPU 0, load and nats-server to CPU 1' : ''})`);
    if (MODE === 'concurrent') {
      for (let round = 0; round < ROUNDS; round++) {
        const rs = results.filter((r) => r.round === round);
        const busy = rs.reduce((a, r) => a + r.cpuSeconds, 0) / Math.max(...rs.map((r) => r.seconds));
        process.stdout.write(`  round ${round + 1}: the gateways kept CPU 0 ${(busy * 100).toFixed(0)} % busy\n`);
      }
    }
    console.log(`  profiles: ${MODE === 'interleaved' ? `the default schedule: in each round (${SLICES_PER_ROUND * SLICE_SECONDS} s of an arm's load) one ${SLICE_SECONDS} s CPU profile and one heap profile` : COLLECTOR === 'server' ? `collected by a real server every ${COLLECT_EVERY} s (CPU ${Math.max(1, Math.round(COLLECT_EVERY / 6))} s + heap per round)` : COLLECTOR === 'none' ? 'none (SG_BENCH_COLLECTOR=none)' : `one ${PROFILE_SECONDS} s CPU profile mid-run`}`);
    console.log('  round  arm            req/s    p50 ms   p99 ms   CPU s/1000 req   errors   CPU profile' + (COLLECTOR === 'server' ? '   p99 near start/stop   p99 elsewhere' : ''));
    for (const r of results) {
      const edges = r.p99NearProfileEdges !== undefined ? `   ${r.p99NearProfileEdges.toFixed(2).padStart(10)} ms   ${r.p99Elsewhere!.toFixed(2).padStart(10)} ms` : '';
      console.log(`  ${String(r.round + 1).padStart(5)}  ${r.arm.padEnd(13)} ${rate(r).toFixed(0).padStart(6)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${r.cpuPerThousand.toFixed(4).padStart(12)} ${String(r.errors).padStart(10)}   ${r.profiled ? `${r.profiled.toFixed(1)} s taken${r.heapProfiles !== undefined ? ` + ${r.heapProfiles} heap` : ''}` : '—'}${edges}`);
    }
    const summary: Record<string, unknown> = { mode: MODE, collector: COLLECTOR, seconds: SECONDS, rounds: ROUNDS, profileSeconds: PROFILE_SECONDS, results };
    for (const arm of Object.keys(ARM_ARGS) as Arm[]) {
      const cpu = results.filter((r) => r.arm === arm).map((r) => r.cpuPerThousand);
      console.log(`${arm.padEnd(13)} CPU per request: median ${median(cpu).toFixed(4)} ms (range ${Math.min(...cpu).toFixed(4)}–${Math.max(...cpu).toFixed(4)})`);
    }
    for (const arm of (Object.keys(ARM_ARGS) as Arm[]).filter((a) => a !== 'baseline')) {
      const pairs = results
        .filter((r) => r.arm === arm)
        .map((r) => ({ r, base: results.find((b) => b.arm === 'baseline' && b.round === r.round)! }));
      const cpu = pairs.map(({ r, base }) => r.cpuPerThousand / base.cpuPerThousand);
      const throughput = pairs.map(({ r, base }) => rate(r) / rate(base));
      const p99 = pairs.map(({ r, base }) => r.p99 / base.p99);
      summary[arm] = { cpuPerRequest: cpu, throughput, p99 };
      console.log(`${arm} / baseline, per-round ratios, median of ${pairs.length} rounds:`);
      console.log(`  CPU per request ${spread(cpu)}   (budget ≤ ×${arm === 'agent' ? '1.01' : '1.02'})`);
      console.log(`  throughput      ${spread(throughput)}   (budget ≥ ${arm === 'agent' ? '0.99' : '0.98'})`);
      console.log(`  p99 latency     ${spread(p99)}`);
      console.log(`  CPU per request by round: ${cpu.map((x) => x.toFixed(3)).join(', ')}`);
    }
    const out = join(root, 'bench-results', `agentOverhead-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(summary, null, 2));
    console.log(`per-run figures: ${out}`);
  } finally {
    await nats.stop();
  }
}

void main();
