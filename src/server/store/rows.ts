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
  return { metrics: [], events: [], logs: [], spans: [], incidents: [], trace_index: [], span_links: [], log_lines: [], log_counts: [] };
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
    case 'spans': {
      const spans: Row[] = [];
      const links: Row[] = [];
      for (const rs of message.resourceSpans) {
        const resource = attributeMap(rs.resource.attributes);
        const spanService = String(resource['service.name'] ?? service);
        const spanPod = String(resource['service.instance.id'] ?? resource['host.name'] ?? pod);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            const start = nanosToMs(s.startTimeUnixNano);
            const end = nanosToMs(s.endTimeUnixNano);
            const attributes = attributeMap(s.attributes);
            const traceId = s.traceId.toLowerCase();
            const spanId = s.spanId.toLowerCase();
            spans.push({
              ts: Math.floor(start),
              end_ts: Math.floor(end),
              trace_id: traceId,
              span_id: spanId,
              parent_span_id: parentId(s.parentSpanId),
              service: spanService,
              pod: spanPod,
              name: s.name,
              kind: s.kind,
              // Kept as sent, negative included: the trace assembly flags what is impossible instead of hiding it.
              duration_ms: end - start,
              status_code: s.status.code,
              status_message: s.status.message ?? '',
              route: String(attributes['http.route'] ?? ''),
              scope: ss.scope.name,
              attributes: JSON.stringify(attributes),
              events: s.events?.length ? JSON.stringify(s.events.map((e) => ({ name: e.name, timeUnixNano: e.timeUnixNano, ...(e.attributes ? { attributes: attributeMap(e.attributes) } : {}) }))) : '',
              msg_id,
            });
            if (s.links?.length || s.droppedAttributesCount || s.droppedEventsCount || s.droppedLinksCount) {
              links.push({
                ts: Math.floor(start),
                trace_id: traceId,
                span_id: spanId,
                links: JSON.stringify({
                  links: (s.links ?? []).map((l) => ({ traceId: l.traceId.toLowerCase(), spanId: l.spanId.toLowerCase(), ...(l.attributes?.length ? { attributes: attributeMap(l.attributes) } : {}) })),
                  dropped: { attributes: s.droppedAttributesCount ?? 0, events: s.droppedEventsCount ?? 0, links: s.droppedLinksCount ?? 0 },
                }),
                msg_id,
              });
            }
          }
        }
      }
      out.spans = spans;
      if (links.length) out.span_links = links;
      out.trace_index = traceIndexRows(spans, msg_id);
      break;
    }
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

/** OTLP attributes as a plain object; arrays, key-value lists and bytes become JSON text, so nothing is lost. */
export function attributeMap(attributes: readonly OtlpKeyValueT[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes) {
    const plain = anyValue(value);
    if (plain === undefined) continue;
    out[key] = typeof plain === 'object' ? JSON.stringify(plain) : plain;
  }
  return out;
}

type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

/** An OTLP AnyValue (checked here: the inner values of arrays and lists are not checked by the schema). */
function anyValue(value: unknown, depth = 0): Plain | undefined {
  if (typeof value !== 'object' || value === null || depth > 32) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.intValue === 'number') return v.intValue;
  if (typeof v.intValue === 'string') return /^-?\d+$/.test(v.intValue) ? Number(v.intValue) : v.intValue;
  if (typeof v.doubleValue === 'number') return v.doubleValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  const list = (x: unknown): unknown[] => {
    const values = (x as { values?: unknown } | undefined)?.values;
    return Array.isArray(values) ? values : [];
  };
  if (v.arrayValue !== undefined) return list(v.arrayValue).map((item) => anyValue(item, depth + 1) ?? null);
  if (v.kvlistValue !== undefined) {
    const out: Record<string, Plain> = {};
    for (const kv of list(v.kvlistValue)) {
      const { key, value: inner } = (kv ?? {}) as { key?: unknown; value?: unknown };
      if (typeof key === 'string') out[key] = anyValue(inner, depth + 1) ?? null;
    }
    return out;
  }
  return undefined;
}

/** A parent id as stored: lowercase, and '' for none (absent, empty or all zeros, as some senders write it). */
function parentId(id: string | undefined): string {
  if (!id || /^0*$/.test(id)) return '';
  return id.toLowerCase();
}

/** One row per trace of a message's spans: how many, errors, services, routes, and the root if it is here. */
function traceIndexRows(spans: readonly Row[], msg_id: string): Row[] {
  const byTrace = new Map<string, { ts: number; end: number; count: number; errors: number; services: Set<string>; routes: Set<string>; root?: Row }>();
  for (const span of spans) {
    const traceId = span.trace_id as string;
    let entry = byTrace.get(traceId);
    if (!entry) byTrace.set(traceId, (entry = { ts: span.ts as number, end: span.ts as number, count: 0, errors: 0, services: new Set(), routes: new Set() }));
    entry.ts = Math.min(entry.ts, span.ts as number);
    // The start too: a span that ends before it starts must still fall inside its trace's range.
    entry.end = Math.max(entry.end, span.end_ts as number, span.ts as number);
    entry.count++;
    if (span.status_code === 2) entry.errors++;
    entry.services.add(span.service as string);
    if (span.route) entry.routes.add(span.route as string);
    if (!span.parent_span_id) entry.root = span;
  }
  return [...byTrace].map(([trace_id, e]) => ({
    ts: e.ts,
    end_ts: e.end,
    trace_id,
    span_count: e.count,
    error_count: e.errors,
    services: [...e.services].sort(),
    routes: [...e.routes].sort(),
    has_root: e.root ? 1 : 0,
    root_service: (e.root?.service as string | undefined) ?? '',
    root_name: (e.root?.name as string | undefined) ?? '',
    root_route: (e.root?.route as string | undefined) ?? '',
    root_status: (e.root?.status_code as number | undefined) ?? 0,
    root_duration_ms: (e.root?.duration_ms as number | undefined) ?? 0,
    msg_id,
  }));
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
