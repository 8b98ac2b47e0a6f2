import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapeAccuracy, mase, maseScale, owa, smape } from '../../src/server/ml/metrics';

describe('M4 metrics on a hand-made case', () => {
  // History with season m = 2: |4−2| = 2, |6−4| = 2, |8−6| = 2 → scale 2.
  const history = [2, 2, 4, 4, 6, 6, 8, 8].filter((_, i) => i % 2 === 0);
  const actual = [10, 20];
  const predicted = [12, 15];

  it('sMAPE = mean 200·|y−ŷ|/(|y|+|ŷ|), in percent', () => {
    // 200·2/22 = 18.1818…, 200·5/35 = 28.5714…; mean 23.3766…
    assert.ok(Math.abs(smape(actual, predicted) - (200 * 2 / 22 + 200 * 5 / 35) / 2) < 1e-12);
    assert.ok(Math.abs(smape(actual, predicted) - 23.376623376623375) < 1e-9);
    assert.equal(smape([0, 0], [0, 0]), 0, 'both zero counts as no error');
  });
  it('MASE divides the MAE by the in-sample seasonal-naive MAE', () => {
    // history [2, 4, 6, 8], m = 2: |6−2| = 4, |8−4| = 4 → scale 4; MAE (2 + 5)/2 = 3.5 → 0.875.
    assert.equal(maseScale(history, 2), 4);
    assert.equal(mase(actual, predicted, history, 2), 0.875);
    // m = 1 on the same history: scale 2 → 1.75.
    assert.equal(mase(actual, predicted, history, 1), 1.75);
  });
  it('OWA is the mean of the two ratios to the benchmark', () => {
    assert.equal(owa(9, 1.2, { smape: 18, mase: 2.4 }), 0.5);
    assert.ok(Math.abs(owa(13.98, 1.233, { smape: 18.22, mase: 2.432 }) - 0.637) < 0.001, 'seasonal naive on the README\'s figures');
  });
  it('1 − MAPE skips zero actuals', () => {
    assert.equal(mapeAccuracy([100, 0, 200], [90, 5, 220]), 0.9);
  });
});
