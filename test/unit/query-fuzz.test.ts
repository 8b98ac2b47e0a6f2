/**
 * Fuzzing SGQL's parser and compiler with fast-check: random text, token soup with hostile pieces (SQL
 * fragments, other tables, table functions, files, quotes), and well-formed pipelines from a small grammar.
 * Nothing crashes or hangs; every query that compiles is one SELECT that reads only the catalog's tables, calls
 * only the functions the compiler writes, carries every value as a bound parameter and ends in a bounded LIMIT.
 * The well-formed ones also run on a real (in-memory) DuckDB, where the SQL must bind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { analyze } from '../../src/server/query/checker';
import { explain, prepare, runQuery } from '../../src/server/query/engine';
import { complete, format, hover, signatureHelp } from '../../src/server/query/features';
import { TABLES } from '../../src/server/store/schema';
import { createStore, type Store } from '../../src/server/store';
import { CORPUS_SHAPE, generate } from '../support/queryData';

const NOW = CORPUS_SHAPE.start + CORPUS_SHAPE.minutes * 60_000;
const MAX_ROWS = 500;

/** Every function name the compiler may write, in either dialect. */
const SQL_FUNCTIONS = new Set(
  [
    'count', 'sum', 'avg', 'min', 'max', 'floor', 'abs', 'sqrt', 'exp', 'ln', 'log', 'log10', 'pow', 'lower', 'upper', 'lowerUTF8', 'upperUTF8', 'length', 'lengthUTF8',
    'substring', 'substringUTF8', 'concat', 'CAST', 'toString', 'TRY_CAST', 'toInt64OrNull', 'trunc', 'toInt64', 'toFloat64OrNull', 'toFloat64', 'list_sort', 'list', 'arrayElement',
    'arraySort', 'groupArray', 'toUInt64', 'intDiv', 'countIf', 'uniqExact', 'coalesce', 'list_position', 'indexOf', 'strpos', 'position', 'starts_with', 'suffix', 'regexp_matches',
    'match', 'unnest', 'list_transform', 'greatest', 'least', 'arrayFirstIndex', 'if', 'arrayCumSum', 'minIf', 'maxIf', 'IN', 'FILTER', 'OVER', 'USING', 'AS', 'AND', 'OR', 'NOT', 'JOIN', 'FROM', 'WHERE',
    'END', 'THEN', 'ELSE', 'DISTINCT', 'SELECT', 'BY', 'ON', 'WHEN', 'CASE',
  ].map((f) => f.toLowerCase()),
);

/** The fixed text fragments in which the compiler itself writes quotes. */
const FIXED_QUOTES = [`''`, `'true'`, `'false'`];

function checkSql(text: string, params: unknown[], what: string): void {
  assert.match(text, /^SELECT /, `${what}: one SELECT`);
  assert.ok(!text.includes(';'), `${what}: one statement`);
  assert.equal(text.split('?').length - 1, params.length, `${what}: one value per placeholder`);
  let stripped = text;
  for (const q of FIXED_QUOTES) stripped = stripped.split(q).join('');
  assert.ok(!stripped.includes("'"), `${what}: no value written into the SQL: ${text}`);
  for (const [, table] of text.matchAll(/FROM "([^"]+)"/g)) assert.ok((TABLES as readonly string[]).includes(table!), `${what}: reads ${table}`);
  for (const [, fn] of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) {
    if (fn!.startsWith('__')) continue;
    assert.ok(SQL_FUNCTIONS.has(fn!.toLowerCase()), `${what}: calls ${fn}: ${text}`);
  }
  assert.match(text, /LIMIT \?$/, `${what}: bounded`);
  const limit = params[params.length - 1];
  assert.ok(typeof limit === 'number' && limit <= MAX_ROWS + 1, `${what}: LIMIT ${String(limit)}`);
}

function compileChecked(text: string): boolean {
  const prepared = prepare(text, NOW);
  if (!prepared.ok) {
    assert.ok(prepared.error.length > 0, 'a refused query says why');
    for (const p of prepared.problems) assert.ok(p.start >= 0 && p.end <= text.length && p.start <= p.end, `problem range ${p.start}..${p.end} in ${text.length}`);
    return false;
  }
  const sql = explain(prepared.compiled, MAX_ROWS);
  checkSql(sql.duckdb.text, sql.duckdb.params, `duckdb for ${text}`);
  checkSql(sql.clickhouse.text, sql.clickhouse.params, `clickhouse for ${text}`);
  return true;
}

/** The editor features must not throw anywhere in any text either. */
function exerciseEditor(text: string, offset: number): void {
  const at = Math.min(offset, text.length);
  complete(text, at, { metrics: [{ name: 'm', kind: 'counter', labels: ['a'] }], labelValues: {}, columnValues: {}, at: NOW }, NOW);
  hover(analyze(text, { now: NOW }), at);
  signatureHelp(text, at);
  const formatted = format(text);
  if (formatted !== undefined) assert.deepEqual(analyze(formatted, { now: NOW }).script.problems, [], `formatting keeps ${JSON.stringify(text)} valid`);
}

const HOSTILE = [
  `'; DROP TABLE spans; --`,
  `" OR 1=1 --`,
  `\\'`,
  `system.tables`,
  `read_csv('/etc/passwd')`,
  `file('/etc/passwd')`,
  `url('http://x')`,
  `INSERT INTO logs VALUES (1)`,
  `ATTACH 'x.db'`,
  `COPY spans TO '/tmp/x'`,
  `sg_meta`,
  `information_schema.tables`,
];

const tokenArb = fc.oneof(
  fc.constantFrom(...TABLES, 'sg_meta', 'system', 'read_csv', 'file', 'url', 'remote', 'delete', 'insert', 'drop', 'attach', 'copy', 'pragma', 'let', 'x', 'labels', 'sketch'),
  fc.constantFrom('where', 'project', 'extend', 'summarize', 'by', 'sort', 'take', 'top', 'join', 'on', 'kind=left', 'count', 'distinct', 'chart', 'line', 'asc', 'desc', 'and', 'or', 'not', 'in', 'between', 'contains', 'matches', 'regex'),
  fc.constantFrom('ts', 'duration_ms', 'route', 'service', 'name', 'value', 'level', 'msg', 'trace_id', 'p99', 'count()', 'rate', 'bin', 'ago', 'now()', 'datetime', 'tolower', 'percentile', 'iff'),
  fc.constantFrom('|', '(', ')', '[', ']', ',', ';', '.', '=', '==', '!=', '<', '>=', '+', '-', '*', '/', '%', '..', '!', '=~', '"', "'"),
  fc.constantFrom('1m', '5s', '0', '-3', '1e308', '99999999999999999999', '2.5', '1h'),
  fc.constantFrom(...HOSTILE).map((h) => JSON.stringify(h)),
  fc.constantFrom(...HOSTILE),
);

// A small grammar of well-formed pipelines over spans.
const column = fc.constantFrom('duration_ms', 'status_code', 'kind', 'ts');
const text = fc.constantFrom('route', 'service', 'pod', 'name');
const stringValue = fc.oneof(fc.constantFrom('POST /v1/sessions', 'gateway', 'gw-1', ...HOSTILE), fc.string({ maxLength: 12 }));
const condition = fc.oneof(
  fc.tuple(column, fc.constantFrom('>', '<', '>=', '==', '!='), fc.integer({ min: -5, max: 2000 })).map(([c, op, n]) => `${c} ${op} ${n}`),
  fc.tuple(text, fc.constantFrom('==', '!=', 'contains', 'startswith', 'endswith', '=~'), stringValue).map(([c, op, v]) => `${c} ${op} ${JSON.stringify(v)}`),
  fc.tuple(text, fc.array(stringValue, { minLength: 1, maxLength: 3 })).map(([c, vs]) => `${c} in (${vs.map((v) => JSON.stringify(v)).join(', ')})`),
  fc.constantFrom('ts > ago(10m)', 'ts between (ago(20m) .. ago(5m))', 'isempty(parent_span_id)', 'not (status_code == 2)'),
);
const step = fc.oneof(
  condition.map((c) => `where ${c}`),
  fc.array(condition, { minLength: 2, maxLength: 3 }).map((cs) => `where ${cs.join(' and ')}`),
  fc.constantFrom('extend s = duration_ms / 1000', 'extend r = tolower(route)', 'extend b = bin(ts, 1m)', 'extend slow = duration_ms > 300', 'extend x = iff(status_code == 2, 1, 0)'),
  fc.integer({ min: 0, max: 100_000 }).map((n) => `take ${n}`),
  fc.constantFrom('sort by ts asc', 'sort by duration_ms desc, span_id asc', 'top 5 by duration_ms'),
  fc.constantFrom('join (logs | project trace_id, msg) on trace_id', 'join kind=left (logs | project trace_id, level) on trace_id'),
);
const finalStep = fc.constantFrom(
  '',
  '| count',
  '| summarize count() by route',
  '| summarize p99(duration_ms), n = count() by bin(ts, 5m)',
  '| summarize rate() by bin(ts, 1m), pod',
  '| distinct pod',
  '| project span_id, route | take 3',
  '| summarize avg(duration_ms), dcount(trace_id) | chart table',
);
const pipeline = fc.tuple(fc.array(step, { maxLength: 4 }), finalStep).map(([steps, last]) => `spans${steps.map((s) => ` | ${s}`).join('')} ${last}`);
const metricPipeline = fc
  .tuple(fc.constantFrom('gw_http_request_duration_ms', 'gw_http_requests_total', "x' OR 1=1"), fc.constantFrom('p50(sketch)', 'p99(sketch), c = count()', 'rate(value)', 'sum(value)', 'percentile(sketch, 99.9)'), fc.constantFrom('bin(ts, 1m)', 'labels.route', 'labels["code"], pod', 'bin(ts, 5m), labels.route'))
  .map(([metric, agg, by]) => `metrics | where name == ${JSON.stringify(metric)} and ts > ago(30m) | summarize ${agg} by ${by}`);

describe('SGQL fuzzed', () => {
  let store: Store;
  before(async () => {
    store = createStore({ kind: 'duckdb', path: ':memory:' });
    await store.open();
    const batches: Parameters<Store['write']>[0][] = [];
    generate({ ...CORPUS_SHAPE, minutes: 20 }, (batch) => batches.push(batch));
    for (const batch of batches) await store.write(batch);
  });
  after(async () => {
    await store.close();
  });

  it('survives any text: no crash, every problem inside the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'grapheme' }), fc.nat(), (t, offset) => {
        compileChecked(t);
        exerciseEditor(t, offset);
      }),
      { numRuns: 1500 },
    );
  });

  it('survives token soup with hostile pieces, and whatever compiles stays inside the catalog', () => {
    fc.assert(
      fc.property(fc.array(tokenArb, { maxLength: 30 }), fc.nat(), (tokens, offset) => {
        const t = tokens.join(' ');
        compileChecked(t);
        exerciseEditor(t, offset);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses writes, other tables, table functions and files', () => {
    for (const t of ['spans | delete', 'drop table spans', 'sg_meta | take 1', 'system.tables | take 1', "read_csv('/etc/passwd') | take 1", 'file("/etc/passwd")', 'spans | join sg_meta on id', 'spans | extend x = read_csv("/etc/passwd")', 'spans; INSERT INTO logs VALUES (1)', 'information_schema.tables']) {
      const prepared = prepare(t, NOW);
      assert.equal(prepared.ok, false, t);
    }
  });

  it('compiles every well-formed pipeline to SQL DuckDB binds and runs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(pipeline, metricPipeline), async (t) => {
        assert.ok(compileChecked(t), `well-formed: ${t}`);
        const answer = await runQuery(store, { text: t, now: NOW, maxRows: MAX_ROWS, timeoutMs: 20_000 });
        assert.ok(answer.ok, t);
        if ('result' in answer) assert.ok(answer.result.rows.length <= MAX_ROWS);
      }),
      { numRuns: 300 },
    );
  });

  it('bounds deep nesting and long scripts', () => {
    assert.equal(prepare(`spans | where ${'not '.repeat(10_000)}true`, NOW).ok, false);
    assert.equal(prepare(`${'spans | take 1;'.repeat(1000)}`, NOW).ok, false);
    assert.equal(prepare(`spans | where route in (${Array.from({ length: 2000 }, (_, i) => `"r${i}"`).join(', ')}) | count`, NOW).ok, true);
  });
});
