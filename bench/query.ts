/**
 * The query language's figures:
 *   1. compiling typical queries (parse, check, SQL for both stores), against lexing the same text (the floor);
 *   2. completion through the real language server over LSP, against a completion request on a TypeScript file
 *      (the LSP round trip the editor pays anyway);
 *   3. a p99-by-minute query over 24 hours of sandbox-shaped data on DuckDB and on ClickHouse 18.16 (ratio),
 *      against the bare scan of the same rows.
 *
 *   npm run bench -- query            (BENCH_HOURS=24, BENCH_METRIC_INTERVAL_S=1, BENCH_RUNS=15, BENCH_COMPLETIONS=300)
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { startClickHouse, type ClickHouseServer } from '../src/launch/clickhouse';
import { explain, prepare, runQuery } from '../src/server/query/engine';
import { tokenize } from '../src/server/query/lexer';
import { createStore, type Store } from '../src/server/store';
import { emptyBatch, type RowBatch } from '../src/server/store/rows';
import { CORPUS_SHAPE, generate, type DataShape } from '../test/support/queryData';
import { tempDirectory } from './support';

const HOURS = Number(process.env.BENCH_HOURS ?? 24);
const INTERVAL_S = Number(process.env.BENCH_METRIC_INTERVAL_S ?? 1);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const COMPLETIONS = Number(process.env.BENCH_COMPLETIONS ?? 300);

const p = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (x: number) => (x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(x < 10 ? 2 : 1)} ms`);

const TYPICAL = [
  'spans | where service == "gateway" and ts > ago(1h) | summarize p99(duration_ms) by bin(ts, 1m), route | chart line',
  'metrics | where name == "gw_http_request_duration_ms" and ts > ago(24h) | summarize p99(sketch), p50(sketch) by bin(ts, 1m) | chart line',
  'metrics | where name == "gw_http_requests_total" | summarize rps = rate(value) by bin(ts, 1m), code = labels.code | sort by ts asc',
  'let errors = spans | where status_code == 2 and ts > ago(15m);\nerrors | join kind=left (logs | where level == "error") on trace_id | project ts, route, pod, msg | sort by ts desc | take 50',
  'logs | where ts > ago(1h) and msg contains "timeout" | summarize n = count(), traces = dcount(trace_id) by pod | top 5 by n',
];

function timeSync(fn: () => void, n: number): number[] {
  for (let i = 0; i < Math.min(200, n); i++) fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

function benchCompile(): void {
  const now = Date.now();
  console.log('\n### Compiling (parse, check, SQL for DuckDB and ClickHouse), 2,000 times each');
  console.log('| query | p50 | p99 | lexing alone p50 (baseline) | compile / lex |');
  console.log('|---|---|---|---|---|');
  for (const text of TYPICAL) {
    const compile = timeSync(() => {
      const prepared = prepare(text, now);
      if (!prepared.ok) throw new Error(prepared.error);
      explain(prepared.compiled);
    }, 2000);
    const lex = timeSync(() => tokenize(text), 2000);
    console.log(`| \`${text.split('\n').pop()!.slice(0, 60)}…\` | ${ms(p(compile, 0.5))} | ${ms(p(compile, 0.99))} | ${ms(p(lex, 0.5))} | ${(p(compile, 0.5) / p(lex, 0.5)).toFixed(1)} |`);
  }
}

/**
 * Writes the shape's rows to the stores an hour at a time (a day of rows never sits in memory at once). Each hour
 * is generated on its own (its own seed; gw-2 restarts halfway through each).
 */
async function load(stores: Store[], shape: DataShape): Promise<number> {
  let rows = 0;
  for (let hour = 0; hour * 60 < shape.minutes; hour++) {
    const batch: RowBatch = emptyBatch();
    generate({ ...shape, start: shape.start + hour * 3_600_000, minutes: Math.min(60, shape.minutes - hour * 60), seed: shape.seed + hour }, (b) => {
      for (const [k, v] of Object.entries(b) as [keyof RowBatch, RowBatch[keyof RowBatch]][]) batch[k].push(...v);
    });
    for (let i = 0; i < batch.metrics.length || i === 0; i += 50_000) {
      const part: Partial<RowBatch> = i === 0 ? { ...batch, metrics: batch.metrics.slice(0, 50_000) } : { metrics: batch.metrics.slice(i, i + 50_000) };
      for (const store of stores) await store.write(part);
    }
    rows += Object.values(batch).reduce((s, l) => s + l.length, 0);
  }
  return rows;
}

async function timeQuery(store: Store, text: string, now: number): Promise<number[]> {
  const run = async () => {
    const answer = await runQuery(store, { text, now, maxRows: 100_000, timeoutMs: 120_000 });
    if (!answer.ok || !('result' in answer)) throw new Error(`${text}: ${answer.ok ? 'no rows' : answer.error}`);
    return answer.result.rows.length;
  };
  await run();
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await run();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

async function benchDay(dir: string): Promise<void> {
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const shape: DataShape = { ...CORPUS_SHAPE, start: end - HOURS * 3_600_000, minutes: HOURS * 60, metricIntervalS: INTERVAL_S, seed: 7 };
  let clickhouse: ClickHouseServer | undefined;
  try {
    clickhouse = await startClickHouse();
    const duck = createStore({ kind: 'duckdb', path: join(dir, 'day.duckdb') });
    const click = createStore({ kind: 'clickhouse', url: clickhouse.url, database: 'bench_query' });
    await duck.open();
    await click.open();
    const started = performance.now();
    const rows = await load([duck, click], shape);
    console.log(`\n### ${HOURS} hours of sandbox-shaped data: 3 gateway pods, metrics every ${INTERVAL_S} s (5 routes × (2 request counters + 1 latency histogram) + 2 gauges per pod), ${CORPUS_SHAPE.spansPerMinute * 2} spans per pod and minute, logs and events: ${rows.toLocaleString('en')} rows, loaded into both stores in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const queries: [string, string][] = [
      ['bare scan (baseline): count of the histogram rows', `metrics | where name == "gw_http_request_duration_ms" and ts > ago(${HOURS}h) | count`],
      ['p99 by minute, merged from the sketches (metrics)', `metrics | where name == "gw_http_request_duration_ms" and ts > ago(${HOURS}h) | summarize p99(sketch) by bin(ts, 1m)`],
      ['p99 by minute, exact (spans)', `spans | where kind == 2 and ts > ago(${HOURS}h) | summarize p99(duration_ms) by bin(ts, 1m)`],
      ['requests/s by minute and route (counter rate)', `metrics | where name == "gw_http_requests_total" and ts > ago(${HOURS}h) | summarize rate(value) by bin(ts, 1m), labels.route`],
    ];
    console.log(`${RUNS} runs per query after a warm-up, through runQuery (compile, run with limits, normalise); the machine is shared, so read the ratios`);
    console.log('| query | DuckDB p50 | DuckDB p99 | ClickHouse 18.16 p50 | ClickHouse p99 | ClickHouse / DuckDB (p50) | DuckDB / its bare scan (p50) |');
    console.log('|---|---|---|---|---|---|---|');
    let baseline = 0;
    for (const [name, text] of queries) {
      const d = await timeQuery(duck, text, end);
      const c = await timeQuery(click, text, end);
      if (!baseline) baseline = p(d, 0.5);
      console.log(`| ${name} | ${ms(p(d, 0.5))} | ${ms(p(d, 0.99))} | ${ms(p(c, 0.5))} | ${ms(p(c, 0.99))} | ${(p(c, 0.5) / p(d, 0.5)).toFixed(2)} | ${(p(d, 0.5) / baseline).toFixed(1)} |`);
    }
    await duck.close();
    await click.close();
  } finally {
    await clickhouse?.stop();
  }
}

async function benchCompletion(dir: string): Promise<void> {
  // A store with the last hour of the fleet, so the live catalog has metric names, labels and values.
  const path = join(dir, 'completion.duckdb');
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const store = createStore({ kind: 'duckdb', path });
  await store.open();
  await load([store], { ...CORPUS_SHAPE, start: end - 60 * 60_000, minutes: 60, metricIntervalS: 10 });
  await store.close();
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    const settings = { nats: null, store: { kind: 'duckdb', path } };
    await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { workspace: {} }, initializationOptions: { settings } });
    await connection.sendNotification('initialized', {});
    const uri = 'file:///bench/fleet.sgql';
    const lines = ['metrics', '| where name == "gw_http_requests_total" and labels.code == "" and ts > ago(1h)', '| summarize rate(value) by bin(ts, 1m), labels.route', '| ;', 'spans | where dur'];
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'sgql', version: 1, text: lines.join('\n') } });
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri: 'file:///bench/plain.ts', languageId: 'typescript', version: 1, text: 'const x = 1;\n' } });
    type Items = { items: { label: string }[] } | null;
    const complete = (u: string, line: number, character: number) => connection.sendRequest<Items>('textDocument/completion', { textDocument: { uri: u }, position: { line, character } });
    const after = (line: number, needle: string): [number, number] => [line, lines[line]!.indexOf(needle) + needle.length];
    const positions: [string, number, number, string][] = [
      ['metric names (in name == "…")', ...after(1, 'name == "'), 'gw_http_requests_total'],
      ['label values (labels.code == "…")', ...after(1, 'labels.code == "'), '500'],
      ['label names (labels.…)', ...after(2, 'labels.'), 'route'],
      ['columns and functions (summarize …)', ...after(2, 'summarize '), 'rate'],
      ['steps (after |)', ...after(3, '| '), 'where'],
      ['columns at a prefix (where dur…)', ...after(4, 'where dur'), 'duration_ms'],
    ];
    // The first completion starts the catalog's read from the store; wait until it is in.
    const deadline = Date.now() + 30_000;
    while (!(await complete(uri, ...after(1, 'name == "')))?.items.some((i) => i.label === 'gw_http_requests_total')) {
      if (Date.now() > deadline) throw new Error('the catalog never arrived');
      await new Promise((r) => setTimeout(r, 200));
    }
    const plain: number[] = [];
    for (let i = 0; i < COMPLETIONS; i++) {
      const t = performance.now();
      await complete('file:///bench/plain.ts', 0, 6);
      plain.push(performance.now() - t);
    }
    plain.sort((a, b) => a - b);
    console.log(`\n### Completion through the real language server over LSP (stdio), ${COMPLETIONS} requests per place, catalog from a DuckDB store of the last hour`);
    console.log('| completing | p50 | p99 | p99 / plain round trip p99 |');
    console.log('|---|---|---|---|');
    for (const [name, line, character, expected] of positions) {
      const times: number[] = [];
      for (let i = 0; i < COMPLETIONS; i++) {
        const t = performance.now();
        const answer = await complete(uri, line, character);
        times.push(performance.now() - t);
        if (i === 0 && !answer?.items.some((item) => item.label === expected)) throw new Error(`${name}: no ${expected} in ${JSON.stringify(answer?.items.slice(0, 5))}`);
      }
      times.sort((a, b) => a - b);
      console.log(`| ${name} | ${ms(p(times, 0.5))} | ${ms(p(times, 0.99))} | ${(p(times, 0.99) / p(plain, 0.99)).toFixed(1)} |`);
    }
    console.log(`| a TypeScript file (baseline: the LSP round trip) | ${ms(p(plain, 0.5))} | ${ms(p(plain, 0.99))} | 1.0 |`);
  } finally {
    await connection.sendRequest('shutdown').catch(() => {});
    child.kill();
  }
}

async function main(): Promise<void> {
  const dir = tempDirectory('sg-bench-query-');
  benchCompile();
  await benchCompletion(dir);
  await benchDay(dir);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
