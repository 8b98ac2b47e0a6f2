/**
 * Which ingesting server profiles a pod in a round. Every server schedules every pod; before collecting, it
 * creates the key `<interval>.<pod>.<round>` in a JetStream key-value bucket. Creating a key that exists fails,
 * so exactly one server wins each pod's round, whoever is up: a server that dies simply stops winning, and the
 * next round goes to another. Keys expire after a few rounds (the bucket's TTL).
 */
import type { KV, NatsConnection } from 'nats';
import { errorMessage, type Logger } from '../../common/logger';
import { subjectToken } from '../../protocol/nats';

export const LEASE_BUCKET = 'sg_profile_rounds';

export interface RoundLease {
  /** True when this server should collect `pod`'s round `round`. */
  acquire(pod: string, round: number, intervalMs: number): Promise<boolean>;
}

export class KvRoundLease implements RoundLease {
  private kv: Promise<KV | undefined> | undefined;
  private warned = false;

  constructor(private readonly nc: NatsConnection, private readonly serverId: string, private readonly log: Logger, private readonly ttlMs = 10 * 60_000) {}

  private bucket(): Promise<KV | undefined> {
    this.kv ??= this.nc
      .jetstream()
      .views.kv(LEASE_BUCKET, { history: 1, ttl: this.ttlMs, description: 'StreamGate: which server profiles which pod in which round' })
      .catch((error: unknown) => {
        this.kv = undefined; // try again next round
        this.noLease(error);
        return undefined;
      });
    return this.kv;
  }

  async acquire(pod: string, round: number, intervalMs: number): Promise<boolean> {
    const kv = await this.bucket();
    if (!kv) return true;
    const key = `${Math.round(intervalMs / 1000)}.${subjectToken(pod).replace(/[^-/_=.a-zA-Z0-9]/g, '_')}.${round}`;
    try {
      await kv.create(key, new TextEncoder().encode(this.serverId));
      return true;
    } catch (error) {
      if (/wrong last sequence|key exists/i.test(errorMessage(error))) return false;
      this.noLease(error);
      return true;
    }
  }

  /** Without the bucket (no JetStream, no permission) collecting twice beats not collecting: say so once. */
  private noLease(error: unknown): void {
    if (this.warned) return;
    this.warned = true;
    this.log.warn(`profile rounds are not coordinated with other servers (the ${LEASE_BUCKET} bucket is unavailable: ${errorMessage(error)}); each ingesting server profiles every pod`);
  }
}
