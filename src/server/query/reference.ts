/**
 * The language's reference, docs/query-language.md, rendered from the tables the compiler and the editor use:
 * the steps below, the catalog (catalog.ts) and the function table (functions.ts). `npm run docs` writes it;
 * a unit test fails when the file has drifted, and the integration tests run every example on both stores.
 */
import { CHART_KINDS, DEFAULT_QUERY_ROWS, DEFAULT_QUERY_TIMEOUT_MS, MAX_QUERY_ROWS } from '../../protocol/query';
import { CATALOG, TYPE_DOCS, type Type } from './catalog';
import { FUNCTIONS, signatureOf } from './functions';

export interface StepDoc {
  keyword: string;
  syntax: string;
  doc: string;
  example: string;
}

export const STEPS: StepDoc[] = [
  { keyword: 'where', syntax: 'where CONDITION', doc: 'Keeps the rows where the condition holds.', example: 'spans | where service == "gateway" and duration_ms > 250' },
  { keyword: 'project', syntax: 'project COLUMN, NAME = EXPR, …', doc: 'Keeps (and computes) exactly these columns, in this order.', example: 'spans | project ts, route, seconds = duration_ms / 1000' },
  { keyword: 'extend', syntax: 'extend NAME = EXPR, …', doc: 'Adds columns (or replaces one of the same name), keeping the others.', example: 'spans | extend slow = duration_ms > 500' },
  {
    keyword: 'summarize',
    syntax: 'summarize [NAME =] AGGREGATE, … [by [NAME =] EXPR, …]',
    doc: 'One row per group of the `by` expressions (one row in all without `by`), with the aggregates of each group. `by bin(ts, 1m)` groups by minute.',
    example: 'spans | summarize p99(duration_ms), count() by bin(ts, 1m), route',
  },
  { keyword: 'sort', syntax: 'sort by EXPR [asc|desc], …', doc: 'Orders the rows; descending unless `asc` (as in KQL). `order by` is the same. Rows with equal keys come in either store\'s own order.', example: 'spans | sort by duration_ms desc' },
  { keyword: 'take', syntax: 'take N', doc: 'At most N rows (`limit N` is the same). Which rows, unless sorted first, is the store\'s choice.', example: 'logs | take 20' },
  { keyword: 'top', syntax: 'top N by EXPR [asc|desc]', doc: 'The first N rows by the expression: `sort by` then `take`.', example: 'spans | top 10 by duration_ms' },
  { keyword: 'distinct', syntax: 'distinct COLUMN, …', doc: 'Each combination of the columns once.', example: 'spans | distinct service, route' },
  { keyword: 'count', syntax: 'count', doc: 'The number of rows, as one row with a column `count`.', example: 'logs | where level == "error" | count' },
  {
    keyword: 'join',
    syntax: 'join [kind=inner|left] SOURCE on COLUMN [== COLUMN], …',
    doc: 'Rows of both sides whose columns are equal, usually ids (`trace_id`, `span_id`). SOURCE is a table, a `let` of a pipeline, or `( pipeline )`. `kind=left` keeps left rows without a match (their right columns are null). A right column whose name is taken gets a number: `ts1`.',
    example: 'spans | where status_code == 2 | join (logs | where level == "error") on trace_id',
  },
  {
    keyword: 'chart',
    syntax: `chart ${CHART_KINDS.join('|')}`,
    doc: 'How the results panel and notebooks draw the rows (must be the last step): x is the first time column (else the first column), every numeric column is drawn, and text columns split the rows into series.',
    example: 'spans | summarize p99(duration_ms) by bin(ts, 1m), route | chart line',
  },
];

export interface ReferenceExample {
  title: string;
  text: string;
  note: string;
}

/** Worked examples in the reference; the integration tests run each on both stores. */
export const REFERENCE_EXAMPLES: ReferenceExample[] = [
  { title: 'Latency p99 per minute and route, from spans (exact)', text: 'spans | where kind == 2 | summarize p99(duration_ms) by bin(ts, 1m), route | sort by ts asc, route asc | chart line', note: 'Exact quantiles of the spans\' durations.' },
  {
    title: 'Latency p99 per minute, from the pods\' histograms (merged sketches)',
    text: 'metrics | where name == "gw_http_request_duration_ms" | summarize p99(sketch) by bin(ts, 1m) | sort by ts asc | chart area',
    note: 'Every pod\'s DDSketch bins of the minute are merged, then read: within 1 % of the exact p99.',
  },
  { title: 'Request rate by status code (a counter)', text: 'metrics | where name == "gw_http_requests_total" | summarize rps = rate(value) by bin(ts, 1m), code = labels.code | sort by ts asc, code asc | chart line', note: 'Counter-aware: pod restarts do not make it dip.' },
  { title: 'Errors with their log lines', text: 'spans | where status_code == 2 | join kind=left (logs | where level == "error") on trace_id | project ts, route, pod, msg | sort by ts desc, pod asc | take 20', note: 'A join on the trace id.' },
  { title: 'A let and the slowest routes', text: 'let window = 10m; let recent = spans | where ts > ago(window); recent | summarize p95(duration_ms), calls = count() by route | top 3 by p95_duration_ms | chart bar', note: '`let` names a value or a pipeline; later statements use it.' },
  { title: 'Tenants by business events', text: 'events | summarize events = count(), sessions = dcount(session) by tenant | sort by events desc, tenant asc | chart bar', note: '' },
];

const typeList = (types: readonly Type[]) => types.map((t) => `\`${t}\``).join(' \\| ');
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderReference(): string {
  const lines: string[] = [
    '# SGQL: the StreamGate query language',
    '',
    '<!-- Generated from src/server/query/reference.ts, catalog.ts and functions.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'SGQL is a pipeline language over everything the StreamGate server keeps — metrics (with their sketches), spans, logs, business events and incidents — in the spirit of KQL and PRQL. A query starts from a table and sends its rows through steps separated by `|`:',
    '',
    '```sgql',
    'spans',
    '| where service == "gateway" and ts > ago(1h)',
    '| summarize p99(duration_ms) by bin(ts, 1m), route',
    '| chart line',
    '```',
    '',
    'The language server compiles it to SQL for the store in use — DuckDB (embedded) or ClickHouse (18.16 as Debian ships it, and current releases) — and both give the same answers: a corpus of queries runs on both in the tests and is compared with golden files. Write queries in `.sgql` files (completion, diagnostics, hovers, signature help, formatting, go to definition; **Run Query** above each query, or Ctrl+Enter), in `.sgnb` notebooks, or run them with [`sg query`](cli.md#sg-query).',
    '',
    '![Run Query: the results panel with its chart (two measures, two axes), the table, CSV export and live refresh](images/sgql-results.png)',
    '',
    '| completion of metric names from the live store | a diagnostic with its suggestion and quick fix | a notebook cell\'s table and chart |',
    '|---|---|---|',
    '| ![completion](images/sgql-completion.png) | ![diagnostic](images/sgql-diagnostic.png) | ![notebook](images/sgql-notebook.png) |',
    '',
    'Screenshots from the VS Code suite (`test/vscode/suite/query.test.ts`), against the sandbox fleet.',
    '',
    '## Statements',
    '',
    '- A query: `TABLE | step | step …`. A file may hold several; end each with `;`. The one under the cursor runs.',
    '- `let NAME = VALUE;` names a value (`let threshold = 250ms;`, `let since = ago(2h);`) or a pipeline (`let errors = spans | where status_code == 2;`), for the statements after it.',
    '- `// comments` run to the end of the line. Text is in `"double"` or `\'single\'` quotes with `\\n`, `\\t`, `\\\\`, `\\"` and `\\\'` escapes.',
    '',
    '## Tables and columns',
    '',
  ];
  for (const table of CATALOG) {
    lines.push(`### ${table.name}`, '', table.doc, '', '| column | type | meaning |', '|---|---|---|');
    for (const c of table.columns) lines.push(`| \`${c.name}\` | ${c.type} | ${cell(c.doc)} |`);
    lines.push('');
  }
  lines.push(
    'Profiles are not in the store yet, so no table holds them; when they are, their table joins this list from the store\'s schema.',
    '',
    '## Types',
    '',
    '| type | what it is |',
    '|---|---|',
    ...(Object.entries(TYPE_DOCS) as [Type, string][]).map(([t, doc]) => `| \`${t}\` | ${cell(doc)} |`),
    '',
    'Arithmetic: `+ - * / %` on numbers (`/` always gives a fraction); a time minus a time is a duration; a time plus or minus a duration is a time. Comparisons: `== != < <= > >=`, `=~` and `!~` (equal ignoring case), `contains`, `startswith`, `endswith`, `matches regex "…"` (RE2), `in (…)`, `!in (…)`, `between (LOW .. HIGH)` (both ends included); `and`, `or`, `not`.',
    '',
    '## Steps',
    '',
    '| step | syntax | what it does | example |',
    '|---|---|---|---|',
    ...STEPS.map((s) => `| \`${s.keyword}\` | \`${cell(s.syntax)}\` | ${cell(s.doc)} | \`${cell(s.example)}\` |`),
    '',
    '## Functions',
    '',
    'Aggregates are used in `summarize`; the others anywhere. Column names of `summarize` items follow KQL: `count()` is `count`, `p99(duration_ms)` is `p99_duration_ms`, `p99(sketch)` is `p99`, `bin(ts, 1m)` is `ts`; `name = …` names one.',
    '',
  );
  for (const kind of ['scalar', 'aggregate'] as const) {
    lines.push(`### ${kind === 'scalar' ? 'Scalar functions' : 'Aggregates'}`, '');
    for (const f of FUNCTIONS.filter((x) => x.kind === kind)) {
      lines.push(`#### ${f.name}`, '', `\`${signatureOf(f)}\``, '', f.doc, '');
      if (f.params.length) lines.push(...f.params.map((p) => `- \`${p.name}\` (${typeList(p.accepts)}${p.optional ? ', optional' : ''}${p.constant ? ', constant' : ''}): ${p.doc}`), '');
      lines.push('```sgql', f.example, '```', '');
    }
  }
  lines.push(
    '## Quantiles: exact or sketched',
    '',
    '- **Spans (and any numeric column): exact.** `p99(duration_ms)` sorts the group\'s values and takes the one of rank ⌊q·(n−1)⌋ (the lower nearest rank), the same definition in DuckDB and ClickHouse, so both give the same value.',
    '- **Metrics: merged from the stored DDSketches.** A histogram row keeps its sketch\'s bins (logarithmic mapping, 1 % relative accuracy), count, zero count, min and max. `p99(sketch)` adds the bins of every row in the group by key in SQL, then reads the rank q·(n−1) from the merged bins exactly as the live dashboards do (`telemetry/histogram.ts`): within 1 % of the exact quantile, clamped to the exact min and max. A test checks the SQL against that code on the same bins.',
    '',
    '## Rates and counters',
    '',
    '`rate(value)` on counter rows is counter-aware. The store keeps, per point, the increase since the pod\'s previous point (`value`), which the pod computes from its running total, and that total (`total`). When a pod restarts, its total falls back to zero; the first increase after the restart is the new total, so the rate never dips below zero and nothing is counted twice. `rate(total)` is refused with that explanation. The divisor is the bin of `by bin(ts, …)`, or the time range the query\'s `where` puts on `ts` (up to now when there is no upper bound); without either, `rate()` is an error.',
    '',
    '## What the server guards',
    '',
    `- **Read-only.** The language has no statement that writes, and a query reads only the tables above: a source is a catalog table or a \`let\`, and functions come from the table above — so no query names another table, a table function or a file. Every value (text, number, time) is bound as a parameter: DuckDB binds them to \`?\`, and ClickHouse 18.16, which has no query parameters, gets each rendered as an escaped literal in one place (\`store/sql.ts\`). On top of that, DuckDB runs each query in a read-only transaction on its own connection, and ClickHouse with \`readonly=2\`.`,
    `- **Rows.** At most \`maxRows\` rows come back (default ${DEFAULT_QUERY_ROWS.toLocaleString('en')}, at most ${MAX_QUERY_ROWS.toLocaleString('en')}); the result says when it was cut (\`truncated\`).`,
    `- **Time.** A query is stopped after \`timeoutMs\` (default ${DEFAULT_QUERY_TIMEOUT_MS / 1000} s): DuckDB's connection is interrupted, ClickHouse gets \`max_execution_time\`.`,
    '- **Bad input.** Every syntax and type error has its place in the text and a message a person can act on, with a suggestion when a name is close to one that exists ("unknown column duraton_ms: did you mean duration_ms?"). Nesting is bounded (64 levels), and so is the size of a query. A fuzz test (fast-check) feeds the parser and compiler random and hostile input.',
    '',
    '## Why not PRQL',
    '',
    'PRQL (`prqlc` 0.13.14 on npm) compiles pipelines to DuckDB and ClickHouse SQL, and was the first candidate. It does not fit here, for reasons checked against the ClickHouse 18.16 the tests run:',
    '',
    '- It writes values into the SQL text (`WHERE service = \'gateway\'`); its `$1` parameters pass through as `$1`, which ClickHouse 18.16 rejects ("Syntax error: failed at position 49: $1"). The product\'s rule is that values are bound, never spliced.',
    '- `let` and any pipeline it cannot flatten become `WITH name AS (SELECT …)` common table expressions, which ClickHouse 18.16 cannot parse ("Syntax error: failed at position 14: (").',
    '- Integer division becomes `ts DIV 60000`, which 18.16 does not know either (a syntax error), and joins come without the `ALL`/`ANY` strictness 18.16 requires.',
    '- Merging sketch bins per group and reading a quantile from them, and label lookups in parallel arrays, need SQL PRQL cannot express; its escape hatch (`s"…"` strings) is raw SQL, which is what a user-facing language must not let through.',
    '- The editor needs ranges and types for every name (completion of columns at the cursor, did-you-mean, hovers), which means a checker of our own over PRQL\'s syntax anyway.',
    '',
    'So SGQL has a small parser, checker and compiler in TypeScript (`src/server/query/`), one compiler with two dialects, and borrows KQL\'s step names, which the engineers who write KQL already know.',
    '',
    '## Examples',
    '',
  );
  for (const e of REFERENCE_EXAMPLES) lines.push(`### ${e.title}`, '', ...(e.note ? [e.note, ''] : []), '```sgql', e.text, '```', '');
  return lines.join('\n');
}
