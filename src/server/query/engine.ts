/**
 * Runs SGQL on a store: analyze, compile for the store's dialect, run with the limits that guard the server
 * (rows, time, read-only), and hand back typed rows. Values are normalised by their column's type, so both
 * stores answer alike: booleans as true/false (ClickHouse says 1/0), numbers as numbers (64-bit integers too),
 * non-finite numbers as null (DuckDB gives null where ClickHouse gives inf for x/0).
 */
import {
  DEFAULT_QUERY_ROWS,
  DEFAULT_QUERY_TIMEOUT_MS,
  describeProblems,
  type QueryAnswer,
  type QueryColumn,
  type QueryExplain,
  type QueryProblem,
  type QueryRequest,
  type QueryResult,
  type ValueType,
} from '../../protocol/query';
import type { Store } from '../store';
import { renderClickHouse } from '../store/sql';
import type { Type } from './catalog';
import { analyze, type Analysis, type QueryInfo } from './checker';
import { compile } from './compiler';
import type { Dialect } from './sqlFragment';

export interface Compiled {
  analysis: Analysis;
  query: QueryInfo;
  columns: QueryColumn[];
}

/** The query to run: the one containing `at`, else the last one. Problems anywhere in what it uses stop it. */
export function prepare(text: string, now: number, at?: number): { ok: true; compiled: Compiled } | { ok: false; problems: QueryProblem[]; error: string } {
  const analysis = analyze(text, { now });
  const queries = analysis.queries;
  const query = (at === undefined ? undefined : queries.find((q) => at >= q.statement.span.start && at <= q.statement.span.end)) ?? queries[queries.length - 1];
  const errors = analysis.problems.filter((p) => p.severity === 'error');
  if (!query) return { ok: false, problems: errors, error: errors.length ? describe(text, errors) : 'there is no query to run: write one, e.g. spans | take 10' };
  // Errors inside other queries do not stop this one; errors in lets, or in it, do.
  const others = queries.filter((q) => q !== query).map((q) => q.statement.span);
  const relevant = errors.filter((p) => !others.some((s) => p.start >= s.start && p.end <= s.end));
  if (relevant.length || !query.plan) return { ok: false, problems: relevant, error: relevant.length ? describe(text, relevant) : 'the query has errors' };
  const columns = query.plan.columns.map((c) => ({ name: c.name, type: valueType(c.type) }));
  return { ok: true, compiled: { analysis, query, columns } };
}

function valueType(type: Type): ValueType {
  if (type === 'sketch' || type === 'labels') throw new Error(`internal: a ${type} in a result`);
  return type;
}

/** "line 2, column 14: unknown column duraton_ms: did you mean duration_ms?" for each problem. */
export function describe(text: string, problems: QueryProblem[]): string {
  return describeProblems(text, problems);
}

export function sqlFor(compiled: Compiled, dialect: Dialect, maxRows: number) {
  return compile(compiled.query.plan!, { dialect, limit: maxRows + 1 });
}

export function explain(compiled: Compiled, maxRows = DEFAULT_QUERY_ROWS): QueryExplain {
  const duck = sqlFor(compiled, 'duckdb', maxRows);
  const click = sqlFor(compiled, 'clickhouse', maxRows);
  const range = compiled.query.statement.span;
  return {
    duckdb: { text: duck.text, params: duck.params as (string | number | boolean)[] },
    clickhouse: { text: click.text, params: click.params as (string | number | boolean)[], rendered: renderClickHouse(click) },
    columns: compiled.columns,
    range: { start: range.start, end: range.end },
    ...(compiled.query.chart ? { chart: compiled.query.chart } : {}),
  };
}

export async function runQuery(store: Store, request: QueryRequest): Promise<QueryAnswer> {
  const now = request.now ?? Date.now();
  const prepared = prepare(request.text, now, request.at);
  if (!prepared.ok) return prepared;
  const { compiled } = prepared;
  const maxRows = request.maxRows ?? DEFAULT_QUERY_ROWS;
  if (request.explain) return { ok: true, explain: explain(compiled, maxRows) };
  const sql = sqlFor(compiled, store.dialect, maxRows);
  const started = performance.now();
  const timeoutMs = request.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  let raw: Record<string, unknown>[];
  try {
    raw = await store.query(sql, { timeoutMs });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // DuckDB's interrupt is reported by the store; ClickHouse says TIMEOUT_EXCEEDED (code 159), or its client gives up.
    if (/ran longer than|Timeout exceeded|TIMEOUT_EXCEEDED|Code: 159|Timeout error/i.test(message)) throw new Error(`the query ran longer than ${timeoutMs} ms and was stopped`);
    throw new Error(`${store.dialect === 'duckdb' ? 'DuckDB' : 'ClickHouse'} could not run the query: ${message}`);
  }
  const elapsedMs = performance.now() - started;
  const truncated = raw.length > maxRows;
  const rows = (truncated ? raw.slice(0, maxRows) : raw).map((row) => compiled.columns.map((c) => normalise(row[c.name], c.type)));
  const range = compiled.query.statement.span;
  const result: QueryResult = {
    columns: compiled.columns,
    rows,
    truncated,
    engine: store.dialect,
    elapsedMs: Math.round(elapsedMs * 100) / 100,
    range: { start: range.start, end: range.end },
    ...(compiled.query.chart ? { chart: compiled.query.chart } : {}),
  };
  return { ok: true, result };
}

export function normalise(value: unknown, type: ValueType): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'bool':
      return value === true || value === 1 || value === '1' || value === 'true';
    case 'string':
      return String(value);
    case 'int':
    case 'float':
    case 'time':
    case 'duration': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : null;
    }
  }
}
