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

/** The durable consumer that writes telemetry to the store. */
export interface IngestStatus {
  state: 'stopped' | 'starting' | 'running' | 'paused';
  /** Why ingest is paused (the store is unreachable, NATS is away). */
  reason?: string;
  /** Telemetry messages written (or found already written), rows written, refused messages, duplicates skipped. */
  messages: number;
  rows: number;
  deadLettered: number;
  duplicates: number;
  batches: number;
  /** Epoch ms of the last write (0: none). */
  lastWriteAt: number;
}

/** The in-memory windows of the last 15 minutes. */
export interface LiveStatus {
  state: 'stopped' | 'warming' | 'live';
  series: number;
  points: number;
  /** Messages the live feed could not read (the ingest dead-letters them). */
  refused: number;
  /** Epoch ms of the newest point. */
  newestAt: number;
}

/**
 * embedded: this server ingests and answers for its editor (the default); shared: it serves its views from a
 * shared `sg server` found through the sg-server service, and ingests nothing itself.
 */
export type ServerMode = 'embedded' | 'shared';

export interface ServerStatus {
  version: string;
  pid: number;
  startedAt: number;
  uptimeMs: number;
  nats: NatsStatus;
  store: StoreStatus;
  mode: ServerMode;
  /** Shared mode: the server answering, as it describes itself; undefined while none answers. */
  sharedServer?: { id: string; version: string; store: string; ingest: boolean };
  ingest?: IngestStatus;
  live?: LiveStatus;
  /** Continuous profiling, while this server collects. */
  profiling?: ProfilingStatus;
  /** The server process's memory now: resident set, and of it the JavaScript heap (the rest is native: DuckDB, buffers). */
  memory: { rssBytes: number; heapUsedBytes: number; externalBytes: number };
}

/** The profile collector of an ingesting server (docs/profiling.md#continuous-profiling). */
export interface ProfilingStatus {
  intervalSeconds: number;
  cpuSeconds: number;
  targets: number;
  /** Profiles stored; rounds this server took; rounds another server took (their lease). */
  stored: number;
  rounds: number;
  leasedElsewhere: number;
  failures: number;
  lastError?: string;
  lastStoredAt?: number;
}
