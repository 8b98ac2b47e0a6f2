/**
 * What the agent costs a pod, counted inside one process instead of compared between two.
 *
 * agentOverhead compares a gateway with the agent against one without it. On these machines two processes of the
 * same code differ by a few % of CPU per request for as long as they live, and the same work in one process
 * varies by ±20 % from one second to the next, so that comparison cannot resolve a 1 % budget. This benchmark
 * attributes instead: it runs the sandbox gateway with the agent under agentOverhead's saturating load and
 * counts what of the gateway's CPU is the agent's work.
 *
 * - Native work (`perf record -g` of every thread of the gateway, its native frames: V8 and Node are built with
 *   symbols): V8's sampling heap profiler, the CPU profiler (signal handler, stack sampling, code events), the
 *   inspector sessions, the GC observer behind `nodejs_gc_pause_ms`, the event-loop delay monitor, gzip.
 * - The agent's JavaScript (the ticks of the agent's own CPU profiles of the gateway, source-mapped: the profiling
 *   phase's and a longer one, pooled over the rounds): `src/agent/` and DDSketch, and the NATS client's work in
 *   proportion to the messages the agent publishes.
 * - Continuous profiling's conversion work: the gateway's CPU from the end of a CPU profile's load to the reply
 *   (pprof conversion, source mapping, gzip), and the whole CPU of a heap profile taken while the gateway is idle.
 *
 * The default collection schedule (one 10-second CPU profile and one heap profile per minute) weighs the phases:
 * 50 s of the steady phase's rate, 10 s of the profiling phase's, plus one conversion and one heap profile. The
 * cost is reported as a ratio, the gateway's CPU over what it would be without the agent's work (×1.01 = 1 %).
 *
 * Not counted: garbage the agent's code leaves for the collector (its per-request path allocates nothing:
 * counters and histograms are numbers in place, events are encoded into reused buffers), and cache effects.
 *
 *   npm run bench -- agentCost      (SG_BENCH_SECONDS=30 of steady load, SG_BENCH_ROUNDS=3, SG_BENCH_ATTRIBUTION_SECONDS=30;
 *                                    needs perf: apt install linux-perf)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { connect } from 'nats';
import { Profile } from 'pprof-format';
import { fetchProfile, podHealth } from '../src/common/podClient';
import { ensureStreamsAt } from '../src/common/streams';
import { startNatsServer } from '../src/launch/nats';
import { findExecutable, freePort, httpOk, spawnService, waitUntil } from '../src/launch/process';
import { cpuSeconds, pinned, tempDirectory } from './support';

const root = join(__dirname, '..', '..');
const STEADY_SECONDS = Number(process.env.SG_BENCH_SECONDS ?? 30);
const ROUNDS = Number(process.env.SG_BENCH_ROUNDS ?? 3);
/** The collector's defaults: a CPU profile of a sixth of each 60-second round, and a heap profile per round. */
const ROUND_SECONDS = 60;
const PROFILE_SECONDS = 10;
const PERF_HZ = 997;
/** A longer CPU profile per round whose ticks only attribute JavaScript to files. */
const ATTRIBUTION_SECONDS = Number(process.env.SG_BENCH_ATTRIBUTION_SECONDS ?? 30);

/**
 * Native frames that are the agent's work, first match wins (checked against every frame of a sample's stack).
 * The names are V8's and Node's own C++ symbols.
 */
const NATIVE_PARTS: [string, RegExp][] = [
  ['heap sampler', /SamplingHeapProfiler/],
  ['CPU profiler', /sampler::|CpuSampler|CpuProfiler|CpuProfile|ProfilerListener|ProfileGenerator|ProfilerEventsProcessor|SamplingEventsProcessor|ProfilerCodeObserver|TickSample|StackFrameIteratorForProfiler|CodeEntry::/],
  ['inspector', /v8_inspector::|node::inspector::/],
  ['GC observer', /node::performance::MarkGarbageCollection/],
  ['event-loop delay monitor', /IntervalHistogram/],
  ['gzip', /deflate|\bzlib|node::ZlibContext|CompressionStream/i],
];

/**
 * Source files (as the agent's source-mapped profile names them) that are the agent's JavaScript. The gateway runs
 * with `--no-tracing`, so the OpenTelemetry API it calls is its no-op, and the trace-context helpers of
 * `src/agent/tracing.ts` serve its fan-out: the gateway without the agent runs both alike, so they are not counted.
 */
const AGENT_JS = /(^|\/)src\/agent\/(?!tracing\.ts)|@opentelemetry\/(?!api\/)|@datadog\/sketches-js|(^|\/)src\/protocol\//;
const NATS_JS = /node_modules\/nats\//;

interface PerfShares {
  samples: number;
  parts: Record<string, number>;
}

function requirePerf(): string {
  const perf = findExecutable('perf');
  if (!perf) throw new Error('agentCost needs perf to count native work: apt install linux-perf');
  return perf;
}

/** Records every thread of `pid` while `during` runs; the samples whose stacks hold an agent part, by part. */
async function perfShares(perf: string, pid: number, dir: string, name: string, during: () => Promise<unknown>): Promise<PerfShares> {
  const data = join(dir, `${name}.data`);
  const recorder = spawn(perf, ['record', '-q', '-e', 'cpu-clock', '-F', String(PERF_HZ), '-g', '-o', data, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  recorder.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => recorder.once('exit', resolve));
  await new Promise((r) => setTimeout(r, 300));
  try {
    await during();
  } finally {
    recorder.kill('SIGINT');
  }
  const code = await exited;
  if (!existsSync(data)) throw new Error(`perf record failed (${code}): ${stderr.trim()}`);
  const script = execFileSync(perf, ['script', '-i', data, '-F', 'tid,ip,sym'], { maxBuffer: 1 << 30, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const parts: Record<string, number> = Object.fromEntries(NATIVE_PARTS.map(([p]) => [p, 0]));
  let samples = 0;
  for (const block of script.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.trim());
    if (lines.length === 0) continue;
    samples++;
    const frames = lines.slice(1).join('\n');
    const part = NATIVE_PARTS.find(([, re]) => re.test(frames));
    if (part) parts[part[0]]!++;
  }
  return { samples, parts };
}

/** agentOverhead's closed-loop load generator (24 keep-alive connections, 400-byte messages), pinned to CPU 1. */
function load(port: number, seconds: number): Promise<{ requests: number; errors: number }> {
  const [command, args] = pinned(1, process.execPath, [join(__dirname, 'agentOverhead.js'), '--loader', String(port), String(seconds)]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited ${code}`)))));
}

/** Self time of the profiles' samples by source file: the agent's files, the NATS client's, and all (idle excluded). */
function jsShares(pprofs: Buffer[]): { total: number; agent: number; nats: number; byFile: Map<string, number> } {
  const byFile = new Map<string, number>();
  let total = 0;
  for (const pprof of pprofs) total += addSelfTimeByFile(pprof, byFile);
  let agent = 0;
  let nats = 0;
  for (const [file, v] of byFile) {
    if (AGENT_JS.test(file)) agent += v;
    else if (NATS_JS.test(file)) nats += v;
  }
  return { total, agent: agent / total, nats: nats / total, byFile };
}

function addSelfTimeByFile(pprof: Buffer, byFile: Map<string, number>): number {
  const profile = Profile.decode(gunzipSync(pprof));
  const strings = profile.stringTable.strings;
  const fileOf = new Map<number | bigint, string>();
  const nameOf = new Map<number | bigint, string>();
  for (const f of profile.function) {
    fileOf.set(f.id, strings[Number(f.filename)] ?? '');
    nameOf.set(f.id, strings[Number(f.name)] ?? '');
  }
  const leafFunction = new Map<number | bigint, number | bigint>();
  for (const loc of profile.location) leafFunction.set(loc.id, loc.line[0]?.functionId ?? 0);
  const valueIndex = profile.sampleType.findIndex((t) => strings[Number(t.type)] === 'cpu');
  let total = 0;
  for (const sample of profile.sample) {
    const fn = leafFunction.get(sample.locationId[0]!) ?? 0;
    if (nameOf.get(fn) === '(idle)') continue;
    const value = Number(sample.value[valueIndex >= 0 ? valueIndex : 0]);
    const file = fileOf.get(fn) || nameOf.get(fn) || '?';
    byFile.set(file, (byFile.get(file) ?? 0) + value);
    total += value;
  }
  return total;
}

const publishedTotal = (published: Record<string, number>) => Object.values(published).reduce((a, b) => a + b, 0);
const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)} %`;

interface RoundResult {
  perMinute: Record<string, number>;
  gatewayCpuPerMinute: number;
  rate: number;
  js: ReturnType<typeof jsShares>;
  /** The agent's share of the messages the gateway's NATS client publishes. */
  natsShareOfAgent: number;
}

async function round(perf: string, natsUrl: string, index: number): Promise<RoundResult> {
  const dir = tempDirectory('sg-bench-cost-');
  const port = await freePort();
  const pod = `bench-cost-${index}`;
  const [command, args] = pinned(0, process.execPath, [join(root, 'dist', 'demo', 'gateway.js'), '--pod', pod, '--port', String(port), '--nats', natsUrl, '--data-dir', dir, '--state-dir', dir, '--no-tracing']);
  const gateway = spawnService('gateway', command, args, { logFile: join(dir, 'gateway.log') });
  const nc = await connect({ servers: natsUrl });
  try {
    await waitUntil('the gateway', () => httpOk(`http://127.0.0.1:${port}/healthz`), { service: gateway });
    // Warm, like a long-running pod: JIT settled, the source maps read by a first profile.
    const warm = load(port, 15);
    await fetchProfile(nc, pod, { type: 'cpu', seconds: 2, timeline: true });
    await warm;

    // Steady phase: telemetry, runtime metrics and heap sampling, no profile.
    const publishedBefore = publishedTotal((await podHealth(nc, pod)).published);
    const cpu0 = cpuSeconds(gateway.pid);
    let steadyLoad = { requests: 0, errors: 0 };
    const steady = await perfShares(perf, gateway.pid, dir, 'steady', async () => (steadyLoad = await load(port, STEADY_SECONDS)));
    const steadyCpu = cpuSeconds(gateway.pid) - cpu0;
    const agentMessages = publishedTotal((await podHealth(nc, pod)).published) - publishedBefore;

    // Profiling phase: a CPU profile with its timeline, as the collector asks, over as long a load; its
    // conversion is what the gateway spends between the load's end and the reply.
    let pprof: Buffer = Buffer.alloc(0);
    let conversionCpu = 0;
    const profiling = await perfShares(perf, gateway.pid, dir, 'profiling', async () => {
      // The profile starts once the load runs and outlasts it by a little, so its conversion runs on an idle pod.
      const loading = load(port, PROFILE_SECONDS);
      await new Promise((r) => setTimeout(r, 500));
      const reply = fetchProfile(nc, pod, { type: 'cpu', seconds: PROFILE_SECONDS, timeline: true });
      await loading;
      const loadEnded = cpuSeconds(gateway.pid);
      pprof = await reply;
      conversionCpu = cpuSeconds(gateway.pid) - loadEnded;
    });
    writeFileSync(join(dir, 'cpu.pb.gz'), pprof);
    // JavaScript attribution: a further, longer CPU profile under load (the agent's JavaScript is a fraction of a
    // percent, a handful of ticks in one 10-second profile). Only its ticks are used, not its cost.
    const attributionLoad = load(port, ATTRIBUTION_SECONDS + 1);
    await new Promise((r) => setTimeout(r, 500));
    const attribution = await fetchProfile(nc, pod, { type: 'cpu', seconds: ATTRIBUTION_SECONDS });
    await attributionLoad;
    const js = jsShares([pprof, attribution]);

    // A heap profile while the gateway is idle: all its CPU is the profile's.
    await new Promise((r) => setTimeout(r, 1000));
    const idleBefore = cpuSeconds(gateway.pid);
    const idleStarted = performance.now();
    await fetchProfile(nc, pod, { type: 'heap' });
    const idleSeconds = (performance.now() - idleStarted) / 1000;
    const heapProfileCpu = cpuSeconds(gateway.pid) - idleBefore;

    // The gateway's CPU a second under load, from perf's samples (the same clock as the parts).
    // Per minute of load at the default schedule: 50 s at the steady phase's rates, the profiling phase as it
    // was (its 10 s profile, the load around it, the conversion after), and a heap profile.
    const cpuRate = steady.samples / PERF_HZ / STEADY_SECONDS;
    const steadySeconds = ROUND_SECONDS - PROFILE_SECONDS;
    const perMinute: Record<string, number> = {};
    for (const [part] of NATIVE_PARTS) perMinute[part] = ((steady.parts[part] ?? 0) / PERF_HZ / STEADY_SECONDS) * steadySeconds + (profiling.parts[part] ?? 0) / PERF_HZ;
    perMinute['CPU profile conversion'] = conversionCpu;
    perMinute['heap profile'] = Math.max(0, heapProfileCpu);
    const gatewayCpuPerMinute = cpuRate * steadySeconds + profiling.samples / PERF_HZ + heapProfileCpu;
    const rate = steadyLoad.requests / STEADY_SECONDS;
    process.stderr.write(
      `  round ${index + 1}: ${rate.toFixed(0)} req/s, gateway ${(cpuRate * 100).toFixed(0)} % of a core (/proc: ${((steadyCpu / STEADY_SECONDS) * 100).toFixed(0)} %), ` +
        `${steady.samples} + ${profiling.samples} perf samples; agent JS ${pct(js.agent)} of its profiles, NATS client ${pct(js.nats)} ` +
        `(agent ${agentMessages} messages vs ${steadyLoad.requests} fan-out); conversion ${(conversionCpu * 1000).toFixed(0)} ms, heap profile ${(heapProfileCpu * 1000).toFixed(0)} ms in ${idleSeconds.toFixed(2)} s; profile ${join(dir, 'cpu.pb.gz')}\n`,
    );
    return { perMinute, gatewayCpuPerMinute, rate, js, natsShareOfAgent: agentMessages / Math.max(1, agentMessages + steadyLoad.requests) };
  } finally {
    await nc.close();
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const perf = requirePerf();
  const nats = await startNatsServer({ storeDir: tempDirectory('sg-bench-cost-nats-') });
  try {
    await ensureStreamsAt(nats.url);
    const results: RoundResult[] = [];
    for (let i = 0; i < ROUNDS; i++) results.push(await round(perf, nats.url, i));
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    // The agent's JavaScript is a fraction of a percent, a few ticks of each profile: pooled over the rounds.
    const byFile = new Map<string, number>();
    let jsTotal = 0;
    for (const r of results) {
      jsTotal += r.js.total;
      for (const [file, v] of r.js.byFile) byFile.set(file, (byFile.get(file) ?? 0) + v);
    }
    const share = (re: RegExp) => [...byFile].filter(([f]) => re.test(f)).reduce((a, [, v]) => a + v, 0) / jsTotal;
    const gw = median(results.map((r) => r.gatewayCpuPerMinute));
    const rows: [string, number][] = Object.keys(results[0]!.perMinute).map((part) => [part, median(results.map((r) => r.perMinute[part]!))]);
    rows.push(['agent JavaScript (pooled profiles)', share(AGENT_JS) * gw]);
    rows.push(['NATS client, the agent\'s messages', share(NATS_JS) * median(results.map((r) => r.natsShareOfAgent)) * gw]);
    const agentCpu = rows.reduce((a, [, v]) => a + v, 0);
    console.log(`\nWhat the agent costs the gateway at the default collection schedule (a ${PROFILE_SECONDS} s CPU profile and a heap profile per ${ROUND_SECONDS} s of load), ${ROUNDS} rounds of a fresh gateway, ${STEADY_SECONDS} s of steady load each:`);
    console.log(`| part | CPU ms per minute of load (median of rounds) | share of the gateway's CPU |`);
    console.log(`|---|---|---|`);
    for (const [part, v] of rows) console.log(`| ${part} | ${(v * 1000).toFixed(1)} | ${pct(v / gw, 3)} |`);
    console.log(`| **all of the agent** | **${(agentCpu * 1000).toFixed(1)}** | **${pct(agentCpu / gw, 3)}** |`);
    console.log(`\nthe agent's JavaScript by file (pooled, share of the gateway's profiled CPU):`);
    for (const [file, v] of [...byFile].filter(([f]) => AGENT_JS.test(f)).sort((x, y) => y[1] - x[1]).slice(0, 10)) console.log(`  ${pct(v / jsTotal, 3)}  ${file.replace(/^.*?(src\/|node_modules\/)/, '$1')}`);
    console.log(`\nthe gateway: ${median(results.map((r) => r.rate)).toFixed(0)} req/s, ${(gw * 1000).toFixed(0)} ms of CPU per minute`);
    // Each round on its own (its JavaScript from its own profiles, so noisier): the spread.
    const perRound = results.map((r) => {
      const own = Object.values(r.perMinute).reduce((a, b) => a + b, 0) + (r.js.agent + r.js.nats * r.natsShareOfAgent) * r.gatewayCpuPerMinute;
      return r.gatewayCpuPerMinute / (r.gatewayCpuPerMinute - own);
    });
    console.log(`CPU per request with the agent ÷ without its work: ×${(gw / (gw - agentCpu)).toFixed(4)} (rounds on their own: ${perRound.map((x) => `×${x.toFixed(4)}`).join(', ')}); budget ×1.01`);
  } finally {
    await nats.stop();
  }
}

void main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
