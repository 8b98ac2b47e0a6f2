import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forecast } from '../../src/server/ml/forecast';
import { cleanSeries } from '../../src/server/ml/series';

const H = 3_600_000;

function finite(result: ReturnType<typeof forecast>): void {
  for (const p of result.points) for (const v of [p.t, p.mean, p.lo80, p.hi80, p.lo95, p.hi95]) assert.ok(Number.isFinite(v), JSON.stringify(p));
}

describe('bad series: no crash, a clear message, a sensible fallback', () => {
  it('sorts timestamps out of order and says so', () => {
    const clean = cleanSeries({ timestamps: [3 * H, 1 * H, 2 * H, 4 * H], values: [3, 1, 2, 4] });
    assert.deepEqual([...clean.values], [1, 2, 3, 4]);
    assert.match(clean.warnings.join('\n'), /1 timestamps out of order: sorted/);
  });
  it('averages duplicated timestamps', () => {
    const clean = cleanSeries({ timestamps: [H, 2 * H, 2 * H, 3 * H], values: [1, 2, 4, 5] });
    assert.deepEqual([...clean.values], [1, 3, 5]);
    assert.match(clean.warnings.join('\n'), /1 duplicated timestamps/);
  });
  it('fills gaps and NaN by linear interpolation', () => {
    const clean = cleanSeries({ timestamps: [H, 2 * H, 5 * H, 6 * H], values: [1, 2, 5, Number.NaN] });
    assert.deepEqual([...clean.values], [1, 2, 3, 4, 5, 5]);
    assert.match(clean.warnings.join('\n'), /2 missing steps \(gaps\) filled by linear interpolation/);
    assert.equal(clean.stepMs, H);
    const plain = cleanSeries([1, Number.NaN, 3, Infinity]);
    assert.deepEqual([...plain.values], [1, 2, 3, 3]);
    assert.match(plain.warnings.join('\n'), /2 values missing or not finite/);
  });
  it('forecasts a constant series as the constant and says it is constant', () => {
    const result = forecast(new Array<number>(200).fill(7), { horizon: 5, season: 24 });
    assert.equal(result.model, 'naive');
    assert.match(result.reason, /constant series/);
    assert.ok(result.points.every((p) => p.mean === 7 && p.lo95 === 7 && p.hi95 === 7));
  });
  it('forecasts one point as itself, saying why no model was chosen', () => {
    const result = forecast({ timestamps: [1000 * H], values: [42] }, { horizon: 3, season: 24 });
    assert.equal(result.model, 'naive');
    assert.equal(result.backtest, null);
    assert.match(result.reason, /only 1 point: too few to backtest/);
    assert.ok(result.points.every((p) => p.mean === 42));
    finite(result);
  });
  it('gives random-walk intervals to a short history', () => {
    const result = forecast([10, 12, 11, 13, 12], { horizon: 4, season: 24 });
    assert.match(result.reason, /only 5 points/);
    assert.ok(result.points[3]!.hi95 - result.points[3]!.lo95 > result.points[0]!.hi95 - result.points[0]!.lo95);
    finite(result);
  });
  it('handles negative values without logs or multiplicative seasons', () => {
    const y = Array.from({ length: 24 * 12 }, (_, t) => -50 + 20 * Math.sin((2 * Math.PI * t) / 24) + (t % 7));
    const result = forecast(y, { horizon: 24, season: 24 });
    assert.match(result.warnings.join('\n'), /negative values/);
    assert.ok(result.backtest);
    assert.ok(result.points.some((p) => p.lo95 < -60), 'intervals are not clipped at zero');
    finite(result);
  });
  it('forecasts an empty or all-NaN series as 0 and says there is nothing', () => {
    for (const input of [[], [Number.NaN, Number.NaN]]) {
      const result = forecast(input, { horizon: 2 });
      assert.equal(result.model, 'mean');
      assert.match(result.reason, /no usable values/);
      finite(result);
    }
  });
  it('keeps points on the series\' own clock', () => {
    const result = forecast({ timestamps: [H, 2 * H, 3 * H], values: [1, 2, 3] }, { horizon: 2 });
    assert.deepEqual(result.points.map((p) => p.t), [4 * H, 5 * H]);
  });
});
