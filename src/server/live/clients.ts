/**
 * Which clients of which tenants started sessions, second by second, for the last 16 minutes: what retention
 * per tenant needs and a metric cannot hold (a set, not a count).
 *
 * Each (tenant, client) keeps one bit per second of the window in a ring, so the memory follows the number of
 * distinct clients, not the rate: at 20 000 session starts a second from 8 000 clients it is a few MB, where a
 * list of sightings would have held only the last half minute within any sane bound. Clients beyond
 * `maxClients` evict the ones seen longest ago.
 */
import { LIVE_RETENTION_MS, RESOLUTION_MS } from './windows';
import type { EventBatch } from '../../protocol/nats';

/** Seconds each client's ring covers: the live windows' retention. */
const SLOTS = LIVE_RETENTION_MS / RESOLUTION_MS;

/** One client of one tenant: a bit per second it started a session in, for the SLOTS seconds up to `last`. */
interface Client {
  tenant: string;
  client: string;
  bits: Uint8Array;
  /** The newest second (epoch seconds) it was seen in. */
  last: number;
}

/** Per tenant, the clients seen in the first half of a range and in the second. */
export type ClientHalves = Map<string, { first: Set<string>; second: Set<string> }>;

export class LiveClients {
  /** Keyed by tenant and client; kept in the order they were last seen (oldest first). */
  private readonly clients = new Map<string, Client>();

  constructor(private readonly maxClients = 200_000) {}

  get size(): number {
    return this.clients.size;
  }

  add(batch: EventBatch, now = Date.now()): void {
    const oldest = Math.floor((now - LIVE_RETENTION_MS) / 1000);
    for (const e of batch.events) {
      const client = e.attrs?.client;
      if (e.type !== 'session.started' || !e.tenant || typeof client !== 'string') continue;
      const second = Math.floor(e.ts / 1000);
      if (second < oldest) continue;
      const key = `${e.tenant}\u0000${client}`;
      let entry = this.clients.get(key);
      if (!entry) {
        entry = { tenant: e.tenant, client, bits: new Uint8Array(Math.ceil(SLOTS / 8)), last: second };
        this.clients.set(key, entry);
      } else if (second > entry.last) {
        clearBetween(entry, second);
        // Seen anew: to the end of the map, which stays ordered by last sighting.
        this.clients.delete(key);
        this.clients.set(key, entry);
      } else if (second <= entry.last - SLOTS) {
        continue; // older than the ring reaches
      }
      entry.bits[(second % SLOTS) >> 3]! |= 1 << (second % SLOTS & 7);
    }
    this.prune(now);
  }

  /** Per tenant (only `tenant` when given), the clients seen in [from, mid) and in [mid, to), epoch ms. */
  halves(from: number, mid: number, to: number, tenant?: string, now = Date.now()): ClientHalves {
    this.prune(now);
    const out: ClientHalves = new Map();
    for (const entry of this.clients.values()) {
      if (tenant && entry.tenant !== tenant) continue;
      const first = seenBetween(entry, from, mid);
      const second = seenBetween(entry, mid, to);
      if (!first && !second) continue;
      let halves = out.get(entry.tenant);
      if (!halves) out.set(entry.tenant, (halves = { first: new Set(), second: new Set() }));
      if (first) halves.first.add(entry.client);
      if (second) halves.second.add(entry.client);
    }
    return out;
  }

  /** Drops clients not seen within the window, and the longest unseen past `maxClients`. */
  private prune(now: number): void {
    const oldest = Math.floor((now - LIVE_RETENTION_MS) / 1000);
    for (const [key, entry] of this.clients) {
      if (entry.last >= oldest && this.clients.size <= this.maxClients) break;
      this.clients.delete(key);
    }
  }
}

/** Clears the bits of the seconds after `entry.last` up to `second` (they wrap onto seconds leaving the ring). */
function clearBetween(entry: Client, second: number): void {
  if (second - entry.last >= SLOTS) entry.bits.fill(0);
  else for (let s = entry.last + 1; s <= second; s++) entry.bits[(s % SLOTS) >> 3]! &= ~(1 << (s % SLOTS & 7));
  entry.last = second;
}

/** Whether the client was seen in a second within [from, to), epoch ms. */
function seenBetween(entry: Client, from: number, to: number): boolean {
  const start = Math.max(Math.ceil(from / 1000), entry.last - SLOTS + 1);
  const end = Math.min(Math.ceil(to / 1000) - 1, entry.last);
  for (let s = start; s <= end; ) {
    const slot = s % SLOTS;
    const byte = entry.bits[slot >> 3]!;
    // A byte with no second set is skipped whole (when the 8 seconds it holds are all in the range).
    if (byte === 0 && (slot & 7) === 0 && slot + 7 < SLOTS && s + 7 <= end) {
      s += 8;
      continue;
    }
    if (byte & (1 << (slot & 7))) return true;
    s++;
  }
  return false;
}
