import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OnlineDetector } from '../../src/server/ml/anomaly';

function noisyDaily(n: number, seed = 1): number[] {
  let s = seed;
  const rand = () => (s = (s * 16807) % 2147483647) / 2147483647;
  return Array.from({ length: n }, (_, t) => 50 + 20 * Math.sin((2 * Math.PI * t) / 96) + 4 * (rand() - 0.5));
}

describe('OnlineDetector', () => {
  it('flags a level shift soon after it starts, and quiets down once the new level is normal', () => {
    const y = noisyDaily(3000).map((v, t) => (t >= 2000 ? v + 60 : v));
    const detector = new OnlineDetector({ season: 96 });
    const scores = y.map((v, t) => detector.update(t, v));
    for (const s of scores) assert.ok(s >= 0 && s <= 1);
    const before = Math.max(...scores.slice(detector.warmup, 2000));
    const at = Math.max(...scores.slice(2000, 2010));
    const later = Math.max(...scores.slice(2700));
    assert.ok(at >= 0.99, `shift scored ${at}`);
    assert.ok(at > before, `shift ${at} above the worst before it ${before}`);
    assert.ok(later < at, `after 700 steps at the new level the score (${later}) is below the alarm's`);
  });
  it('flags a spike with a known range, as NAB runs it', () => {
    const y = noisyDaily(2000, 3);
    y[1500] = 140;
    const detector = new OnlineDetector({ season: 96, warmup: 300, range: { min: Math.min(...y), max: Math.max(...y) } });
    const scores = y.map((v, t) => detector.update(t, v));
    const spike = Math.max(scores[1500]!, scores[1501]!);
    assert.ok(spike >= 0.99, `spike scored ${spike}`);
    assert.ok(spike > Math.max(...scores.slice(300, 1500)));
  });
  it('learns its range from the warm-up and can alarm from the first steps after it, as the live product runs it', () => {
    // No range given: the range and the tails both come from the 100-value warm-up. A shift 5 steps after the
    // warm-up must reach the alarm level within a few steps (tails learned only after the warm-up could not pass
    // 0.95 before ~60 steps), and the quiet steps before it must not.
    const y = noisyDaily(200, 7).map((v, t) => (t >= 105 ? v + 60 : v));
    const detector = new OnlineDetector();
    const scores = y.map((v, t) => detector.update(t, v));
    const quiet = Math.max(...scores.slice(100, 105));
    const shift = Math.max(...scores.slice(105, 110));
    assert.ok(shift >= 0.95, `shift 5 steps after the warm-up scored ${shift}`);
    assert.ok(quiet < 0.9, `the quiet steps after the warm-up scored up to ${quiet}`);
  });
  it('scores 0 during warm-up and ignores late, repeated and non-finite values', () => {
    const detector = new OnlineDetector({ warmup: 10 });
    for (let t = 0; t < 10; t++) assert.equal(detector.update(t, t % 3), 0);
    assert.equal(detector.update(5, 1000), 0, 'older timestamp');
    assert.equal(detector.update(9, 1000), 0, 'repeated timestamp');
    assert.equal(detector.update(11, Number.NaN), 0);
    const score = detector.update(12, 1);
    assert.ok(score >= 0 && score <= 1);
  });
  it('stays bounded: the same state size after 10 000 and 100 000 values', () => {
    const detector = new OnlineDetector({ season: 96 });
    const size = () => JSON.stringify(detector, (_k, v: unknown) => (v instanceof Float64Array ? v.length : v)).length;
    const y = noisyDaily(100_000, 5);
    y.slice(0, 10_000).forEach((v, t) => detector.update(t, v));
    const small = size();
    y.slice(10_000).forEach((v, t) => detector.update(t + 10_000, v));
    assert.ok(Math.abs(size() - small) < 200, `${small} → ${size()}`);
  });
});
