import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { redactUrl } from '../../protocol/settings';
import type { RowBatch } from './rows';
import { MIGRATIONS, TABLES, type TableName } from './schema';
import { clickHouseLiteral, presentIdsQuery, renderClickHouse, type Sql } from './sql';
import type { Store } from './store';

export interface ClickHouseStoreOptions {
  url: string;
  database: string;
  user?: string;
  password?: string;
}

/**
 * ClickHouse over HTTP. SQL here must run on Debian's 18.16 (tests) and on current releases: no query
 * parameters (values are rendered by renderClickHouse), no DateTime64, no TTL (see schema.ts).
 */
export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse' as const;
  readonly dialect = 'clickhouse' as const;
  readonly location: string;
  private client: ClickHouseClient | undefined;

  constructor(private readonly options: ClickHouseStoreOptions) {
    this.location = `${redactUrl(options.url)} database ${options.database}`;
  }

  private base() {
    return {
      url: this.options.url,
      username: this.options.user ?? 'default',
      password: this.options.password ?? '',
      log: { level: ClickHouseLogLevel.OFF },
      request_timeout: 30_000,
      // Int64 columns (ts) come back as JSON numbers, not strings.
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 as const },
    };
  }

  async open(): Promise<{ version: string }> {
    const bootstrap = createClient(this.base());
    try {
      const ping = await bootstrap.ping();
      if (!ping.success) throw ping.error;
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${this.options.database}` });
    } catch (error) {
      throw new Error(`ClickHouse at ${redactUrl(this.options.url)} is not reachable: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await bootstrap.close();
    }
    this.client = createClient({ ...this.base(), database: this.options.database });
    await this.migrate(this.client);
    const [row] = await this.query({ text: 'SELECT version() AS version', params: [] });
    return { version: String(row?.version ?? 'unknown') };
  }

  private async migrate(client: ClickHouseClient): Promise<void> {
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS sg_meta (key String, value String, updated DateTime DEFAULT now()) ENGINE = ReplacingMergeTree(updated) ORDER BY key`,
    });
    const rows = await this.query({ text: `SELECT argMax(value, updated) AS value FROM sg_meta WHERE key = 'schema_version' GROUP BY key`, params: [] });
    let version = rows[0] ? Number(rows[0].value) : 1;
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue;
      try {
        // DDL here is idempotent (IF NOT EXISTS), so a migration cut short is simply applied again.
        for (const statement of migration.sql('clickhouse')) await client.command({ query: statement });
      } catch (error) {
        throw new Error(`migrating ClickHouse to schema ${migration.version} (${migration.what}) failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      await client.insert({ table: 'sg_meta', values: [{ key: 'schema_version', value: String(migration.version) }], format: 'JSONEachRow' });
      version = migration.version;
    }
  }

  async write(batch: Partial<RowBatch>): Promise<void> {
    const client = this.require();
    for (const table of TABLES) {
      const rows = batch[table];
      if (!rows?.length) continue;
      // One INSERT per table and batch: ClickHouse applies a block (up to a million rows) whole or not at all.
      await client.insert({ table, values: rows, format: 'JSONEachRow' });
    }
  }

  async presentMessageIds(table: TableName, ids: readonly string[], minTs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.query(presentIdsQuery(table, ids, minTs));
    return new Set(rows.map((r) => String(r.msg_id)));
  }

  async query(query: Sql): Promise<Record<string, unknown>[]> {
    const result = await this.require().query({ query: renderClickHouse(query), format: 'JSONEachRow' });
    return result.json<Record<string, unknown>>();
  }

  async applyRetention(retentionDays: Record<TableName, number>, now = Date.now()): Promise<void> {
    const client = this.require();
    for (const table of TABLES) {
      const cutoff = Number(new Date(now - retentionDays[table] * 86_400_000).toISOString().slice(0, 10).replace(/-/g, ''));
      const parts = await this.query({
        text: `SELECT DISTINCT partition FROM system.parts WHERE database = ? AND table = ? AND active`,
        params: [this.options.database, table],
      });
      for (const { partition } of parts) {
        const day = Number(partition);
        if (Number.isInteger(day) && day < cutoff) await client.command({ query: `ALTER TABLE ${table} DROP PARTITION ${clickHouseLiteral(day)}` });
      }
    }
  }

  async getMeta(key: string): Promise<string | undefined> {
    const [row] = await this.query({ text: 'SELECT argMax(value, updated) AS value FROM sg_meta WHERE key = ? GROUP BY key', params: [key] });
    return row ? String(row.value) : undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    // `updated` explicitly: 18.16 fills an omitted column with zero, not its DEFAULT, and the latest row must win.
    const updated = new Date().toISOString().slice(0, 19).replace('T', ' ');
    await this.require().insert({ table: 'sg_meta', values: [{ key, value, updated }], format: 'JSONEachRow' });
  }

  async ping(): Promise<void> {
    const ping = await this.require().ping();
    if (!ping.success) throw ping.error;
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }

  private require(): ClickHouseClient {
    if (!this.client) throw new Error('the ClickHouse store is not open');
    return this.client;
  }
}
