/**
 * The adapter's side of NATS: one connection, the pods matching the session's selector (polled through
 * discovery), requests to their debug endpoints, the session's event subject, and the audit stream. It knows
 * nothing of DAP; the session turns what happens here into DAP events.
 */
import { hostname, userInfo } from 'node:os';
import { connect, DeliverPolicy, Events, type NatsConnection, type Subscription } from 'nats';
import { explainNatsError, natsConnectionOptions } from '../common/natsOptions';
import { listPods, PodError, requestDebug } from '../common/podClient';
import { flatSelector, type AttachArguments } from '../protocol/dap';
import {
  AUDIT_STREAM,
  AuditEventSchema,
  debugSessionSubjects,
  DebugEvalReplySchema,
  DebugEventSchema,
  DebugSyncReplySchema,
  type AuditEvent,
  type CapturedValue,
  type DebugEvent,
  type DebugSyncReply,
  type DebugSyncRequest,
  type PodInfo,
} from '../protocol/nats';
import { check } from '../protocol/schema';
import { redactUrl } from '../protocol/settings';

export interface FleetListener {
  podJoined(pod: PodInfo): void;
  podLeft(pod: PodInfo): void;
  event(event: DebugEvent): void;
  /** A message on the session's subject that is not a valid debug event. */
  badEvent(reason: string): void;
  reconnected(): void;
  disconnected(): void;
  /** NATS is gone for good: the session must end. */
  lost(reason: string): void;
}

const POLL_MS = 2000;
/**
 * A pod has left when it was missing from this many polls in a row over at least LEAVE_AFTER_MS (one slow
 * answer is not a departure, nor is a pod that is still reconnecting after a NATS restart).
 */
const MISSES_TO_LEAVE = 2;
const LEAVE_AFTER_MS = 5000;

export class FleetLink {
  readonly pods = new Map<string, PodInfo>();
  /** Pods missing from the last polls: how many polls, since when. */
  private readonly misses = new Map<string, { polls: number; since: number }>();
  /** Counts disconnections and reconnections: a poll that saw one proves nothing about who is there. */
  private connectionEpoch = 0;
  private subscription: Subscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closing = false;
  readonly url: string;

  private constructor(
    readonly nc: NatsConnection,
    readonly session: string,
    readonly identity: string,
    private readonly selector: Record<string, string> | undefined,
    private readonly listener: FleetListener,
    url: string,
  ) {
    this.url = url;
  }

  static async connect(config: AttachArguments, session: string, listener: FleetListener): Promise<FleetLink> {
    const url = redactUrl(config.nats);
    const reconnectMs = config.reconnectTimeoutMs ?? 60_000;
    const waitMs = 500;
    let nc: NatsConnection;
    try {
      nc = await connect({
        ...natsConnectionOptions({ ...config.natsOptions, url: config.nats }, `streamgate-debug ${session}`),
        timeout: config.connectTimeoutMs ?? 5000,
        reconnect: true,
        reconnectTimeWait: waitMs,
        reconnectJitter: 100,
        maxReconnectAttempts: Math.max(1, Math.ceil(reconnectMs / waitMs)),
        pingInterval: 5000,
      });
    } catch (error) {
      throw new Error(explainNatsError(error, url));
    }
    const identity = config.identity ?? config.natsOptions?.user ?? `${safeUser()}@${hostname()}`;
    const link = new FleetLink(nc, session, identity, flatSelector(config.selector), listener, url);
    link.watchConnection(reconnectMs);
    return link;
  }

  /** Subscribes to the session's events and starts following the fleet. */
  async start(): Promise<void> {
    this.subscription = this.nc.subscribe(debugSessionSubjects(this.session), {
      callback: (error, msg) => {
        if (error) return;
        let raw: unknown;
        try {
          raw = JSON.parse(new TextDecoder().decode(msg.data));
        } catch {
          this.listener.badEvent(`a message on ${msg.subject} is not JSON`);
          return;
        }
        const parsed = check(DebugEventSchema, raw);
        if (!parsed.ok) this.listener.badEvent(`a message on ${msg.subject} is not a debug event: ${parsed.error}`);
        else this.listener.event(parsed.value);
      },
    });
    await this.nc.flush();
    await this.poll();
    this.pollTimer = setInterval(() => void this.poll(), POLL_MS);
  }

  /** Asks discovery again now (also what the periodic poll does). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    if (this.closing || this.nc.isClosed()) return;
    const epoch = this.connectionEpoch;
    let live: PodInfo[];
    try {
      live = await listPods(this.nc, { ...(this.selector ? { selector: this.selector } : {}), maxWaitMs: 500 });
    } catch {
      return; // disconnected: the next poll after the reconnect tells
    }
    if (epoch !== this.connectionEpoch) return;
    const seen = new Set(live.map((p) => p.pod));
    for (const pod of live) {
      this.misses.delete(pod.pod);
      const known = this.pods.get(pod.pod);
      if (known && known.id === pod.id) continue;
      if (known) this.listener.podLeft(known); // same name, new process: a restart
      this.pods.set(pod.pod, pod);
      this.listener.podJoined(pod);
    }
    const now = Date.now();
    for (const [name, pod] of this.pods) {
      if (seen.has(name)) continue;
      const missed = this.misses.get(name);
      const misses = { polls: (missed?.polls ?? 0) + 1, since: missed?.since ?? now };
      this.misses.set(name, misses);
      if (misses.polls >= MISSES_TO_LEAVE && now - misses.since >= LEAVE_AFTER_MS) {
        this.pods.delete(name);
        this.misses.delete(name);
        this.listener.podLeft(pod);
      }
    }
  }

  async sync(pod: string, request: DebugSyncRequest, timeoutMs = 3000): Promise<DebugSyncReply> {
    const raw = await requestDebug(this.nc, pod, 'sync', request, timeoutMs);
    const parsed = check(DebugSyncReplySchema, raw);
    if (!parsed.ok) throw new PodError(pod, 502, `pod ${pod} answered sync with an unexpected shape: ${parsed.error}`);
    return parsed.value;
  }

  async evaluate(pod: string, expression: string): Promise<CapturedValue> {
    const raw = await requestDebug(this.nc, pod, 'eval', { session: this.session, identity: this.identity, expression }, 5000);
    const parsed = check(DebugEvalReplySchema, raw);
    if (!parsed.ok) throw new PodError(pod, 502, `pod ${pod} answered eval with an unexpected shape: ${parsed.error}`);
    return parsed.value.value;
  }

  /** The audit trail since `sinceMs` ago, oldest first. */
  async audit(sinceMs: number, limit: number): Promise<{ events: AuditEvent[]; note?: string }> {
    const js = this.nc.jetstream();
    let consumer;
    try {
      consumer = await js.consumers.get(AUDIT_STREAM, { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Date.now() - sinceMs).toISOString() });
    } catch (error) {
      if (/stream not found/i.test(String((error as Error).message))) return { events: [], note: 'no audit trail yet: no pod has been asked to debug since the stream was created' };
      throw error;
    }
    const events: AuditEvent[] = [];
    while (events.length < limit) {
      const batch = await consumer.fetch({ max_messages: Math.min(500, limit - events.length), expires: 1000 });
      let got = 0;
      for await (const msg of batch) {
        got++;
        const parsed = check(AuditEventSchema, msg.json());
        if (parsed.ok) events.push(parsed.value);
      }
      if (got === 0) break;
    }
    return { events };
  }

  private watchConnection(reconnectMs: number): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === Events.Reconnect) {
          this.connectionEpoch++;
          this.listener.reconnected();
          void this.poll();
        } else if (status.type === Events.Disconnect) {
          this.connectionEpoch++;
          this.listener.disconnected();
        }
      }
    })().catch(() => {});
    void this.nc.closed().then((error) => {
      if (this.closing) return;
      this.stopPolling();
      const why = error ? `: ${error.message}` : '';
      this.listener.lost(`the connection to NATS at ${this.url} is gone for good (no server answered for ${Math.round(reconnectMs / 1000)} s of reconnecting${why})`);
    });
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.stopPolling();
    this.subscription?.unsubscribe();
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
