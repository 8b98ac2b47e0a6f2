/** Both stores loaded with the same generated telemetry, for the query language's tests and benchmarks. */
import { randomUUID } from 'node:crypto';
import { createStore, type Store } from '../../src/server/store';
import { emptyBatch, type RowBatch } from '../../src/server/store/rows';
import { TABLES, type TableName } from '../../src/server/store/schema';
import { generate, type DataShape } from './queryData';

export interface LoadedStores {
  duckdb: Store;
  clickhouse: Store;
  rows: Record<keyof RowBatch, number>;
  close(): Promise<void>;
}

/** Opens an in-memory DuckDB and a fresh ClickHouse database and writes the same rows into both. */
export async function loadStores(clickhouseUrl: string, shape: DataShape, duckdbPath = ':memory:'): Promise<LoadedStores> {
  const duckdb = createStore({ kind: 'duckdb', path: duckdbPath });
  const clickhouse = createStore({ kind: 'clickhouse', url: clickhouseUrl, database: `sgql_${randomUUID().replace(/-/g, '').slice(0, 12)}` });
  await duckdb.open();
  await clickhouse.open();
  const rows = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<TableName, number>;
  let pending: Partial<RowBatch>[] = [];
  let size = 0;
  const flush = async () => {
    if (!pending.length) return;
    const merged: RowBatch = emptyBatch();
    for (const b of pending) for (const [table, list] of Object.entries(b) as [keyof RowBatch, RowBatch[keyof RowBatch]][]) merged[table].push(...list);
    pending = [];
    size = 0;
    await duckdb.write(merged);
    await clickhouse.write(merged);
  };
  const batches: Partial<RowBatch>[] = [];
  generate(shape, (batch) => batches.push(batch));
  for (const batch of batches) {
    for (const [table, list] of Object.entries(batch) as [keyof RowBatch, unknown[]][]) rows[table] += list.length;
    pending.push(batch);
    size += batch.metrics?.length ?? 0;
    if (size > 50_000) await flush();
  }
  await flush();
  return {
    duckdb,
    clickhouse,
    rows,
    close: async () => {
      await duckdb.close();
      await clickhouse.close();
    },
  };
}
