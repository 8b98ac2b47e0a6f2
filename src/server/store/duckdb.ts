import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DuckDBAppender, DuckDBConnection, DuckDBInstance, DuckDBListType } from '@duckdb/node-api';
import { DUCKDB_MEMORY_LIMIT_MB } from '../../protocol/settings';
import type { Row, RowBatch } from './rows';
import { COLUMNS, DUCK_TYPES, isList, MIGRATIONS, TABLES, type ColumnType, type TableName } from './schema';
import { presentIdsQuery, type Sql } from './sql';
import type { QueryLimits, Store } from './store';

type DuckApi = typeof import('@duckdb/node-api');

/** The log size at which the store checkpoints after a write (see checkpointIfDue); DuckDB's default threshold. */
const CHECKPOINT_WAL_BYTES = 16 * 1024 * 1024;
/** DuckDB's own threshold, raised so that it checkpoints inside a commit only when the store's checkpoints fail. */
const CHECKPOINT_BACKSTOP = '256MB';

let duckDb: Promise<DuckApi> | undefined;

/**
 * Loads DuckDB once. A failed load is remembered too: a bundled module that threw while loading must not be
 * loaded again (the bundle would hand back its half-initialised exports), and the reason stays the same.
 */
function loadDuckDb(): Promise<DuckApi> {
  duckDb ??= import('@duckdb/node-api').then(
    (api) => api,
    (error: unknown) => {
      throw new Error(duckDbUnavailable(error));
    },
  );
  return duckDb;
}

/** The embedded store: one DuckDB file, written with appenders, read with prepared statements. */
export class DuckDbStore implements Store {
  readonly kind = 'duckdb' as const;
  readonly dialect = 'duckdb' as const;
  private api: DuckApi | undefined;
  private instance: DuckDBInstance | undefined;
  private connection: DuckDBConnection | undefined;
  /** Writes and retention run one at a time on the one connection; reads use their own. */
  private writer: Promise<unknown> = Promise.resolve();
  private reader: DuckDBConnection | undefined;

  constructor(
    readonly location: string,
    readonly memoryLimitMb = DUCKDB_MEMORY_LIMIT_MB,
  ) {}

  async open(): Promise<{ version: string }> {
    // Loaded lazily: the native binding is only needed when the DuckDB store is used, and a platform without
    // one (the universal VSIX, an unusual CPU) still runs everything else.
    const api = await loadDuckDb();
    this.api = api;
    if (this.location !== ':memory:') {
      try {
        mkdirSync(dirname(this.location), { recursive: true });
      } catch (error) {
        throw new Error(`cannot create the folder for the DuckDB file ${this.location}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    }
    try {
      this.instance = await api.DuckDBInstance.create(this.location, { memory_limit: `${this.memoryLimitMb}MB` });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/lock/i.test(message)) {
        throw new Error(`the DuckDB file ${this.location} is in use by another process; close it or set a different streamgate.dataDirectory (${message})`);
      }
      throw new Error(`cannot open the DuckDB file ${this.location}: ${message}`);
    }
    this.connection = await this.instance.connect();
    this.reader = await this.instance.connect();
    await this.connection.run(`SET checkpoint_threshold = '${CHECKPOINT_BACKSTOP}'`);
    await this.migrate(this.connection);
    // Appending list values cell by cell costs ~25 µs each; lists go through a temporary table as JSON text and
    // are cast in one vectorised INSERT … SELECT instead (six times faster for the metrics table).
    for (const table of TABLES) {
      if (!COLUMNS[table].some((c) => isList(c.type))) continue;
      const cols = COLUMNS[table].map((c) => `${c.name} ${isList(c.type) ? 'VARCHAR' : DUCK_TYPES[c.type]}`).join(', ');
      await this.connection.run(`CREATE TEMP TABLE ${table}_stage (${cols})`);
    }
    const [row] = await this.query({ text: 'SELECT version() AS version', params: [] });
    return { version: String(row?.version ?? 'unknown') };
  }

  private async migrate(connection: DuckDBConnection): Promise<void> {
    await connection.run(`CREATE TABLE IF NOT EXISTS sg_meta (key VARCHAR PRIMARY KEY, value VARCHAR)`);
    const current = (await connection.runAndReadAll(`SELECT value FROM sg_meta WHERE key = 'schema_version'`)).getRowObjectsJS()[0];
    let version = current ? Number(current.value) : 1;
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue;
      await connection.run('BEGIN TRANSACTION');
      try {
        for (const statement of migration.sql('duckdb')) await connection.run(statement);
        await connection.run(`INSERT OR REPLACE INTO sg_meta VALUES ('schema_version', $1)`, [String(migration.version)]);
        await connection.run('COMMIT');
      } catch (error) {
        await connection.run('ROLLBACK');
        throw new Error(`migrating the DuckDB file to schema ${migration.version} (${migration.what}) failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      version = migration.version;
    }
  }

  write(batch: Partial<RowBatch>): Promise<void> {
    const run = this.writer.then(async () => {
      const connection = this.open_();
      for (const table of TABLES) {
        const rows = batch[table];
        if (!rows?.length) continue;
        const staged = COLUMNS[table].some((c) => isList(c.type));
        const appender = staged ? await connection.createAppender(`${table}_stage`, 'main', 'temp') : await connection.createAppender(table);
        try {
          this.appendRows(appender, table, rows, staged);
        } finally {
          // Closing flushes and commits; a failure leaves no partial rows of this table.
          appender.closeSync();
        }
        if (staged) await this.moveStaged(connection, table);
      }
    });
    this.writer = run.then(
      () => this.checkpointIfDue(),
      () => {},
    );
    return run;
  }

  /**
   * Folds the write-ahead log into the database file once it holds CHECKPOINT_WAL_BYTES. DuckDB would do it itself
   * inside a commit, that is inside the appender's synchronous close, on the JavaScript thread: a quarter of the
   * write time at 100k events/s. As a statement it runs on a worker thread, while the ingest decodes its next
   * batch; the write after it waits for it, as the writes are one at a time. A checkpoint refused because a
   * query is running is tried again after the next write; DuckDB's own threshold (CHECKPOINT_BACKSTOP) still
   * applies if none succeeds.
   */
  private async checkpointIfDue(): Promise<void> {
    if (this.location === ':memory:') return;
    let walBytes = 0;
    try {
      walBytes = statSync(`${this.location}.wal`).size;
    } catch {
      return; // no log: nothing to fold
    }
    if (walBytes < CHECKPOINT_WAL_BYTES) return;
    await this.open_()
      .run('CHECKPOINT')
      .catch(() => undefined);
  }

  /** Staged rows into their table in one transaction: all of them or none, and the stage left empty. */
  private async moveStaged(connection: DuckDBConnection, table: TableName): Promise<void> {
    const select = COLUMNS[table].map((c) => (isList(c.type) ? `CAST(CAST(${c.name} AS JSON) AS ${DUCK_TYPES[c.type]}) AS ${c.name}` : c.name)).join(', ');
    await connection.run('BEGIN TRANSACTION');
    try {
      await connection.run(`INSERT INTO ${table} SELECT ${select} FROM temp.${table}_stage`);
      await connection.run(`DELETE FROM temp.${table}_stage`);
      await connection.run('COMMIT');
    } catch (error) {
      await connection.run('ROLLBACK');
      await connection.run(`DELETE FROM temp.${table}_stage`);
      throw error;
    }
  }

  private appendRows(appender: DuckDBAppender, table: TableName, rows: Row[], staged: boolean): void {
    const api = this.api!;
    const columns = COLUMNS[table];
    const listTypes: Partial<Record<ColumnType, DuckDBListType>> = { strs: api.LIST(api.VARCHAR), i32s: api.LIST(api.INTEGER), f64s: api.LIST(api.DOUBLE) };
    for (const row of rows) {
      for (const column of columns) {
        const value = row[column.name];
        switch (column.type) {
          case 'i64':
            appender.appendBigInt(BigInt(Math.trunc(value as number)));
            break;
          case 'i32':
            appender.appendInteger(value as number);
            break;
          case 'f64':
            appender.appendDouble(value as number);
            break;
          case 'str':
            appender.appendVarchar(value as string);
            break;
          case 'strs':
          case 'i32s':
          case 'f64s':
            if (staged) appender.appendVarchar(JSON.stringify(value));
            else appender.appendList(api.listValue(value as readonly (string | number)[]), listTypes[column.type]);
            break;
        }
      }
      appender.endRow();
    }
  }

  async presentMessageIds(table: TableName, ids: readonly string[], minTs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.query(presentIdsQuery(table, ids, minTs));
    return new Set(rows.map((r) => String(r.msg_id)));
  }

  async query(query: Sql, limits?: QueryLimits): Promise<Record<string, unknown>[]> {
    if (limits) return this.guardedQuery(query, limits);
    const reader = this.reader;
    if (!reader) throw new Error('the DuckDB store is not open');
    const result = await reader.runAndReadAll(query.text, this.bindable(query));
    return this.rowsOf(result);
  }

  /**
   * A query people wrote: on a connection of its own, so interrupting it at the deadline stops nothing else, in
   * a read-only transaction, so no statement in it can write.
   */
  private async guardedQuery(query: Sql, limits: QueryLimits): Promise<Record<string, unknown>[]> {
    if (!this.instance) throw new Error('the DuckDB store is not open');
    const connection = await this.instance.connect();
    const state = { timedOut: false };
    const timer = setTimeout(() => {
      state.timedOut = true;
      connection.interrupt();
    }, limits.timeoutMs);
    try {
      await connection.run('BEGIN TRANSACTION READ ONLY');
      const result = await connection.runAndReadAll(query.text, this.bindable(query));
      return this.rowsOf(result);
    } catch (error) {
      if (state.timedOut) throw new Error(`the query ran longer than ${limits.timeoutMs} ms and was stopped`);
      throw error;
    } finally {
      clearTimeout(timer);
      await connection.run('ROLLBACK').catch(() => {});
      connection.closeSync();
    }
  }

  private bindable(query: Sql) {
    return query.params.map((p) => (Array.isArray(p) ? this.api!.listValue(p as (string | number)[]) : (p as string | number | boolean)));
  }

  private rowsOf(result: { getRowObjectsJS(): Record<string, unknown>[] }): Record<string, unknown>[] {
    return result.getRowObjectsJS().map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) out[key] = typeof value === 'bigint' ? Number(value) : value;
      return out;
    });
  }

  applyRetention(retentionDays: Record<TableName, number>, now = Date.now()): Promise<void> {
    const run = this.writer.then(async () => {
      const connection = this.open_();
      for (const table of TABLES) await connection.run(`DELETE FROM ${table} WHERE ts < $1`, [BigInt(Math.floor(now - retentionDays[table] * 86_400_000))]);
    });
    this.writer = run.catch(() => {});
    return run;
  }

  async getMeta(key: string): Promise<string | undefined> {
    const [row] = await this.query({ text: 'SELECT value FROM sg_meta WHERE key = ?', params: [key] });
    return row ? String(row.value) : undefined;
  }

  setMeta(key: string, value: string): Promise<void> {
    const run = this.writer.then(async () => {
      await this.open_().run(`INSERT OR REPLACE INTO sg_meta VALUES ($1, $2)`, [key, value]);
    });
    this.writer = run.catch(() => {});
    return run;
  }

  async ping(): Promise<void> {
    await this.query({ text: 'SELECT 1', params: [] });
  }

  async close(): Promise<void> {
    await this.writer;
    this.reader?.closeSync();
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.reader = undefined;
    this.connection = undefined;
    this.instance = undefined;
  }

  private open_(): DuckDBConnection {
    if (!this.connection) throw new Error('the DuckDB store is not open');
    return this.connection;
  }
}

/**
 * Why DuckDB cannot run here, and what to use instead. The binding is missing from the universal VSIX (a platform
 * DuckDB has no build for) or fails to load (a binary of another platform, a missing C++ runtime).
 */
export function duckDbUnavailable(error: unknown): string {
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  // The npm package of sg leaves DuckDB to the user (an optional peer dependency of 70 MB).
  if (/Cannot find (module|package) '@duckdb\/node-api'/.test(reason)) {
    return 'DuckDB, the embedded store, is not installed beside sg: npm install -g @duckdb/node-api (the version in sg\'s package.json), or use --store clickhouse:URL.';
  }
  return (
    `DuckDB, the embedded store, cannot run on this platform (${process.platform}-${process.arch}): ${reason}. ` +
    'Everything else works. For analytics, set streamgate.store.kind to "clickhouse" (and streamgate.clickhouse.url), ' +
    'or streamgate.server.mode to "shared" to use a team\'s sg server; from a terminal: sg server --store clickhouse:URL.'
  );
}
