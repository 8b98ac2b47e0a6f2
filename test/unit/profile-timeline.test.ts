/**
 * Per-tick CPU timelines (the trace ↔ profile link): a real profile of this process taken with `timeline`, in
 * which one function runs in the first half and another in the second, folds back to the aggregate profile and
 * gives each half's samples to the function that ran then.
 */
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { Profiler } from '../../src/agent/profiler';
import { decodeProfile } from '../../src/server/profiles/decode';
import { foldSamples, hasTimeline, ticksBetween, TIME_OFFSET_LABEL } from '../../src/server/profiles/samples';
import { topTable } from '../../src/server/profiles/top';

function spinFirstHalf(until: number): number {
  let x = 0;
  while (Date.now() < until) x += Math.sqrt(x + 1);
  return x;
}

function spinSecondHalf(until: number): number {
  let x = 0;
  while (Date.now() < until) x += Math.cbrt(x + 2);
  return x;
}

describe('CPU timelines', () => {
  it('put each tick at its time, and fold back to the aggregate', async () => {
    const profiler = new Profiler({ cpuIntervalMicros: 1000, heapIntervalBytes: 0, sourceMaps: false });
    const started = Date.now();
    const taking = profiler.cpu(1, undefined, { timeline: true });
    const middle = started + 500;
    // Yield between slices so the profiler's timer can end the profile.
    await new Promise<void>((resolve) => {
      const step = () => {
        const now = Date.now();
        if (now < middle) spinFirstHalf(Math.min(middle, now + 20));
        else if (now < started + 1000) spinSecondHalf(now + 20);
        if (Date.now() < started + 1000) setImmediate(step);
        else resolve();
      };
      step();
    });
    const bytes = await taking;
    profiler.dispose();
    const profile = decodeProfile(gunzipSync(bytes), 'timeline');
    assert.ok(hasTimeline(profile));
    assert.ok(profile.sampleCount > 100, `ticks: ${profile.sampleCount}`);
    for (let i = 0; i < profile.sampleCount; i++) assert.ok(profile.labels[i]?.some((l) => l.key === TIME_OFFSET_LABEL && typeof l.num === 'number'), `tick ${i} has its time`);
    const startMs = profile.timeNanos / 1e6;
    assert.ok(Math.abs(startMs - started) < 250, `the profile starts at the wall time it was asked for (${startMs - started} ms off)`);

    const folded = foldSamples(profile);
    assert.ok(folded.sampleCount < profile.sampleCount);
    assert.deepEqual(topTable(folded, { by: 'line' }).rows, topTable(profile, { by: 'line' }).rows);

    const share = (p: ReturnType<typeof ticksBetween>, name: string) => {
      const t = topTable(p);
      return (t.rows.find((r) => r.name === name)?.flat ?? 0) / t.total;
    };
    const first = ticksBetween(profile, started, middle - 50);
    const second = ticksBetween(profile, middle + 50, started + 1000);
    assert.ok(first.sampleCount > 0 && second.sampleCount > 0);
    // Each half's heaviest function is the one that ran then, and the other one has no tick in it at all.
    assert.equal(topTable(first).rows[0]?.name, 'spinFirstHalf');
    assert.ok(share(first, 'spinFirstHalf') > 0.3, `first half: ${share(first, 'spinFirstHalf')}`);
    assert.equal(share(first, 'spinSecondHalf'), 0);
    assert.equal(topTable(second).rows[0]?.name, 'spinSecondHalf');
    assert.ok(share(second, 'spinSecondHalf') > 0.3, `second half: ${share(second, 'spinSecondHalf')}`);
    assert.equal(share(second, 'spinFirstHalf'), 0);
    assert.equal(ticksBetween(profile, started - 60_000, started - 30_000).sampleCount, 0);
  });

  it('are off unless asked for', async () => {
    const profiler = new Profiler({ cpuIntervalMicros: 1000, heapIntervalBytes: 0, sourceMaps: false });
    const profile = decodeProfile(gunzipSync(await profiler.cpu(1)), 'plain');
    profiler.dispose();
    assert.equal(hasTimeline(profile), false);
  });
});
