/**
 * The store's tables, once for both engines: each column with its DuckDB and ClickHouse type, in the order the
 * DuckDB appender writes them. ClickHouse SQL here runs on 18.16 (Debian's, tested) and on current releases:
 * no Map, JSON, DateTime64 or TTL; times are Int64 epoch milliseconds in both engines; labels are two parallel
 * arrays; histograms are DDSketch bins (keys and counts) so they merge in SQL.
 *
 * Migrations are applied in order on open; the version reached is kept in sg_meta.
 */

export const TABLES = ['metrics', 'events', 'logs', 'spans', 'incidents', 'trace_index', 'span_links', 'log_lines', 'log_counts'] as const;
export type TableName = (typeof TABLES)[number];

export type ColumnType = 'i64' | 'i32' | 'f64' | 'str' | 'strs' | 'i32s' | 'f64s';

export const DUCK_TYPES: Record<ColumnType, string> = { i64: 'BIGINT', i32: 'INTEGER', f64: 'DOUBLE', str: 'VARCHAR', strs: 'VARCHAR[]', i32s: 'INTEGER[]', f64s: 'DOUBLE[]' };
const CH: Record<ColumnType, string> = { i64: 'Int64', i32: 'Int32', f64: 'Float64', str: 'String', strs: 'Array(String)', i32s: 'Array(Int32)', f64s: 'Array(Float64)' };

export function isList(type: ColumnType): boolean {
  return type === 'strs' || type === 'i32s' || type === 'f64s';
}

export interface Column {
  name: string;
  type: ColumnType;
}

const c = (name: string, type: ColumnType): Column => ({ name, type });

/** Every table has `ts` (epoch ms of the row) and `msg_id` (the telemetry message it came from). */
export const COLUMNS: Record<TableName, Column[]> = {
  metrics: [
    c('ts', 'i64'),
    c('service', 'str'),
    c('pod', 'str'),
    c('name', 'str'),
    c('kind', 'str'),
    c('label_keys', 'strs'),
    c('label_values', 'strs'),
    c('value', 'f64'),
    c('total', 'f64'),
    c('count', 'f64'),
    c('sum', 'f64'),
    c('min', 'f64'),
    c('max', 'f64'),
    c('zero', 'f64'),
    c('bin_keys', 'i32s'),
    c('bin_counts', 'f64s'),
    c('msg_id', 'str'),
  ],
  events: [
    c('ts', 'i64'),
    c('id', 'str'),
    c('service', 'str'),
    c('pod', 'str'),
    c('type', 'str'),
    c('tenant', 'str'),
    c('session', 'str'),
    c('stream', 'str'),
    c('trace_id', 'str'),
    c('attrs', 'str'),
    c('msg_id', 'str'),
  ],
  logs: [
    c('ts', 'i64'),
    c('id', 'str'),
    c('service', 'str'),
    c('pod', 'str'),
    c('level', 'str'),
    c('msg', 'str'),
    c('trace_id', 'str'),
    c('span_id', 'str'),
    c('attrs', 'str'),
    c('msg_id', 'str'),
  ],
  spans: [
    c('ts', 'i64'),
    c('end_ts', 'i64'),
    c('trace_id', 'str'),
    c('span_id', 'str'),
    c('parent_span_id', 'str'),
    c('service', 'str'),
    c('pod', 'str'),
    c('name', 'str'),
    c('kind', 'i32'),
    c('duration_ms', 'f64'),
    c('status_code', 'i32'),
    c('status_message', 'str'),
    c('route', 'str'),
    c('scope', 'str'),
    c('attributes', 'str'),
    c('events', 'str'),
    c('msg_id', 'str'),
  ],
  /**
   * What one message says of each trace it holds spans of: the trace search's index. A trace's row are summed
   * at query time, so a late or out-of-order span only adds a row (root_* are empty where the root is not in
   * this message).
   */
  trace_index: [
    c('ts', 'i64'),
    c('end_ts', 'i64'),
    c('trace_id', 'str'),
    c('span_count', 'i64'),
    c('error_count', 'i64'),
    c('services', 'strs'),
    c('routes', 'strs'),
    c('has_root', 'i32'),
    c('root_service', 'str'),
    c('root_name', 'str'),
    c('root_route', 'str'),
    c('root_status', 'i32'),
    c('root_duration_ms', 'f64'),
    c('msg_id', 'str'),
  ],
  /** Span links (OTLP), only for spans that have any: JSON of [{traceId, spanId, attributes}]. */
  span_links: [c('ts', 'i64'), c('trace_id', 'str'), c('span_id', 'str'), c('links', 'str'), c('msg_id', 'str')],
  /** Each log line's template (the server's miner) and parameter values, and its logging call site. */
  log_lines: [
    c('ts', 'i64'),
    c('id', 'str'),
    c('service', 'str'),
    c('pod', 'str'),
    c('level', 'str'),
    c('trace_id', 'str'),
    c('template_id', 'i64'),
    c('params', 'strs'),
    c('site', 'str'),
    c('msg_id', 'str'),
  ],
  /** Lines per template per minute (ts: the minute's start) and pod and level, summed at query time. */
  log_counts: [c('ts', 'i64'), c('service', 'str'), c('pod', 'str'), c('level', 'str'), c('template_id', 'i64'), c('count', 'i64'), c('msg_id', 'str')],
  incidents: [
    c('ts', 'i64'),
    c('id', 'str'),
    c('service', 'str'),
    c('pod', 'str'),
    c('type', 'str'),
    c('phase', 'str'),
    c('start_ms', 'i64'),
    c('end_ms', 'i64'),
    c('msg_id', 'str'),
  ],
};

/** ClickHouse sort keys: what the queries filter on first. */
const CH_ORDER: Record<TableName, string> = {
  metrics: '(name, service, pod, ts)',
  events: '(type, ts)',
  logs: '(service, ts)',
  spans: '(service, ts)',
  incidents: '(ts)',
  trace_index: '(ts)',
  span_links: '(trace_id, ts)',
  log_lines: '(template_id, ts)',
  log_counts: '(ts, template_id)',
};

/** Days kept per table by default (streamgate.store.retentionDays overrides all). */
export const DEFAULT_RETENTION_DAYS: Record<TableName, number> = {
  metrics: 14,
  events: 30,
  logs: 7,
  spans: 7,
  incidents: 90,
  trace_index: 7,
  span_links: 7,
  log_lines: 7,
  log_counts: 30,
};

export type Dialect = 'duckdb' | 'clickhouse';

export function createTableSql(dialect: Dialect, table: TableName): string {
  const cols = COLUMNS[table].map((col) => `${col.name} ${dialect === 'duckdb' ? DUCK_TYPES[col.type] : CH[col.type]}`).join(', ');
  if (dialect === 'duckdb') return `CREATE TABLE IF NOT EXISTS ${table} (${cols})`;
  // One partition per UTC day, so retention drops whole partitions (18.16 has no TTL).
  return `CREATE TABLE IF NOT EXISTS ${table} (${cols}) ENGINE = MergeTree PARTITION BY toYYYYMMDD(toDateTime(intDiv(ts, 1000))) ORDER BY ${CH_ORDER[table]}`;
}

export interface Migration {
  version: number;
  what: string;
  sql: (dialect: Dialect) => string[];
}

/**
 * Version 1 was the meta table alone (the foundation); 2 adds the telemetry tables; 3 the trace index, span
 * links and the log template tables. Only new tables, never ALTER: ClickHouse 18.16 has no
 * `ADD COLUMN IF NOT EXISTS`, and a ClickHouse migration cut short must be safe to apply again.
 */
export const MIGRATIONS: Migration[] = [
  {
    version: 2,
    what: 'telemetry tables: metrics, events, logs, spans, incidents',
    sql: (d) => (['metrics', 'events', 'logs', 'spans', 'incidents'] as const).map((t) => createTableSql(d, t)),
  },
  {
    version: 3,
    what: 'trace index, span links, log templates per line and per minute',
    sql: (d) => (['trace_index', 'span_links', 'log_lines', 'log_counts'] as const).map((t) => createTableSql(d, t)),
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
