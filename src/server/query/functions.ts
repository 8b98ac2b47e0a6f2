/**
 * Every function of SGQL, once: its signature and documentation (for completion, signature help, hovers and
 * docs/query-language.md) and the SQL it becomes in each store. The compiler, the language features and the
 * reference are all read from this table, so they cannot disagree. Each function has an example query that
 * the tests run on both stores.
 */
import { GAMMA } from '../telemetry/histogram';
import type { Sql } from '../store/sql';
import type { Type } from './catalog';
import { frag, type Dialect } from './sqlFragment';

export interface ParamSpec {
  name: string;
  accepts: readonly Type[];
  doc: string;
  optional?: boolean;
  /** Must be known when the query is compiled (a literal, ago(), a let of one). */
  constant?: boolean;
  /** The function takes any number of these (strcat). */
  variadic?: boolean;
}

/** What the compiler knows when it writes an aggregate. */
export interface AggregateContext {
  /** Seconds in each group's time span, for rate(): the bin size, or the query's time range. */
  widthSeconds?: number;
}

export type ConstValue = number | string | boolean;

export interface FunctionSpec {
  name: string;
  kind: 'scalar' | 'aggregate';
  params: ParamSpec[];
  /** The result type from the argument types. */
  returns: (args: Type[]) => Type;
  doc: string;
  /** A query using it, shown in the reference and run by the tests on both stores. */
  example: string;
  /** Functions of constants only, computed when the query compiles (ago, now, datetime). */
  fold?: (args: ConstValue[], now: number) => { value: ConstValue; type: Type } | { error: string };
  /** The SQL, given each argument's SQL and type. */
  sql?: (dialect: Dialect, args: Sql[], types: Type[], context: AggregateContext) => Sql;
  /** A quantile (0..1) when the function is one: the compiler merges sketches for it. */
  quantile?: (args: ConstValue[]) => number;
  /** Extra checks of the (constant) arguments; a message when they are wrong. */
  validate?: (args: (ConstValue | undefined)[]) => string | undefined;
}

const NUMBER: Type[] = ['int', 'float'];
const NUMERIC: Type[] = ['int', 'float', 'time', 'duration'];
const ORDERED: Type[] = ['int', 'float', 'time', 'duration', 'string'];
const SCALARS: Type[] = ['int', 'float', 'time', 'duration', 'string', 'bool'];
const same = (args: Type[]) => args[0] ?? 'float';
const fixed = (type: Type) => () => type;
const by = (dialect: Dialect, duck: string, click: string) => (dialect === 'duckdb' ? duck : click);

function call(name: string) {
  return (_d: Dialect, [a]: Sql[]) => frag`${{ text: name, params: [] }}(${a!})`;
}

function quantileFunction(name: string, q: number): FunctionSpec {
  return {
    name,
    kind: 'aggregate',
    params: [{ name: 'x', accepts: [...NUMERIC, 'sketch'], doc: 'a numeric column (exact), or `sketch` on metrics (merged DDSketches, within 1 %)' }],
    returns: (args) => (args[0] === 'sketch' ? 'float' : (args[0] ?? 'float')),
    doc: `The ${q * 100}th percentile. Of a numeric column it is exact: the value of rank ⌊${q}·(n−1)⌋ among the group's n values (lower nearest rank). Of \`sketch\` on metrics it merges the stored DDSketch bins of every row in the group and reads the same rank from them, within 1 % of the exact value.`,
    example: name === 'p99' ? 'metrics | where name == "gw_http_request_duration_ms" | summarize p99(sketch) by bin(ts, 1m) | sort by ts asc' : `spans | summarize ${name}(duration_ms) by route | sort by route asc`,
    quantile: () => q,
    sql: (d, [x]) => exactQuantile(d, x!, q),
  };
}

function exactQuantile(dialect: Dialect, x: Sql, q: number): Sql {
  return dialect === 'duckdb' ? frag`list_sort(list(${x}))[CAST(floor(${q} * (count(${x}) - 1)) AS BIGINT) + 1]` : frag`arrayElement(arraySort(groupArray(${x})), toUInt64(floor(${q} * (count(${x}) - 1))) + 1)`;
}

function rateDivisor(context: AggregateContext): number {
  if (!context.widthSeconds) throw new Error('internal: rate() without a time width');
  return context.widthSeconds;
}

export const FUNCTIONS: FunctionSpec[] = [
  // --- Time ---------------------------------------------------------------------------------------------
  {
    name: 'ago',
    kind: 'scalar',
    params: [{ name: 'span', accepts: ['duration'], doc: 'how long before now', constant: true }],
    returns: fixed('time'),
    doc: 'The time `span` before now (when the query runs).',
    example: 'logs | where ts > ago(1h) | count',
    fold: ([span], now) => ({ value: now - Number(span), type: 'time' }),
  },
  {
    name: 'now',
    kind: 'scalar',
    params: [],
    returns: fixed('time'),
    doc: 'The time the query runs.',
    example: 'incidents | where start_ms < now() | project id, type, pod',
    fold: (_args, now) => ({ value: now, type: 'time' }),
  },
  {
    name: 'datetime',
    kind: 'scalar',
    params: [{ name: 'text', accepts: ['string'], doc: 'an ISO 8601 time, e.g. "2025-06-01T12:00:00Z"', constant: true }],
    returns: fixed('time'),
    doc: 'A time written in ISO 8601 (UTC unless it says otherwise).',
    example: 'spans | where ts >= datetime("2020-01-01T00:00:00Z") | count',
    fold: ([text]) => {
      const ms = Date.parse(String(text));
      return Number.isFinite(ms) ? { value: ms, type: 'time' } : { error: `"${String(text)}" is not an ISO 8601 time, e.g. 2025-06-01T12:00:00Z` };
    },
  },
  {
    name: 'bin',
    kind: 'scalar',
    params: [
      { name: 'value', accepts: NUMERIC, doc: 'a time (or number) to round down' },
      { name: 'size', accepts: ['duration', 'int', 'float'], doc: 'the bin size, e.g. 1m', constant: true },
    ],
    returns: same,
    doc: 'Rounds `value` down to a multiple of `size`: `bin(ts, 1m)` is the start of the row\'s minute. In `summarize … by bin(ts, 1m)` it also sets the time span `rate()` divides by.',
    example: 'spans | summarize count() by bin(ts, 1h) | sort by ts asc',
    validate: ([, size]) => (typeof size === 'number' && size > 0 ? undefined : 'the bin size must be a positive constant, e.g. 1m'),
    sql: (d, [value, size], types) =>
      types[0] === 'float' || types[1] === 'float' ? frag`(floor(${value!} / ${size!}) * ${size!})` : d === 'duckdb' ? frag`((${value!} // ${size!}) * ${size!})` : frag`(intDiv(${value!}, ${size!}) * ${size!})`,
  },
  {
    name: 'hourofday',
    kind: 'scalar',
    params: [{ name: 'time', accepts: ['time'], doc: 'a time' }],
    returns: fixed('int'),
    doc: 'The hour of the day (0–23, UTC) of a time.',
    example: 'logs | summarize count() by hour = hourofday(ts) | sort by hour asc',
    sql: (d, [t]) => (d === 'duckdb' ? frag`((${t!} // 3600000) % 24)` : frag`(intDiv(${t!}, 3600000) % 24)`),
  },
  // --- Numbers ------------------------------------------------------------------------------------------
  {
    name: 'round',
    kind: 'scalar',
    params: [
      { name: 'x', accepts: NUMBER, doc: 'a number' },
      { name: 'digits', accepts: ['int'], doc: 'digits after the point (default 0)', optional: true, constant: true },
    ],
    returns: fixed('float'),
    doc: 'Rounds half up to `digits` decimals (the same in both stores: neither banker\'s nor away from zero for negative halves).',
    example: 'spans | summarize avg_ms = round(avg(duration_ms), 2) by service',
    validate: ([, digits]) => (digits === undefined || (typeof digits === 'number' && digits >= 0 && digits <= 12) ? undefined : 'digits must be between 0 and 12'),
    sql: (_d, [x, digits]) => {
      const scale = digits ? frag`pow(10, ${digits})` : frag`1`;
      return frag`(floor(${x!} * ${scale} + 0.5) / ${scale})`;
    },
  },
  { name: 'floor', kind: 'scalar', params: [{ name: 'x', accepts: NUMBER, doc: 'a number' }], returns: same, doc: 'The largest whole number not above `x`.', example: 'spans | summarize count() by ms = floor(duration_ms / 100) * 100 | sort by ms asc | take 5', sql: call('floor') },
  { name: 'abs', kind: 'scalar', params: [{ name: 'x', accepts: [...NUMBER, 'duration'], doc: 'a number' }], returns: same, doc: 'The absolute value.', example: 'metrics | where kind == "gauge" | summarize furthest = max(abs(value - 50)) by name', sql: call('abs') },
  { name: 'sqrt', kind: 'scalar', params: [{ name: 'x', accepts: NUMBER, doc: 'a number ≥ 0' }], returns: fixed('float'), doc: 'The square root.', example: 'spans | summarize rms = sqrt(avg(duration_ms * duration_ms)) by service', sql: call('sqrt') },
  { name: 'exp', kind: 'scalar', params: [{ name: 'x', accepts: NUMBER, doc: 'a number' }], returns: fixed('float'), doc: 'e to the power `x`.', example: 'spans | summarize g = round(exp(avg(log(duration_ms + 1))) - 1, 3) by service', sql: call('exp') },
  {
    name: 'log',
    kind: 'scalar',
    params: [{ name: 'x', accepts: NUMBER, doc: 'a number > 0' }],
    returns: fixed('float'),
    doc: 'The natural logarithm.',
    example: 'spans | summarize mean_log = round(avg(log(duration_ms + 1)), 3) by service',
    sql: (d, [x]) => frag`${{ text: by(d, 'ln', 'log'), params: [] }}(${x!})`,
  },
  { name: 'log10', kind: 'scalar', params: [{ name: 'x', accepts: NUMBER, doc: 'a number > 0' }], returns: fixed('float'), doc: 'The base-10 logarithm.', example: 'spans | summarize count() by decade = floor(log10(duration_ms + 1)) | sort by decade asc', sql: call('log10') },
  {
    name: 'pow',
    kind: 'scalar',
    params: [
      { name: 'x', accepts: NUMBER, doc: 'the base' },
      { name: 'y', accepts: NUMBER, doc: 'the exponent' },
    ],
    returns: fixed('float'),
    doc: '`x` to the power `y`.',
    example: 'spans | summarize mean_square = round(avg(pow(duration_ms, 2)), 1) by service',
    sql: (_d, [x, y]) => frag`pow(${x!}, ${y!})`,
  },
  // --- Text ---------------------------------------------------------------------------------------------
  { name: 'tolower', kind: 'scalar', params: [{ name: 'text', accepts: ['string'], doc: 'text' }], returns: fixed('string'), doc: 'Lower case (Unicode).', example: 'logs | summarize count() by lvl = tolower(level)', sql: (d, [s]) => frag`${{ text: by(d, 'lower', 'lowerUTF8'), params: [] }}(${s!})` },
  { name: 'toupper', kind: 'scalar', params: [{ name: 'text', accepts: ['string'], doc: 'text' }], returns: fixed('string'), doc: 'Upper case (Unicode).', example: 'logs | summarize count() by lvl = toupper(level)', sql: (d, [s]) => frag`${{ text: by(d, 'upper', 'upperUTF8'), params: [] }}(${s!})` },
  { name: 'strlen', kind: 'scalar', params: [{ name: 'text', accepts: ['string'], doc: 'text' }], returns: fixed('int'), doc: 'The number of characters (Unicode code points).', example: 'logs | summarize longest = max(strlen(msg)) by level', sql: (d, [s]) => frag`${{ text: by(d, 'length', 'lengthUTF8'), params: [] }}(${s!})` },
  {
    name: 'substring',
    kind: 'scalar',
    params: [
      { name: 'text', accepts: ['string'], doc: 'text' },
      { name: 'start', accepts: ['int'], doc: 'the first character, counted from 0' },
      { name: 'length', accepts: ['int'], doc: 'how many characters (default: to the end)', optional: true },
    ],
    returns: fixed('string'),
    doc: 'Part of a text, by characters, from `start` (0-based).',
    example: 'spans | summarize count() by prefix = substring(route, 0, 8)',
    sql: (d, [s, start, length]) => frag`${{ text: by(d, 'substring', 'substringUTF8'), params: [] }}(${s!}, ${start!} + 1, ${length ?? frag`${2147483647}`})`,
  },
  {
    name: 'strcat',
    kind: 'scalar',
    params: [
      { name: 'a', accepts: ['string'], doc: 'text' },
      { name: 'b', accepts: ['string'], doc: 'more text', variadic: true },
    ],
    returns: fixed('string'),
    doc: 'The texts one after another.',
    example: 'spans | summarize count() by where_ = strcat(service, "/", pod)',
    sql: (_d, args) => ({ text: `concat(${args.map((a) => a.text).join(', ')})`, params: args.flatMap((a) => a.params) }),
  },
  { name: 'isempty', kind: 'scalar', params: [{ name: 'text', accepts: ['string'], doc: 'text' }], returns: fixed('bool'), doc: 'True when the text is empty.', example: 'spans | where isempty(parent_span_id) | count', sql: (_d, [s]) => frag`(${s!} = '')` },
  { name: 'isnotempty', kind: 'scalar', params: [{ name: 'text', accepts: ['string'], doc: 'text' }], returns: fixed('bool'), doc: 'True when the text is not empty.', example: 'logs | where isnotempty(trace_id) | count', sql: (_d, [s]) => frag`(${s!} != '')` },
  // --- Conversions and conditions ------------------------------------------------------------------------
  {
    name: 'tostring',
    kind: 'scalar',
    params: [{ name: 'x', accepts: SCALARS, doc: 'a value' }],
    returns: fixed('string'),
    doc: 'The value as text. Whole numbers and text read the same in both stores; fractions may be written differently (1.0 or 1).',
    example: 'spans | summarize count() by status = tostring(status_code)',
    sql: (d, [x], types) => (types[0] === 'bool' ? frag`(CASE WHEN ${x!} THEN 'true' ELSE 'false' END)` : d === 'duckdb' ? frag`CAST(${x!} AS VARCHAR)` : frag`toString(${x!})`),
  },
  {
    name: 'toint',
    kind: 'scalar',
    params: [{ name: 'x', accepts: [...NUMERIC, 'string'], doc: 'a number (cut toward zero) or text' }],
    returns: fixed('int'),
    doc: 'A whole number: numbers are cut toward zero; text that is not a number gives null.',
    example: 'spans | summarize count() by ms = toint(duration_ms / 100) * 100 | sort by ms asc | take 5',
    sql: (d, [x], types) =>
      types[0] === 'string' ? (d === 'duckdb' ? frag`TRY_CAST(${x!} AS BIGINT)` : frag`toInt64OrNull(${x!})`) : d === 'duckdb' ? frag`CAST(trunc(${x!}) AS BIGINT)` : frag`toInt64(${x!})`,
  },
  {
    name: 'todouble',
    kind: 'scalar',
    params: [{ name: 'x', accepts: [...NUMERIC, 'string'], doc: 'a number or text' }],
    returns: fixed('float'),
    doc: 'A number; text that is not a number gives null.',
    example: 'spans | summarize avg_status = round(avg(todouble(status_code)), 3) by service',
    sql: (d, [x], types) => (types[0] === 'string' ? (d === 'duckdb' ? frag`TRY_CAST(${x!} AS DOUBLE)` : frag`toFloat64OrNull(${x!})`) : d === 'duckdb' ? frag`CAST(${x!} AS DOUBLE)` : frag`toFloat64(${x!})`),
  },
  {
    name: 'iff',
    kind: 'scalar',
    params: [
      { name: 'condition', accepts: ['bool'], doc: 'a condition' },
      { name: 'then', accepts: SCALARS, doc: 'the value when it holds' },
      { name: 'else', accepts: SCALARS, doc: 'the value otherwise (same type)' },
    ],
    returns: (args) => args[1] ?? 'string',
    doc: '`then` where the condition holds, `else` elsewhere.',
    example: 'spans | summarize count() by outcome = iff(status_code == 2, "error", "ok")',
    sql: (_d, [c, a, b]) => frag`(CASE WHEN ${c!} THEN ${a!} ELSE ${b!} END)`,
  },
  // --- Aggregates (summarize) ----------------------------------------------------------------------------
  {
    name: 'count',
    kind: 'aggregate',
    params: [],
    returns: fixed('int'),
    doc: 'The number of rows in the group.',
    example: 'logs | summarize count() by level | sort by level asc',
    sql: (d) => frag`${{ text: by(d, 'count(*)', 'count()'), params: [] }}`,
  },
  {
    name: 'countif',
    kind: 'aggregate',
    params: [{ name: 'condition', accepts: ['bool'], doc: 'which rows to count' }],
    returns: fixed('int'),
    doc: 'The number of rows in the group where the condition holds.',
    example: 'spans | summarize errors = countif(status_code == 2), all = count() by service',
    sql: (d, [c]) => (d === 'duckdb' ? frag`count(*) FILTER (WHERE ${c!})` : frag`countIf(${c!})`),
  },
  {
    name: 'dcount',
    kind: 'aggregate',
    params: [{ name: 'x', accepts: SCALARS, doc: 'a column' }],
    returns: fixed('int'),
    doc: 'The number of distinct values (exact).',
    example: 'spans | summarize traces = dcount(trace_id) by service',
    sql: (d, [x]) => (d === 'duckdb' ? frag`count(DISTINCT ${x!})` : frag`uniqExact(${x!})`),
  },
  { name: 'sum', kind: 'aggregate', params: [{ name: 'x', accepts: [...NUMBER, 'duration'], doc: 'a numeric column' }], returns: same, doc: 'The sum.', example: 'metrics | where name == "gw_http_requests_total" | summarize requests = sum(value) by pod | sort by pod asc', sql: call('sum') },
  { name: 'avg', kind: 'aggregate', params: [{ name: 'x', accepts: [...NUMBER, 'duration'], doc: 'a numeric column' }], returns: (args) => (args[0] === 'duration' ? 'duration' : 'float'), doc: 'The mean.', example: 'spans | summarize avg(duration_ms) by route | sort by route asc', sql: call('avg') },
  { name: 'min', kind: 'aggregate', params: [{ name: 'x', accepts: ORDERED, doc: 'a column' }], returns: same, doc: 'The smallest value.', example: 'spans | summarize first = min(ts), last = max(ts) by pod | sort by pod asc', sql: call('min') },
  { name: 'max', kind: 'aggregate', params: [{ name: 'x', accepts: ORDERED, doc: 'a column' }], returns: same, doc: 'The largest value.', example: 'spans | summarize slowest = max(duration_ms) by service', sql: call('max') },
  {
    name: 'rate',
    kind: 'aggregate',
    params: [{ name: 'x', accepts: [...NUMBER], doc: 'what to add up per second (default: one per row)', optional: true }],
    returns: fixed('float'),
    doc:
      'Per second: the sum of `x` (or the number of rows) divided by the seconds of the group\'s time span — the bin of `by bin(ts, …)`, or else the time range the query\'s `where` gives `ts`. On counters, `rate(value)` is counter-aware: a counter row\'s `value` is its increase since the pod\'s previous point, computed by the pod from its running total, so a pod restart (the total falling back to 0) adds the new total instead of a negative step; `rate(total)` is refused because summing running totals is never a rate.',
    example: 'metrics | where name == "gw_http_requests_total" | summarize rps = rate(value) by bin(ts, 1m) | sort by ts asc',
    sql: (d, args, _types, context) => (args[0] ? frag`(sum(${args[0]}) / ${rateDivisor(context)})` : frag`(${{ text: by(d, 'count(*)', 'count()'), params: [] }} / ${rateDivisor(context)})`),
  },
  quantileFunction('p50', 0.5),
  quantileFunction('p90', 0.9),
  quantileFunction('p95', 0.95),
  quantileFunction('p99', 0.99),
  {
    name: 'percentile',
    kind: 'aggregate',
    params: [
      { name: 'x', accepts: [...NUMERIC, 'sketch'], doc: 'a numeric column (exact), or `sketch` on metrics (merged)' },
      { name: 'percent', accepts: NUMBER, doc: 'which percentile, 0–100', constant: true },
    ],
    returns: (args) => (args[0] === 'sketch' ? 'float' : (args[0] ?? 'float')),
    doc: 'The `percent`th percentile, exact for a numeric column and merged from the stored DDSketches for `sketch` (as p50…p99).',
    example: 'spans | summarize p999 = percentile(duration_ms, 99.9) by service',
    validate: ([, percent]) => (typeof percent === 'number' && percent >= 0 && percent <= 100 ? undefined : 'the percent must be a constant between 0 and 100'),
    quantile: ([, percent]) => Number(percent) / 100,
    sql: (d, [x, percent]) => {
      void percent;
      throw new Error(`internal: percentile is compiled by the compiler (${d}, ${x?.text})`);
    },
  },
];

export const FUNCTION_BY_NAME = new Map(FUNCTIONS.map((f) => [f.name, f]));

export function signatureOf(f: FunctionSpec): string {
  const params = f.params.map((p) => `${p.name}${p.optional ? '?' : ''}: ${p.accepts.join(' | ')}${p.variadic ? ', …' : ''}`);
  const result = f.returns(f.params.map((p) => p.accepts[0]!));
  return `${f.name}(${params.join(', ')}): ${f.quantile ? 'same as x (float for sketch)' : result}`;
}

/** The SQL of the quantile of a sketch, from the merged bins (keys ascending, running counts) and the group's stats. */
export function sketchQuantileSql(dialect: Dialect, q: number, cols: { keys: Sql; cumulative: Sql; count: Sql; zero: Sql; min: Sql; max: Sql }): Sql {
  // The same steps as quantile() in telemetry/histogram.ts: rank q·(n−1); below the zero count it is the minimum
  // (clamped at 0); else the first bin whose running count passes the rank, at the value the key stands for
  // (2·γ^k / (1+γ)), or the last bin, or the maximum; clamped to the exact min and max the pods sent.
  const lnGamma = Math.log(GAMMA);
  const { keys, cumulative, count, zero, min, max } = cols;
  const rank = frag`(${q} * (${count} - 1))`;
  const valueOf = (key: Sql) => frag`(exp(${key} * ${lnGamma}) * 2 / ${1 + GAMMA})`;
  if (dialect === 'duckdb') {
    const index = frag`list_position(list_transform(${cumulative}, __x -> ${zero} + __x > ${rank}), true)`;
    const value = frag`coalesce(${valueOf(frag`${keys}[${index}]`)}, ${valueOf(frag`${keys}[-1]`)}, ${max})`;
    return frag`(CASE WHEN coalesce(${count}, 0) = 0 THEN NULL WHEN ${rank} < ${zero} THEN greatest(0, ${min}) ELSE least(${max}, greatest(${min}, ${value})) END)`;
  }
  const index = frag`arrayFirstIndex(__x -> ${zero} + __x > ${rank}, ${cumulative})`;
  const value = frag`if(${index} > 0, ${valueOf(frag`arrayElement(${keys}, ${index})`)}, if(length(${keys}) > 0, ${valueOf(frag`arrayElement(${keys}, length(${keys}))`)}, ${max}))`;
  return frag`if(${count} = 0, NULL, if(${rank} < ${zero}, greatest(0, ${min}), least(${max}, greatest(${min}, ${value}))))`;
}
