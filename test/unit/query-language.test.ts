/**
 * SGQL without a store: the parser (trees, ranges, recovery), the checker's messages (exact text and range, with
 * suggestions), the compiler's binding of values, and the editor features (completion, hover, signature help,
 * go to definition, formatting). The reference in docs/query-language.md must match what it is generated from.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { QueryCatalog } from '../../src/protocol/query';
import { analyze } from '../../src/server/query/checker';
import { explain, prepare } from '../../src/server/query/engine';
import { analyzeAt, complete, definition, format, hover, querySpans, signatureHelp } from '../../src/server/query/features';
import { tokenize } from '../../src/server/query/lexer';
import { parse } from '../../src/server/query/parser';
import { renderReference } from '../../src/server/query/reference';
import { repoRoot } from '../support/services';

const NOW = Date.UTC(2025, 0, 1, 1);
const problems = (text: string) => analyze(text, { now: NOW }).problems.map((p) => ({ message: p.message, at: text.slice(p.start, p.end), ...(p.suggestion ? { suggestion: p.suggestion } : {}) }));

const CATALOG: QueryCatalog = {
  metrics: [
    { name: 'gw_http_requests_total', kind: 'counter', labels: ['code', 'route'] },
    { name: 'gw_http_request_duration_ms', kind: 'histogram', labels: ['route'] },
    { name: 'gw_active_sessions', kind: 'gauge', labels: ['tenant'] },
  ],
  labelValues: { 'gw_http_requests_total\u0000code': ['200', '500'], 'gw_http_requests_total\u0000route': ['POST /v1/sessions'], 'gw_active_sessions\u0000tenant': ['acme'] },
  columnValues: { 'spans.service': ['gateway', 'billing'], 'logs.level': ['info', 'error'] },
  at: NOW,
};

/** The offset of `|` in a text written with a cursor mark. */
function cursor(marked: string): { text: string; offset: number } {
  const offset = marked.indexOf('‸');
  assert.ok(offset >= 0);
  return { text: marked.replace('‸', ''), offset };
}

const labels = (marked: string) => {
  const { text, offset } = cursor(marked);
  return complete(text, offset, CATALOG, NOW).items.map((i) => i.label);
};

describe('SGQL lexer and parser', () => {
  it('reads durations, numbers, strings with escapes, and names', () => {
    const tokens = tokenize('ago(1.5h) 250ms 3e2 "a\\"b" \'c\\n\' x_1');
    assert.deepEqual(
      tokens.filter((t) => t.kind !== 'op' && t.kind !== 'eof').map((t) => [t.kind, t.value ?? t.text]),
      [['ident', 'ago'], ['duration', 5_400_000], ['duration', 250], ['number', 300], ['string', 'a"b'], ['string', 'c\n'], ['ident', 'x_1']],
    );
  });

  it('parses a pipeline into steps with their ranges', () => {
    const text = 'spans | where service == "gateway" | summarize p99(duration_ms) by bin(ts, 1m), route | chart line';
    const script = parse(text);
    assert.deepEqual(script.problems, []);
    const query = script.statements[0]!;
    assert.ok(query.kind === 'query');
    assert.deepEqual(query.pipeline.steps.map((s) => s.kind), ['where', 'summarize', 'chart']);
    assert.equal(text.slice(query.pipeline.steps[1]!.span.start, query.pipeline.steps[1]!.span.end), '| summarize p99(duration_ms) by bin(ts, 1m), route');
  });

  it('tells a let of a value from a let of a pipeline', () => {
    const script = parse('let a = 5m; let b = spans | take 1; let c = (logs | count); let d = (1 + 2);');
    assert.deepEqual(script.statements.map((s) => (s.kind === 'let' ? s.value.kind : s.kind)), ['expr', 'pipeline', 'pipeline', 'expr']);
  });

  it('reports every syntax error with its range and keeps parsing after each', () => {
    const text = 'spans | wher x | take 5;\nlogs | where level == | count;\nevents | count';
    const script = parse(text);
    assert.deepEqual(
      script.problems.map((p) => [p.message, text.slice(p.span.start, p.span.end)]),
      [
        ['unknown step "wher": did you mean where?', 'wher'],
        ['expected a value, column or function, found "|"', '|'],
      ],
    );
    assert.equal(script.statements.filter((s) => s.kind === 'query').length, 3, 'the statements after the errors still parse');
  });

  it('points at unterminated strings, bad escapes, bad units and stray characters', () => {
    assert.deepEqual(parse('logs | where msg == "oops').problems[0], { message: 'this string has no closing "', span: { start: 20, end: 25 } });
    assert.match(parse('logs | where msg == "a\\q"').problems[0]!.message, /unknown escape \\q/);
    assert.match(parse('spans | where ts > ago(5x)').problems[0]!.message, /unknown duration unit "x"/);
    assert.match(parse('spans # x').problems[0]!.message, /unexpected character "#"/);
  });

  it('refuses nesting deeper than its bound instead of exhausting the stack', () => {
    const text = `spans | where ${'('.repeat(5000)}1${')'.repeat(5000)} == 1`;
    assert.match(parse(text).problems[0]!.message, /nests deeper than 64 levels/);
  });
});

describe('SGQL checker messages', () => {
  it('suggests the column meant, with the exact range of the mistake', () => {
    assert.deepEqual(problems('spans | summarize p99(duraton_ms) by bin(ts, 1m)'), [{ message: 'unknown column duraton_ms: did you mean duration_ms?', at: 'duraton_ms', suggestion: 'duration_ms' }]);
    assert.deepEqual(problems('spanz | take 1'), [{ message: 'unknown table spanz: did you mean spans?', at: 'spanz', suggestion: 'spans' }]);
    assert.deepEqual(problems('spans | summarize p99(duration_ms) by rout'), [{ message: 'unknown column rout: did you mean route?', at: 'rout', suggestion: 'route' }]);
    assert.deepEqual(problems('spans | extend x = tolowr(route)'), [{ message: 'unknown function tolowr: did you mean tolower?', at: 'tolowr', suggestion: 'tolower' }]);
  });

  it('knows what each step can see', () => {
    assert.deepEqual(problems('spans | project route | where duration_ms > 1'), [{ message: 'unknown column duration_ms; the columns here are route', at: 'duration_ms' }]);
    assert.deepEqual(problems('spans | summarize n = count() by route | sort by n desc'), []);
  });

  it('explains type errors and misplaced aggregates', () => {
    assert.deepEqual(problems('spans | where duration_ms > "slow"'), [{ message: 'cannot use > on float and string', at: '>' }]);
    assert.deepEqual(problems('spans | project p99(duration_ms)'), [{ message: 'p99() is an aggregate: use it in summarize (summarize p99(…) by …)', at: 'p99' }]);
    assert.deepEqual(problems('spans | summarize route'), [{ message: 'route is a column: in summarize, use it inside an aggregate (sum(route)) or group by it (by route)', at: 'route' }]);
    assert.deepEqual(problems('spans | where route'), [{ message: 'a where condition must be bool, not string', at: 'route' }]);
    assert.deepEqual(problems('spans | where service = "x"'), [{ message: 'use == to compare (= names a column in project, extend and summarize)', at: '=', suggestion: '==' }]);
  });

  it('needs a time span for rate() and refuses rates of running totals', () => {
    assert.deepEqual(problems('spans | summarize rate()'), [{ message: 'rate() needs a time span to divide by: summarize … by bin(ts, 1m), or limit the time first (where ts > ago(1h))', at: 'rate()' }]);
    assert.deepEqual(problems('spans | where ts > ago(1h) | summarize rate()'), []);
    assert.equal(problems('metrics | summarize rate(total) by bin(ts, 1m)')[0]!.at, 'total');
  });

  it('keeps sketches and labels out of results and arithmetic', () => {
    assert.match(problems('metrics | project sketch')[0]!.message, /the result cannot hold sketch/);
    assert.match(problems('metrics | summarize x = p99(sketch) * 2')[0]!.message, /must be a whole summarize item/);
    assert.match(problems('metrics | extend r = route')[0]!.message, /unknown column route/);
    assert.deepEqual(problems('metrics | summarize count() by labels.route'), []);
  });

  it('checks lets, charts and joins', () => {
    assert.deepEqual(problems('let a = 1; let a = 2; spans | take a'), [{ message: 'a is already defined by an earlier let', at: 'a' }]);
    assert.deepEqual(problems('spans | chart line | take 1'), [{ message: 'chart must be the last step', at: '| take 1' }]);
    assert.deepEqual(problems('spans | join logs on trace_id | where msg contains "x"'), []);
    assert.deepEqual(problems('spans | join logs on trace_idd'), [{ message: 'unknown column trace_idd in the left side of the join: did you mean trace_id?', at: 'trace_idd', suggestion: 'trace_id' }]);
    assert.match(problems('spans | join logs on kind == level')[0]!.message, /cannot join kind \(int\) with level \(string\)/);
  });
});

describe('SGQL compiler', () => {
  it('binds every value and never writes one into the SQL', () => {
    const hostile = `x'); DROP TABLE spans; --\\"`;
    const prepared = prepare(`spans | where route == ${JSON.stringify(hostile)} and duration_ms > 5 | take 3`, NOW);
    assert.ok(prepared.ok);
    const sql = explain(prepared.compiled);
    assert.ok(!sql.duckdb.text.includes('DROP'), sql.duckdb.text);
    assert.ok(sql.duckdb.params.includes(hostile));
    assert.deepEqual(sql.duckdb.params.slice(0, 3), [hostile, 5, 3]);
    // ClickHouse 18.16 gets the value as one escaped literal.
    assert.ok(sql.clickhouse.rendered.includes(`'x\\'); DROP TABLE spans; --\\\\"'`), sql.clickhouse.rendered);
  });

  it('compiles the same plan for both dialects, each in its own words', () => {
    const prepared = prepare('metrics | where name == "m" | summarize p99(sketch), n = count() by bin(ts, 1m), labels.route', NOW);
    assert.ok(prepared.ok);
    const sql = explain(prepared.compiled);
    assert.match(sql.duckdb.text, /unnest\(bin_keys\)/);
    assert.match(sql.duckdb.text, /list_position\(label_keys, \?\)/);
    assert.match(sql.clickhouse.text, /ARRAY JOIN bin_keys/);
    assert.match(sql.clickhouse.text, /ANY LEFT JOIN/);
    assert.doesNotMatch(sql.clickhouse.text, /\bWITH\b/, 'no common table expressions: ClickHouse 18.16 has none');
    assert.deepEqual(sql.columns.map((c) => c.name), ['ts', 'route', 'p99', 'n']);
  });

  it('runs the query under the cursor, with the lets before it', () => {
    const text = 'let slow = spans | where duration_ms > 500;\nslow | count;\nlogs | take 1';
    const first = prepare(text, NOW, text.indexOf('slow | count') + 2);
    const last = prepare(text, NOW);
    assert.ok(first.ok && last.ok);
    assert.deepEqual(first.compiled.columns, [{ name: 'count', type: 'int' }]);
    assert.equal(last.compiled.columns[0]!.name, 'ts');
  });
});

describe('SGQL in the editor', () => {
  it('completes tables and let at the start, steps after |', () => {
    assert.deepEqual(labels('‸').slice(0, 5), ['metrics', 'events', 'logs', 'spans', 'incidents']);
    assert.ok(labels('‸').includes('let'));
    assert.deepEqual(labels('spans | ‸').slice(0, 4), ['where', 'project', 'extend', 'summarize']);
    assert.ok(!labels('spans | ‸').includes('duration_ms'));
    assert.deepEqual(labels('spans | chart ‸'), ['line', 'bar', 'area', 'table']);
  });

  it('completes the columns in scope and functions with their signatures', () => {
    const { text, offset } = cursor('spans | where dur‸');
    const { items, replace } = complete(text, offset, CATALOG, NOW);
    assert.deepEqual(replace, { start: text.indexOf('dur'), end: text.length });
    const duration = items.find((i) => i.label === 'duration_ms');
    assert.equal(duration?.detail, 'float');
    assert.ok(items.some((i) => i.label === 'tolower' && i.detail === 'tolower(text: string): string'));
    assert.ok(!items.some((i) => i.label === 'p99'), 'no aggregates in a where');
    assert.deepEqual(labels('spans | project route | where ‸').filter((l) => !/[()]/.test(l) && l === l.toLowerCase()).slice(0, 1), ['route']);
    assert.ok(!labels('spans | project route | where ‸').includes('duration_ms'), 'projected away');
  });

  it('offers aggregates before by in summarize, and not after', () => {
    assert.ok(labels('spans | summarize ‸').includes('p99'));
    assert.ok(labels('spans | summarize count() by ‸').includes('bin'));
    assert.ok(!labels('spans | summarize count() by ‸').includes('p99'));
  });

  it('completes metric names, label names and label values from the live catalog', () => {
    assert.deepEqual(labels('metrics | where name == "‸'), ['gw_http_requests_total', 'gw_http_request_duration_ms', 'gw_active_sessions']);
    assert.deepEqual(labels('metrics | where name == "gw_http_requests_total" | where labels.‸'), ['code', 'route']);
    assert.deepEqual(labels('metrics | where labels.‸').sort(), ['code', 'route', 'tenant']);
    assert.deepEqual(labels('metrics | where name == "gw_http_requests_total" and labels.code == "‸'), ['200', '500']);
    assert.deepEqual(labels('spans | where service == "‸"'), ['gateway', 'billing']);
    assert.deepEqual(labels('logs | where level in ("info", "‸'), ['info', 'error']);
  });

  it('completes joins and keywords after an operand', () => {
    assert.ok(labels('spans | join ‸').includes('kind=left'));
    assert.ok(labels('spans | join ‸').includes('logs'));
    assert.deepEqual(labels('spans | join logs ‸'), ['on']);
    assert.ok(labels('spans | where duration_ms > 5 ‸').includes('and'));
    assert.deepEqual(labels('spans | sort by duration_ms ‸'), ['asc', 'desc']);
  });

  it('hovers functions, columns, tables, steps and lets; metric names ask for the live value', () => {
    const text = 'let slow = spans | where duration_ms > 500;\nslow | summarize p99(duration_ms);\nmetrics | where name == "gw_http_requests_total"';
    const a = analyzeAt(text, NOW);
    const at = (needle: string, nth = 0) => {
      let i = -1;
      for (let k = 0; k <= nth; k++) i = text.indexOf(needle, i + 1);
      return i + 1;
    };
    const h = (offset: number) => hover(a, offset);
    assert.match((h(at('p99')) as { markdown: string }).markdown, /^```\np99\(x: int \| float \| time \| duration \| sketch\)/);
    assert.match((h(at('duration_ms')) as { markdown: string }).markdown, /`duration_ms`: \*\*float\*\*/);
    assert.match((h(at('spans')) as { markdown: string }).markdown, /\*\*spans\*\* \(table\)/);
    assert.match((h(at('summarize')) as { markdown: string }).markdown, /summarize \[NAME =\] AGGREGATE/);
    assert.match((h(at('slow', 1)) as { markdown: string }).markdown, /let slow = spans \| where duration_ms > 500/);
    assert.deepEqual((h(at('gw_http_requests_total')) as { metric: string }).metric, 'gw_http_requests_total');
    assert.equal(h(text.indexOf(';') ), undefined);
  });

  it('goes to the definition of a let', () => {
    const text = 'let threshold = 500;\nspans | where duration_ms > threshold';
    const span = definition(analyzeAt(text, NOW), text.lastIndexOf('threshold') + 2);
    assert.deepEqual(span, { start: 4, end: 13 });
  });

  it('gives signature help with the active parameter', () => {
    const { text, offset } = cursor('spans | summarize count() by bin(ts, ‸');
    const help = signatureHelp(text, offset);
    assert.equal(help?.label, 'bin(value: int | float | time | duration, size: duration | int | float): int');
    assert.equal(help.active, 1);
    assert.equal(help.label.slice(...help.parameters[1]!.label), 'size: duration | int | float');
    assert.equal(signatureHelp('spans | take 1', 10), undefined);
  });

  it('formats the KQL way, keeps comments, and leaves broken text alone', () => {
    const text = 'let  t=5m;spans|where ts>ago( t )and route!in("a","b") // recent\n|summarize   p99(duration_ms),n=count()by bin(ts,1m)|chart line;logs|take 2';
    assert.equal(
      format(text),
      ['let t = 5m;', 'spans', '| where ts > ago(t) and route !in ("a", "b") // recent', '| summarize p99(duration_ms), n = count() by bin(ts, 1m)', '| chart line;', '', 'logs', '| take 2', ''].join('\n'),
    );
    const formatted = format(text)!;
    assert.equal(format(formatted), formatted, 'formatting is stable');
    assert.deepEqual(analyze(formatted, { now: NOW }).problems, []);
    assert.equal(format('spans | where ('), undefined);
  });

  it('finds each query for its Run Query lens', () => {
    const text = 'let a = 1;\nspans | take a;\n\nlogs | count';
    assert.deepEqual(querySpans(analyzeAt(text, NOW)).map((s) => text.slice(s.start, s.end)), ['spans | take a', 'logs | count']);
  });
});

describe('docs/query-language.md', () => {
  it('is what the function table, the catalog and the steps generate (run `npm run docs` after changing them)', () => {
    assert.equal(readFileSync(join(repoRoot, 'docs/query-language.md'), 'utf8'), renderReference());
  });
});
