/**
 * Types shared by the language server, the extension and the webviews that describe the backend's health.
 * Plain data only (no imports) so the browser bundles can use them too.
 */

export type NatsState = 'not-configured' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'error';
export type StoreState = 'opening' | 'ready' | 'error' | 'closed';
export type StoreKind = 'duckdb' | 'clickhouse';

export interface NatsStatus {
  state: NatsState;
  /** The configured server URL(s), credentials stripped. */
  url?: string;
  /** What the connected server says of itself. */
  server?: { name: string; version: string; jetstream: boolean };
  /** Why the last attempt failed, in words a user can act on. */
  error?: string;
  /** Epoch milliseconds when the state last changed. */
  since: number;
}

export interface StoreStatus {
  kind: StoreKind;
  state: StoreState;
  /** File path (DuckDB) or URL and database (ClickHouse), credentials stripped. */
  location: string;
  /** Engine version reported by the store once it is open. */
  version?: string;
  error?: string;
  since: number;
}

export interface ServerStatus {
  version: string;
  pid: number;
  startedAt: number;
  uptimeMs: number;
  nats: NatsStatus;
  store: StoreStatus;
}
