/**
 * The server's entry point under fuzzing (fast-check): no input, however malformed, oversized or wrongly
 * typed, makes it throw; every valid message is accepted and turned into rows without loss; every broken one
 * is refused with a reason a person can act on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TELEMETRY_STREAM_SPEC } from '../../src/protocol/nats';
import { rowsOf } from '../../src/server/store/rows';
import { decodeTelemetry } from '../../src/server/telemetry/decode';
import { metricPoints } from '../../src/server/telemetry/points';
import { brokenMessage, NOW, validMessage } from '../support/telemetryArbitraries';

const encode = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('telemetry entry point under fuzzing', () => {
  it('never throws on arbitrary bytes or subjects, and refuses them with a reason', () => {
    fc.assert(
      fc.property(fc.string(), fc.uint8Array({ maxLength: 2048 }), (subject, bytes) => {
        const decoded = decodeTelemetry(subject, bytes, NOW);
        assert.ok(decoded.ok || decoded.reason.length > 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JSON on a telemetry subject, and accepts only what the schema allows', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const decoded = decodeTelemetry('sg.tel.events.svc.pod', encode(json), NOW);
        assert.equal(decoded.ok, false, 'random JSON is never a valid events message');
        assert.match(decoded.reason, /not a valid telemetry message|not JSON|subject/);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every valid message and turns every item into a row', () => {
    fc.assert(
      fc.property(validMessage, ({ subject, body }) => {
        const decoded = decodeTelemetry(subject, encode(body), NOW);
        assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
        const rows = rowsOf(decoded.message, metricPoints(decoded.message, decoded.distributions));
        const b = body as unknown as { kind: string; events?: unknown[]; logs?: unknown[]; counters?: unknown[]; gauges?: unknown[]; histograms?: unknown[] };
        if (b.kind === 'events') assert.equal(rows.events?.length, b.events!.length);
        if (b.kind === 'logs') assert.equal(rows.logs?.length, b.logs!.length);
        if (b.kind === 'metrics') assert.equal(rows.metrics?.length ?? 0, b.counters!.length + b.gauges!.length + b.histograms!.length);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every broken message with a reason, never a crash', () => {
    fc.assert(
      fc.property(brokenMessage, ({ subject, data, how }) => {
        const decoded = decodeTelemetry(subject, typeof data === 'string' ? encode(data) : new Uint8Array(data), NOW);
        assert.equal(decoded.ok, false, `a ${how} message is refused`);
        assert.ok(decoded.reason.length > 10, `${how}: ${decoded.reason}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('derives event counts per type and tenant, and durations, exactly from any valid events message', () => {
    let durations = 0;
    fc.assert(
      fc.property(validMessage, ({ subject, body }) => {
        if ((body as { kind: string }).kind !== 'events') return;
        const decoded = decodeTelemetry(subject, encode(body), NOW);
        assert.ok(decoded.ok && decoded.message.kind === 'events', decoded.ok ? '' : decoded.reason);
        const events = decoded.message.events;
        const points = metricPoints(decoded.message, decoded.distributions);
        const counted = new Map<string, number>();
        const observed = new Map<string, number>();
        for (const p of points) {
          const key = `${p.name} ${p.labels.type ?? ''} ${p.labels.tenant ?? '-'} ${p.ts}`;
          assert.equal(p.labels.service, decoded.message.service);
          if (p.kind === 'counter') counted.set(key, (counted.get(key) ?? 0) + p.value);
          else observed.set(key, (observed.get(key) ?? 0) + p.dist!.count);
        }
        const expectCounts = new Map<string, number>();
        const expectObserved = new Map<string, number>();
        for (const e of events) {
          const second = Math.floor(e.ts / 1000) * 1000;
          const count = `sg_events_total ${e.type} ${e.tenant || '-'} ${second}`;
          expectCounts.set(count, (expectCounts.get(count) ?? 0) + 1);
          const d = e.attrs?.durationMs;
          const name = e.type === 'session.ended' ? 'sg_session_duration_ms' : e.type === 'stream.closed' ? 'sg_stream_duration_ms' : undefined;
          if (name && typeof d === 'number' && d >= 0) {
            const key = `${name}  ${e.tenant || '-'} ${second}`;
            expectObserved.set(key, (expectObserved.get(key) ?? 0) + 1);
          }
        }
        assert.deepEqual(counted, expectCounts);
        assert.deepEqual(observed, expectObserved);
        durations += expectObserved.size;
      }),
      { numRuns: 500 },
    );
    assert.ok(durations > 0, 'some generated events carried a duration');
  });

  it('refuses labels and attributes that are not flat objects of plain values, naming the field', () => {
    const envelope = { v: 1, id: 'm1', service: 's', pod: 'p', ts: NOW, seq: 0 };
    const event = { id: 'e1', ts: NOW, type: 'session.started' };
    for (const attrs of [{ nested: { a: 1 } }, { list: [1] }, { none: null }, [1, 2], 'text']) {
      const decoded = decodeTelemetry('sg.tel.events.s.p', encode({ ...envelope, kind: 'events', events: [{ ...event, attrs }] }), NOW);
      if (decoded.ok) assert.fail(`attrs ${JSON.stringify(attrs)} were accepted`);
      assert.match(decoded.reason, /events\.0\.attrs: attrs must be an object of strings, finite numbers and booleans/);
    }
    const good = decodeTelemetry('sg.tel.events.s.p', encode({ ...envelope, kind: 'events', events: [{ ...event, attrs: { a: 'x', b: 2, c: false } }] }), NOW);
    assert.ok(good.ok, good.ok ? '' : good.reason);
    const metrics = { ...envelope, kind: 'metrics', intervalMs: 1000, gauges: [], histograms: [] };
    const badLabels = decodeTelemetry('sg.tel.metrics.s.p', encode({ ...metrics, counters: [{ name: 'c', labels: { code: 200 }, total: 1, delta: 1 }] }), NOW);
    assert.match(badLabels.ok ? '' : badLabels.reason, /counters\.0\.labels: labels must be an object of strings/);
  });

  it('refuses a message larger than the stream accepts before parsing it', () => {
    const decoded = decodeTelemetry('sg.tel.logs.s.p', new Uint8Array(TELEMETRY_STREAM_SPEC.maxMsgSize + 1), NOW);
    assert.equal(decoded.ok, false);
    assert.match(decoded.reason, /bytes; telemetry messages are at most/);
  });
});
