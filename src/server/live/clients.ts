/**
 * Which clients of which tenants started sessions, second by second, for the last 15 minutes: what retention
 * per tenant needs and a metric cannot hold (a set, not a count). Bounded by the sessions started in the window.
 */
import { LIVE_RETENTION_MS } from './windows';
import type { EventBatch } from '../../protocol/nats';

export interface ClientSighting {
  ts: number;
  tenant: string;
  client: string;
}

export class LiveClients {
  private sightings: ClientSighting[] = [];
  private sorted = true;

  constructor(private readonly maxSightings = 500_000) {}

  add(batch: EventBatch, now = Date.now()): void {
    for (const e of batch.events) {
      const client = e.attrs?.client;
      if (e.type !== 'session.started' || !e.tenant || typeof client !== 'string' || e.ts < now - LIVE_RETENTION_MS) continue;
      const last = this.sightings[this.sightings.length - 1];
      if (last && e.ts < last.ts) this.sorted = false;
      this.sightings.push({ ts: e.ts, tenant: e.tenant, client });
    }
    if (this.sightings.length > this.maxSightings) this.sightings.splice(0, this.sightings.length - this.maxSightings);
  }

  /** Sightings with ts in [from, to). */
  between(from: number, to: number, now = Date.now()): ClientSighting[] {
    this.prune(now);
    return this.sightings.filter((s) => s.ts >= from && s.ts < to);
  }

  private prune(now: number): void {
    if (!this.sorted) {
      this.sightings.sort((a, b) => a.ts - b.ts);
      this.sorted = true;
    }
    const cutoff = now - LIVE_RETENTION_MS;
    let drop = 0;
    while (drop < this.sightings.length && this.sightings[drop]!.ts < cutoff) drop++;
    if (drop) this.sightings.splice(0, drop);
  }
}
