import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { redactUrl } from '../../protocol/settings';
import { SCHEMA_VERSION, type Store } from './store';

export interface ClickHouseStoreOptions {
  url: string;
  database: string;
  user?: string;
  password?: string;
}

/**
 * ClickHouse over HTTP. SQL here must run on Debian's 18.16 (tests) and on current releases: no query
 * parameters, no DateTime64, no TTL (see docs/architecture.md).
 */
export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse' as const;
  readonly location: string;
  private client: ClickHouseClient | undefined;

  constructor(private readonly options: ClickHouseStoreOptions) {
    this.location = `${redactUrl(options.url)} database ${options.database}`;
  }

  async open(): Promise<{ version: string }> {
    const base = {
      url: this.options.url,
      username: this.options.user ?? 'default',
      password: this.options.password ?? '',
      log: { level: ClickHouseLogLevel.OFF },
      request_timeout: 30_000,
    };
    const bootstrap = createClient(base);
    try {
      const ping = await bootstrap.ping();
      if (!ping.success) throw ping.error;
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${this.options.database}` });
    } catch (error) {
      throw new Error(`ClickHouse at ${redactUrl(this.options.url)} is not reachable: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await bootstrap.close();
    }
    this.client = createClient({ ...base, database: this.options.database });
    await this.client.command({
      query: `CREATE TABLE IF NOT EXISTS sg_meta (key String, value String, updated DateTime DEFAULT now()) ENGINE = ReplacingMergeTree(updated) ORDER BY key`,
    });
    await this.client.insert({ table: 'sg_meta', values: [{ key: 'schema_version', value: String(SCHEMA_VERSION) }], format: 'JSONEachRow' });
    const [row] = await this.query('SELECT version() AS version');
    return { version: String(row?.version ?? 'unknown') };
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    if (!this.client) throw new Error('the ClickHouse store is not open');
    const result = await this.client.query({ query: sql, format: 'JSONEachRow' });
    return result.json<Record<string, unknown>>();
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }
}
