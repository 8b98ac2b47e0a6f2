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

  it('refuses a message larger than the stream accepts before parsing it', () => {
    const decoded = decodeTelemetry('sg.tel.logs.s.p', new Uint8Array(TELEMETRY_STREAM_SPEC.maxMsgSize + 1), NOW);
    assert.equal(decoded.ok, false);
    assert.match(decoded.reason, /bytes; telemetry messages are at most/);
  });
});
