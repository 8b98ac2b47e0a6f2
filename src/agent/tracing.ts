/**
 * OpenTelemetry tracing for a pod that costs unsampled requests nothing. The tracer implements the
 * OpenTelemetry API (`Tracer`, `Span`), so code and instrumentations written against `@opentelemetry/api` work
 * unchanged, but it decides sampling before it builds anything:
 *   - a root span is sampled by its would-be trace id, exactly as OpenTelemetry's TraceIdRatioBasedSampler
 *     decides, from random bytes taken out of a pool; unsampled, `startSpan` returns one shared non-recording
 *     span and no id is even formatted;
 *   - a child follows its parent (ParentBased): under a sampled parent it records, under an unsampled one it is
 *     the parent's own non-recording span, so the caller's trace context (a remote `traceparent` with its
 *     not-sampled flag) travels on unchanged;
 *   - a sampled span records into a small object and, when it ends, goes to the agent's exporter as OTLP.
 * W3C trace context comes in and goes out through OpenTelemetry's own W3C propagator, in HTTP headers and, with
 * `injectTraceHeaders` / `extractTraceContext`, in NATS headers between pods.
 *
 * An unsampled root request has no trace id: its downstream calls carry no `traceparent`, and logs and events
 * made under it carry no trace id. Only a sampled trace is ever stored, so nothing could be found by one.
 */
import { randomFillSync } from 'node:crypto';
import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TextMapGetter,
  type TextMapSetter,
  type TimeInput,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { hrTime, isTimeInput, isTracingSuppressed, timeInputToHrTime, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { MsgHdrs } from 'nats';
import type { TraceIds } from './publisher';
import type { FinishedSpan, StreamGateSpanExporter } from './spans';

export interface Tracing {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /**
   * Share of traces recorded and exported, decided at the root and followed by every pod the trace reaches
   * (head sampling). Default 0.05: tracing every request costs a busy pod far more than the 1 % budget.
   */
  sampleRatio?: number;
  /**
   * Install the AsyncLocalStorage context manager so `context.active()` follows async calls (default true).
   * On Node 20 it costs every promise a hook; a hot service that passes contexts explicitly can turn it off.
   */
  contextManager?: boolean;
}

/** Registers the global tracer provider, context manager and W3C propagator for this process. */
export function setupTracing(exporter: StreamGateSpanExporter, scopeName: string, version?: string, options: TracingOptions = {}): Tracing {
  const provider = new HeadSampledTracerProvider(exporter, options.sampleRatio ?? 0.05);
  if (options.contextManager !== false) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer(scopeName, version),
    shutdown: () => provider.shutdown(),
  };
}

/** Tracers that share one sampler and one exporter, one per instrumentation scope. */
export class HeadSampledTracerProvider implements TracerProvider {
  private readonly tracers = new Map<string, HeadSampledTracer>();
  private readonly sampler: RatioSampler;
  private stopped = false;

  constructor(
    private readonly exporter: StreamGateSpanExporter,
    sampleRatio: number,
  ) {
    this.sampler = new RatioSampler(sampleRatio);
  }

  getTracer(name: string, version?: string): Tracer {
    const key = version === undefined ? name : `${name}@${version}`;
    let tracer = this.tracers.get(key);
    if (!tracer) this.tracers.set(key, (tracer = new HeadSampledTracer(version === undefined ? { name } : { name, version }, this.sampler, (span) => this.export(span))));
    return tracer;
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.exporter.forceFlush();
  }

  private export(span: FinishedSpan): void {
    if (!this.stopped) this.exporter.exportSpan(span);
  }
}

/**
 * OpenTelemetry's TraceIdRatioBasedSampler, deciding on trace-id bytes before they become a string: the id's
 * four 32-bit words XORed together, sampled when below ratio × 2³².
 */
class RatioSampler {
  private readonly upperBound: number;
  private readonly pool = Buffer.allocUnsafeSlow(4096);
  private at = this.pool.length;

  constructor(ratio: number) {
    const r = Number.isNaN(ratio) ? 0 : Math.min(1, Math.max(0, ratio));
    this.upperBound = r === 1 ? 0x100000000 : Math.floor(r * 0xffffffff);
  }

  /** Draws the next trace id's 16 bytes; returns their offset in `pool` if that trace is sampled, else -1. */
  sampleRoot(): number {
    if (this.at + 16 > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const at = this.at;
    this.at += 16;
    const p = this.pool;
    const accumulation = (p.readUInt32BE(at) ^ p.readUInt32BE(at + 4) ^ p.readUInt32BE(at + 8) ^ p.readUInt32BE(at + 12)) >>> 0;
    return accumulation < this.upperBound && !allZero(p, at, 16) ? at : -1;
  }

  traceIdAt(at: number): string {
    return this.pool.toString('hex', at, at + 16);
  }

  /** A fresh random span id (sampled spans only). */
  spanId(): string {
    if (this.at + 8 > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const at = this.at;
    this.at += 8;
    return allZero(this.pool, at, 8) ? this.spanId() : this.pool.toString('hex', at, at + 8);
  }
}

function allZero(buf: Buffer, at: number, n: number): boolean {
  for (let i = at; i < at + n; i++) if (buf[i] !== 0) return false;
  return true;
}

/** What every unsampled root gets: nothing recorded, nothing propagated, and nothing allocated for it. */
const UNSAMPLED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export class HeadSampledTracer implements Tracer {
  constructor(
    private readonly scope: { name: string; version?: string },
    private readonly sampler: RatioSampler,
    private readonly onEnd: (span: FinishedSpan) => void,
  ) {}

  startSpan(name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    if (isTracingSuppressed(ctx)) return UNSAMPLED;
    const parent = options?.root ? undefined : trace.getSpan(ctx);
    if (parent) {
      const parentContext = parent.spanContext();
      if (trace.isSpanContextValid(parentContext)) {
        if ((parentContext.traceFlags & TraceFlags.SAMPLED) === 0) {
          // Not sampled upstream: carry the caller's context on as it is (a new non-recording span only if the
          // parent records, so that ending "this" span cannot end the parent).
          return parent.isRecording() ? trace.wrapSpanContext(parentContext) : parent;
        }
        return new RecordingSpan(this.scope, name, options, parentContext.traceId, this.sampler.spanId(), parentContext, this.onEnd);
      }
    }
    const at = this.sampler.sampleRoot();
    if (at < 0) return UNSAMPLED;
    return new RecordingSpan(this.scope, name, options, this.sampler.traceIdAt(at), this.sampler.spanId(), undefined, this.onEnd);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a?: SpanOptions | F, b?: Context | F, c?: F): ReturnType<F> {
    const fn = (c ?? (typeof b === 'function' ? b : a)) as F;
    const options = typeof a === 'object' ? a : undefined;
    const parent = typeof b === 'object' ? b : context.active();
    const span = this.startSpan(name, options, parent);
    return context.with(trace.setSpan(parent, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }
}

interface SpanEvent {
  name: string;
  time: HrTime;
  attributes?: Attributes;
}

/** A sampled span: what it records until it ends, when it is handed to the exporter once. */
class RecordingSpan implements Span, FinishedSpan {
  readonly kind: SpanKind;
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  readonly attributes: Attributes = {};
  readonly events: SpanEvent[] = [];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  private ended = false;
  private readonly context: SpanContext;

  constructor(
    readonly instrumentationScope: { name: string; version?: string },
    public name: string,
    options: SpanOptions | undefined,
    traceId: string,
    spanId: string,
    readonly parentSpanContext: SpanContext | undefined,
    private readonly onEnd: (span: FinishedSpan) => void,
  ) {
    this.context = { traceId, spanId, traceFlags: TraceFlags.SAMPLED, ...(parentSpanContext?.traceState ? { traceState: parentSpanContext.traceState } : {}) };
    this.kind = options?.kind ?? SpanKind.INTERNAL;
    this.startTime = options?.startTime !== undefined ? timeInputToHrTime(options.startTime) : hrTime();
    if (options?.attributes) this.setAttributes(options.attributes);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    // Callers in plain JavaScript can pass null despite the types: skip it like undefined.
    if (!this.ended && value !== undefined && (value as unknown) !== null) this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const attributes = isTimeInput(attributesOrTime) ? undefined : attributesOrTime;
    const at = isTimeInput(attributesOrTime) ? attributesOrTime : time;
    this.events.push({ name, time: at !== undefined ? timeInputToHrTime(at) : hrTime(), ...(attributes ? { attributes } : {}) });
    return this;
  }

  // Links are not exported (the OTLP shape the agent sends has none), as with the SDK exporter before.
  addLink(_link: Link): this {
    return this;
  }

  addLinks(_links: Link[]): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (!this.ended) this.status = status;
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    this.endTime = endTime !== undefined ? timeInputToHrTime(endTime) : hrTime();
    this.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes['exception.message'] = exception;
    else {
      if (exception.name) attributes['exception.type'] = exception.name;
      else if (exception.code !== undefined) attributes['exception.type'] = String(exception.code);
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    this.addEvent('exception', attributes, time);
  }
}

const natsSetter: TextMapSetter<MsgHdrs> = { set: (carrier, key, value) => carrier.set(key, value) };
const natsGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? carrier.keys() : []),
  get: (carrier, key) => carrier?.get(key) || undefined,
};

/** Writes `traceparent`/`tracestate` of the active (or given) context into NATS headers. */
export function injectTraceHeaders(headers: MsgHdrs, ctx: Context = context.active()): MsgHdrs {
  propagation.inject(ctx, headers, natsSetter);
  return headers;
}

/** The context a NATS message's headers carry, for starting a child span of the sender's. */
export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  return headers ? propagation.extract(context.active(), headers, natsGetter) : context.active();
}

/** Whether a context carries trace context worth propagating (a sampled span, or an upstream decision). */
export function hasTraceContext(ctx: Context): boolean {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext !== undefined && trace.isSpanContextValid(spanContext);
}

const NO_TRACE_IDS: TraceIds = Object.freeze({});

/** Trace and span ids of the active span, for logs and events (none under an unsampled root). */
export function activeTraceIds(): TraceIds {
  const span = trace.getActiveSpan();
  if (!span) return NO_TRACE_IDS;
  const { traceId, spanId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { traceId, spanId } : NO_TRACE_IDS;
}

