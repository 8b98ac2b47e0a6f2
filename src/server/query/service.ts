/**
 * Where queries run: this server's store (LocalQueries), or a shared server over NATS (RemoteQueries in
 * remote.ts). Also what completion knows of the live store — metric names with their kinds and labels, label
 * values, and the values of a few low-cardinality columns — read in the background and cached, so that
 * completion never waits on the store.
 */
import type { QueryAnswer, QueryCatalog, QueryRequest } from '../../protocol/query';
import { SingleFlight } from '../../common/singleFlight';
import type { Store } from '../store';
import { runQuery } from './engine';

export interface QueryService {
  run(request: QueryRequest): Promise<QueryAnswer>;
  catalog(): Promise<QueryCatalog>;
}

/** How far back the catalog looks, and how long one is good for. */
export const CATALOG_WINDOW_MS = 3_600_000;
export const CATALOG_TTL_MS = 30_000;
const VALUES_PER_LABEL = 50;

/** String columns whose values completion offers (a few dozen values each at most). */
export const VALUE_COLUMNS: [string, string][] = [
  ['spans', 'service'],
  ['spans', 'pod'],
  ['spans', 'route'],
  ['spans', 'name'],
  ['logs', 'level'],
  ['logs', 'service'],
  ['events', 'type'],
  ['events', 'tenant'],
  ['incidents', 'type'],
  ['metrics', 'service'],
  ['metrics', 'pod'],
];

export class LocalQueries implements QueryService {
  constructor(private readonly store: () => Store) {}

  run(request: QueryRequest): Promise<QueryAnswer> {
    return runQuery(this.store(), request);
  }

  async catalog(now = Date.now()): Promise<QueryCatalog> {
    return readCatalog(this.store(), now);
  }
}

export async function readCatalog(store: Store, now: number): Promise<QueryCatalog> {
  const since = now - CATALOG_WINDOW_MS;
  const duck = store.dialect === 'duckdb';
  const limits = { timeoutMs: 10_000 };
  const names = await store.query({ text: 'SELECT name, kind, count(*) AS n FROM metrics WHERE ts >= ? GROUP BY name, kind ORDER BY name LIMIT 2000', params: [since] }, limits);
  const labels = await store.query(
    duck
      ? { text: 'SELECT name, k, v, count(*) AS n FROM (SELECT name, unnest(label_keys) AS k, unnest(label_values) AS v FROM metrics WHERE ts >= ?) AS u GROUP BY name, k, v ORDER BY name, k, n DESC LIMIT 20000', params: [since] }
      : { text: 'SELECT name, k, v, count() AS n FROM metrics ARRAY JOIN label_keys AS k, label_values AS v WHERE ts >= ? GROUP BY name, k, v ORDER BY name, k, n DESC LIMIT 20000', params: [since] },
    limits,
  );
  const metrics = new Map<string, { name: string; kind: string; labels: Set<string> }>();
  for (const row of names) {
    const name = String(row.name);
    if (!metrics.has(name)) metrics.set(name, { name, kind: String(row.kind), labels: new Set() });
  }
  const labelValues: Record<string, string[]> = {};
  for (const row of labels) {
    const name = String(row.name);
    const key = String(row.k);
    metrics.get(name)?.labels.add(key);
    const list = (labelValues[`${name}\u0000${key}`] ??= []);
    if (list.length < VALUES_PER_LABEL) list.push(String(row.v));
  }
  const columnValues: Record<string, string[]> = {};
  for (const [table, column] of VALUE_COLUMNS) {
    // Table and column come from the fixed list above, never from input.
    const rows = await store.query({ text: `SELECT ${column} AS v, count(*) AS n FROM ${table} WHERE ts >= ? GROUP BY ${column} ORDER BY n DESC LIMIT ${VALUES_PER_LABEL}`, params: [since] }, limits);
    columnValues[`${table}.${column}`] = rows.map((r) => String(r.v)).filter((v) => v !== '');
  }
  return { metrics: [...metrics.values()].map((m) => ({ name: m.name, kind: m.kind, labels: [...m.labels].sort() })), labelValues, columnValues, at: now };
}

export const EMPTY_CATALOG: QueryCatalog = { metrics: [], labelValues: {}, columnValues: {}, at: 0 };

/** The last catalog, refreshed in the background when older than CATALOG_TTL_MS. */
export class CatalogCache {
  private current: QueryCatalog = EMPTY_CATALOG;
  private readonly refreshing = new SingleFlight<void>();

  constructor(private readonly source: () => QueryService | undefined, private readonly onError: (error: unknown) => void = () => {}) {}

  get(): QueryCatalog {
    if (Date.now() - this.current.at > CATALOG_TTL_MS) void this.refresh();
    return this.current;
  }

  refresh(): Promise<void> {
    return this.refreshing.run(async () => {
      try {
        const service = this.source();
        if (service) this.current = await service.catalog();
      } catch (error) {
        this.onError(error);
        // Try again after a while rather than on every keystroke.
        this.current = { ...this.current, at: Date.now() - CATALOG_TTL_MS + 5000 };
      }
    });
  }
}
