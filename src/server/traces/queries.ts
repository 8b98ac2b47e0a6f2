/**
 * Traces from the store: the search over the trace index (one row per message and trace, summed here, so late
 * spans count as soon as they are written) and one trace's spans, links and logs for assembly. SQL runs on
 * DuckDB, ClickHouse 18.16 and current ClickHouse; values are bound (see store/sql.ts).
 */
import type { RouteTraceFigures, TraceSearchQuery, TraceSearchResult, TraceSummary } from '../../protocol/traces';
import type { Store } from '../store';
import { join, raw, sql, type Sql } from '../store/sql';
import type { StoredLog, StoredSpan } from './assembly';

export const DEFAULT_SEARCH_RANGE_MS = 3600_000;
/** A trace's rows may start a little before the range its match was found in. */
const RANGE_PAD_MS = 10 * 60_000;
/** The most spans assembled for one trace; the rest are counted as left out. */
export const MAX_TRACE_SPANS = 200_000;

export class TraceNotFoundError extends Error {}

function hasElement(store: Store, column: string, value: string): Sql {
  return store.dialect === 'duckdb' ? { text: `list_contains(${column}, ?)`, params: [value] } : { text: `has(${column}, ?)`, params: [value] };
}

export async function searchTraces(store: Store, query: TraceSearchQuery, now = Date.now()): Promise<TraceSearchResult> {
  const to = query.to ?? now;
  const from = query.from ?? to - DEFAULT_SEARCH_RANGE_MS;
  const limit = query.limit ?? 50;
  const matching: Sql[] = [sql`ts >= ${Math.floor(from)}`, sql`ts <= ${Math.ceil(to)}`];
  if (query.service) matching.push(hasElement(store, 'services', query.service));
  if (query.route) matching.push(hasElement(store, 'routes', query.route));
  const having: Sql[] = [raw('1 = 1')];
  if (query.minDurationMs !== undefined) having.push(sql`max(end_ts) - min(ts) >= ${query.minDurationMs}`);
  if (query.errorsOnly) having.push(raw('sum(error_count) > 0'));
  const order =
    query.sort === 'newest' ? 'start DESC' : query.sort === 'errors' ? 'errors DESC, duration DESC' : 'duration DESC, start DESC';
  const text = join(
    [
      raw(`SELECT trace_id, min(ts) AS start, max(end_ts) - min(ts) AS duration, sum(span_count) AS spans, sum(error_count) AS errors,`),
      raw(`max(has_root) AS has_root, max(root_service) AS root_service, max(root_name) AS root_name, max(root_route) AS root_route,`),
      raw(store.dialect === 'duckdb' ? `list_distinct(flatten(list(services))) AS services` : `groupUniqArrayArray(services) AS services`),
      sql`FROM trace_index WHERE ts >= ${Math.floor(from - RANGE_PAD_MS)} AND ts <= ${Math.ceil(to + RANGE_PAD_MS)}`,
      raw('AND trace_id IN (SELECT trace_id FROM trace_index WHERE'),
      join(matching, ' AND '),
      raw(') GROUP BY trace_id HAVING'),
      join(having, ' AND '),
      raw(`ORDER BY ${order}`),
      sql`LIMIT ${limit}`,
    ],
    ' ',
  );
  const rows = await store.query(text);
  const traces: TraceSummary[] = rows.map((r) => ({
    traceId: String(r.trace_id),
    start: Number(r.start),
    durationMs: Number(r.duration),
    spans: Number(r.spans),
    errors: Number(r.errors),
    services: ((r.services as string[] | undefined) ?? []).slice().sort(),
    rootService: String(r.root_service ?? ''),
    rootName: String(r.root_name ?? ''),
    route: String(r.root_route ?? ''),
    hasRoot: Number(r.has_root) > 0,
  }));
  return { from, to, traces, routes: await routeFigures(store, from, to) };
}

/** Traces per root route in the range: how many, with errors, slowest and mean (root span durations). */
async function routeFigures(store: Store, from: number, to: number): Promise<RouteTraceFigures[]> {
  const rows = await store.query(
    sql`SELECT root_route AS route, count(*) AS traces, sum(CASE WHEN root_status = 2 THEN 1 ELSE 0 END) AS errors, max(root_duration_ms) AS max_ms, avg(root_duration_ms) AS avg_ms FROM trace_index WHERE ts >= ${Math.floor(from)} AND ts <= ${Math.ceil(to)} AND has_root = 1 AND root_route != '' GROUP BY root_route ORDER BY traces DESC LIMIT 100`,
  );
  return rows.map((r) => ({ route: String(r.route), traces: Number(r.traces), errors: Number(r.errors), maxMs: Number(r.max_ms), avgMs: Number(r.avg_ms) }));
}

export interface StoredTrace {
  spans: StoredSpan[];
  logs: StoredLog[];
  spansLeftOut: number;
}

/** Every stored span of a trace (ids in either case), its links and its logs. */
export async function loadTrace(store: Store, traceId: string): Promise<StoredTrace> {
  const id = traceId.toLowerCase();
  const [range] = await store.query(sql`SELECT min(ts) AS start, max(end_ts) AS end_ts, sum(span_count) AS spans, count(*) AS n FROM trace_index WHERE trace_id = ${id}`);
  if (!range || Number(range.n) === 0) throw new TraceNotFoundError(`no trace ${id} in the store (it may be older than the retention, or not sampled)`);
  const from = Number(range.start);
  // A span's end can be before its start (a bad clock): bound by both ends of every row.
  const to = Math.max(Number(range.end_ts), from);
  const total = Number(range.spans);
  const spanRows = await store.query(
    sql`SELECT ts, end_ts, span_id, parent_span_id, service, pod, name, kind, duration_ms, status_code, status_message, route, attributes, events FROM spans WHERE trace_id = ${id} AND ts >= ${from} AND ts <= ${to} ORDER BY ts LIMIT ${MAX_TRACE_SPANS}`,
  );
  const linkRows = await store.query(sql`SELECT span_id, links FROM span_links WHERE trace_id = ${id} AND ts >= ${from} AND ts <= ${to}`);
  const links = new Map(linkRows.map((r) => [String(r.span_id), parseJson(String(r.links)) as { links?: StoredSpan['links']; dropped?: StoredSpan['dropped'] } | undefined]));
  const logRows = await store.query(
    sql`SELECT ts, span_id, service, pod, level, msg FROM logs WHERE trace_id = ${id} AND ts >= ${from - 60_000} AND ts <= ${to + 60_000} ORDER BY ts LIMIT 10000`,
  );
  const spans = spanRows.map((r): StoredSpan => {
    const extra = links.get(String(r.span_id));
    return {
      traceId: id,
      spanId: String(r.span_id),
      parentSpanId: String(r.parent_span_id ?? ''),
      service: String(r.service),
      pod: String(r.pod),
      name: String(r.name),
      kind: Number(r.kind),
      start: Number(r.ts),
      durationMs: Number(r.duration_ms),
      statusCode: Number(r.status_code),
      statusMessage: String(r.status_message ?? ''),
      route: String(r.route ?? ''),
      attributes: (parseJson(String(r.attributes)) as StoredSpan['attributes'] | undefined) ?? {},
      events: parseEvents(String(r.events ?? '')),
      links: extra?.links ?? [],
      ...(extra?.dropped && (extra.dropped.attributes || extra.dropped.events || extra.dropped.links) ? { dropped: extra.dropped } : {}),
    };
  });
  const logs = logRows.map((r): StoredLog => ({ ts: Number(r.ts), spanId: String(r.span_id ?? ''), service: String(r.service), pod: String(r.pod), level: String(r.level), msg: String(r.msg) }));
  return { spans, logs, spansLeftOut: Math.max(0, total - spans.length) };
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseEvents(text: string): StoredSpan['events'] {
  const parsed = parseJson(text);
  if (!Array.isArray(parsed)) return [];
  return parsed.map((e: { name?: unknown; timeUnixNano?: unknown; attributes?: unknown }) => ({
    name: String(e.name ?? ''),
    time: nanosToMs(String(e.timeUnixNano ?? '0')),
    attributes: typeof e.attributes === 'object' && e.attributes !== null && !Array.isArray(e.attributes) ? (e.attributes as Record<string, string | number | boolean>) : {},
  }));
}

function nanosToMs(nanos: string): number {
  if (!/^\d{1,20}$/.test(nanos)) return 0;
  return (nanos.length > 6 ? Number(nanos.slice(0, -6)) : 0) + Number(nanos.slice(-6)) / 1e6;
}
