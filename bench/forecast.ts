/**
 * How long does serving one forecast take? Budget < 100 ms per series, goal < 10 ms including the model choice
 * (every candidate backtested at three origins) from cached fits. Series: the 207 M4 Hourly training series
 * (700–960 hourly values), 48 steps ahead, with the pooled model fitted once beforehand (as the live product
 * refits it now and then, not per request).
 *
 * Arms, interleaved series by series so machine noise hits them alike:
 * - cached: forecast(series, { fits }) with the parameters of an earlier call (the live path);
 * - cold: forecast(series) fitting every candidate's parameters (ETS by Nelder–Mead, …) first;
 * - floor (baseline): seasonal naive alone, the least any forecast can cost.
 * Also the OnlineDetector's cost per value against a plain EWMA update (its baseline).
 *
 *   npm run bench -- forecast
 */
import { join } from 'node:path';
import { readM4File } from '../src/cli/eval/m4Data';
import { OnlineDetector } from '../src/server/ml/anomaly';
import { forecast, type SeriesFits } from '../src/server/ml/forecast';
import { fitGlobalModels } from '../src/server/ml/global';
import { seasonalNaiveForecast } from '../src/server/ml/models/classical';
import { evalDataDir } from '../test/support/evalData';

const H = 48;
const SEASON = 24;

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summary(samples: number[]): { median: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1]! };
}

function main(): void {
  const series = readM4File(join(evalDataDir(), 'm4-hourly', 'Hourly-train.csv')).map((s) => s.values);
  let started = performance.now();
  const global = fitGlobalModels(series, { horizon: H });
  const fitSeconds = (performance.now() - started) / 1000;
  if (!global) throw new Error('the pooled model could not be fitted');

  const fits: SeriesFits[] = series.map((y) => forecast(y, { horizon: H, season: SEASON, global }).fits);
  // Warm the JIT on every path before timing.
  for (let i = 0; i < 20; i++) forecast(series[i]!, { horizon: H, season: SEASON, global, fits: fits[i]! });

  const cached: number[] = [];
  const cold: number[] = [];
  const floor: number[] = [];
  let sink = 0;
  for (let round = 0; round < 3; round++) {
    series.forEach((y, i) => {
      let t = performance.now();
      sink += seasonalNaiveForecast(y, SEASON, H)[0]!;
      floor.push(performance.now() - t);
      t = performance.now();
      sink += forecast(y, { horizon: H, season: SEASON, global, fits: fits[i]! }).points[0]!.mean;
      cached.push(performance.now() - t);
      if (round === 0) {
        t = performance.now();
        sink += forecast(y, { horizon: H, season: SEASON, global }).points[0]!.mean;
        cold.push(performance.now() - t);
      }
    });
  }

  const values = series.flatMap((y) => [...y]);
  started = performance.now();
  let detectorSink = 0;
  for (let r = 0; r < 3; r++) {
    const detector = new OnlineDetector({ season: SEASON });
    values.forEach((v, t) => (detectorSink += detector.update(t, v)));
  }
  const detectorNs = ((performance.now() - started) * 1e6) / (3 * values.length);
  started = performance.now();
  for (let r = 0; r < 3; r++) {
    let level = values[0]!;
    for (const v of values) detectorSink += level += 0.1 * (v - level);
  }
  const ewmaNs = ((performance.now() - started) * 1e6) / (3 * values.length);

  const c = summary(cached);
  const k = summary(cold);
  const f = summary(floor);
  console.log(`forecast serving: ${series.length} M4 Hourly series, ${H} steps, 5 candidates × 3 backtest origins (pooled model fitted once in ${fitSeconds.toFixed(1)} s)`);
  console.log('  arm                      median      p99      max   ratio to floor (median)');
  const row = (name: string, s: { median: number; p99: number; max: number }) =>
    console.log(`  ${name.padEnd(24)}${s.median.toFixed(3).padStart(7)} ms${s.p99.toFixed(2).padStart(7)} ms${s.max.toFixed(2).padStart(7)} ms${(s.median / f.median).toFixed(0).padStart(10)}×`);
  row('cached fits (live path)', c);
  row('cold (fit every model)', k);
  row('seasonal naive (floor)', f);
  console.log(`cached vs cold: ${(c.median / k.median).toFixed(3)} of the time; budget 100 ms, goal 10 ms: p99 ${c.p99.toFixed(2)} ms ${c.p99 < 10 ? 'meets the goal' : c.p99 < 100 ? 'meets the budget only' : 'misses the budget'}`);
  console.log(`OnlineDetector.update: ${detectorNs.toFixed(0)} ns per value; a bare EWMA update ${ewmaNs.toFixed(1)} ns (ratio ${(detectorNs / ewmaNs).toFixed(0)}×)`);
  if (!Number.isFinite(sink + detectorSink)) console.log('(sink)');
}

main();
