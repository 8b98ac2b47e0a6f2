/**
 * The agent's head-sampled tracer: sampling decided before a span is built, OpenTelemetry API semantics, W3C
 * trace context in and out, and OTLP export. Spans go through the real publisher to a recording stand-in of
 * the JetStream client (see agent-publisher.test.ts); the integration tests use a real nats-server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { JetStreamClient, PubAck } from 'nats';
import { TelemetryPublisher } from '../../src/agent/publisher';
import { hrTimeToNanos, StreamGateSpanExporter } from '../../src/agent/spans';
import { activeTraceIds, HeadSampledTracerProvider } from '../../src/agent/tracing';
import { SpanBatchSchema, type OtlpSpan } from '../../src/protocol/nats';
import { check } from '../../src/protocol/schema';

/** Stand-in for the JetStream client: keeps the bodies it is handed. */
class RecordingJetStream {
  readonly bodies: unknown[] = [];
  publish(_subject: string, data: Uint8Array): Promise<PubAck> {
    this.bodies.push(JSON.parse(Buffer.from(data).toString('utf8')));
    return Promise.resolve({ stream: 'SG_TELEMETRY', seq: this.bodies.length, duplicate: false, domain: '' });
  }
}

function tracingTo(ratio: number) {
  const js = new RecordingJetStream();
  const publisher = new TelemetryPublisher({ service: 'svc', pod: 'pod-1', bootId: 'b00t' });
  publisher.attach(js as unknown as JetStreamClient);
  const provider = new HeadSampledTracerProvider(new StreamGateSpanExporter(publisher), ratio);
  const tracer = provider.getTracer('test-scope', '1.2.3');
  /** Every span exported so far, validated against the protocol's span batch schema. */
  const exported = async (): Promise<OtlpSpan[]> => {
    assert.equal(await publisher.settled(5000), true);
    return js.bodies.flatMap((body) => {
      const parsed = check(SpanBatchSchema, body);
      if (!parsed.ok) assert.fail(parsed.error);
      return parsed.value.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    });
  };
  return { tracer, exported, js };
}

const w3c = new W3CTraceContextPropagator();
const incoming = (flags: '00' | '01', tracestate?: string) => w3c.extract(ROOT_CONTEXT, { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}`, ...(tracestate ? { tracestate } : {}) }, defaultTextMapGetter);
const outgoing = (ctx: ReturnType<typeof incoming>) => {
  const headers: Record<string, string> = {};
  w3c.inject(ctx, headers, defaultTextMapSetter);
  return headers;
};

describe('head-sampled tracer', () => {
  it('builds no span for an unsampled root: every one is the same shared non-recording span, and nothing is exported', async () => {
    const { tracer, exported } = tracingTo(0);
    const spans = new Set<Span>();
    for (let i = 0; i < 1000; i++) {
      const span = tracer.startSpan('GET /x', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      span.setAttribute('k', 'v');
      span.end();
      spans.add(span);
    }
    assert.equal(spans.size, 1, 'one shared span object for all of them');
    const [span] = spans;
    assert.equal(span!.isRecording(), false);
    assert.equal(trace.isSpanContextValid(span!.spanContext()), false, 'no ids were made');
    assert.deepEqual(outgoing(trace.setSpan(ROOT_CONTEXT, span!)), {}, 'nothing to propagate');
    assert.deepEqual(await exported(), []);
  });

  it('samples about the configured share of roots, decided by trace id as OpenTelemetry\'s ratio sampler does', async () => {
    const { tracer, exported } = tracingTo(0.05);
    let recorded = 0;
    for (let i = 0; i < 20_000; i++) {
      const span = tracer.startSpan('op', undefined, ROOT_CONTEXT);
      if (span.isRecording()) recorded++;
      span.end();
    }
    // Binomial(20 000, 0.05): mean 1000, standard deviation ~31; ±200 is more than six of them.
    assert.ok(recorded > 800 && recorded < 1200, `${recorded} of 20 000 recorded`);
    const spans = await exported();
    assert.equal(spans.length, recorded);
    for (const span of spans) {
      let accumulation = 0;
      for (let i = 0; i < 32; i += 8) accumulation = (accumulation ^ parseInt(span.traceId.slice(i, i + 8), 16)) >>> 0;
      assert.ok(accumulation < Math.floor(0.05 * 0xffffffff), `trace ${span.traceId} is one the ratio sampler would take`);
    }
  });

  it('exports a sampled span in OTLP shape, with its attributes, events, status and scope', async () => {
    const { tracer, exported, js } = tracingTo(1);
    const span = tracer.startSpan('POST /v1/sessions', { kind: SpanKind.SERVER, attributes: { 'http.method': 'POST', skipped: undefined } }, ROOT_CONTEXT);
    assert.equal(span.isRecording(), true);
    span.setAttributes({ 'http.status_code': 201, ratio: 0.5, ok: true, list: ['a', 'b'] });
    span.addEvent('checkpoint', { step: 1 });
    span.recordException(new TypeError('bad input'));
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    const child = tracer.startSpan('db.query', {}, trace.setSpan(ROOT_CONTEXT, span));
    child.end();
    span.end();
    span.setAttribute('after.end', 'ignored');
    span.end();
    const [childOut, out] = await exported();
    assert.ok(out && childOut);
    assert.equal(out.traceId, span.spanContext().traceId);
    assert.equal(out.spanId, span.spanContext().spanId);
    assert.equal(out.parentSpanId, undefined);
    assert.equal(out.kind, 2, 'OTLP SPAN_KIND_SERVER');
    assert.deepEqual(out.attributes, [
      { key: 'http.method', value: { stringValue: 'POST' } },
      { key: 'http.status_code', value: { intValue: 201 } },
      { key: 'ratio', value: { doubleValue: 0.5 } },
      { key: 'ok', value: { boolValue: true } },
      { key: 'list', value: { stringValue: '["a","b"]' } },
    ]);
    assert.deepEqual(out.status, { code: 2, message: 'failed' });
    assert.deepEqual(out.events?.map((e) => e.name), ['checkpoint', 'exception']);
    const exception = out.events.find((e) => e.name === 'exception');
    assert.ok(exception?.attributes?.some((a) => a.key === 'exception.type' && a.value.stringValue === 'TypeError'));
    assert.ok(BigInt(out.endTimeUnixNano) >= BigInt(out.startTimeUnixNano));
    assert.ok(Math.abs(Number(BigInt(out.startTimeUnixNano) / 1_000_000n) - Date.now()) < 60_000, 'epoch nanoseconds');
    assert.equal(childOut.traceId, out.traceId);
    assert.equal(childOut.parentSpanId, out.spanId);
    assert.equal(childOut.kind, 1, 'OTLP SPAN_KIND_INTERNAL');
    const scopes = js.bodies.flatMap((b) => (b as { resourceSpans: { scopeSpans: { scope: unknown }[] }[] }).resourceSpans.flatMap((r) => r.scopeSpans.map((s) => s.scope)));
    assert.deepEqual(scopes[0], { name: 'test-scope', version: '1.2.3' });
  });

  it('joins an incoming sampled traceparent and sends its own span id on, keeping tracestate', async () => {
    const { tracer, exported } = tracingTo(0);
    const parent = incoming('01', 'vendor=x');
    const span = tracer.startSpan('GET /x', { kind: SpanKind.SERVER }, parent);
    assert.equal(span.isRecording(), true, 'a sampled caller is followed even at ratio 0');
    const out = outgoing(trace.setSpan(parent, span));
    assert.equal(out.traceparent, `00-4bf92f3577b34da6a3ce929d0e0e4736-${span.spanContext().spanId}-01`);
    assert.equal(out.tracestate, 'vendor=x');
    span.end();
    const [exportedSpan] = await exported();
    assert.equal(exportedSpan?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(exportedSpan.parentSpanId, '00f067aa0ba902b7');
  });

  it('follows an incoming unsampled traceparent: no span, and the caller\'s context goes on unchanged', async () => {
    const { tracer, exported } = tracingTo(1);
    const parent = incoming('00');
    const span = tracer.startSpan('GET /x', { kind: SpanKind.SERVER }, parent);
    assert.equal(span.isRecording(), false, 'not sampled upstream, not sampled here even at ratio 1');
    assert.equal(span, trace.getSpan(parent), 'the caller\'s own span context object, nothing new');
    assert.equal(span.spanContext().traceFlags & TraceFlags.SAMPLED, 0);
    assert.deepEqual(outgoing(trace.setSpan(parent, span)), { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' });
    span.end();
    assert.deepEqual(await exported(), []);
  });

  it('starts an active span that context.active() sees inside the callback, and logs find its ids', () => {
    const { tracer } = tracingTo(1);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      let active: Span | undefined;
      let ids: ReturnType<typeof activeTraceIds> = {};
      const span = tracer.startActiveSpan('outer', (s) => {
        active = trace.getSpan(context.active());
        ids = activeTraceIds();
        s.end();
        return s;
      });
      assert.equal(active, span);
      assert.deepEqual(ids, { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
      assert.deepEqual(activeTraceIds(), {}, 'outside the callback no span is active');
    } finally {
      context.disable();
    }
  });
});

describe('OTLP times', () => {
  it('writes HrTime as Unix nanoseconds exactly', () => {
    for (const [hr, expected] of [
      [[1_764_000_000, 123_456_789], '1764000000123456789'],
      [[1_764_000_000, 5], '1764000000000000005'],
      [[1_764_000_000, 0], '1764000000000000000'],
      [[0, 42], '42'],
      [[1, 999_999_999], '1999999999'],
    ] as [[number, number], string][]) {
      assert.equal(hrTimeToNanos(hr), expected);
      assert.equal(hrTimeToNanos(hr), (BigInt(hr[0]) * 1_000_000_000n + BigInt(hr[1])).toString());
    }
  });
});
