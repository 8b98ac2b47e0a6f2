/**
 * OpenTelemetry wiring for a pod: a tracer provider exporting through the agent, async context, and W3C
 * trace context carried in NATS headers between pods (HTTP uses the same propagator with plain headers).
 */
import { context, propagation, trace, type Context, type TextMapGetter, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { MsgHdrs } from 'nats';
import type { StreamGateSpanExporter } from './spans';

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
  const ratio = options.sampleRatio ?? 0.05;
  const provider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  if (options.contextManager !== false) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer(scopeName, version),
    shutdown: () => provider.shutdown(),
  };
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
  return propagation.extract(context.active(), headers, natsGetter);
}

/** Trace and span ids of the active span, for logs and events. */
export function activeTraceIds(): { traceId?: string; spanId?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
