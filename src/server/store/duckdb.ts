import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { SCHEMA_VERSION, type Store } from './store';

export class DuckDbStore implements Store {
  readonly kind = 'duckdb' as const;
  private instance: DuckDBInstance | undefined;
  private connection: DuckDBConnection | undefined;

  constructor(readonly location: string) {}

  async open(): Promise<{ version: string }> {
    // Loaded lazily: the native binding is only needed when the DuckDB store is used.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    if (this.location !== ':memory:') {
      try {
        mkdirSync(dirname(this.location), { recursive: true });
      } catch (error) {
        throw new Error(`cannot create the folder for the DuckDB file ${this.location}: ${(error as NodeJS.ErrnoException).code ?? error}`);
      }
    }
    try {
      this.instance = await DuckDBInstance.create(this.location);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/lock/i.test(message)) {
        throw new Error(`the DuckDB file ${this.location} is in use by another process; close it or set a different streamgate.dataDirectory (${message})`);
      }
      throw new Error(`cannot open the DuckDB file ${this.location}: ${message}`);
    }
    this.connection = await this.instance.connect();
    await this.connection.run(`CREATE TABLE IF NOT EXISTS sg_meta (key VARCHAR PRIMARY KEY, value VARCHAR)`);
    await this.connection.run(`INSERT OR REPLACE INTO sg_meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
    const [row] = await this.query('SELECT version() AS version');
    return { version: String(row?.version ?? 'unknown') };
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    if (!this.connection) throw new Error('the DuckDB store is not open');
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS();
  }

  async close(): Promise<void> {
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
    this.instance = undefined;
  }
}
