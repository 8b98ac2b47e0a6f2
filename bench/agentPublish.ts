/**
 * Can one pod publish 50 000 events a second without blocking its event loop for more than 5 ms?
 * Each arm is a fresh process emitting 500 events every 10 ms for 10 s: with the agent (to a real
 * nats-server with JetStream) and without (the same events built and thrown away: the baseline). Arms
 * alternate, baseline first, for SG_BENCH_ROUNDS rounds.
 *
 * The event loop is watched by a 1 ms timer. On a shared machine a stall is often not the process's doing: the
 * kernel gave its core to another process. So each stall is also measured without the time the main thread
 * spent waiting for a CPU (its run-queue wait, from /proc/<pid>/task/<pid>/schedstat): that "own" figure is
 * what the process's own work (JavaScript, garbage collection) held the loop. Garbage-collection pauses come
 * from V8's gc performance entries.
 *
 *   npm run bench -- agentPublish   (SG_BENCH_SECONDS=10 per run, SG_BENCH_ROUNDS=3; SG_FLUSH_MS sets the agent flush interval)
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { startAgent, type Agent } from '../src/agent';
import { ensureStreamsAt } from '../src/common/streams';
import { startNatsServer } from '../src/launch/nats';

const RATE = 50_000;
const TICK_MS = 10;
const SECONDS = Number(process.env.SG_BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.SG_BENCH_ROUNDS ?? 3);
const BOUND_MS = 5;

interface ArmResult {
  arm: string;
  emitted: number;
  seconds: number;
  loopMaxMs: number;
  loopP99Ms: number;
  /** The longest stall less the time the main thread waited for a CPU during it. */
  ownStallMaxMs: number;
  /** Stalls longer than the bound, as measured and less run-queue wait. */
  stallsOverBound: number;
  ownStallsOverBound: number;
  scavengeMaxMs: number;
  scavenges: number;
  markCompactMaxMs: number;
  gcTotalMs: number;
  published: number;
  dropped: number;
  drainMs: number;
  /** The agent's own longest synchronous task, as it measures itself. */
  agentTaskMs: number;
}

/** Cumulative on-CPU and run-queue nanoseconds of this process's main thread. */
class MainThreadSchedStat {
  private readonly fd = openSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'r');
  private readonly buf = Buffer.alloc(128);
  waitNs = 0;

  read(): void {
    const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
    // "<on-cpu ns> <run-queue wait ns> <timeslices>\n": the second number, parsed without allocating.
    let i = 0;
    while (i < n && this.buf[i] !== 0x20) i++;
    let wait = 0;
    for (i++; i < n && this.buf[i] !== 0x20; i++) wait = wait * 10 + (this.buf[i]! - 0x30);
    this.waitNs = wait;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Watches the loop with a 1 ms timer; a late tick is a stall, measured with and without run-queue wait. */
function watchStalls() {
  const sched = new MainThreadSchedStat();
  const result = { maxMs: 0, ownMaxMs: 0, over: 0, ownOver: 0 };
  sched.read();
  let lastAt = performance.now();
  let lastWait = sched.waitNs;
  const timer = setInterval(() => {
    const now = performance.now();
    sched.read();
    const stall = now - lastAt - 1;
    const own = stall - (sched.waitNs - lastWait) / 1e6;
    if (stall > result.maxMs) result.maxMs = stall;
    if (own > result.ownMaxMs) result.ownMaxMs = own;
    if (stall > BOUND_MS) result.over++;
    if (own > BOUND_MS) result.ownOver++;
    lastAt = now;
    lastWait = sched.waitNs;
  }, 1);
  return {
    result,
    stop() {
      clearInterval(timer);
      sched.close();
    },
  };
}

function watchGc() {
  const result = { scavengeMaxMs: 0, scavenges: 0, markCompactMaxMs: 0, totalMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      result.totalMs += entry.duration;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) {
        result.scavenges++;
        result.scavengeMaxMs = Math.max(result.scavengeMaxMs, entry.duration);
      } else if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) result.markCompactMaxMs = Math.max(result.markCompactMaxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { result, stop: () => observer.disconnect() };
}

async function child(arm: 'agent' | 'baseline', natsUrl: string): Promise<ArmResult> {
  let agent: Agent | undefined;
  if (arm === 'agent') agent = await startAgent({ nats: natsUrl, service: 'bench', pod: `publisher-${process.pid}`, version: '1.0.0', maxBufferedItems: 200_000, flushIntervalMs: Number(process.env.SG_FLUSH_MS ?? 200) });
  const sink: unknown[] = [];
  const emit = (i: number) => {
    const fields = { tenant: `tenant-${i % 50}`, session: `session-${i}`, stream: 'orders', attrs: { bytes: i % 4096, plan: 'team' } };
    if (agent) agent.event('stream.opened', fields);
    else sink.push({ id: `x${i}`, ts: Date.now(), type: 'stream.opened', ...fields });
  };
  // Let startup settle before measuring.
  await new Promise((r) => setTimeout(r, 500));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const stalls = watchStalls();
  const gc = watchGc();
  const perTick = (RATE * TICK_MS) / 1000;
  let emitted = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      // Catch up to the wall clock so the rate holds even when a tick is late.
      const due = Math.floor(((performance.now() - started) / 1000) * RATE);
      const n = Math.min(due - emitted, perTick * 4);
      for (let i = 0; i < n; i++) emit(emitted++);
      sink.length = 0; // an app that builds events and lets them go
      if (performance.now() - started >= SECONDS * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const seconds = (performance.now() - started) / 1000;
  loop.disable();
  stalls.stop();
  // Entries of the last collections arrive asynchronously.
  await new Promise((r) => setTimeout(r, 50));
  gc.stop();
  const drainStart = performance.now();
  let published = 0;
  let dropped = 0;
  let agentTaskMs = 0;
  if (agent) {
    await agent.flush(60_000);
    const health = agent.health();
    published = health.published.events ?? 0;
    dropped = health.dropped.events ?? 0;
    agentTaskMs = health.agentLongestTaskMs ?? 0;
    await agent.stop();
  }
  return {
    arm,
    emitted,
    seconds,
    loopMaxMs: Math.max(0, loop.max / 1e6 - 1),
    loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - 1),
    ownStallMaxMs: stalls.result.ownMaxMs,
    stallsOverBound: stalls.result.over,
    ownStallsOverBound: stalls.result.ownOver,
    scavengeMaxMs: gc.result.scavengeMaxMs,
    scavenges: gc.result.scavenges,
    markCompactMaxMs: gc.result.markCompactMaxMs,
    gcTotalMs: gc.result.totalMs,
    published,
    dropped,
    drainMs: performance.now() - drainStart,
    agentTaskMs,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const [flag, arm, natsUrl] = process.argv.slice(2);
  if (flag === '--child') {
    process.stdout.write(JSON.stringify(await child(arm as 'agent' | 'baseline', natsUrl!)));
    process.exit(0);
  }
  const nats = await startNatsServer();
  await ensureStreamsAt(nats.url);
  try {
    const results: ArmResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const a of ['baseline', 'agent'] as const) {
        const out = execFileSync(process.execPath, [__filename, '--child', a, nats.url], { encoding: 'utf8', maxBuffer: 1 << 20 });
        results.push(JSON.parse(out) as ArmResult);
      }
    }
    console.log(`agent publishing at ${RATE} events/s for ${SECONDS} s, ${ROUNDS} rounds (fresh process per run, JetStream on loopback)`);
    console.log('  arm        events/s  loop max  own max  >5 ms (own)  loop p99  scavenge max (n)  mark-compact max  GC total  agent task  published  dropped   drain');
    const ms = (x: number, w = 6) => `${x.toFixed(2).padStart(w)} ms`;
    for (const r of results) {
      console.log(
        `  ${r.arm.padEnd(9)} ${(r.emitted / r.seconds).toFixed(0).padStart(9)} ${ms(r.loopMaxMs)} ${ms(r.ownStallMaxMs)} ${`${r.stallsOverBound} (${r.ownStallsOverBound})`.padStart(10)}  ${ms(r.loopP99Ms, 5)}  ${ms(r.scavengeMaxMs)} (${String(r.scavenges).padStart(3)})  ${ms(r.markCompactMaxMs, 10)}  ${ms(r.gcTotalMs, 5)}  ${r.arm === 'agent' ? ms(r.agentTaskMs) : '        —'} ${String(r.published).padStart(10)} ${String(r.dropped).padStart(7)} ${r.drainMs.toFixed(0).padStart(5)} ms`,
      );
    }
    for (const a of ['baseline', 'agent'] as const) {
      const rs = results.filter((r) => r.arm === a);
      console.log(
        `${a.padEnd(9)} over ${rs.length} runs: loop max median ${median(rs.map((r) => r.loopMaxMs)).toFixed(2)} ms (worst ${Math.max(...rs.map((r) => r.loopMaxMs)).toFixed(2)}); ` +
          `own stall max median ${median(rs.map((r) => r.ownStallMaxMs)).toFixed(2)} ms (worst ${Math.max(...rs.map((r) => r.ownStallMaxMs)).toFixed(2)}); ` +
          `longest scavenge ${Math.max(...rs.map((r) => r.scavengeMaxMs)).toFixed(2)} ms; stalls over ${BOUND_MS} ms ${rs.reduce((n, r) => n + r.stallsOverBound, 0)} (own ${rs.reduce((n, r) => n + r.ownStallsOverBound, 0)})`,
      );
    }
    const agents = results.filter((r) => r.arm === 'agent');
    console.log(`longest task of the agent itself ${Math.max(...agents.map((r) => r.agentTaskMs)).toFixed(2)} ms (budget ${BOUND_MS} ms)`);
    console.log(`delivered ${agents.reduce((a, r) => a + r.published, 0)} of ${agents.reduce((a, r) => a + r.emitted, 0)} events, dropped ${agents.reduce((a, r) => a + r.dropped, 0)}`);
  } finally {
    await nats.stop();
  }
}

void main();
