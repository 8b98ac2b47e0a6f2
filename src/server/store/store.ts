/** What the backend needs of a store; DuckDB (embedded, default) and ClickHouse (scale-out) implement it. */
import type { StoreKind, StoreStatus } from '../../protocol/status';

export interface Store {
  readonly kind: StoreKind;
  readonly location: string;
  /** Opens (creating the file or database if needed) and applies the schema. Throws with a clear reason. */
  open(): Promise<{ version: string }>;
  /** Runs a read-only query and returns rows as objects; used by status checks and, later, the query language. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export type { StoreStatus };

/** Bumped whenever the schema changes; stored in the sg_meta table of each store. */
export const SCHEMA_VERSION = 1;
