import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
});

describe('apportion', () => {
  it('splits whole samples in proportion, summing to the total', () => {
    assert.deepEqual(apportion(10, [1, 1]), [5, 5]);
    const parts = apportion(7, [3, 2, 2]);
    assert.equal(parts.reduce((a, b) => a + b, 0), 7);
    assert.deepEqual(apportion(3, [0, 0]), [3, 0]);
  });
});
