/**
 * `sg eval m4 --data DIR`: forecast every series of DIR/Hourly-train.csv as many steps ahead as its line of
 * DIR/Hourly-test.csv holds (48 in M4) and score the forecasts against that file: sMAPE, MASE (m = 24) and OWA
 * against M4's Naive2 computed on the same series. The test file is read only to score.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fitGlobalModels } from '../../server/ml/global';
import { forecast } from '../../server/ml/forecast';
import { mase, owa, smape } from '../../server/ml/metrics';
import { naive2Forecast } from '../../server/ml/models/classical';
import { UsageError } from '../command';
import { ProgressBar } from '../progress';
import type { Evaluation } from './index';
import { DataError } from './nabData';
import { readM4File, type M4Series } from './m4Data';

const SEASON = 24;

/** The `--json` shape (docs/ml.md). */
export interface M4Result {
  smape: number;
  mase: number;
  owa: number;
  series: number;
}

export interface M4Evaluation extends M4Result {
  naive2: { smape: number; mase: number };
  seasonalNaive: { smape: number; mase: number };
  models: Record<string, number>;
  horizon: number;
  seconds: number;
}

export function pairSeries(trainPath: string, train: M4Series[], testPath: string, test: M4Series[]): Array<{ id: string; history: Float64Array; actual: Float64Array }> {
  const byId = new Map(test.map((s) => [s.id, s.values]));
  if (test.length !== train.length) throw new DataError(`${testPath}: ${test.length} series, but ${trainPath} has ${train.length}`);
  return train.map((s) => {
    const actual = byId.get(s.id);
    if (!actual) throw new DataError(`${testPath}: no line for series ${s.id} of ${trainPath}`);
    if (s.values.length < 2) throw new DataError(`${trainPath}: series ${s.id} has ${s.values.length} value(s); at least 2 are needed for MASE`);
    return { id: s.id, history: s.values, actual };
  });
}

export function evaluateM4(dir: string, onProgress?: (stage: string, fraction: number) => void): M4Evaluation {
  const started = performance.now();
  const trainPath = join(dir, 'Hourly-train.csv');
  const testPath = join(dir, 'Hourly-test.csv');
  const train = readM4File(trainPath);
  const pairs = pairSeries(trainPath, train, testPath, readM4File(testPath));
  const horizon = Math.max(...pairs.map((p) => p.actual.length));
  const global = fitGlobalModels(
    pairs.map((p) => p.history),
    { horizon, onProgress: (f) => onProgress?.('fitting the pooled model', f) },
  );
  const sums = { smape: 0, mase: 0, n2s: 0, n2m: 0, sns: 0, snm: 0 };
  const models: Record<string, number> = {};
  pairs.forEach((p, i) => {
    const h = p.actual.length;
    const result = forecast(p.history, { horizon: h, season: SEASON, ...(global ? { global } : {}) });
    const mean = Float64Array.from(result.points, (x) => x.mean);
    models[result.model] = (models[result.model] ?? 0) + 1;
    sums.smape += smape(p.actual, mean);
    sums.mase += mase(p.actual, mean, p.history, SEASON);
    const n2 = naive2Forecast(p.history, SEASON, h);
    sums.n2s += smape(p.actual, n2);
    sums.n2m += mase(p.actual, n2, p.history, SEASON);
    const sn = p.history.length >= SEASON ? p.history.subarray(p.history.length - SEASON) : p.history.subarray(p.history.length - 1);
    const snf = Float64Array.from({ length: h }, (_, k) => sn[k % sn.length]!);
    sums.sns += smape(p.actual, snf);
    sums.snm += mase(p.actual, snf, p.history, SEASON);
    onProgress?.('forecasting', (i + 1) / pairs.length);
  });
  const n = pairs.length;
  const naive2 = { smape: sums.n2s / n, mase: sums.n2m / n };
  const result = { smape: sums.smape / n, mase: sums.mase / n };
  return {
    ...result,
    owa: owa(result.smape, result.mase, naive2),
    series: n,
    naive2,
    seasonalNaive: { smape: sums.sns / n, mase: sums.snm / n },
    models,
    horizon,
    seconds: (performance.now() - started) / 1000,
  };
}

export const m4Evaluation: Evaluation = {
  name: 'm4',
  summary: 'forecast M4 Hourly (DIR/Hourly-train.csv, 48 ahead) and score on DIR/Hourly-test.csv: sMAPE, MASE, OWA',
  usage: `sg eval m4 --data DIR [--json]

  --data DIR   a folder with Hourly-train.csv and Hourly-test.csv (M4's layout: "id,v1,v2,…" a line)
  --json       print { "smape", "mase", "owa", "series" } (sMAPE in percent; docs/ml.md)

Progress goes to stderr. The test file is only read to score the forecasts.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { data: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true, allowPositionals: false });
    if (!values.data) throw new UsageError('--data DIR is required');
    const bar = new ProgressBar('m4');
    let stage = '';
    const evaluation = await Promise.resolve().then(() =>
      evaluateM4(values.data!, (name, fraction) => {
        if (name !== stage) stage = name;
        bar.update(fraction, stage);
      }),
    );
    bar.done(`m4: ${evaluation.series} series in ${evaluation.seconds.toFixed(1)} s`);
    if (values.json) {
      const out: M4Result = { smape: evaluation.smape, mase: evaluation.mase, owa: evaluation.owa, series: evaluation.series };
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return 0;
    }
    const row = (name: string, s: number, m: number, o: string) => `${name.padEnd(22)}${s.toFixed(2).padStart(8)}${m.toFixed(3).padStart(8)}${o.padStart(8)}`;
    process.stdout.write(
      [
        `M4 Hourly, ${evaluation.series} series, ${evaluation.horizon} steps ahead`,
        `${'model'.padEnd(22)}${'sMAPE'.padStart(8)}${'MASE'.padStart(8)}${'OWA'.padStart(8)}`,
        row('StreamGate (chosen)', evaluation.smape, evaluation.mase, evaluation.owa.toFixed(3)),
        row('seasonal naive', evaluation.seasonalNaive.smape, evaluation.seasonalNaive.mase, owa(evaluation.seasonalNaive.smape, evaluation.seasonalNaive.mase, evaluation.naive2).toFixed(3)),
        row('Naive2 (M4 benchmark)', evaluation.naive2.smape, evaluation.naive2.mase, '1.000'),
        `models chosen: ${Object.entries(evaluation.models).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
