/**
 * Telemetry messages as store rows: one object per row, keyed by the column names of schema.ts. Built once per
 * message by the ingest, written by either engine.
 */
import type { OtlpKeyValueT, TelemetryMessage } from '../../protocol/nats';
import type { MetricPoint } from '../telemetry/points';
import type { TableName } from './schema';

export type Row = Record<string, string | number | readonly string[] | readonly number[]>;
export type RowBatch = Record<TableName, Row[]>;

export function emptyBatch(): RowBatch {
  return { metrics: [], events: [], logs: [], spans: [], incidents: [], profiles: [] };
}

/** The rows of one message, by table (a message of events also yields derived metric rows). */
export function rowsOf(message: TelemetryMessage, points: readonly MetricPoint[]): Partial<RowBatch> {
  const msg_id = message.id;
  const { service, pod } = message;
  const out: Partial<RowBatch> = {};
  if (points.length) out.metrics = points.map((p) => metricRow(p, msg_id));
  switch (message.kind) {
    case 'metrics':
      break;
    case 'events':
      out.events = message.events.map((e) => ({
        ts: e.ts,
        id: e.id,
        service,
        pod,
        type: e.type,
        tenant: e.tenant ?? '',
        session: e.session ?? '',
        stream: e.stream ?? '',
        trace_id: e.traceId ?? '',
        attrs: e.attrs ? JSON.stringify(e.attrs) : '',
        msg_id,
      }));
      break;
    case 'logs':
      out.logs = message.logs.map((l) => ({
        ts: l.ts,
        id: l.id,
        service,
        pod,
        level: l.level,
        msg: l.msg,
        trace_id: l.traceId ?? '',
        span_id: l.spanId ?? '',
        attrs: l.attrs ? JSON.stringify(l.attrs) : '',
        msg_id,
      }));
      break;
    case 'spans':
      out.spans = message.resourceSpans.flatMap((rs) => {
        const resource = attributeMap(rs.resource.attributes);
        const spanService = String(resource['service.name'] ?? service);
        const spanPod = String(resource['service.instance.id'] ?? pod);
        return rs.scopeSpans.flatMap((ss) =>
          ss.spans.map((s) => {
            const start = nanosToMs(s.startTimeUnixNano);
            const end = nanosToMs(s.endTimeUnixNano);
            const attributes = attributeMap(s.attributes);
            return {
              ts: Math.floor(start),
              end_ts: Math.floor(end),
              trace_id: s.traceId,
              span_id: s.spanId,
              parent_span_id: s.parentSpanId ?? '',
              service: spanService,
              pod: spanPod,
              name: s.name,
              kind: s.kind,
              duration_ms: Math.max(0, end - start),
              status_code: s.status.code,
              status_message: s.status.message ?? '',
              route: String(attributes['http.route'] ?? ''),
              scope: ss.scope.name,
              attributes: JSON.stringify(attributes),
              events: s.events?.length ? JSON.stringify(s.events) : '',
              msg_id,
            };
          }),
        );
      });
      break;
    case 'truth':
      out.incidents = [
        {
          ts: message.ts,
          id: message.incident.id,
          service,
          pod: message.incident.pod,
          type: message.incident.type,
          phase: message.incident.phase,
          start_ms: message.incident.start,
          end_ms: message.incident.end,
          msg_id,
        },
      ];
      break;
  }
  return out;
}

function metricRow(p: MetricPoint, msg_id: string): Row {
  const keys = Object.keys(p.labels)
    .filter((k) => k !== 'service' && k !== 'pod')
    .sort();
  const d = p.dist;
  return {
    ts: p.ts,
    service: p.labels.service ?? '',
    pod: p.labels.pod ?? '',
    name: p.name,
    kind: p.kind,
    label_keys: keys,
    label_values: keys.map((k) => p.labels[k]!),
    value: p.value,
    total: p.total,
    count: d?.count ?? 0,
    sum: d?.sum ?? 0,
    min: d && Number.isFinite(d.min) ? d.min : 0,
    max: d && Number.isFinite(d.max) ? d.max : 0,
    zero: d?.zero ?? 0,
    bin_keys: d ? Array.from(d.keys) : [],
    bin_counts: d ? Array.from(d.counts) : [],
    msg_id,
  };
}

function attributeMap(attributes: readonly OtlpKeyValueT[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

/** OTLP nanosecond strings to fractional ms without losing the sub-ms part to float rounding of the whole. */
function nanosToMs(nanos: string): number {
  if (!/^\d{1,20}$/.test(nanos)) return 0;
  const whole = nanos.length > 6 ? Number(nanos.slice(0, -6)) : 0;
  const frac = Number(nanos.slice(-6)) / 1e6;
  return whole + frac;
}

export function batchSize(batch: Partial<RowBatch>): number {
  let n = 0;
  for (const rows of Object.values(batch)) n += rows.length;
  return n;
}
