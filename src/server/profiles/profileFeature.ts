/**
 * Continuous profiling as a part of the Backend: the collector (only while this server ingests), the stored
 * profiles' queries (this store, or a shared server's in shared mode) and their endpoints on sg-server.
 */
import type { NatsConnection } from 'nats';
import { errorMessage, type Logger } from '../../common/logger';
import type { PodInfo } from '../../protocol/nats';
import type { ProfilingSettings } from '../../protocol/settings';
import type { ServerService } from '../serverService';
import type { Store } from '../store';
import { ProfileCollector, type CollectorStatus } from './collector';
import { LocalProfiles, type ProfilesApi } from './fleetProfiles';
import { RemoteProfiles } from './profileClient';
import { registerProfileEndpoints } from './profileService';
import { ProfileStore, type StoredProfileMeta } from './profileStore';
import { KvRoundLease } from './roundLease';
import { SourceLines } from './sourceLines';

export class ProfileFeature {
  readonly store: ProfileStore;
  private readonly local: LocalProfiles;
  private remote: RemoteProfiles | undefined;
  private collector: ProfileCollector | undefined;
  private settings: ProfilingSettings | undefined;
  private sources: SourceLines;
  private readonly listeners = new Set<(meta: StoredProfileMeta) => void>();

  constructor(
    private readonly log: Logger,
    store: () => Store | undefined,
    private readonly pods: () => readonly PodInfo[],
    private readonly serverId: string,
  ) {
    this.store = new ProfileStore(store);
    this.sources = new SourceLines([process.cwd()]);
    this.local = new LocalProfiles(this.store, (file, line) => this.sources.line(file, line));
  }

  /** This server's store, or the shared server's in shared mode. */
  get api(): ProfilesApi {
    return this.remote ?? this.local;
  }

  get status(): CollectorStatus | undefined {
    return this.collector?.status;
  }

  /** Where the rules read source lines (the workspace folders; the working directory by default). */
  setSourceRoots(roots: readonly string[]): void {
    this.sources = new SourceLines(roots.length ? roots : [process.cwd()]);
  }

  /** Called with every profile this server stores. */
  onStored(listener: (meta: StoredProfileMeta) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  useShared(nc: NatsConnection | undefined): void {
    this.remote = nc ? new RemoteProfiles(nc) : undefined;
  }

  register(nc: NatsConnection, service: ServerService): void {
    registerProfileEndpoints(nc, service, this.local, this.log);
  }

  /** Starts collecting on `nc` (the server ingests); a change of settings restarts it. */
  async start(nc: NatsConnection, settings: ProfilingSettings | undefined): Promise<void> {
    await this.stop();
    this.settings = settings;
    if (settings?.enabled === false) return;
    const collector = new ProfileCollector({ nc, store: this.store, pods: this.pods, lease: new KvRoundLease(nc, this.serverId, this.log), log: this.log, serverId: this.serverId }, settings ?? {});
    collector.on('stored', (meta) => {
      for (const listener of this.listeners) {
        try {
          listener(meta);
        } catch (error) {
          this.log.warn(`profiling listener: ${errorMessage(error)}`);
        }
      }
    });
    this.collector = collector;
    collector.start();
    this.log.info(`profiling: every ${collector.intervalMs / 1000} s a ${collector.cpuSeconds} s CPU profile${settings?.heap === false ? '' : ' and a heap profile'} of each pod`);
  }

  /** Applies new settings to a running collector. */
  async configure(settings: ProfilingSettings | undefined, nc: NatsConnection | undefined): Promise<void> {
    if (JSON.stringify(settings) === JSON.stringify(this.settings)) return;
    this.settings = settings;
    if (this.collector && nc) await this.start(nc, settings);
  }

  async stop(): Promise<void> {
    const collector = this.collector;
    this.collector = undefined;
    await collector?.stop();
  }
}
