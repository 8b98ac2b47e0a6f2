/** Capture of live values within limits: cycles, getters that throw, Proxies, collections, bytes, huge arrays. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaptureBudget, Capturer, capture, formatForLog } from '../../src/agent/debugger/capture';
import { REDACTED, Redactor } from '../../src/agent/debugger/redaction';
import { childrenOf, describe as describeValue, follow, parsePath, plain } from '../../src/adapter/values';
import type { CaptureLimits, CapturedValue } from '../../src/protocol/nats';
import { TENANTS } from '../../demo/gateway/tenants';

const redactor = new Redactor();
const budget = (limits?: CaptureLimits, ms = 1000) => new CaptureBudget(limits, ms, redactor);
const grab = (value: unknown, limits?: CaptureLimits) => capture(value, budget(limits));

function prop(value: CapturedValue, name: string): CapturedValue {
  assert.ok(value !== null && typeof value === 'object' && value.t === 'object', `not an object: ${JSON.stringify(value)}`);
  const found = value.props.find(([k]) => k === name);
  assert.ok(found, `no ${name} in ${JSON.stringify(value).slice(0, 200)}`);
  return found[1];
}

class Account {
  constructor(readonly id: string, readonly apiKey: string) {}
  get explosive(): string {
    throw new Error('this getter throws');
  }
}

describe('capture', () => {
  it('keeps primitives as themselves and marks what JSON cannot say', () => {
    assert.deepEqual([grab(1), grab('a'), grab(true), grab(null)], [1, 'a', true, null]);
    assert.deepEqual(grab(undefined), { t: 'undefined' });
    assert.deepEqual(grab(NaN), { t: 'number', v: 'NaN' });
    assert.deepEqual(grab(-0), { t: 'number', v: '-0' });
    assert.deepEqual(grab(10n), { t: 'bigint', v: '10' });
    assert.deepEqual(grab(Symbol('s')), { t: 'symbol', v: 'Symbol(s)' });
    assert.deepEqual(grab(function named() {}), { t: 'function', name: 'named' });
  });

  it('shows cycles as cycles, never walking them twice', () => {
    const root: { name: string; self?: unknown; kids: unknown[] } = { name: 'root', kids: [] };
    root.self = root;
    root.kids.push({ parent: root });
    const value = grab(root);
    assert.deepEqual(prop(value, 'self'), { t: 'cycle', class: 'Object' });
    const kids = prop(value, 'kids');
    assert.ok(kids !== null && typeof kids === 'object' && kids.t === 'array');
    assert.deepEqual(prop(kids.items[0]!, 'parent'), { t: 'cycle', class: 'Object' });
  });

  it('shows class instances with their class, accessors as getters (never called, so a throwing one is harmless)', () => {
    const instance = new Account('a-1', 'sk_test_0123456789abcdef');
    Object.defineProperty(instance, 'live', { get: () => { throw new Error('own getter ran'); }, enumerable: true });
    const value = grab(instance);
    assert.ok(value !== null && typeof value === 'object' && value.t === 'object');
    assert.equal(value.class, 'Account');
    assert.deepEqual(prop(value, 'live'), { t: 'getter' });
    assert.equal(prop(value, 'apiKey'), REDACTED, 'redacted by name');
  });

  it('does not look into Proxies: their traps are application code', () => {
    let trapped = false;
    const proxy = new Proxy({}, { ownKeys: () => { trapped = true; return []; }, get: () => { trapped = true; return 1; } });
    assert.deepEqual(grab({ proxy }), { t: 'object', class: 'Object', props: [['proxy', { t: 'proxy' }]] });
    assert.equal(trapped, false);
  });

  it('reads Maps, Sets, typed arrays, Buffers, Dates, RegExps and Errors sensibly', () => {
    const map = new Map<unknown, unknown>([['a', 1], ['password', 'p4ss'], [{ k: 1 }, 'object key']]);
    const value = grab({ map, set: new Set([1, 2]), floats: new Float64Array([1.5]), bytes: Buffer.from('hi'), when: new Date(0), re: /a+b/g, error: new TypeError('bad') });
    const m = prop(value, 'map');
    assert.ok(m !== null && typeof m === 'object' && m.t === 'map');
    assert.equal(m.size, 3);
    assert.deepEqual(m.entries[0], ['a', 1]);
    assert.deepEqual(m.entries[1], ['password', REDACTED], 'a Map value under a secret name is redacted too');
    assert.deepEqual(prop(value, 'set'), { t: 'set', class: 'Set', size: 2, items: [1, 2] });
    assert.deepEqual(prop(value, 'floats'), { t: 'array', class: 'Float64Array', length: 1, items: [1.5] });
    assert.deepEqual(prop(value, 'bytes'), { t: 'bytes', class: 'Buffer', length: 2, hex: '6869' });
    assert.deepEqual(prop(value, 'when'), { t: 'date', v: '1970-01-01T00:00:00.000Z' });
    assert.deepEqual(prop(value, 're'), { t: 'regexp', v: '/a+b/g' });
    assert.deepEqual(prop(value, 'error'), { t: 'error', class: 'TypeError', message: 'bad' });
  });

  it('reads the first elements of a huge array and its length, never the rest', () => {
    const huge = new Array<number>(1_000_000).fill(7);
    const value = grab(huge);
    assert.ok(value !== null && typeof value === 'object' && value.t === 'array');
    assert.equal(value.length, 1_000_000);
    assert.equal(value.items.length, 20);
    assert.equal(value.more, 999_980);
  });

  it('honours depth, property, string and size limits, and says what it left out', () => {
    const b = budget({ maxDepth: 1, maxProperties: 2, maxStringLength: 5 });
    const value = capture({ a: 'abcdefgh', b: { c: 1 }, d: 3 }, b);
    assert.deepEqual(prop(value, 'a'), { t: 'string', v: 'abcde', length: 8 });
    assert.deepEqual(prop(value, 'b'), { t: 'deep', class: 'Object' });
    assert.ok(value !== null && typeof value === 'object' && value.t === 'object' && value.more === 1);
    assert.deepEqual([...b.leftOut].sort(), ['elements and properties past the first 2 (maxProperties)', 'objects deeper than 1 levels (maxDepth)', 'strings past 5 characters (maxStringLength)']);
    const small = budget({ maxSnapshotBytes: 1024 });
    capture(Array.from({ length: 20 }, (_, i) => ({ i, text: 'x'.repeat(200) })), small);
    assert.match([...small.leftOut].join(' '), /snapshot size limit of 1 kB/);
  });

  it('stops at the time budget and says so, instead of running on', () => {
    const b = budget({ maxProperties: 1000, maxDepth: 5 }, -1); // the deadline has passed
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, { i }]));
    const value = capture(wide, b);
    assert.match(b.exhausted ?? '', /capture time budget/);
    assert.ok(JSON.stringify(value).length < 20_000);
  });

  it('captures breadth first: a big first variable never crowds out the others', () => {
    const b = budget({ maxSnapshotBytes: 2048 });
    const capturer = new Capturer(b);
    const big = capturer.add({ rows: Array.from({ length: 20 }, () => ({ text: 'y'.repeat(200) })) }, 'big');
    const small = capturer.add(42, 'small');
    capturer.run();
    assert.equal(small.value, 42);
    assert.ok(big.value !== null && typeof big.value === 'object' && big.value.t === 'object');
  });

  it('puts public properties before _private ones', () => {
    const value = grab({ _a: 1, _b: 2, url: '/x', method: 'GET' }, { maxProperties: 2 });
    assert.ok(value !== null && typeof value === 'object' && value.t === 'object');
    assert.deepEqual(value.props.map(([k]) => k), ['url', 'method']);
  });

  it('never carries a sandbox tenant key, however it is held', () => {
    const key = TENANTS[0]!.apiKey;
    const held = { tenant: TENANTS[0], header: `Bearer ${key}`, list: [key], bytes: Buffer.from(`auth=${key}`), nested: { deeper: { k: key } }, map: new Map([['x', key]]) };
    const text = JSON.stringify(grab(held, { maxDepth: 5 }));
    for (const tenant of TENANTS) assert.ok(!text.includes(tenant.apiKey), `${tenant.id}'s key leaked: ${text}`);
  });

  it('formats logpoint values compactly', () => {
    assert.equal(formatForLog(grab({ a: 1, b: 'x' })), '{a: 1, b: "x"}');
    assert.equal(formatForLog(grab([1, 2])), '[1, 2]');
    assert.equal(formatForLog(grab('plain')), 'plain');
  });
});

describe('captured values in the adapter', () => {
  const snapshot = grab({ req: { headers: { 'x-tenant': 'acme', authorization: 'Bearer abcdefghijklmnop' }, url: '/v1', list: [1, 2, 3] }, deep: { a: { b: { c: { d: 1 } } } } });

  it('turns captured values into the plain JSON of sg debug snapshot --json', () => {
    assert.deepEqual(plain(snapshot), {
      req: { url: '/v1', list: [1, 2, 3], headers: { 'x-tenant': 'acme', authorization: '[redacted]' } },
      deep: { a: { b: '[Object {…} (not captured: deeper than captureLimits.maxDepth; add it as a watch, or raise maxDepth, to capture it)]' } },
    });
  });

  it('follows watch paths into what was captured, and says when something was not captured', () => {
    const steps = parsePath('req.headers["x-tenant"]');
    assert.deepEqual(steps, ['req', 'headers', 'x-tenant']);
    assert.deepEqual(follow(snapshot, steps), { found: true, value: 'acme' });
    assert.deepEqual(follow(snapshot, parsePath('req.list[1]')!), { found: true, value: 2 });
    assert.deepEqual(follow(snapshot, parsePath('req.list.length')!), { found: true, value: 3 });
    assert.equal(follow(snapshot, parsePath('deep.a.b.c.d')!).found, false);
    assert.equal(parsePath('a + b'), undefined);
  });

  it('describes values in one line and says how to capture more', () => {
    const deep = follow(snapshot, ['deep', 'a', 'b']);
    assert.ok(deep.found);
    assert.match(describeValue(deep.value), /not captured: deeper than captureLimits\.maxDepth; add it as a watch/);
    assert.equal(childrenOf(deep.value), undefined);
    assert.match(describeValue({ t: 'getter' }), /getter, not called/);
  });
});
