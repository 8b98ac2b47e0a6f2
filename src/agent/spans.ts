/**
 * An OpenTelemetry SpanExporter that publishes spans as OTLP/JSON through the agent's publisher. Use it with
 * any span processor of `@opentelemetry/sdk-trace-base` (SimpleSpanProcessor is enough: export only queues).
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpKeyValueT, OtlpSpan } from '../protocol/nats';
import type { SpanItem, TelemetryPublisher } from './publisher';

export class StreamGateSpanExporter implements SpanExporter {
  private stopped = false;

  constructor(private readonly publisher: TelemetryPublisher) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('the StreamGate agent is stopped') });
      return;
    }
    for (const span of spans) {
      const item: SpanItem = {
        scope: { name: span.instrumentationScope.name, ...(span.instrumentationScope.version ? { version: span.instrumentationScope.version } : {}) },
        span: toOtlpSpan(span),
      };
      this.publisher.enqueueSpan(item);
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  async forceFlush(): Promise<void> {
    await this.publisher.flush();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }
}

export function toOtlpSpan(span: ReadableSpan): OtlpSpan {
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

function hrTimeToNanos([seconds, nanos]: HrTime): string {
  return (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString();
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
