/**
 * Regressions on quiet data, and a pod's memory under continuous profiling: the sandbox fleet (three gateway
 * pods, the Go pod, simulated users held at the evening peak, no incident) profiled by a real server every
 * SG_BENCH_PROFILE_EVERY seconds (default 10, CPU 3 s: six times the default rate, so a run of M minutes holds
 * as many rounds as 6·M minutes at the default schedule). Then every window of W = 6 rounds, slid by one round,
 * is compared with the W before it, for CPU and for the heap, as `sg profile regressions` does: every
 * regression found is a false alarm. Also: each gateway's heap and RSS (from its health) at every minute.
 *
 *   npm run bench -- profileQuiet      (SG_BENCH_MINUTES=10, SG_BENCH_PROFILE_EVERY=10)
 */
import { join } from 'node:path';
import { connect } from 'nats';
import { podHealth } from '../src/common/podClient';
import { startNatsServer } from '../src/launch/nats';
import { startSandbox } from '../src/launch/sandbox';
import type { Regression } from '../src/protocol/profiles';
import { startHeadless } from '../src/server/headless';
import { tempDirectory } from './support';

const root = join(__dirname, '..', '..');
const MINUTES = Number(process.env.SG_BENCH_MINUTES ?? 10);
const EVERY = Number(process.env.SG_BENCH_PROFILE_EVERY ?? 10);
const WINDOW_ROUNDS = 6;

async function main(): Promise<void> {
  const nats = await startNatsServer();
  const sandbox = await startSandbox({
    natsUrl: nats.url,
    stateDir: tempDirectory('sg-bench-quiet-'),
    distDir: join(root, 'dist'),
    goSourceDir: join(root, 'demo', 'gopod'),
    loadgenArgs: ['--start-hour', '19.9', '--day-minutes', String(24 * 60), '--quiet'],
  });
  const server = await startHeadless(
    { nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDirectory('sg-bench-quiet-store-'), 's.duckdb') }, profiling: { intervalSeconds: EVERY, cpuSeconds: Math.max(1, Math.round(EVERY * 0.3)) } },
    { logLevel: 'warn' },
  );
  const nc = await connect({ servers: nats.url });
  const memory = new Map<string, { at: number; heap: number; rss: number }[]>();
  const started = Date.now();
  try {
    for (let minute = 0; minute <= MINUTES; minute++) {
      for (const pod of sandbox.pods.filter((p) => p.runtime === 'node')) {
        const h = await podHealth(nc, pod.pod).catch(() => undefined);
        if (h) memory.set(pod.pod, [...(memory.get(pod.pod) ?? []), { at: (Date.now() - started) / 60_000, heap: h.heapUsedBytes, rss: h.rssBytes }]);
      }
      if (minute < MINUTES) await new Promise((r) => setTimeout(r, 60_000));
    }
    const status = server.backend.status().profiling!;
    console.log(`sandbox at the evening peak, profiled every ${EVERY} s for ${MINUTES} min: ${status.stored} profiles stored, ${status.rounds} rounds, ${status.failures} failures`);

    const api = server.backend.profiling.api;
    const window = WINDOW_ROUNDS * EVERY * 1000;
    const found: Record<'cpu' | 'heap', { comparisons: number; alarmed: number; functions: Regression[]; ms: number[] }> = {
      cpu: { comparisons: 0, alarmed: 0, functions: [], ms: [] },
      heap: { comparisons: 0, alarmed: 0, functions: [], ms: [] },
    };
    // Start after a minute of warm-up plus one window of baseline.
    for (let to = started + 60_000 + 2 * window; to <= Date.now(); to += EVERY * 1000) {
      for (const type of ['cpu', 'heap'] as const) {
        const t0 = performance.now();
        const { regressions } = await api.regressions({ type, from: to - window, to });
        found[type].ms.push(performance.now() - t0);
        found[type].comparisons++;
        if (regressions.length) found[type].alarmed++;
        found[type].functions.push(...regressions);
      }
    }
    for (const type of ['cpu', 'heap'] as const) {
      const f = found[type];
      const ms = [...f.ms].sort((a, b) => a - b);
      console.log(
        `${type}: ${f.comparisons} comparisons of ${WINDOW_ROUNDS} rounds against the ${WINDOW_ROUNDS} before: ${f.alarmed} with a regression (false-alarm rate ${(f.alarmed / Math.max(1, f.comparisons)).toFixed(3)} per comparison), ${f.functions.length} functions flagged; query median ${ms[Math.floor(ms.length / 2)]?.toFixed(0)} ms`,
      );
      for (const r of f.functions.slice(0, 8)) console.log(`  flagged: ${r.function} ${r.baselinePercent.toFixed(2)}% → ${r.currentPercent.toFixed(2)}% (${r.evidence})`);
    }
    console.log(`each gateway's memory under continuous profiling (minute: heap used / RSS, MiB):`);
    for (const [pod, points] of memory) {
      const mib = (x: number) => (x / 1048576).toFixed(1);
      const firstAfterWarmup = points.find((p) => p.at >= 2) ?? points[0]!;
      const last = points.at(-1)!;
      const slope = (last.heap - firstAfterWarmup.heap) / 1048576 / Math.max(1e-9, last.at - firstAfterWarmup.at);
      console.log(`  ${pod}: ${points.map((p) => `${p.at.toFixed(0)}: ${mib(p.heap)}/${mib(p.rss)}`).join('  ')}  → heap ${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MiB/min after minute 2`);
    }
  } finally {
    await nc.close();
    await server.close();
    await sandbox.stop();
    await nats.stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
