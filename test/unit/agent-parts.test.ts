import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DDSketch } from '@datadog/sketches-js';
import { decodeSketch, MetricsRegistry } from '../../src/agent/metrics';
import { Ring } from '../../src/agent/ring';
import { apportion } from '../../src/agent/pprof';

describe('Ring', () => {
  it('keeps order and drops the oldest when full, saying so', () => {
    const ring = new Ring<number>(3);
    assert.equal(ring.push(1), false);
    ring.push(2);
    ring.push(3);
    assert.equal(ring.push(4), true);
    assert.deepEqual(ring.take(10), [2, 3, 4]);
    assert.equal(ring.length, 0);
  });
  it('takes in pieces across the wrap-around', () => {
    const ring = new Ring<number>(4);
    for (let i = 0; i < 10; i++) ring.push(i);
    assert.deepEqual(ring.take(2), [6, 7]);
    ring.push(10);
    assert.deepEqual(ring.take(5), [8, 9, 10]);
  });
  it('rejects a capacity that is not a positive integer', () => {
    assert.throws(() => new Ring(0), /positive integer/);
  });
});

describe('MetricsRegistry', () => {
  it('reports counter totals and deltas per interval, per label set', () => {
    const registry = new MetricsRegistry();
    registry.counter('requests', { route: '/a' }).inc();
    registry.counter('requests', { route: '/a' }).inc(2);
    registry.counter('requests', { route: '/b' }).inc();
    let { counters } = registry.collect();
    assert.deepEqual(counters.find((c) => c.labels?.route === '/a'), { name: 'requests', labels: { route: '/a' }, total: 3, delta: 3 });
    registry.counter('requests', { route: '/a' }).inc(4);
    ({ counters } = registry.collect());
    assert.deepEqual(counters.find((c) => c.labels?.route === '/a'), { name: 'requests', labels: { route: '/a' }, total: 7, delta: 4 });
    assert.equal(counters.find((c) => c.labels?.route === '/b')?.delta, 0);
  });
  it('treats label order as irrelevant', () => {
    const registry = new MetricsRegistry();
    assert.equal(registry.counter('x', { a: '1', b: '2' }), registry.counter('x', { b: '2', a: '1' }));
  });
  it('finds each series again by name and labels, whatever their order, and never mixes two label sets', () => {
    const registry = new MetricsRegistry();
    const counters = new Map<string, unknown>();
    for (let i = 0; i < 2000; i++) counters.set(`t${i}`, registry.counter('messages', { tenant: `t${i}`, type: 'json' }));
    assert.equal(new Set(counters.values()).size, 2000, 'one series per label set');
    for (let i = 0; i < 2000; i++) assert.equal(registry.counter('messages', { type: 'json', tenant: `t${i}` }), counters.get(`t${i}`));
    const a = registry.counter('x', { a: '1' });
    assert.notEqual(registry.counter('x', { a: '1', b: '2' }), a, 'a superset is another series');
    assert.notEqual(registry.counter('x', { b: '1' }), a, 'same value under another key is another series');
    assert.notEqual(registry.counter('x'), a);
    assert.notEqual(registry.counter('y', { a: '1' }), a, 'another name is another series');
    assert.notEqual(registry.gauge('x', { a: '1' }), a);
    // Plain JavaScript callers may pass a number: it is the same series as its text.
    assert.equal(registry.counter('x', { a: 1 as unknown as string }), a);
    registry.counter('messages', { type: 'json', tenant: 't7' }).inc(3);
    const t7 = registry.collect().counters.filter((c) => c.labels?.tenant === 't7');
    assert.deepEqual(t7, [{ name: 'messages', labels: { tenant: 't7', type: 'json' }, total: 3, delta: 3 }]);
  });
  it('refuses to count down', () => {
    assert.throws(() => new MetricsRegistry().counter('x').inc(-1), /can only go up/);
  });
  it('gives histogram quantiles within DDSketch\'s 1 % relative error, and a mergeable sketch', () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram('latency_ms');
    const values: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const v = Math.exp((i % 997) / 100); // spread over four orders of magnitude
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    const [point] = registry.collect().histograms;
    assert.ok(point);
    assert.equal(point.count, 10_000);
    for (const [q, got] of [[0.5, point.p50], [0.9, point.p90], [0.99, point.p99]] as const) {
      const exact = values[Math.floor(q * (values.length - 1))]!;
      assert.ok(Math.abs(got - exact) / exact <= 0.0101, `p${q * 100}: ${got} vs ${exact}`);
    }
    const decoded = decodeSketch(point.sketch);
    assert.equal(Math.round(decoded.count), 10_000);
    assert.equal(registry.collect().histograms.length, 0, 'an interval with no observations sends no histogram');
  });
  it('sends the sketch DDSketch builds from every value, interval after interval, whatever the values\' range and order', () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram('size_bytes');
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    // Intervals whose first value is in the middle, then far below and above it (the bins grow both ways),
    // with zeros, negatives (kept as zero, as before) and tiny values; then a quiet interval; then one value.
    const intervals = [
      [5, ...Array.from({ length: 3000 }, () => Math.exp(random() * 30 - 10)), 0, -3, 1e-320, 1e12],
      Array.from({ length: 500 }, () => 400 + random() * 100),
      [],
      [0.25],
    ];
    for (const values of intervals) {
      const reference = new DDSketch({ relativeAccuracy: 0.01 });
      for (const v of values) {
        h.record(v);
        reference.accept(v < 0 ? 0 : v);
      }
      const points = registry.collect().histograms;
      if (values.length === 0) {
        assert.equal(points.length, 0);
        continue;
      }
      const [point] = points;
      assert.ok(point);
      assert.equal(point.count, values.length);
      assert.equal(point.min, Math.min(...values));
      assert.equal(point.max, Math.max(...values));
      const sent = decodeSketch(point.sketch);
      assert.equal(sent.zeroCount, reference.zeroCount);
      const binAt = (sketch: DDSketch, key: number) => sketch.store.bins[key - sketch.store.offset] ?? 0;
      let nonEmpty = 0;
      for (let key = Math.min(sent.store.minKey, reference.store.minKey) - 2; key <= Math.max(sent.store.maxKey, reference.store.maxKey) + 2; key++) {
        assert.equal(binAt(sent, key), binAt(reference, key), `bin ${key}`);
        if (binAt(reference, key) > 0) nonEmpty++;
      }
      assert.ok(nonEmpty > 0);
      // (Quantiles of decoded sketches: the mapping read back from the proto differs from the original in the last bits.)
      const received = decodeSketch(Buffer.from(reference.toProto()).toString('base64'));
      for (let q = 0; q <= 1; q += 0.05) assert.equal(sent.getValueAtQuantile(q), received.getValueAtQuantile(q), `q ${q.toFixed(2)}`);
      assert.equal(point.p99, reference.getValueAtQuantile(0.99));
    }
  });
  it('keeps a histogram\'s memory bounded by its values\' range, however intervals start', () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram('latency_ms');
    let seed = 11;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    // Intervals alternate between small latencies (down to 1e-6 ms) and ~400-byte sizes, each starting anywhere.
    for (let interval = 0; interval < 200; interval++) {
      for (let i = 0; i < 1000; i++) h.record(interval % 2 ? random() * 3 : 400 + random() * 100);
      registry.collect();
    }
    // 3e-6 … 500 spans ~940 keys at 1 % accuracy: the bins stay within a small multiple of that (8 bytes each).
    const bins = (h as unknown as { bins: Float64Array }).bins;
    assert.ok(bins.length > 0 && bins.length <= 4 * 1024, `${bins.length} bins`);
  });
});

describe('apportion', () => {
  it('splits whole samples in proportion, summing to the total', () => {
    assert.deepEqual(apportion(10, [1, 1]), [5, 5]);
    const parts = apportion(7, [3, 2, 2]);
    assert.equal(parts.reduce((a, b) => a + b, 0), 7);
    assert.deepEqual(apportion(3, [0, 0]), [3, 0]);
  });
});
