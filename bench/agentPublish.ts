/**
 * Can one pod publish 50 000 events a second without blocking its event loop for more than 5 ms?
 * Each arm is a fresh process emitting 500 events every 10 ms for 10 s: with the agent (to a real
 * nats-server with JetStream) and without (the same events built and thrown away: the baseline). Event-loop
 * delay is sampled every millisecond.
 *
 *   npm run bench -- agentPublish      (SG_BENCH_SECONDS=10 per run; SG_FLUSH_MS sets the agent flush interval)
 */
import { execFileSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startAgent, type Agent } from '../src/agent';
import { ensureStreamsAt } from '../src/common/streams';
import { startNatsServer } from '../src/launch/nats';

const RATE = 50_000;
const TICK_MS = 10;
const SECONDS = Number(process.env.SG_BENCH_SECONDS ?? 10);

interface ArmResult {
  arm: string;
  emitted: number;
  seconds: number;
  loopMaxMs: number;
  loopP99Ms: number;
  published: number;
  dropped: number;
  drainMs: number;
  /** The agent's own longest synchronous task, as it measures itself. */
  agentTaskMs: number;
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
    published,
    dropped,
    drainMs: performance.now() - drainStart,
    agentTaskMs,
  };
}

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
    for (const a of ['baseline', 'agent', 'baseline', 'agent'] as const) {
      const out = execFileSync(process.execPath, [__filename, '--child', a, nats.url], { encoding: 'utf8', maxBuffer: 1 << 20 });
      results.push(JSON.parse(out) as ArmResult);
    }
    console.log(`agent publishing at ${RATE} events/s for ${SECONDS} s (fresh process per run, JetStream on loopback)`);
    console.log('  arm        events/s   loop max   loop p99   agent task   published   dropped   drain');
    for (const r of results) {
      console.log(
        `  ${r.arm.padEnd(9)} ${(r.emitted / r.seconds).toFixed(0).padStart(9)} ${r.loopMaxMs.toFixed(2).padStart(8)} ms ${r.loopP99Ms.toFixed(2).padStart(7)} ms ${r.arm === 'agent' ? `${r.agentTaskMs.toFixed(2).padStart(8)} ms` : '         —'} ${String(r.published).padStart(10)} ${String(r.dropped).padStart(9)} ${r.drainMs.toFixed(0).padStart(6)} ms`,
      );
    }
    const agents = results.filter((r) => r.arm === 'agent');
    const bases = results.filter((r) => r.arm === 'baseline');
    const worst = Math.max(...agents.map((r) => r.loopMaxMs));
    const baseWorst = Math.max(...bases.map((r) => r.loopMaxMs));
    console.log(`longest task of the agent itself ${Math.max(...agents.map((r) => r.agentTaskMs)).toFixed(2)} ms (budget 5 ms)`);
    console.log(`worst event-loop delay with the agent ${worst.toFixed(2)} ms; without it ${baseWorst.toFixed(2)} ms (GC and the machine's own noise); ratio ${(worst / Math.max(baseWorst, 0.01)).toFixed(2)}`);
    console.log(`delivered ${agents.reduce((a, r) => a + r.published, 0)} of ${agents.reduce((a, r) => a + r.emitted, 0)} events, dropped ${agents.reduce((a, r) => a + r.dropped, 0)}`);
  } finally {
    await nats.stop();
  }
}

void main();
