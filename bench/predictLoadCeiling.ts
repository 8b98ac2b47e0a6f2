/**
 * How accurate can any one-hour-ahead load forecast of the sandbox be? The load generator's traffic is random: the
 * hour's load is the sum over a few hundred sessions whose lengths are heavy-tailed (Pareto, α = 1.5), with bursts
 * no history can place. This simulates the generator's own model (demo/loadgen/model.ts: arrivals, daily and weekly
 * shape, bursts, session lengths, message intervals; no HTTP, no rate limits, no response times) many times over
 * and scores the best forecast there is without knowing the future draws: the expected load of each hour (the mean
 * over the replicates). Its 1 − MAPE is the ceiling of `npm run bench -- predictLoad` at the same settings; seasonal
 * naive (the same hour the day before) is printed too, as the check against that benchmark's measured baseline.
 *
 *   npm run bench -- predictLoadCeiling
 *   SG_BENCH_DAY_MINUTES=12 SG_BENCH_PEAK=8 SG_BENCH_INTERVAL_MS=120 SG_BENCH_REPLICATES=48 npm run bench -- predictLoadCeiling
 */
import { LOAD_LEVELS } from '../src/launch/sandbox';
import { LoadModel } from '../demo/loadgen/model';

const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const TICK_MS = 100;

interface Settings {
  dayMs: number;
  peak: number;
  maxSessions: number;
  intervalMs: number;
  warmDays: number;
}

/** Requests per simulated hour, over warmDays + 1 simulated days, for one draw of the generator. */
function simulate(s: Settings, seed: number): Float64Array {
  const hourMs = s.dayMs / 24;
  const totalMs = (s.warmDays + 1) * s.dayMs;
  const model = new LoadModel({ dayMs: s.dayMs, startHour: 8, startWeekday: 0, peakSessionsPerSecond: s.peak, tenants: ['t'], seed, messageIntervalMs: s.intervalMs }, 0);
  const counts = new Float64Array(Math.ceil(totalMs / hourMs));
  const count = (t: number) => {
    if (t < totalMs) counts[Math.floor(t / hourMs)]!++;
  };
  const ends: number[] = [];
  for (let t = 0; t < totalMs; t += TICK_MS) {
    for (let i = ends.length - 1; i >= 0; i--) if (ends[i]! <= t) ends.splice(i, 1);
    const arrivals = model.poisson(model.sessionRate(t) * (TICK_MS / 1000));
    for (let i = 0; i < arrivals && ends.length < s.maxSessions; i++) {
      // The session's requests as demo/loadgen/main.ts makes them: open, a subscription (70 %), a history read
      // (10 %), a message every interval until the session's length has passed, and the close.
      count(t);
      if (model.random() < 0.7) count(t);
      if (model.random() < 0.1) count(t);
      const end = t + model.sessionDurationMs();
      let at = t;
      for (;;) {
        at += model.messageIntervalMs();
        if (at >= end) break;
        count(at);
      }
      count(end);
      ends.push(end);
    }
  }
  return counts;
}

function main(): void {
  const normal = LOAD_LEVELS.normal;
  const peakSet = process.env.SG_BENCH_PEAK !== undefined;
  const s: Settings = {
    dayMs: env('SG_BENCH_DAY_MINUTES', 12) * 60_000,
    peak: env('SG_BENCH_PEAK', normal.peakSessionsPerSecond),
    maxSessions: peakSet ? Math.ceil(env('SG_BENCH_PEAK', 0) * 40) : normal.maxSessions,
    intervalMs: env('SG_BENCH_INTERVAL_MS', normal.messageIntervalMs),
    warmDays: env('SG_BENCH_WARM_DAYS', 3),
  };
  const replicates = Math.max(2, env('SG_BENCH_REPLICATES', 48));
  const base = env('SG_BENCH_SEED', 7);
  const runs: Float64Array[] = [];
  for (let r = 0; r < replicates; r++) runs.push(simulate(s, base + r * 7919));
  const first = s.warmDays * 24;
  const sums = Array.from({ length: first + 24 }, (_, h) => runs.reduce((sum, c) => sum + c[h]!, 0));
  const expected = sums.map((sum) => sum / replicates);
  let oracle = 0;
  let seasonal = 0;
  let n = 0;
  for (const c of runs) {
    for (let h = first; h < first + 24; h++) {
      // The expected load from the other draws only (leave one out), so a draw is not scored against itself.
      oracle += Math.abs(c[h]! - (sums[h]! - c[h]!) / (replicates - 1)) / c[h]!;
      seasonal += Math.abs(c[h]! - c[h - 24]!) / c[h]!;
      n++;
    }
  }
  const pct = (mape: number) => `${(100 * (1 - mape / n)).toFixed(1)} %`;
  const hours = expected.slice(first);
  console.log(
    `the load generator's model, ${replicates} draws; day = ${s.dayMs / 60_000} min, peak ${s.peak} sessions/s (at most ${s.maxSessions} at once), ` +
      `message interval ${s.intervalMs} ms; scored day ${s.warmDays}: ${Math.round(Math.min(...hours))}–${Math.round(Math.max(...hours))} requests an hour`,
  );
  console.log(`  1 − MAPE of the hour's mean load: the expected load (the ceiling) ${pct(oracle)}, seasonal naive ${pct(seasonal)}`);
}

main();
