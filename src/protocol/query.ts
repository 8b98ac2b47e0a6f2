/**
 * The query language's requests and answers, the same across every boundary that carries them: LSP (the
 * editor's results panel and notebooks), NATS (`sg.srv.query`, for `sg query` and editors in shared mode) and
 * the `--json` output of `sg query` (a contract: fields are added, never renamed). Browser bundles import the
 * types too, so this module has no Node dependency.
 */
import * as z from 'zod/mini';
import './schema';

/** The types a result column has. `time` is epoch milliseconds; `duration` is milliseconds. */
export const VALUE_TYPES = ['int', 'float', 'string', 'bool', 'time', 'duration'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export const CHART_KINDS = ['line', 'bar', 'area', 'table'] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

export const MAX_QUERY_ROWS = 100_000;
export const DEFAULT_QUERY_ROWS = 10_000;
export const MAX_QUERY_TIMEOUT_MS = 300_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
export const MAX_QUERY_TEXT = 100_000;

export const QueryRequestSchema = z.object({
  /** The SGQL text: `let` statements and one or more queries; which query runs is chosen by `at`. */
  text: z.string().check(z.maxLength(MAX_QUERY_TEXT)),
  /** Offset of a character inside the query to run (default: the last query of the text). */
  at: z.optional(z.number().check(z.int(), z.minimum(0))),
  /** At most this many rows come back (`truncated` says when there were more). */
  maxRows: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_QUERY_ROWS))),
  /** The store stops the query after this long. */
  timeoutMs: z.optional(z.number().check(z.int(), z.minimum(100), z.maximum(MAX_QUERY_TIMEOUT_MS))),
  /** Compile only: the SQL for each store instead of rows. */
  explain: z.optional(z.boolean()),
  /** The time `now()` and `ago()` count from (epoch ms; default: when the server receives the request). */
  now: z.optional(z.number().check(z.int(), z.minimum(0))),
});
export type QueryRequest = z.infer<typeof QueryRequestSchema>;

export interface QueryColumn {
  name: string;
  type: ValueType;
}

export interface ChartSpec {
  kind: ChartKind;
  /** The column on the x axis (a time, or a category for bars). */
  x: string;
  /** Numeric columns drawn as series. */
  y: string[];
  /** String columns whose values split the rows into one series each. */
  series: string[];
}

export interface CompiledSql {
  text: string;
  params: (string | number | boolean)[];
}

export interface QueryResult {
  columns: QueryColumn[];
  /** Values in column order; null where the store has none. */
  rows: (string | number | boolean | null)[][];
  /** More rows matched than maxRows. */
  truncated: boolean;
  /** The `chart` step of the query, when it has one. */
  chart?: ChartSpec;
  /** Which store answered (`duckdb` or `clickhouse`) and its time, ms. */
  engine: 'duckdb' | 'clickhouse';
  elapsedMs: number;
  /** The query that ran (text range in the request, 0-based offsets). */
  range: { start: number; end: number };
}

export interface QueryExplain {
  /** DuckDB SQL with `?` placeholders and the values bound to them. */
  duckdb: CompiledSql;
  /** ClickHouse SQL with `?` placeholders and its values; `rendered` is what is sent (ClickHouse 18.16 has no query parameters). */
  clickhouse: CompiledSql & { rendered: string };
  chart?: ChartSpec;
  columns: QueryColumn[];
  range: { start: number; end: number };
}

/** A syntax or type error with its place in the text (0-based offsets) and, when one is close, a suggestion. */
export interface QueryProblem {
  message: string;
  start: number;
  end: number;
  severity: 'error' | 'warning';
  /** Text that would fix it (e.g. the column name meant), replacing start..end. */
  suggestion?: string;
}

export type QueryAnswer = { ok: true; result: QueryResult } | { ok: true; explain: QueryExplain } | { ok: false; problems: QueryProblem[]; error: string };

/** What the live store holds, for completion: metric names with their kind and labels, and label values. */
export interface QueryCatalog {
  metrics: { name: string; kind: string; labels: string[] }[];
  /** `metric\u0000label` → up to 50 values seen. */
  labelValues: Record<string, string[]>;
  /** Distinct values of low-cardinality string columns (`table.column` → values), e.g. spans.service. */
  columnValues: Record<string, string[]>;
  /** When it was read from the store (epoch ms). */
  at: number;
}

export const QueryCatalogRequestSchema = z.object({});

/** Problems as the lines a person reads: "line 2, column 14: unknown column duraton_ms: did you mean duration_ms?". */
export function describeProblems(text: string, problems: readonly QueryProblem[], fallback = 'the query has errors'): string {
  if (!problems.length) return fallback;
  return problems
    .map((p) => {
      const before = text.slice(0, p.start);
      return `line ${before.split('\n').length}, column ${p.start - before.lastIndexOf('\n')}: ${p.message}`;
    })
    .join('\n');
}
