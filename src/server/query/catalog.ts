/**
 * What a query can read: the store's tables (schema.ts) as the language sees them. Scalar columns keep their
 * names; the time columns are typed `time`; a metric row's parallel label arrays are one `labels` column
 * (`labels.route`) and its DDSketch bins with count/zero/min/max one `sketch` column (`p99(sketch)`). Nothing
 * else is reachable: a source is one of these tables or a `let`, so no query names another table or a file.
 */
import { COLUMNS, isList, type TableName } from '../store/schema';

export type Type = 'int' | 'float' | 'string' | 'bool' | 'time' | 'duration' | 'sketch' | 'labels';

export interface CatalogColumn {
  name: string;
  type: Type;
  doc: string;
}

export interface CatalogTable {
  name: TableName;
  doc: string;
  columns: CatalogColumn[];
}

const TIME_COLUMNS = new Set(['ts', 'end_ts', 'start_ms', 'end_ms']);
/** Columns the language does not show: the message id the ingest deduplicates on, and the raw arrays (shown as labels and sketch). */
const HIDDEN = new Set(['msg_id', 'label_keys', 'label_values', 'bin_keys', 'bin_counts']);

/**
 * The tables a query reads: the fleet's telemetry. The trace index, span links and log template tables (schema 3)
 * are the server's own indexes for the trace viewer and log analyzer, not sources of the language.
 */
export const QUERY_TABLES = ['metrics', 'events', 'logs', 'spans', 'incidents'] as const satisfies readonly TableName[];
type QueryTable = (typeof QUERY_TABLES)[number];

const TABLE_DOCS: Record<QueryTable, string> = {
  metrics: 'One row per metric point a pod sent (every second or so): counters carry their increase in `value`, gauges their value, histograms their observation count and a DDSketch (`sketch`).',
  events: 'Business events: sessions, streams, tenants (one row per event).',
  logs: 'Log records with their level, message and trace context.',
  spans: 'Trace spans (OTLP): one row per span with its duration, route and status.',
  incidents: 'The sandbox fleet\'s injected incidents (ground truth), with their start and end.',
};

const COLUMN_DOCS: Record<string, string> = {
  ts: 'When the row happened (epoch milliseconds, UTC).',
  service: 'The service that sent it.',
  pod: 'The pod that sent it.',
  'metrics.name': 'The metric name, e.g. gw_http_requests_total.',
  'metrics.kind': 'counter, gauge or histogram.',
  'metrics.labels': 'The point\'s labels: `labels.route`, `labels["code"]`.',
  'metrics.value': 'Counters: the increase since the pod\'s previous point. Gauges: the value. Histograms: the number of observations.',
  'metrics.total': 'Counters: the pod\'s running total (restarts at 0 when the pod restarts).',
  'metrics.count': 'Histograms: observations in the point.',
  'metrics.sum': 'Histograms: the sum of the observations.',
  'metrics.min': 'Histograms: the smallest observation.',
  'metrics.max': 'Histograms: the largest observation.',
  'metrics.zero': 'Histograms: observations at zero.',
  'metrics.sketch': 'Histograms: the DDSketch of the observations (1 % relative accuracy); quantiles merge it: `p99(sketch)`.',
  'spans.end_ts': 'When the span ended (epoch ms).',
  'spans.trace_id': 'The trace the span belongs to.',
  'spans.span_id': 'The span\'s id.',
  'spans.parent_span_id': 'The parent span\'s id (empty for a root span).',
  'spans.name': 'The span name.',
  'spans.kind': 'OTLP span kind (1 internal, 2 server, 3 client, 4 producer, 5 consumer).',
  'spans.duration_ms': 'How long the span took, ms.',
  'spans.status_code': 'OTLP status (0 unset, 1 ok, 2 error).',
  'spans.status_message': 'The status message.',
  'spans.route': 'The HTTP route (http.route).',
  'spans.scope': 'The instrumentation scope.',
  'spans.attributes': 'The span\'s attributes as JSON text.',
  'spans.events': 'The span\'s events as JSON text.',
  'logs.id': 'The record\'s id.',
  'logs.level': 'debug, info, warn or error.',
  'logs.msg': 'The message.',
  'logs.trace_id': 'The trace it was logged in (empty when none).',
  'logs.span_id': 'The span it was logged in (empty when none).',
  'logs.attrs': 'Attributes as JSON text.',
  'events.id': 'The event\'s id.',
  'events.type': 'The event type, e.g. session.started.',
  'events.tenant': 'The tenant.',
  'events.session': 'The session id.',
  'events.stream': 'The stream.',
  'events.trace_id': 'The trace the event happened in.',
  'events.attrs': 'Attributes as JSON text.',
  'incidents.id': 'The incident\'s id.',
  'incidents.type': 'latency-spike, error-burst, cpu-hotspot, memory-leak, crash-loop or slow-dependency.',
  'incidents.phase': 'start or end.',
  'incidents.start_ms': 'When the incident started (epoch ms).',
  'incidents.end_ms': 'When it ends (epoch ms).',
};

function columnsOf(table: TableName): CatalogColumn[] {
  const out: CatalogColumn[] = [];
  for (const column of COLUMNS[table]) {
    if (HIDDEN.has(column.name) || isList(column.type)) continue;
    const type: Type = TIME_COLUMNS.has(column.name) ? 'time' : column.type === 'f64' ? 'float' : column.type === 'str' ? 'string' : 'int';
    out.push({ name: column.name, type, doc: COLUMN_DOCS[`${table}.${column.name}`] ?? COLUMN_DOCS[column.name] ?? '' });
  }
  if (table === 'metrics') {
    const at = out.findIndex((c) => c.name === 'kind') + 1;
    out.splice(at, 0, { name: 'labels', type: 'labels', doc: COLUMN_DOCS['metrics.labels']! });
    out.push({ name: 'sketch', type: 'sketch', doc: COLUMN_DOCS['metrics.sketch']! });
  }
  return out;
}

export const CATALOG: CatalogTable[] = QUERY_TABLES.map((name) => ({ name, doc: TABLE_DOCS[name], columns: columnsOf(name) }));

export function findTable(name: string): CatalogTable | undefined {
  return CATALOG.find((t) => t.name === name);
}

export const TYPE_DOCS: Record<Type, string> = {
  int: 'a whole number',
  float: 'a number',
  string: 'text',
  bool: 'true or false',
  time: 'a point in time (epoch milliseconds, UTC)',
  duration: 'a length of time in milliseconds (written 250ms, 30s, 5m, 1h, 1d, 1w)',
  sketch: 'a DDSketch of observations (metrics only): an argument of the quantile functions',
  labels: 'a metric point\'s labels (metrics only): labels.route, labels["code"]',
};

export function isNumeric(type: Type): boolean {
  return type === 'int' || type === 'float' || type === 'time' || type === 'duration';
}
