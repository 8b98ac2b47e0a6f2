/**
 * fast-check generators of telemetry messages as pods send them, valid and broken, for the fuzz tests of the
 * server's entry point (unit) and of the whole ingest against real NATS and DuckDB (integration).
 */
import { DDSketch } from '@datadog/sketches-js';
import fc from 'fast-check';
import { BUSINESS_EVENT_TYPES, LOG_LEVELS, PROTOCOL_VERSION } from '../../src/protocol/nats';

export const NOW = Date.now();

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
const ts = fc.integer({ min: NOW - 10 * 60_000, max: NOW });
const labels = fc.dictionary(fc.constantFrom('route', 'tenant', 'code', 'type'), token, { maxKeys: 3 });

let seq = 0;
const envelope = (kind: string, service: string, pod: string) => ({ v: PROTOCOL_VERSION, kind, id: `${pod}.${kind}.fuzz.${seq++}`, service, pod, ts: NOW, seq });

/** What pods put in an event's attributes: a duration (negative ones are ignored by the server), a client, flags. */
const attrs = fc.record({ durationMs: fc.double({ min: -10, max: 1e6, noNaN: true }), client: token, retried: fc.boolean() }, { requiredKeys: [] });

export const eventBatch = fc
  .record({ service: token, pod: token, events: fc.array(fc.record({ type: fc.constantFrom(...BUSINESS_EVENT_TYPES), tenant: fc.option(token, { nil: undefined }), ts, attrs: fc.option(attrs, { nil: undefined }) }), { minLength: 1, maxLength: 20 }) })
  .map(({ service, pod, events }) => ({
    subject: `sg.tel.events.${service}.${pod}`,
    body: {
      ...envelope('events', service, pod),
      events: events.map((e, i) => ({ id: `ev-${seq}-${i}-${Math.random().toString(36).slice(2)}`, ts: e.ts, type: e.type, ...(e.tenant ? { tenant: e.tenant } : {}), ...(e.attrs ? { attrs: e.attrs } : {}) })),
    },
  }));

export const logBatch = fc.record({ service: token, pod: token, logs: fc.array(fc.record({ level: fc.constantFrom(...LOG_LEVELS), msg: fc.string({ maxLength: 200 }), ts }), { minLength: 1, maxLength: 20 }) }).map(({ service, pod, logs }) => ({
  subject: `sg.tel.logs.${service}.${pod}`,
  body: { ...envelope('logs', service, pod), logs: logs.map((l, i) => ({ id: `log-${seq}-${i}-${Math.random().toString(36).slice(2)}`, ...l })) },
}));

export const metricsBatch = fc
  .record({
    service: token,
    pod: token,
    counters: fc.array(fc.record({ name: token, labels, delta: fc.nat(1000) }), { maxLength: 5 }),
    gauges: fc.array(fc.record({ name: token, labels, value: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }) }), { maxLength: 5 }),
    histograms: fc.array(fc.record({ name: token, labels, values: fc.array(fc.double({ min: 0.001, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }) }), { maxLength: 3 }),
  })
  .map(({ service, pod, counters, gauges, histograms }) => ({
    subject: `sg.tel.metrics.${service}.${pod}`,
    body: {
      ...envelope('metrics', service, pod),
      intervalMs: 1000,
      counters: counters.map((c) => ({ name: `c_${c.name}`, labels: c.labels, delta: c.delta, total: c.delta })),
      gauges: gauges.map((g) => ({ name: `g_${g.name}`, labels: g.labels, value: g.value })),
      histograms: histograms.map((h) => {
        const sketch = new DDSketch({ relativeAccuracy: 0.01 });
        for (const v of h.values) sketch.accept(v);
        return {
          name: `h_${h.name}`,
          labels: h.labels,
          count: h.values.length,
          sum: h.values.reduce((a, b) => a + b, 0),
          min: Math.min(...h.values),
          max: Math.max(...h.values),
          p50: sketch.getValueAtQuantile(0.5),
          p90: sketch.getValueAtQuantile(0.9),
          p99: sketch.getValueAtQuantile(0.99),
          sketch: Buffer.from(sketch.toProto()).toString('base64'),
        };
      }),
    },
  }));

export const validMessage = fc.oneof(eventBatch, logBatch, metricsBatch);

/** A valid message broken in one of the ways producers break them; the server must refuse it with a reason. */
export const brokenMessage = fc
  .tuple(
    validMessage,
    fc.constantFrom('drop-id', 'wrong-type', 'bad-kind', 'foreign-pod', 'future', 'not-json', 'truncated', 'bad-utf8', 'deep-junk'),
  )
  .map(([m, how]) => {
    const body = m.body as unknown as Record<string, unknown>;
    const text = JSON.stringify(body);
    switch (how) {
      case 'drop-id': {
        const { id: _id, ...rest } = body;
        return { subject: m.subject, data: JSON.stringify(rest), how };
      }
      case 'wrong-type':
        return { subject: m.subject, data: JSON.stringify({ ...body, seq: 'many' }), how };
      case 'bad-kind':
        return { subject: m.subject.replace(/^sg\.tel\.\w+/, 'sg.tel.truth'), data: text, how };
      case 'foreign-pod':
        return { subject: `${m.subject}x`, data: text, how };
      case 'future':
        return { subject: m.subject, data: JSON.stringify({ ...body, ts: NOW + 10 * 3600_000 }), how };
      case 'not-json':
        return { subject: m.subject, data: `${text}}{`, how };
      case 'truncated':
        return { subject: m.subject, data: text.slice(0, Math.max(1, Math.floor(text.length / 2))), how };
      case 'bad-utf8':
        return { subject: m.subject, data: Buffer.concat([Buffer.from(text.slice(0, 10)), Buffer.from([0xc3, 0x28]), Buffer.from(text.slice(10))]), how };
      case 'deep-junk':
        return { subject: m.subject, data: JSON.stringify({ ...body, v: { nested: [1, [2, [3]]] } }), how };
    }
  });
