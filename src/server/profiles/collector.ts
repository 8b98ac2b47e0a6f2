/**
 * Continuous profiling: every target is profiled once per interval (default a minute) — a CPU profile (default
 * 10 s) and a heap profile from each Node pod over NATS, and from each Go target over HTTP its CPU, heap and
 * goroutine profiles plus block and mutex where the program enabled them. Targets are spread evenly over the
 * interval (in the order of their names), so pods are never all profiled at once; each pod's round is taken by
 * one server only (roundLease.ts). What is collected goes to the store (profileStore.ts).
 */
import { EventEmitter } from 'node:events';
import type { NatsConnection } from 'nats';
import { errorMessage, type Logger } from '../../common/logger';
import { fetchProfile } from '../../common/podClient';
import type { PodInfo } from '../../protocol/nats';
import type { StoredProfileType } from '../../protocol/profiles';
import type { PprofTarget, ProfilingSettings } from '../../protocol/settings';
import type { ProfilingStatus } from '../../protocol/status';
import { decodeProfile } from './decode';
import type { ProfileStore, ProfileTarget, StoredProfileMeta } from './profileStore';
import { scrapePprof } from './pprofScrape';
import type { RoundLease } from './roundLease';

export const DEFAULT_INTERVAL_SECONDS = 60;
export const DEFAULT_CPU_SECONDS = 10;
/** Go profile types taken each round (block and mutex only while they hold samples). */
const GO_TYPES: StoredProfileType[] = ['cpu', 'heap', 'goroutine', 'block', 'mutex'];
/** Rounds an empty block or mutex profile is not asked for again. */
const DISABLED_ROUNDS = 10;

export interface CollectionTarget extends ProfileTarget {
  /** How it is profiled: over NATS through the agent, or net/http/pprof at this base URL. */
  via: { kind: 'nats' } | { kind: 'http'; url: string };
}

/** The targets of a fleet: Node pods through the agent, Go pods that announce a pprof URL, and the settings' targets. */
export function collectionTargets(pods: readonly PodInfo[], configured: readonly PprofTarget[]): CollectionTarget[] {
  const out = new Map<string, CollectionTarget>();
  for (const pod of pods) {
    const base = { service: pod.service, pod: pod.pod, version: pod.version, labels: pod.labels };
    if (pod.runtime === 'go') {
      if (pod.pprof) out.set(pod.pod, { ...base, runtime: 'go', via: { kind: 'http', url: pod.pprof } });
    } else out.set(pod.pod, { ...base, runtime: 'node', via: { kind: 'nats' } });
  }
  for (const t of configured) {
    if (!out.has(t.pod)) out.set(t.pod, { service: t.service, pod: t.pod, version: t.version ?? '', runtime: 'go', labels: t.labels ?? {}, via: { kind: 'http', url: t.url } });
  }
  return [...out.values()].sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
}

export type CollectorStatus = ProfilingStatus;

export interface CollectorDeps {
  nc: NatsConnection;
  store: ProfileStore;
  pods: () => readonly PodInfo[];
  lease: RoundLease;
  log: Logger;
  /** Who collected, kept with each row. */
  serverId: string;
}

export class ProfileCollector extends EventEmitter<{ stored: [StoredProfileMeta]; round: [{ pod: string; round: number }] }> {
  readonly intervalMs: number;
  readonly cpuSeconds: number;
  private readonly heap: boolean;
  private timer: NodeJS.Timeout | undefined;
  private readonly lastRound = new Map<string, number>();
  private readonly lastStart = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly disabledUntil = new Map<string, number>();
  private readonly abort = new AbortController();
  private readonly counters: CollectorStatus;

  constructor(private readonly deps: CollectorDeps, private readonly settings: ProfilingSettings = {}) {
    super();
    this.intervalMs = (settings.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS) * 1000;
    // A CPU profile must end before the pod's next round starts.
    this.cpuSeconds = Math.max(1, Math.min(settings.cpuSeconds ?? DEFAULT_CPU_SECONDS, Math.floor(this.intervalMs / 1000) - 2));
    this.heap = settings.heap ?? true;
    this.counters = { intervalSeconds: this.intervalMs / 1000, cpuSeconds: this.cpuSeconds, targets: 0, stored: 0, rounds: 0, leasedElsewhere: 0, failures: 0 };
  }

  get status(): CollectorStatus {
    return { ...this.counters };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), 250);
    this.timer.unref();
    this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Starts the rounds that are due: target i of n at offset i·interval/n within each interval. */
  private tick(): void {
    const now = Date.now();
    const targets = collectionTargets(this.deps.pods(), this.settings.targets ?? []);
    this.counters.targets = targets.length;
    targets.forEach((target, i) => {
      const offset = Math.floor((i * this.intervalMs) / targets.length);
      const round = Math.floor((now - offset) / this.intervalMs);
      const last = this.lastRound.get(target.pod);
      if (last === undefined) {
        // First seen mid-round: its first slot is the next one, so a fresh server does not profile everyone at once.
        this.lastRound.set(target.pod, round);
        return;
      }
      if (round <= last || this.running.has(target.pod)) return;
      // Offsets move when pods come and go; never profile a pod twice within half an interval.
      if (now - (this.lastStart.get(target.pod) ?? 0) < this.intervalMs / 2) return;
      this.lastRound.set(target.pod, round);
      const run = this.collect(target, round).finally(() => this.running.delete(target.pod));
      this.running.set(target.pod, run);
    });
  }

  private stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async collect(target: CollectionTarget, round: number): Promise<void> {
    // Servers of a group tick in step: the one whose timer happens to fire first would take every lease. A random
    // wait (a tenth of the interval, at most a second) before asking spreads the rounds over the servers.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1000, this.intervalMs / 10)));
    if (this.stopped()) return;
    if (!(await this.deps.lease.acquire(target.pod, round, this.intervalMs))) {
      this.counters.leasedElsewhere++;
      return;
    }
    this.lastStart.set(target.pod, Date.now());
    this.counters.rounds++;
    const types: StoredProfileType[] = target.via.kind === 'nats' ? (this.heap ? ['heap', 'cpu'] : ['cpu']) : GO_TYPES.filter((t) => t !== 'heap' || this.heap);
    // One request at a time: the snapshots (instant) first, so converting them does not land in the CPU profile.
    for (const type of [...types.filter((t) => t !== 'cpu'), 'cpu' as const]) {
      if (this.abort.signal.aborted) return;
      await this.take(target, type, round);
    }
    this.emit('round', { pod: target.pod, round });
  }

  private async take(target: CollectionTarget, type: StoredProfileType, round: number): Promise<void> {
    const key = `${target.pod}/${type}`;
    if ((this.disabledUntil.get(key) ?? -1) > round) return;
    const requestedAt = Date.now();
    let bytes: Uint8Array;
    try {
      bytes =
        target.via.kind === 'nats'
          ? await fetchProfile(this.deps.nc, target.pod, type === 'cpu' ? { type: 'cpu', seconds: this.cpuSeconds, timeline: true } : { type: 'heap' })
          : await scrapePprof(target.via.url, type, this.cpuSeconds, this.abort.signal);
    } catch (error) {
      if (this.abort.signal.aborted) return;
      this.fail(`${type} profile of ${target.pod}: ${errorMessage(error)}`);
      return;
    }
    if ((type === 'block' || type === 'mutex') && isEmpty(bytes)) {
      this.disabledUntil.set(key, round + DISABLED_ROUNDS);
      return;
    }
    try {
      const meta = await this.deps.store.add({ type, target, requestedAt, receivedAt: Date.now(), source: target.via.kind, bytes, collector: this.deps.serverId });
      this.counters.stored++;
      this.counters.lastStoredAt = Date.now();
      this.emit('stored', meta);
    } catch (error) {
      this.fail(`storing the ${type} profile of ${target.pod}: ${errorMessage(error)}`);
    }
  }

  private fail(message: string): void {
    this.counters.failures++;
    this.counters.lastError = message;
    this.deps.log.warn(`profiling: ${message}`);
  }
}

function isEmpty(bytes: Uint8Array): boolean {
  try {
    return decodeProfile(bytes, 'probe').sampleCount === 0;
  } catch {
    return false; // a broken profile is reported when it is stored
  }
}
