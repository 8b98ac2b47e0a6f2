/** The sandbox gateway's building blocks and the load model. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, Authenticator } from '../../demo/gateway/auth';
import { LruCache } from '../../demo/gateway/cache';
import { decodeBinaryFrame, encodeBinaryFrame, FrameError, parseJsonBody } from '../../demo/gateway/frames';
import { RateLimiter } from '../../demo/gateway/ratelimit';
import { contentSignature, contentSignatureSlow } from '../../demo/gateway/signature';
import { PLANS, TENANTS } from '../../demo/gateway/tenants';
import { LoadModel } from '../../demo/loadgen/model';

describe('binary frames', () => {
  it('round-trip and reject corruption with a reason', () => {
    const frame = encodeBinaryFrame(Buffer.from('hello'));
    assert.equal(decodeBinaryFrame(frame).payload.toString(), 'hello');
    const flipped = Buffer.from(frame);
    flipped[10] = flipped[10]! ^ 0xff;
    assert.throws(() => decodeBinaryFrame(flipped), /checksum mismatch/);
    assert.throws(() => decodeBinaryFrame(Buffer.from('XXXX00000000000')), /bad magic/);
    assert.throws(() => decodeBinaryFrame(frame.subarray(0, 14)), /does not match/);
  });
  it('JSON messages must be objects', () => {
    assert.deepEqual(parseJsonBody(Buffer.from('{"a":1}')), { a: 1 });
    assert.throws(() => parseJsonBody(Buffer.from('[1]')), FrameError);
    assert.throws(() => parseJsonBody(Buffer.from('{')), /not valid JSON/);
  });
});

describe('authentication', () => {
  const auth = new Authenticator(TENANTS);
  it('finds the tenant of a key', () => {
    assert.equal(auth.authenticate(`Bearer ${TENANTS[2]!.apiKey}`).id, TENANTS[2]!.id);
  });
  it('says what is wrong with a bad header', () => {
    assert.throws(() => auth.authenticate(undefined), /missing Authorization/);
    assert.throws(() => auth.authenticate('Basic abc'), /must be "Bearer/);
    assert.throws(() => auth.authenticate('Bearer sk_live_nope'), (e: unknown) => e instanceof AuthError && /unknown API key/.test(e.message));
  });
});

describe('rate limiter', () => {
  it('allows rate + burst at once, then refills at the rate', () => {
    const limiter = new RateLimiter();
    const plan = PLANS.free; // 5/s + 10
    let allowed = 0;
    for (let i = 0; i < 20; i++) if (limiter.take('t', plan, 1, 1000) === 0) allowed++;
    assert.equal(allowed, 15);
    assert.ok(limiter.take('t', plan, 1, 1000) > 0);
    assert.equal(limiter.take('t', plan, 1, 1200), 0, 'one token back after 200 ms at 5/s');
  });
});

describe('LRU cache', () => {
  it('evicts the least recently used and expires entries', () => {
    const cache = new LruCache<string, number>(2, 1000);
    cache.set('a', 1, 0);
    cache.set('b', 2, 0);
    cache.get('a', 1);
    cache.set('c', 3, 2);
    assert.equal(cache.get('b', 3), undefined);
    assert.equal(cache.get('a', 3), 1);
    assert.equal(cache.get('a', 5000), undefined);
  });
});

describe('content signatures', () => {
  it('are deterministic on both paths', () => {
    const payload = Buffer.from('x'.repeat(300));
    assert.equal(contentSignature(payload), contentSignature(Buffer.from(payload)));
    assert.equal(contentSignatureSlow(payload, 'acme', 10), contentSignatureSlow(payload, 'acme', 10));
    assert.notEqual(contentSignatureSlow(payload, 'acme', 10), contentSignatureSlow(payload, 'globex', 10));
  });
});

describe('load model', () => {
  const options = { dayMs: 24 * 60_000, startHour: 0, startWeekday: 0, peakSessionsPerSecond: 4, tenants: TENANTS.map((t) => t.id), seed: 7 };
  it('has a quiet night and evening peak', () => {
    assert.ok(LoadModel.daily(3) < 0.2);
    assert.ok(LoadModel.daily(20) > 0.95);
    assert.ok(LoadModel.daily(11) > 0.8 && LoadModel.daily(11) < LoadModel.daily(20));
  });
  it('runs a simulated day in dayMs and weekends lower', () => {
    const model = new LoadModel(options, 0);
    assert.equal(Math.round(model.clock(12 * 60_000).hour), 12);
    const weekday = model.sessionRate(20 * 60_000) / model.burstMultiplier(20 * 60_000);
    const saturday = model.sessionRate((5 * 24 + 20) * 60_000) / model.burstMultiplier((5 * 24 + 20) * 60_000);
    assert.ok(saturday < weekday * 0.7, `saturday ${saturday} vs weekday ${weekday}`);
  });
  it('draws heavy-tailed sessions and a Zipf tenant mix', () => {
    const model = new LoadModel(options, 0);
    const durations = Array.from({ length: 5000 }, () => model.sessionDurationMs()).sort((a, b) => a - b);
    const median = durations[2500]!;
    const p99 = durations[4950]!;
    assert.ok(p99 / median > 8, `p99/median ${p99 / median}: the tail is heavy`);
    const counts = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const t = model.tenant();
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    assert.ok(counts.get(TENANTS[0]!.id)! > 2 * counts.get(TENANTS[5]!.id)!, 'the first tenant is much busier than the sixth');
  });
  it('is reproducible from its seed', () => {
    const a = new LoadModel(options, 0);
    const b = new LoadModel(options, 0);
    assert.deepEqual([a.tenant(), a.sessionDurationMs(), a.payloadBytes()], [b.tenant(), b.sessionDurationMs(), b.payloadBytes()]);
  });
});
