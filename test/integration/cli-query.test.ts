/**
 * `sg query` as a user runs it: a real `sg server` process on real NATS and a DuckDB file holding generated
 * telemetry; the CLI finds it through the sg-server service and prints rows as a table, JSON (the documented
 * contract) or CSV, or the SQL for each store; mistakes get their line and column, usage errors exit 2.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import * as readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/common/logger';
import type { QueryExplain, QueryResult } from '../../src/protocol/query';
import { Backend } from '../../src/server/backend';
import { createStore } from '../../src/server/store';
import type { RowBatch } from '../../src/server/store/rows';
import { CORPUS_SHAPE, generate } from '../support/queryData';
import type { NatsServer } from '../../src/launch/nats';
import { eventually, ownNats, repoRoot, tempDir } from '../support/services';

const cli = join(repoRoot, 'dist', 'cli.js');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('sg query', () => {
  // Its own NATS: on the shared one the server would also ingest every other test's telemetry still in JetStream,
  // and the exact counts below are of the generated corpus alone (clean11 counted 5 spans of another test).
  let nats: NatsServer;
  let server: ReturnType<typeof spawn> | undefined;
  // The server drops rows older than the retention when it opens the store: the data is of the last hour.
  const start = Math.floor(Date.now() / 600_000) * 600_000 - 30 * 60_000;
  const shape = { ...CORPUS_SHAPE, start };
  const window = 'ts > ago(2h)';

  before(async () => {
    nats = await ownNats();
    const db = join(tempDir('sg-cli-query-'), 'query.duckdb');
    const store = createStore({ kind: 'duckdb', path: db });
    await store.open();
    const batches: Partial<RowBatch>[] = [];
    generate(shape, (b) => batches.push(b));
    for (const b of batches) await store.write(b);
    await store.close();
    server = spawn(process.execPath, [cli, 'server', '--nats', nats.url, '--store', `duckdb:${db}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      readline.createInterface({ input: server!.stdout! }).once('line', () => resolve());
      server!.once('exit', (code) => reject(new Error(`sg server exited with ${code}`)));
    });
    // The service registers once NATS is connected: ask until it answers.
    const deadline = Date.now() + 20_000;
    while ((await run(['query', 'logs | count', '--nats', nats.url])).code !== 0) {
      if (Date.now() > deadline) throw new Error('sg-server never answered a query');
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  after(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    await nats.stop();
  });

  it('prints the rows as a table, with a count on stderr', async () => {
    const out = await run(['query', `logs | where ${window} | summarize count() by level | sort by level asc`, '--nats', nats.url]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^level\s+count$/);
    assert.match(lines[1]!, /^-+\s+-+$/);
    assert.deepEqual(lines.slice(2).map((l) => l.split(/\s+/)[0]), ['error', 'info', 'warn']);
    assert.match(out.stderr, /^3 rows in [\d.]+ ms from DuckDB$/m);
  });

  it('prints the documented JSON with --json', async () => {
    // The corpus's own half hour, so the bins are its three whatever the clock says when the test runs.
    const corpus = `ts >= datetime("${new Date(start).toISOString()}") and ts < datetime("${new Date(start + CORPUS_SHAPE.minutes * 60_000).toISOString()}")`;
    const out = await run(['query', `spans | where ${corpus} | summarize n = count(), p99(duration_ms) by bin(ts, 10m) | sort by ts asc | chart line`, '--json', '--nats', nats.url]);
    assert.equal(out.code, 0, out.stderr);
    const result = JSON.parse(out.stdout) as QueryResult;
    assert.deepEqual(Object.keys(result).sort(), ['chart', 'columns', 'elapsedMs', 'engine', 'range', 'rows', 'truncated']);
    assert.deepEqual(result.columns, [{ name: 'ts', type: 'time' }, { name: 'n', type: 'int' }, { name: 'p99_duration_ms', type: 'float' }]);
    assert.deepEqual(result.rows.map((r) => r[0]), [0, 1, 2].map((i) => start + i * 600_000));
    assert.equal(result.rows.reduce((s, r) => s + (r[1] as number), 0), 3 * 2 * CORPUS_SHAPE.spansPerMinute * CORPUS_SHAPE.minutes);
    assert.deepEqual(result.chart, { kind: 'line', x: 'ts', y: ['n', 'p99_duration_ms'], series: [] });
    assert.equal(result.engine, 'duckdb');
    assert.equal(result.truncated, false);
  });

  it('prints CSV with --csv, times in ISO 8601 and quoted fields where needed', async () => {
    const out = await run(['query', `spans | where ${window} and kind == 2 | sort by ts asc, span_id asc | take 2 | project ts, route, note = strcat("a,\\"b\\"", "")`, '--csv', '--nats', nats.url]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split('\r\n');
    assert.equal(lines[0], 'ts,route,note');
    assert.match(lines[1]!, new RegExp(`^${new Date(start).toISOString().slice(0, 14)}\\d\\d:\\d\\d\\.\\d{3}Z,[^,]+,"a,""b"""$`));
    assert.equal(lines.length, 4);
  });

  it('cuts at --max-rows and says so', async () => {
    const out = await run(['query', 'spans | project span_id', '--max-rows', '5', '--json', '--nats', nats.url]);
    const result = JSON.parse(out.stdout) as QueryResult;
    assert.equal(result.rows.length, 5);
    assert.equal(result.truncated, true);
  });

  it('prints the SQL for both stores with --explain', async () => {
    const text = 'metrics | where name == "gw_http_request_duration_ms" | summarize p99(sketch) by bin(ts, 1m)';
    const plain = await run(['query', text, '--explain', '--nats', nats.url]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^-- DuckDB\nSELECT /);
    assert.match(plain.stdout, /-- values: \[.*"gw_http_request_duration_ms"/);
    assert.match(plain.stdout, /-- ClickHouse \(as sent; 18\.16 has no query parameters\)\nSELECT .*ARRAY JOIN bin_keys.*'gw_http_request_duration_ms'/);
    const json = JSON.parse((await run(['query', text, '--explain', '--json', '--nats', nats.url])).stdout) as QueryExplain;
    assert.ok(json.duckdb.params.includes('gw_http_request_duration_ms'));
    assert.ok(!json.duckdb.text.includes('gw_http_request_duration_ms'), 'the value is bound, not in the text');
  });

  it('serves an editor\'s language server in shared mode: its queries run on the shared server\'s store', async () => {
    const editor = new Backend(createLogger(() => {}, 'error'));
    try {
      // The editor's own store is empty: answers with rows can only come from the shared server.
      await editor.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDir('sg-shared-editor-'), 'empty.duckdb') }, mode: 'shared' });
      await eventually('shared mode', () => editor.status().mode === 'shared' && editor.status().sharedServer !== undefined, 20_000);
      const text = `logs | where ${window} | summarize count() by level | sort by level asc`;
      const answer = await editor.queries.run({ text });
      assert.ok(answer.ok && 'result' in answer, JSON.stringify(answer));
      const cli = JSON.parse((await run(['query', text, '--json', '--nats', nats.url])).stdout) as QueryResult;
      assert.deepEqual(answer.result.rows, cli.rows);
      assert.equal(answer.result.rows.length, 3);
      const catalog = await editor.queries.catalog();
      assert.ok(catalog.metrics.some((m) => m.name === 'gw_http_requests_total' && m.labels.includes('route')), 'the shared server\'s catalog');
    } finally {
      await editor.dispose();
    }
  });

  it('reports a mistake with its line and column and exits 1', async () => {
    const out = await run(['query', 'spans\n| summarize p99(duraton_ms)', '--nats', nats.url]);
    assert.equal(out.code, 1);
    assert.equal(out.stderr.trim(), 'line 2, column 17: unknown column duraton_ms: did you mean duration_ms?');
    assert.equal(out.stdout, '');
  });

  it('explains usage mistakes with exit code 2', async () => {
    for (const [args, message] of [
      [['query'], /which query\? e\.g\. sg query 'spans \| take 10'/],
      [['query', 'a', 'b'], /quote the query as one argument/],
      [['query', 'x', '--json', '--csv'], /--json and --csv are two output formats/],
      [['query', 'x', '--max-rows', '0'], /--max-rows must be a whole number from 1 to 100000, not "0"/],
      [['query', '--file', '/nonexistent.sgql'], /cannot read --file \/nonexistent\.sgql: ENOENT/],
    ] as const) {
      const out = await run([...args]);
      assert.equal(out.code, 2, `${args.join(' ')}: ${out.stderr}`);
      assert.match(out.stderr, message);
      assert.match(out.stderr, /sg query 'QUERY' \[--json \| --csv\]/);
    }
  });
});
