import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baselineOf, hasVanished, jumpScore, TemplateRateMonitor, type TemplateRateAnomaly } from '../../src/server/logs/templateRates';

/** Deterministic Poisson counts (Knuth's method on a seeded LCG), so the test never depends on luck. */
function poissonSeries(mean: number, n: number, seed: number): number[] {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const limit = Math.exp(-mean);
  return Array.from({ length: n }, () => {
    let k = 0;
    let p = uniform();
    while (p > limit) {
      k++;
      p *= uniform();
    }
    return k;
  });
}

/** Feeds minutes 0.. with the counts of each template and returns every anomaly with its minute. */
function run(monitor: TemplateRateMonitor, series: Record<number, number[]>): TemplateRateAnomaly[] {
  const minutes = Math.max(...Object.values(series).map((s) => s.length));
  const out: TemplateRateAnomaly[] = [];
  for (let minute = 0; minute < minutes; minute++) {
    const counts = new Map<number, number>();
    for (const [id, s] of Object.entries(series)) if ((s[minute] ?? 0) > 0) counts.set(Number(id), s[minute]!);
    out.push(...monitor.observe(minute, counts));
  }
  return out;
}

describe('template rate anomalies', () => {
  it('measures a baseline and scores jumps against the larger of its own and Poisson deviation', () => {
    const baseline = baselineOf([8, 10, 12, 10]);
    assert.equal(baseline.mean, 10);
    assert.ok(Math.abs(baseline.variance - 8 / 3) < 1e-12);
    const options = { jumpFactor: 3, minJumpCount: 10, jumpZ: 4 };
    assert.equal(jumpScore(25, baseline, options), undefined, 'not 3 times the rate');
    assert.ok(Math.abs(jumpScore(40, baseline, options)! - 30 / Math.sqrt(10)) < 1e-12);
    assert.equal(jumpScore(5, baselineOf([0, 0, 1, 0]), options), undefined, 'too few lines to matter');
    assert.equal(hasVanished(5, 2, { vanishExpectedCount: 10, minSilentMinutes: 3 }), false);
    assert.equal(hasVanished(5, 3, { vanishExpectedCount: 10, minSilentMinutes: 3 }), true);
    assert.equal(hasVanished(0.1, 30, { vanishExpectedCount: 10, minSilentMinutes: 3 }), false);
  });

  it('stays quiet on steady Poisson traffic', () => {
    const monitor = new TemplateRateMonitor();
    const anomalies = run(monitor, { 1: poissonSeries(10, 300, 1), 2: poissonSeries(0.5, 300, 2), 3: poissonSeries(200, 300, 3) });
    assert.equal(monitor.size, 3, 'all three templates were followed');
    assert.deepEqual(anomalies, []);
  });

  it('reports a new template after the warm-up, not during it', () => {
    const monitor = new TemplateRateMonitor({ warmupMinutes: 10 });
    const steady = new Array<number>(30).fill(5);
    const early = [0, 0, 3, ...new Array<number>(27).fill(2)];
    const late = [...new Array<number>(20).fill(0), 4, 1, 1];
    const anomalies = run(monitor, { 1: steady, 2: early, 3: late });
    assert.deepEqual(anomalies, [{ kind: 'new', templateId: 3, minute: 20, count: 4 }]);
  });

  it('reports a jump once per burst, and again after the rate came back', () => {
    const monitor = new TemplateRateMonitor();
    const series = [...poissonSeries(10, 30, 7), 120, 130, 11, 9, 10, 150];
    const anomalies = run(monitor, { 1: series });
    assert.deepEqual(
      anomalies.map((a) => [a.kind, a.minute]),
      [
        ['jump', 30],
        ['jump', 35],
      ],
    );
    const first = anomalies[0]!;
    assert.ok(first.kind === 'jump' && first.expected > 8 && first.expected < 12 && first.z > 4);
  });

  it('reports a steady template that falls silent as vanished once, not a rare one', () => {
    const monitor = new TemplateRateMonitor({ minSilentMinutes: 3, vanishExpectedCount: 10 });
    const steady = [...new Array<number>(30).fill(5), 0, 0, 0, 0, 0, 0, 5, ...new Array<number>(10).fill(0)];
    const rare = [...new Array<number>(30).fill(0).map((_, i) => (i % 15 === 0 ? 1 : 0)), ...new Array<number>(17).fill(0)];
    const anomalies = run(monitor, { 1: steady, 2: rare });
    assert.deepEqual(
      anomalies.map((a) => (a.kind === 'vanished' ? [a.templateId, a.minute, a.silentMinutes, a.lastSeenMinute] : a.kind)),
      [
        [1, 32, 3, 29],
        [1, 39, 3, 36],
      ],
    );
  });

  it('refuses minutes out of order and bounds the templates it follows', () => {
    const monitor = new TemplateRateMonitor({ maxTemplates: 10 });
    monitor.observe(5, new Map([[1, 1]]));
    assert.throws(() => monitor.observe(5, new Map()), /minute 5 is not after/);
    assert.throws(() => monitor.observe(6.5, new Map()), /whole number/);
    for (let minute = 6; minute < 40; minute++) monitor.observe(minute, new Map([[minute, 1]]));
    assert.equal(monitor.size, 10);
  });
});
