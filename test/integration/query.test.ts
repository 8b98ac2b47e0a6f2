/**
 * The query language on real DuckDB and real ClickHouse (Debian's 18.16) holding the same rows: the corpus's
 * answers equal their golden files on both stores, every function's documented example runs alike on both,
 * sketch quantiles equal telemetry/histogram.ts's on the same bins, rates survive a pod restart, and the
 * limits hold (time, rows, read-only).
 *
 * SG_UPDATE_GOLDEN=1 rewrites the golden files from DuckDB's answers (ClickHouse must then agree with them).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { QueryAnswer, QueryResult } from '../../src/protocol/query';
import { FUNCTIONS } from '../../src/server/query/functions';
import { runQuery } from '../../src/server/query/engine';
import { REFERENCE_EXAMPLES } from '../../src/server/query/reference';
import type { Row, RowBatch } from '../../src/server/store/rows';
import { mergeAll, quantile, type Distribution } from '../../src/server/telemetry/histogram';
import { CORPUS } from '../fixtures/query/corpus';
import { CORPUS_SHAPE, generate } from '../support/queryData';
import { loadStores, type LoadedStores } from '../support/queryStores';
import { repoRoot, sharedClickHouse, type Shared } from '../support/services';

const GOLDEN = join(repoRoot, 'test/fixtures/query/golden');
const NOW = CORPUS_SHAPE.start + CORPUS_SHAPE.minutes * 60_000;
const update = process.env.SG_UPDATE_GOLDEN === '1';

/** What a golden file holds: columns and rows, numbers to 10 significant digits (the stores add floats in different orders). */
function canonical(result: QueryResult, ordered: boolean): { columns: QueryResult['columns']; rows: QueryResult['rows']; chart?: QueryResult['chart'] } {
  const rows = result.rows.map((row) => row.map((v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(10)) : v)));
  if (!ordered) rows.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return { columns: result.columns, rows, ...(result.chart ? { chart: result.chart } : {}) };
}

function resultOf(answer: QueryAnswer, what: string): QueryResult {
  if (!answer.ok) assert.fail(`${what}: ${answer.error}`);
  if (!('result' in answer)) assert.fail(`${what}: no rows`);
  return answer.result;
}

describe('the query language on DuckDB and ClickHouse', () => {
  let ch: Shared;
  let stores: LoadedStores;

  before(async () => {
    ch = await sharedClickHouse();
    stores = await loadStores(ch.url, CORPUS_SHAPE);
    mkdirSync(GOLDEN, { recursive: true });
  });

  after(async () => {
    await stores.close();
    await ch.stop();
  });

  const both = async (text: string) => {
    const [d, c] = await Promise.all([runQuery(stores.duckdb, { text, now: NOW }), runQuery(stores.clickhouse, { text, now: NOW })]);
    return { duckdb: resultOf(d, `DuckDB: ${text}`), clickhouse: resultOf(c, `ClickHouse: ${text}`) };
  };

  it('has a corpus of at least 50 queries with distinct names', () => {
    assert.ok(CORPUS.length >= 50, `${CORPUS.length} queries`);
    assert.equal(new Set(CORPUS.map((q) => q.name)).size, CORPUS.length);
  });

  for (const { name, text } of CORPUS) {
    it(`corpus ${name}: both stores give the golden answer`, async () => {
      const ordered = /\b(sort|top)\b/.test(text);
      const { duckdb, clickhouse } = await both(text);
      const file = join(GOLDEN, `${name}.json`);
      const actual = { query: text, ...canonical(duckdb, ordered) };
      if (update) writeFileSync(file, `${JSON.stringify(actual, null, 1)}\n`);
      assert.ok(existsSync(file), `no golden file ${file}: run with SG_UPDATE_GOLDEN=1 once and review it`);
      const golden = JSON.parse(readFileSync(file, 'utf8')) as typeof actual;
      for (const [engine, result] of [['duckdb', duckdb], ['clickhouse', clickhouse]] as const) {
        const got = { query: text, ...canonical(result, ordered) };
        if (JSON.stringify(got) !== JSON.stringify(golden)) writeFileSync(`${file}.${engine}.actual`, `${JSON.stringify(got, null, 1)}\n`);
        else rmSync(`${file}.${engine}.actual`, { force: true });
        assert.deepEqual(got, golden, `${engine} differs from ${file}`);
      }
    });
  }

  it('runs every function\'s example and every reference example alike on both stores, with rows', async () => {
    const examples = [...FUNCTIONS.map((f) => ({ what: `${f.name}()`, text: f.example })), ...REFERENCE_EXAMPLES.map((e) => ({ what: e.title, text: e.text }))];
    assert.ok(examples.length > FUNCTIONS.length);
    for (const { what, text } of examples) {
      const ordered = /\b(sort|top)\b/.test(text);
      const { duckdb, clickhouse } = await both(text);
      assert.ok(duckdb.rows.length > 0, `${what}: the example gives rows (${text})`);
      assert.deepEqual(canonical(clickhouse, ordered), canonical(duckdb, ordered), `${what}: ${text}`);
    }
  });

  it('merges sketches exactly as telemetry/histogram.ts does: p99 per 5 minutes from the same bins', async () => {
    const points: Row[] = [];
    generate(CORPUS_SHAPE, (batch: Partial<RowBatch>) => points.push(...(batch.metrics ?? []).filter((r) => r.name === 'gw_http_request_duration_ms')));
    const byBin = new Map<number, Distribution[]>();
    for (const r of points) {
      const bin = Math.floor((r.ts as number) / 300_000) * 300_000;
      const list = byBin.get(bin) ?? [];
      list.push({ count: r.count as number, sum: r.sum as number, min: r.min as number, max: r.max as number, zero: r.zero as number, keys: Int32Array.from(r.bin_keys as number[]), counts: Float64Array.from(r.bin_counts as number[]) });
      byBin.set(bin, list);
    }
    const expected = [...byBin.entries()].sort(([a], [b]) => a - b).map(([bin, list]) => [bin, quantile(mergeAll(list), 0.99)]);
    assert.equal(expected.length, 6);
    const { duckdb, clickhouse } = await both('metrics | where name == "gw_http_request_duration_ms" | summarize p99(sketch) by bin(ts, 5m) | sort by ts asc');
    for (const result of [duckdb, clickhouse]) {
      assert.equal(result.rows.length, expected.length);
      result.rows.forEach((row, i) => {
        assert.equal(row[0], expected[i]![0]);
        assert.ok(Math.abs((row[1] as number) - (expected[i]![1] as number)) <= 1e-9 * (expected[i]![1] as number), `${row[1]} vs ${expected[i]![1]}`);
      });
    }
  });

  it('counts a counter across a pod restart (its running total falls back to zero) without a negative rate', async () => {
    const rows: Row[] = [];
    generate(CORPUS_SHAPE, (batch) => rows.push(...(batch.metrics ?? []).filter((r) => r.name === 'gw_http_requests_total' && r.pod === 'gw-2')));
    const restartAt = CORPUS_SHAPE.start + 15 * 60_000;
    const before = rows.filter((r) => (r.ts as number) < restartAt);
    const after = rows.filter((r) => (r.ts as number) >= restartAt);
    const totalAt = (list: Row[]) => list.reduce((sum, r) => sum + (r.value as number), 0);
    // The running totals do fall: what a rate of (last total − first total) would get wrong.
    const lastTotalBefore = before.filter((r) => r.ts === before[before.length - 1]!.ts).reduce((s, r) => s + (r.total as number), 0);
    const firstTotalAfter = after.filter((r) => r.ts === after[0]!.ts).reduce((s, r) => s + (r.total as number), 0);
    assert.ok(firstTotalAfter < lastTotalBefore, 'gw-2 restarted: its totals fell');
    const { duckdb, clickhouse } = await both('metrics | where name == "gw_http_requests_total" and pod == "gw-2" | summarize rps = rate(value) by bin(ts, 15m) | sort by ts asc');
    for (const result of [duckdb, clickhouse]) {
      assert.deepEqual(
        result.rows.map((r) => [r[0], Number((r[1] as number).toFixed(9))]),
        [
          [CORPUS_SHAPE.start, Number((totalAt(before) / 900).toFixed(9))],
          [restartAt, Number((totalAt(after) / 900).toFixed(9))],
        ],
      );
    }
  });

  it('stops at maxRows and says so; a query under the limit is not truncated', async () => {
    for (const store of [stores.duckdb, stores.clickhouse]) {
      const capped = resultOf(await runQuery(store, { text: 'spans | project span_id', now: NOW, maxRows: 7 }), store.dialect);
      assert.equal(capped.rows.length, 7);
      assert.equal(capped.truncated, true);
      const whole = resultOf(await runQuery(store, { text: 'spans | take 7 | project span_id', now: NOW, maxRows: 7 }), store.dialect);
      assert.equal(whole.rows.length, 7);
      assert.equal(whole.truncated, false);
    }
  });

  it('stops a query that runs past its time limit, on both stores', async () => {
    // DuckDB: every metric row against every metric row and every span of the same service, ~10^13 rows that no
    // machine counts within the limit (the single join below, ~3·10^7 pairs, finished within 200 ms on DuckDB).
    const huge = 'metrics | join (metrics | project service) on service | join (spans | project service) on service | summarize count()';
    await assert.rejects(runQuery(stores.duckdb, { text: huge, now: NOW, timeoutMs: 200 }), /ran longer than 200 ms and was stopped/);
    // ClickHouse 18.16 builds a join's output block whole, so a join big enough to outlast any machine fails on
    // memory first. The limit is the store's (max_execution_time on the guarded path runQuery uses): a scan that is
    // long on any machine and light on memory proves the limit reaches ClickHouse and stops it.
    await assert.rejects(
      stores.clickhouse.query({ text: 'SELECT sum(number) AS n FROM numbers(1000000000000)', params: [] }, { timeoutMs: 1000 }),
      (error: Error) => {
        assert.match(error.message, /TIMEOUT_EXCEEDED|Timeout exceeded|Code: 159/);
        return true;
      },
    );
  });

  it('refuses writes even in SQL that reaches the stores\' guarded path', async () => {
    for (const store of [stores.duckdb, stores.clickhouse]) {
      await assert.rejects(store.query({ text: "INSERT INTO logs (id) VALUES ('x')", params: [] }, { timeoutMs: 5000 }), /read[- ]?only|readonly|Cannot execute query in readonly mode/i, store.dialect);
      const after = resultOf(await runQuery(store, { text: 'logs | where id == "x" | count', now: NOW }), store.dialect);
      assert.deepEqual(after.rows, [[0]]);
    }
  });
});
