/** What the backend needs of a store; DuckDB (embedded, default) and ClickHouse (scale-out) implement it. */
import type { StoreKind, StoreStatus } from '../../protocol/status';
import type { RowBatch } from './rows';
import type { Dialect, TableName } from './schema';
import type { Sql } from './sql';

export interface Store {
  readonly kind: StoreKind;
  readonly dialect: Dialect;
  readonly location: string;
  /** Opens (creating the file or database if needed) and migrates the schema. Throws with a clear reason. */
  open(): Promise<{ version: string }>;
  /**
   * Writes rows. All rows of one table go in one insert, which both engines apply whole or not at all, so a
   * message's rows in a table are either all there or none are.
   */
  write(batch: Partial<RowBatch>): Promise<void>;
  /** Which of these message ids already have rows in `table` with ts ≥ minTs (for redelivered messages). */
  presentMessageIds(table: TableName, ids: readonly string[], minTs: number): Promise<Set<string>>;
  /** A read-only query with bound values; 64-bit integers come back as numbers. */
  query(query: Sql): Promise<Record<string, unknown>[]>;
  /** Deletes what is older than each table's retention. */
  applyRetention(retentionDays: Record<TableName, number>, now?: number): Promise<void>;
  /** A value the server keeps for itself in sg_meta (e.g. the log miner's state); undefined when never set. */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type { StoreStatus };
export { SCHEMA_VERSION } from './schema';
