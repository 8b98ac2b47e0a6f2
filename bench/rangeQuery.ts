/**
 * Range queries from the store: one hour of a fleet's metrics at one-second resolution (3 pods, 10 request
 * counters, 5 latency histograms and 10 gauges each, every second), queried through the same series engine the
 * dashboard and `sg analytics query` use. Baseline in the same run: the bare scan of the same rows
 * (`SELECT count(*) … WHERE name AND time range`), the floor any query over them pays.
 *
 *   npm run bench -- rangeQuery
 */
import { join } from 'node:path';
import { startClickHouse, type ClickHouseServer } from '../src/launch/clickhouse';
import type { SeriesQuery } from '../src/protocol/analytics';
import type { StoreSettings } from '../src/protocol/settings';
import { bucketStore, toResult } from '../src/server/analytics/series';
import { createStore, type Store } from '../src/server/store';
import type { Row } from '../src/server/store/rows';
import { distributionOf } from '../src/server/telemetry/histogram';
import { tempDirectory } from './support';

const HOUR = 3600_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const ROUTES = ['POST /v1/sessions', 'DELETE /v1/sessions/:id', 'POST /v1/streams/:stream/messages', 'GET /v1/streams/:stream/subscribe', 'GET /v1/streams/:stream/history'];

function hourOfMetrics(end: number): Row[] {
  const rows: Row[] = [];
  const base = { min: 0, max: 0, zero: 0, count: 0, sum: 0, total: 0, bin_keys: [] as number[], bin_counts: [] as number[] };
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let t = end - HOUR; t < end; t += 1000) {
    for (const pod of ['gw-1', 'gw-2', 'gw-3']) {
      const common = { ts: t, service: 'gateway', pod, msg_id: `${pod}.${t}` };
      for (const route of ROUTES) {
        for (const code of ['200', '500']) {
          rows.push({ ...common, ...base, name: 'gw_http_requests_total', kind: 'counter', label_keys: ['code', 'route'], label_values: [code, route], value: code === '200' ? Math.floor(random() * 40) : random() < 0.05 ? 1 : 0 });
        }
        const d = distributionOf(Array.from({ length: 20 }, () => Math.exp(random() * 5)));
        rows.push({ ...common, name: 'gw_http_request_duration_ms', kind: 'histogram', label_keys: ['route'], label_values: [route], value: d.count, total: 0, count: d.count, sum: d.sum, min: d.min, max: d.max, zero: d.zero, bin_keys: Array.from(d.keys), bin_counts: Array.from(d.counts) });
      }
      for (let g = 0; g < 10; g++) rows.push({ ...common, ...base, name: `gauge_${g}`, kind: 'gauge', label_keys: [], label_values: [], value: random() * 100 });
    }
  }
  return rows;
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await fn();
    out.push(performance.now() - started);
  }
  return out.sort((a, b) => a - b);
}

const p = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function measure(store: Store, end: number): Promise<Record<string, number[]>> {
  const q = (metric: string, extra: Partial<SeriesQuery> = {}): SeriesQuery => ({ metric, from: end - HOUR, to: end, stepMs: 1000, ...extra });
  const run = async (query: SeriesQuery) => {
    const result = toResult(query, await bucketStore(store, query, 'stat'), 'store');
    if (!result.series.length || result.series[0]!.points.length !== 3600) throw new Error(`${query.metric}: ${result.series.length} series, ${result.series[0]?.points.length} points`);
  };
  // The quantile found in SQL must be the one the merged bins give, step by step.
  const p99 = q('gw_http_request_duration_ms', { stat: 'p99' });
  const fast = toResult(p99, await bucketStore(store, p99, 'stat'), 'store').series[0]!.points;
  const full = toResult(p99, await bucketStore(store, p99, 'all'), 'store').series[0]!.points;
  const differ = fast.filter(([, v], i) => v !== full[i]![1]).length;
  if (differ) throw new Error(`${store.kind}: ${differ} of ${full.length} p99 steps differ between SQL and the merged bins`);
  return {
    'bare scan: count(*) of the requests counter rows in the hour': await time(() => store.query({ text: 'SELECT count(*) AS n FROM metrics WHERE name = ? AND ts >= ? AND ts < ?', params: ['gw_http_requests_total', end - HOUR, end] })),
    'requests/s by route, 1 s steps (5 × 3600 points)': await time(() => run(q('gw_http_requests_total', { by: ['route'] }))),
    'p99 latency merged from sketches, 1 s steps (3600 points)': await time(() => run(q('gw_http_request_duration_ms', { stat: 'p99' }))),
    'a gauge summed over pods, 1 s steps (3600 points)': await time(() => run(q('gauge_3'))),
  };
}

async function main(): Promise<void> {
  const end = Math.floor(Date.now() / 1000) * 1000;
  const rows = hourOfMetrics(end);
  const dir = tempDirectory('sg-bench-range-');
  let clickhouse: ClickHouseServer | undefined;
  try {
    const results: Record<string, Record<string, number[]>> = {};
    clickhouse = await startClickHouse();
    const engines: [string, StoreSettings][] = [
      ['DuckDB', { kind: 'duckdb', path: join(dir, 'range.duckdb') }],
      ['ClickHouse 18.16', { kind: 'clickhouse', url: clickhouse.url, database: 'range' }],
    ];
    for (const [name, settings] of engines) {
      const store = createStore(settings);
      await store.open();
      for (let i = 0; i < rows.length; i += 50_000) await store.write({ metrics: rows.slice(i, i + 50_000) });
      results[name] = await measure(store, end);
      await store.close();
    }
    console.log(`one hour of a 3-pod fleet at 1 s: ${rows.length.toLocaleString('en')} metric rows; ${RUNS} runs per query after a warm-up`);
    console.log('| query | DuckDB p50 | DuckDB p99 | ClickHouse p50 | ClickHouse p99 | ClickHouse / DuckDB (p50) |');
    console.log('|---|---|---|---|---|---|');
    for (const query of Object.keys(results.DuckDB!)) {
      const d = results.DuckDB![query]!;
      const c = results['ClickHouse 18.16']![query]!;
      console.log(`| ${query} | ${p(d, 0.5).toFixed(1)} ms | ${p(d, 0.99).toFixed(1)} ms | ${p(c, 0.5).toFixed(1)} ms | ${p(c, 0.99).toFixed(1)} ms | ${(p(c, 0.5) / p(d, 0.5)).toFixed(2)} |`);
    }
  } finally {
    await clickhouse?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
