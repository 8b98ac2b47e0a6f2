/**
 * The analytics and ML backend that both the language server and `sg server` run: one NATS link, one store,
 * and (as later issues add them) ingest, windows, models and profiles hanging off those two.
 */
import { EventEmitter } from 'node:events';
import { errorMessage, type Logger } from '../common/logger';
import { fetchProfile } from '../common/podClient';
import type { ProfileRequest } from '../protocol/nats';
import { VERSION } from '../common/version';
import type { ServerSettings, StoreSettings } from '../protocol/settings';
import type { ServerStatus, StoreStatus } from '../protocol/status';
import { NatsLink } from './natsLink';
import { PodDirectory } from './podDirectory';
import { createStore, type Store } from './store';

export class Backend extends EventEmitter<{ status: [ServerStatus] }> {
  readonly startedAt = Date.now();
  readonly nats: NatsLink;
  readonly pods: PodDirectory;
  private store: Store | undefined;
  private storeSettings: StoreSettings | undefined;
  private storeStatus: StoreStatus = { kind: 'duckdb', state: 'closed', location: '', since: Date.now() };
  /** Store reopenings run one after another even if configure is called quickly twice. */
  private storeQueue: Promise<void> = Promise.resolve();

  constructor(private readonly log: Logger, clientName = 'streamgate-server') {
    super();
    this.nats = new NatsLink(log, clientName);
    this.pods = new PodDirectory(log);
    this.nats.on('status', (status) => {
      this.emit('status', this.status());
      if (status.state !== 'connected' && status.state !== 'reconnecting') this.pods.use(undefined);
    });
    this.nats.on('connected', (nc) => this.pods.use(nc));
  }

  status(): ServerStatus {
    return {
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt,
      uptimeMs: Date.now() - this.startedAt,
      nats: this.nats.status,
      store: this.storeStatus,
    };
  }

  /** Applies settings; resolves once the store is open (or has failed) — NATS connects in the background. */
  async configure(settings: ServerSettings): Promise<ServerStatus> {
    await this.nats.configure(settings.nats);
    if (JSON.stringify(settings.store) !== JSON.stringify(this.storeSettings)) {
      this.storeSettings = settings.store;
      this.storeQueue = this.storeQueue.then(() => this.reopenStore(settings.store));
    }
    await this.storeQueue;
    return this.status();
  }

  /** The open store, or a clear error saying why there is none. */
  requireStore(): Store {
    if (!this.store || this.storeStatus.state !== 'ready') {
      throw new Error(`the store is not ready (${this.storeStatus.state}${this.storeStatus.error ? `: ${this.storeStatus.error}` : ''})`);
    }
    return this.store;
  }

  /** A profile from a live pod (gzipped pprof), asked over the server's NATS connection. */
  async podProfile(pod: string, request: ProfileRequest): Promise<Buffer> {
    const nc = this.nats.nc;
    if (!nc) throw new Error(`not connected to NATS (${this.nats.status.state}): cannot profile ${pod}`);
    return fetchProfile(nc, pod, request);
  }

  async dispose(): Promise<void> {
    this.pods.dispose();
    await this.nats.close();
    await this.storeQueue;
    await this.store?.close().catch(() => {});
    this.store = undefined;
  }

  private async reopenStore(settings: StoreSettings): Promise<void> {
    await this.store?.close().catch((error) => this.log.warn(`closing the store: ${errorMessage(error)}`));
    const store = createStore(settings);
    this.store = store;
    this.setStore({ kind: store.kind, state: 'opening', location: store.location });
    try {
      const { version } = await store.open();
      this.log.info(`store ready: ${store.kind} ${version} at ${store.location}`);
      this.setStore({ kind: store.kind, state: 'ready', location: store.location, version });
    } catch (error) {
      const reason = errorMessage(error);
      this.log.error(`store failed to open: ${reason}`);
      this.setStore({ kind: store.kind, state: 'error', location: store.location, error: reason });
    }
  }

  private setStore(status: Omit<StoreStatus, 'since'>): void {
    this.storeStatus = { ...status, since: Date.now() };
    this.emit('status', this.status());
  }
}
