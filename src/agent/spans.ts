/**
 * Spans leave the pod as OTLP/JSON through the agent's publisher. The agent's own tracer (tracing.ts) hands
 * its sampled spans to `exportSpan`; `StreamGateSpanExporter` is also an OpenTelemetry SpanExporter, for a
 * process that prefers the OpenTelemetry SDK's tracer provider (any span processor will do: export only queues).
 */
import type { Attributes, HrTime, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpKeyValueT, OtlpSpan } from '../protocol/nats';
import type { TelemetryPublisher } from './publisher';

/** What export needs of an ended span: the part of the SDK's ReadableSpan that OTLP carries. */
export interface FinishedSpan {
  readonly name: string;
  readonly kind: SpanKind;
  spanContext(): SpanContext;
  readonly parentSpanContext?: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly attributes: Attributes;
  readonly status: SpanStatus;
  readonly events: readonly { name: string; time: HrTime; attributes?: Attributes | undefined }[];
  readonly instrumentationScope: { name: string; version?: string | undefined };
}

export class StreamGateSpanExporter implements SpanExporter {
  private stopped = false;

  constructor(private readonly publisher: TelemetryPublisher) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('the StreamGate agent is stopped') });
      return;
    }
    for (const span of spans) this.exportSpan(span);
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Queues one ended span (dropped once the agent has stopped). */
  exportSpan(span: FinishedSpan): void {
    if (this.stopped) return;
    const { name, version } = span.instrumentationScope;
    this.publisher.enqueueSpan(version ? { name, version } : { name }, toOtlpSpan(span));
  }

  async forceFlush(): Promise<void> {
    await this.publisher.flush();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }
}

export function toOtlpSpan(span: FinishedSpan): OtlpSpan {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    ...(parent ? { parentSpanId: parent.spanId } : {}),
    name: span.name,
    // OTLP's SpanKind is the API's + 1 (0 means unspecified).
    kind: span.kind + 1,
    startTimeUnixNano: hrTimeToNanos(span.startTime),
    endTimeUnixNano: hrTimeToNanos(span.endTime),
    attributes: toOtlpAttributes(span.attributes),
    status: { code: span.status.code, ...(span.status.message ? { message: span.status.message } : {}) },
    ...(span.events.length
      ? { events: span.events.map((e) => ({ name: e.name, timeUnixNano: hrTimeToNanos(e.time), ...(e.attributes ? { attributes: toOtlpAttributes(e.attributes) } : {}) })) }
      : {}),
  };
}

/** Unix nanoseconds as a decimal string (beyond 2^53, so built from the parts rather than multiplied). */
export function hrTimeToNanos([seconds, nanos]: HrTime): string {
  if (seconds === 0) return String(nanos);
  const digits = String(nanos);
  return `${seconds}${'000000000'.slice(digits.length)}${digits}`;
}

export function toOtlpAttributes(attributes: Attributes): OtlpKeyValueT[] {
  const out: OtlpKeyValueT[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    // Callers in plain JavaScript can pass null despite the types: skip it like undefined.
    if (value === undefined || (value as unknown) === null) continue;
    if (typeof value === 'string') out.push({ key, value: { stringValue: value } });
    else if (typeof value === 'boolean') out.push({ key, value: { boolValue: value } });
    else if (typeof value === 'number') out.push({ key, value: Number.isInteger(value) ? { intValue: value } : { doubleValue: value } });
    else out.push({ key, value: { stringValue: JSON.stringify(value) } });
  }
  return out;
}
