import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forecast } from '../../src/server/ml/forecast';
import { fitGlobalModels } from '../../src/server/ml/global';
import { etsForecast, fitEts, naive2Forecast, seasonalNaiveForecast, thetaForecast } from '../../src/server/ml/models/classical';
import { fitPooled, pooledForecast } from '../../src/server/ml/models/pooled';
import { isSeasonal, multiplicativeIndices } from '../../src/server/ml/seasonality';

/** A positive daily pattern (24 steps), repeated `days` times, times `level`. */
function daily(days: number, level = 100, shape = (h: number) => 1 + 0.5 * Math.sin((2 * Math.PI * h) / 24) + 0.2 * Math.cos((4 * Math.PI * h) / 24)): Float64Array {
  return Float64Array.from({ length: days * 24 }, (_, t) => level * shape(t % 24));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('seasonality', () => {
  it('finds the daily season of a periodic series and none in white noise', () => {
    assert.equal(isSeasonal(daily(10), 24), true);
    let seed = 11;
    const noise = Float64Array.from({ length: 240 }, () => (seed = (seed * 16807) % 2147483647) / 2147483647);
    assert.equal(isSeasonal(noise, 24), false);
  });
  it('recovers multiplicative indices of a pure seasonal series (mean 1)', () => {
    const y = daily(10);
    const indices = multiplicativeIndices(y, 24);
    const mean = indices.reduce((s, v) => s + v, 0) / 24;
    assert.ok(Math.abs(mean - 1) < 1e-12);
    for (let h = 0; h < 24; h++) assert.ok(Math.abs(indices[h]! - y[h]! / 100) < 1e-9, `hour ${h}`);
  });
});

describe('classical models on series with known answers', () => {
  const history = daily(20);
  const future = daily(22).subarray(480);

  it('seasonal naive forecasts a pure seasonal series exactly', () => {
    assert.ok(maxAbsDiff(seasonalNaiveForecast(history, 24, 48), future) < 1e-9);
  });
  it('Naive2 forecasts a pure multiplicative seasonal series exactly', () => {
    assert.ok(maxAbsDiff(naive2Forecast(history, 24, 48), future) < 1e-9);
  });
  it('Theta forecasts a pure seasonal series to within 0.5 %', () => {
    assert.ok(maxAbsDiff(thetaForecast(history, 24, 48), future) < 0.5);
  });
  it('damped ETS forecasts a pure seasonal series to within 1 %', () => {
    const params = fitEts(history, 24);
    assert.ok(params.phi >= 0.8 && params.phi <= 0.98);
    assert.ok(maxAbsDiff(etsForecast(history, 48, params), future) < 1);
  });
  it('Theta continues a straight line with half its slope from the last value (SES with drift b/2)', () => {
    const line = Float64Array.from({ length: 200 }, (_, t) => 10 + 2 * t);
    const f = thetaForecast(line, 1, 10);
    // ½·(the line at 200 + k) + ½·(SES level ≈ the last value 408) = 409 + k.
    for (let k = 0; k < 10; k++) assert.ok(Math.abs(f[k]! - (409 + k)) < 0.05, `step ${k}: ${f[k]}`);
  });
});

describe('the pooled linear model', () => {
  it('learns a shared daily shape across series of different levels and forecasts a new one closely', () => {
    const shapes = [0.3, 0.5, 0.7].map((a) => (h: number) => 1 + a * Math.sin((2 * Math.PI * h) / 24));
    const series = [10, 50, 200, 1000].flatMap((level) => shapes.map((shape) => daily(30, level, shape)));
    const model = fitPooled(series, { lags: 48, horizon: 24, lambda: 1e-6, stride: 1, scaleWindow: 48, log: true });
    assert.ok(model);
    const unseen = daily(12, 333, shapes[1]);
    const f = pooledForecast(model, unseen.subarray(0, 264), 24)!;
    assert.ok(maxAbsDiff(f, unseen.subarray(264)) / 333 < 0.01);
    assert.equal(pooledForecast(model, unseen.subarray(0, 10), 24), undefined, 'shorter than the window: no forecast');
  });
});

describe('forecast()', () => {
  it('chooses a model that forecasts a pure seasonal series exactly, with zero-width intervals', () => {
    const result = forecast(daily(20), { horizon: 48, season: 24 });
    assert.ok(['seasonal-naive', 'seasonal-naive-weekly'].includes(result.model), result.model);
    assert.ok(result.backtest && result.backtest.mase < 1e-9);
    const future = daily(22).subarray(480);
    result.points.forEach((p, k) => {
      assert.ok(Math.abs(p.mean - future[k]!) < 1e-9);
      assert.ok(p.hi95 - p.lo95 < 1e-9);
    });
    assert.equal(result.points[0]!.t, 480);
    assert.ok(result.candidates.length >= 3);
  });
  it('puts 80 % inside 95 % intervals around the mean on a noisy series, and reuses fits', () => {
    let seed = 7;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 20;
    const y = daily(30).map((v) => v + noise());
    const first = forecast(y, { horizon: 24, season: 24 });
    for (const p of first.points) assert.ok(p.lo95 <= p.lo80 && p.lo80 <= p.mean && p.mean <= p.hi80 && p.hi80 <= p.hi95);
    assert.ok(first.points.some((p) => p.hi80 - p.lo80 > 1), 'intervals have width');
    const again = forecast(y, { horizon: 24, season: 24, fits: first.fits });
    assert.deepEqual(again.points, first.points);
  });
  it('uses the pooled model when one is given and it backtests well', () => {
    const series = [1, 2, 3, 4, 5, 6].map((k) => daily(40, 100 * k, (h) => 1 + 0.4 * Math.sin((2 * Math.PI * (h + k)) / 24)).map((v, t) => v * (1 + 0.002 * t)));
    const global = fitGlobalModels(series, { horizon: 24, lags: [168] });
    assert.ok(global);
    const result = forecast(series[2]!, { horizon: 24, season: 24, global });
    assert.ok(result.candidates.some((c) => c.model === 'pooled-linear'));
    assert.equal(result.model, 'pooled-linear');
  });
});
