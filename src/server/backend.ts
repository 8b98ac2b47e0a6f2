/**
 * The analytics backend that both the language server and `sg server` run: one NATS link and one store, and
 * on them the parts of a StreamGate server — the streams it owns, the ingest into the store, the live windows,
 * the analytics they answer, and the sg-server service that answers for other tools. In shared mode it runs
 * none of those and serves its views from a shared server instead.
 */
import { EventEmitter } from 'node:events';
import type { NatsConnection } from 'nats';
import { errorMessage, type Logger } from '../common/logger';
import { fetchProfile } from '../common/podClient';
import type { ProfileRequest } from '../protocol/nats';
import { ensureStreams } from '../common/streams';
import { VERSION } from '../common/version';
import type { PodStatus } from '../protocol/nats';
import type { AnalyticsMetrics, ServerSettings, StoreSettings } from '../protocol/settings';
import type { ServerMode, ServerStatus, StoreStatus } from '../protocol/status';
import { LocalAnalytics, type AnalyticsApi } from './analytics/api';
import { Analytics, DEFAULT_ANALYTICS_METRICS } from './analytics/views';
import { TelemetryIngest } from './ingest';
import { LiveClients } from './live/clients';
import { LiveFeed } from './live/feed';
import { LiveWindows } from './live/windows';
import { NatsLink } from './natsLink';
import { LocalQueries, type QueryService } from './query/service';
import { RemoteQueries } from './query/remote';
import { PodDirectory } from './podDirectory';
import { PredictService } from './predict/service';
import { ProfileFeature } from './profiles/profileFeature';
import { ServerService } from './serverService';
import { LogTemplateEvents, LogTemplateIndex } from './logs/templateIndex';
import { LocalLogs, type LogsApi } from './logs/templateQueries';
import { findServers, RemoteAnalytics, RemoteLogs, RemoteTraces } from './sharedClient';
import { LocalTraces, type TracesApi } from './traces/api';
import { TraceAttachments } from './traces/attachments';
import { createStore, type Store } from './store';
import { DEFAULT_RETENTION_DAYS, TABLES, type TableName } from './store/schema';

const RETENTION_INTERVAL_MS = 3600_000;
/** How soon a store whose file another process held is tried again. */
const STORE_RETRY_MS = 2000;

export class Backend extends EventEmitter<{ status: [ServerStatus]; pods: [PodStatus[]] }> {
  readonly startedAt = Date.now();
  readonly nats: NatsLink;
  readonly pods: PodDirectory;
  readonly windows = new LiveWindows();
  readonly clients = new LiveClients();
  readonly profiling: ProfileFeature;
  /** Where other parts (the debugger's snapshots) add what the trace viewer shows on spans. */
  readonly traceAttachments = new TraceAttachments();
  /** Template-rate anomalies of the logs this server mines (alerts subscribe with onAnomaly). */
  readonly logEvents = new LogTemplateEvents();
  private logIndex: LogTemplateIndex | undefined;
  /** The miner's state is being read before the ingest starts. */
  private ingestOpening = false;
  private readonly localTraces: LocalTraces;
  private readonly localLogs: LocalLogs;
  private remoteTraces: RemoteTraces | undefined;
  private remoteLogs: RemoteLogs | undefined;
  private remoteQueries: RemoteQueries | undefined;
  private readonly analytics: Analytics;
  /** Forecasts, anomaly scores and alerts (src/server/predict). */
  readonly predict: PredictService;
  private readonly local: LocalAnalytics;
  private readonly localQueries = new LocalQueries(() => this.requireStore());
  private remote: RemoteAnalytics | undefined;
  private store: Store | undefined;
  private storeSettings: StoreSettings | undefined;
  private storeStatus: StoreStatus = { kind: 'duckdb', state: 'closed', location: '', since: Date.now() };
  /** Store reopenings run one after another even if configure is called quickly twice. */
  private storeQueue: Promise<void> = Promise.resolve();
  private settings: ServerSettings | undefined;
  private mode: ServerMode = 'embedded';
  private sharedServer: ServerStatus['sharedServer'];
  private ingest: TelemetryIngest | undefined;
  /** The next attempt to open a store whose file another process held. */
  private storeRetry: NodeJS.Timeout | undefined;
  private feed: LiveFeed | undefined;
  private service: ServerService | undefined;
  /** The connection the server's parts run on; attach() and detach() follow the NATS link. */
  private attached: NatsConnection | undefined;
  private attaching: Promise<void> = Promise.resolve();
  private readonly retentionTimer: NodeJS.Timeout;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(private readonly log: Logger, clientName = 'streamgate-server') {
    super();
    this.nats = new NatsLink(log, clientName);
    this.pods = new PodDirectory(log);
    this.profiling = new ProfileFeature(log, () => this.readyStore(), () => this.pods.current.map((p) => p.info), `${clientName}@${process.pid}`);
    this.analytics = new Analytics(this.windows, this.clients, () => this.readyStore(), () => this.analyticsMetrics());
    this.local = new LocalAnalytics(this.analytics, this.windows);
    this.predict = new PredictService({ log, windows: this.windows, nats: this.nats, pods: this.pods, api: () => this.api, settings: () => this.settings, mode: () => this.mode });
    this.localTraces = new LocalTraces(() => this.requireStore(), this.traceAttachments);
    this.localLogs = new LocalLogs(() => this.requireStore(), () => this.logIndex, this.logEvents, log);
    this.nats.on('status', (status) => {
      this.emitStatus();
      if (status.state !== 'connected' && status.state !== 'reconnecting') {
        this.pods.use(undefined);
        this.queueAttach(() => this.detach());
      }
    });
    this.nats.on('connected', (nc) => {
      this.pods.use(nc);
      this.queueAttach(() => this.attach(nc));
    });
    this.pods.on('changed', (pods) => void this.withLive(pods).then((decorated) => this.emit('pods', decorated)));
    this.retentionTimer = setInterval(() => void this.applyRetention(), RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
    this.pruneTimer = setInterval(() => this.windows.prune(), 60_000);
    this.pruneTimer.unref();
  }

  /** Where queries go: this server's own windows and store, or the shared server. */
  get api(): AnalyticsApi {
    return this.mode === 'shared' && this.remote ? this.remote : this.local;
  }

  /** Where SGQL queries run: this server's store, or the shared server's. */
  get queries(): QueryService {
    return this.mode === 'shared' && this.remoteQueries ? this.remoteQueries : this.localQueries;
  }

  /** Traces from this server's store, or from the shared server. */
  get traces(): TracesApi {
    return this.mode === 'shared' && this.remoteTraces ? this.remoteTraces : this.localTraces;
  }

  /** Log templates from this server's store and miner, or from the shared server. */
  get logs(): LogsApi {
    return this.mode === 'shared' && this.remoteLogs ? this.remoteLogs : this.localLogs;
  }

  status(): ServerStatus {
    return {
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt,
      uptimeMs: Date.now() - this.startedAt,
      nats: this.nats.status,
      store: this.storeStatus,
      mode: this.mode,
      ...(this.sharedServer ? { sharedServer: this.sharedServer } : {}),
      ...(this.ingest ? { ingest: { ...this.ingest.status } } : {}),
      ...(this.feed ? { live: this.feed.snapshot() } : {}),
      ...(this.profiling.status ? { profiling: this.profiling.status } : {}),
      memory: memoryNow(),
    };
  }

  /** Applies settings; resolves once the store is open (or has failed) — NATS connects in the background. */
  async configure(settings: ServerSettings): Promise<ServerStatus> {
    const previous = this.settings;
    this.settings = settings;
    const partsChanged = previous && (previous.mode !== settings.mode || previous.ingest !== settings.ingest);
    await this.nats.configure(settings.nats);
    if (JSON.stringify(settings.store) !== JSON.stringify(this.storeSettings)) {
      this.storeSettings = settings.store;
      this.storeQueue = this.storeQueue.then(() => this.reopenStore(settings.store));
    }
    await this.storeQueue;
    await this.profiling.configure(settings.profiling, this.ingest ? this.attached : undefined);
    if (partsChanged && this.nats.nc) {
      const nc = this.nats.nc;
      this.queueAttach(() => this.attach(nc));
    }
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

  private readyStore(): Store | undefined {
    return this.storeStatus.state === 'ready' ? this.store : undefined;
  }

  private analyticsMetrics(): AnalyticsMetrics {
    return { ...DEFAULT_ANALYTICS_METRICS, ...this.settings?.analytics?.metrics };
  }

  /** Pods with their live request figures from the last minute (left as they are when none can be had). */
  async withLive(pods: PodStatus[]): Promise<PodStatus[]> {
    if (pods.length === 0) return pods;
    try {
      const summary = await this.api.summary({ windowMs: 60_000 });
      const byPod = new Map(summary.services.flatMap((s) => s.pods.map((p) => [`${s.service}\u0000${p.pod}`, p] as const)));
      return pods.map((pod) => {
        const live = byPod.get(`${pod.info.service}\u0000${pod.info.pod}`);
        return live ? { ...pod, live: { rps: live.rps, p99: live.p99, errorRate: live.errorRate } } : pod;
      });
    } catch (error) {
      this.log.debug(`live figures for the Fleet view: ${errorMessage(error)}`);
      return pods;
    }
  }

  async dispose(): Promise<void> {
    clearTimeout(this.storeRetry);
    clearInterval(this.retentionTimer);
    clearInterval(this.pruneTimer);
    this.predict.dispose();
    this.pods.dispose();
    await this.attaching;
    await this.detach();
    await this.nats.close();
    await this.storeQueue;
    await this.store?.close().catch(() => {});
    this.store = undefined;
  }

  /**
   * Attaches and detaches run one after another. One that fails is logged and the queue goes on: a rejected link
   * would skip every later attach, and the server would never ingest again on any connection.
   */
  private queueAttach(work: () => Promise<void>): void {
    this.attaching = this.attaching.then(work).catch((error: unknown) => this.log.error(`attaching to NATS: ${errorMessage(error)}`));
  }

  /** Starts the server's parts on a (new) connection, in the mode the settings ask for. */
  private async attach(nc: NatsConnection): Promise<void> {
    await this.detach();
    if (nc.isClosed()) return;
    const wanted = this.settings?.mode ?? 'embedded';
    let mode: ServerMode = wanted === 'shared' ? 'shared' : 'embedded';
    if (wanted !== 'embedded') {
      const servers = await findServers(nc).catch(() => []);
      const shared = servers[0];
      if (shared) {
        mode = 'shared';
        this.sharedServer = { id: shared.id, version: shared.version, store: shared.metadata.store ?? 'unknown', ingest: shared.metadata.ingest === 'true' };
      } else if (wanted === 'shared') {
        this.log.warn('shared mode: no sg-server answers on this NATS yet; views stay empty until one does');
      }
    }
    // Mode first, then the connection: a store that opens meanwhile must not start an ingest for a shared editor.
    this.mode = mode;
    this.attached = nc;
    if (mode === 'shared') {
      this.remote = new RemoteAnalytics(nc);
      this.profiling.useShared(nc);
      this.remoteTraces = new RemoteTraces(nc);
      this.remoteLogs = new RemoteLogs(nc);
      this.remoteQueries = new RemoteQueries(nc);
      this.log.info(`shared mode: serving views from ${this.sharedServer ? `sg-server ${this.sharedServer.id} (${this.sharedServer.store})` : 'the sg-server group'}`);
      this.emitStatus();
      return;
    }
    // Each step on the connection gives way when the connection closes first (the server was pointed elsewhere
    // while attaching): a step waiting on a closed connection must not hold up the next connection's attach.
    const streams = ensureStreams(nc).then(
      (changes) => this.log.info(`streams: ${Object.entries(changes).map(([name, change]) => `${name} ${change}`).join(', ')}`),
      (error: unknown) => this.log.error(errorMessage(error)),
    );
    if (!(await unlessClosed(nc, streams))) return;
    this.feed = new LiveFeed(nc, this.windows, this.clients, this.log);
    this.feed.on('status', () => this.emitStatus());
    if (!(await unlessClosed(nc, this.feed.start().catch((error: unknown) => this.log.error(`live windows: ${errorMessage(error)}`))))) return;
    if (!(await unlessClosed(nc, this.startIngest()))) return;
    const service = ServerService.start(
      nc,
      this.local,
      { store: this.storeStatus.location ? `${this.storeStatus.kind} ${this.storeStatus.location}` : this.storeStatus.kind, ingest: String(this.settings?.ingest !== false), startedAt: new Date(this.startedAt).toISOString() },
      this.log,
      { traces: this.localTraces, logs: this.localLogs, queries: this.localQueries, predict: this.predict },
    ).then(
      (started) => {
        // Registered after the connection moved on: the next attach has its own.
        if (this.attached === nc) this.service = started;
        else void started.stop();
      },
      (error: unknown) => this.log.error(`registering the sg-server service: ${errorMessage(error)}`),
    );
    if (!(await unlessClosed(nc, service))) return;
    if (this.service) this.profiling.register(nc, this.service);
    this.emitStatus();
  }

  private async startIngest(): Promise<void> {
    const nc = this.attached;
    const store = this.readyStore();
    if (!nc || !store || this.mode !== 'embedded' || this.settings?.ingest === false || this.ingest || this.ingestOpening) return;
    this.ingestOpening = true;
    let logIndex: LogTemplateIndex;
    try {
      logIndex = await LogTemplateIndex.open(store, this.logEvents, this.log);
    } finally {
      this.ingestOpening = false;
    }
    // The connection moved on while the index opened: this index is for the old one. An attach to the new
    // connection found this one opening and left the ingest to it, so start it there.
    if (this.attached !== nc || nc.isClosed()) {
      await logIndex.close();
      const current = this.attached;
      if (current && current !== nc && !current.isClosed()) await this.startIngest();
      return;
    }
    const ingest = new TelemetryIngest(nc, store, this.log, {}, logIndex);
    ingest.on('status', () => this.emitStatus());
    this.ingest = ingest;
    this.logIndex = logIndex;
    // It never fails to start: a NATS not ready yet pauses it (with the reason in the status) until it is.
    await ingest.start();
    // Profiling runs with the ingest: only an ingesting server writes profiles to its store.
    await this.profiling.start(nc, this.settings?.profiling);
  }

  private async stopIngest(): Promise<void> {
    const ingest = this.ingest;
    const logIndex = this.logIndex;
    this.ingest = undefined;
    await this.quietly('profile collection', () => this.profiling.stop());
    await this.quietly('the ingest', () => ingest?.stop());
    // After the ingest stopped: the state saved holds every line it mined.
    this.logIndex = undefined;
    await this.quietly('the log template index', () => logIndex?.close());
  }

  /**
   * Stops what runs on the attached connection. Every part is stopped even when another fails to (stopping on a
   * connection that has just closed throws): a part left running would keep the next attach from starting its own.
   */
  private async detach(): Promise<void> {
    const service = this.service;
    this.service = undefined;
    await this.quietly('the sg-server service', () => service?.stop());
    await this.stopIngest();
    const feed = this.feed;
    this.feed = undefined;
    await this.quietly('the live windows', () => feed?.stop());
    this.remote = undefined;
    this.profiling.useShared(undefined);
    this.remoteTraces = undefined;
    this.remoteLogs = undefined;
    this.remoteQueries = undefined;
    this.sharedServer = undefined;
    this.attached = undefined;
  }

  private async quietly(what: string, work: () => Promise<unknown> | undefined): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.log.warn(`stopping ${what}: ${errorMessage(error)}`);
    }
  }

  private async applyRetention(): Promise<void> {
    const store = this.readyStore();
    if (!store || !this.ingest) return;
    const days = this.settings?.retentionDays;
    const profileDays = this.settings?.profiling?.retentionDays;
    const retention = Object.fromEntries(TABLES.map((t) => [t, days ?? (t === 'profiles' ? profileDays : undefined) ?? DEFAULT_RETENTION_DAYS[t]])) as Record<TableName, number>;
    await store.applyRetention(retention).catch((error: unknown) => this.log.warn(`retention: ${errorMessage(error)}`));
  }

  private async reopenStore(settings: StoreSettings): Promise<void> {
    clearTimeout(this.storeRetry);
    await this.stopIngest();
    await this.store?.close().catch((error: unknown) => this.log.warn(`closing the store: ${errorMessage(error)}`));
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
      // Another process holds the DuckDB file: often the server this one replaces, still closing it. Try again
      // while these are still the settings.
      if (/in use by another process/.test(reason)) {
        clearTimeout(this.storeRetry);
        this.storeRetry = setTimeout(() => {
          if (this.storeSettings === settings) this.storeQueue = this.storeQueue.then(() => this.reopenStore(settings));
        }, STORE_RETRY_MS);
      }
      return;
    }
    await this.startIngest();
    void this.applyRetention();
  }

  private setStore(status: Omit<StoreStatus, 'since'>): void {
    this.storeStatus = { ...status, since: Date.now() };
    this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', this.status());
  }
}

/** Waits for `work` or for `nc` to close, whichever comes first; false when the connection closed first. */
async function unlessClosed(nc: NatsConnection, work: Promise<unknown>): Promise<boolean> {
  let closed = false;
  await Promise.race([work, nc.closed().then(() => (closed = true))]);
  return !closed;
}

function memoryNow(): ServerStatus['memory'] {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external };
}
