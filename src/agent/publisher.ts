/**
 * Telemetry publishing that never blocks the application: producers push into bounded rings (O(1), oldest
 * dropped and counted when full); a flush builds batched messages a few hundred items at a time, yielding to
 * the event loop between batches; many JetStream publishes are kept in flight, and a failed one goes back to
 * the front of the queue with the same Nats-Msg-Id, so JetStream's duplicate window makes retries idempotent.
 */
import type { JetStreamClient } from 'nats';
import { PROTOCOL_VERSION, telemetrySubject, type TelemetryKind } from '../protocol/nats';
import { Ring } from './ring';

export type QueuedKind = 'spans' | 'events' | 'logs';

export interface PublisherOptions {
  service: string;
  pod: string;
  /** Distinguishes this process's message ids from an earlier run of the same pod. */
  bootId: string;
  /** Items buffered per kind before the oldest are dropped. */
  maxBufferedItems?: number;
  /** Items per message. */
  maxBatchItems?: number;
  /** JetStream publishes awaiting their ack at once. */
  maxInFlight?: number;
  /** Bytes of built messages waiting to be sent before the oldest are dropped. */
  maxPendingBytes?: number;
  publishTimeoutMs?: number;
}

interface Pending {
  kind: TelemetryKind;
  subject: string;
  id: string;
  data: Uint8Array;
  /** Items inside (events, spans, log records; 1 for metrics and truth). */
  count: number;
  attempts: number;
}

export interface PublisherStats {
  published: Record<TelemetryKind, number>;
  dropped: Record<TelemetryKind, number>;
  publishErrors: number;
  buffered: number;
  inFlight: number;
  lastPublishAt: number;
}

const zeroes = (): Record<TelemetryKind, number> => ({ metrics: 0, spans: 0, events: 0, logs: 0, truth: 0 });
const encoder = new TextEncoder();

export class TelemetryPublisher {
  private readonly queues: Record<QueuedKind, Ring<unknown>>;
  private readonly seq = zeroes();
  private readonly pending: Pending[] = [];
  private pendingBytes = 0;
  private inFlight = 0;
  private pausedUntil = 0;
  private pumpTimer: NodeJS.Timeout | undefined;
  private js: JetStreamClient | undefined;
  private draining: Promise<void> | undefined;
  private readonly options: Required<PublisherOptions>;
  readonly stats: PublisherStats = { published: zeroes(), dropped: zeroes(), publishErrors: 0, buffered: 0, inFlight: 0, lastPublishAt: 0 };
  private settledWaiters: (() => void)[] = [];

  constructor(options: PublisherOptions) {
    this.options = {
      maxBufferedItems: 100_000,
      maxBatchItems: 500,
      maxInFlight: 64,
      maxPendingBytes: 64 * 1024 * 1024,
      publishTimeoutMs: 5000,
      ...options,
    };
    const capacity = this.options.maxBufferedItems;
    this.queues = { spans: new Ring(capacity), events: new Ring(capacity), logs: new Ring(capacity) };
  }

  attach(js: JetStreamClient): void {
    this.js = js;
    this.pump();
  }

  /** O(1); never throws, never waits. */
  enqueue(kind: QueuedKind, item: unknown): void {
    if (this.queues[kind].push(item)) this.stats.dropped[kind]++;
  }

  /** A message built by the caller (metrics once a second, incident truth): sent as one message. */
  send(kind: 'metrics' | 'truth', body: Record<string, unknown>): void {
    this.push(kind, { ...this.envelope(kind), ...body }, 1);
  }

  /** Builds messages from everything queued and starts sending them. Yields between batches. */
  flush(): Promise<void> {
    this.draining ??= this.drainQueues().finally(() => (this.draining = undefined));
    return this.draining;
  }

  /** Resolves when nothing is queued, pending or in flight (or after `timeoutMs`). */
  async settled(timeoutMs = 10_000): Promise<boolean> {
    await this.flush();
    if (this.idle()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.settledWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  snapshot(): PublisherStats {
    this.stats.buffered = this.queues.spans.length + this.queues.events.length + this.queues.logs.length + this.pending.reduce((n, p) => n + p.count, 0);
    this.stats.inFlight = this.inFlight;
    return { ...this.stats, published: { ...this.stats.published }, dropped: { ...this.stats.dropped } };
  }

  stop(): void {
    clearTimeout(this.pumpTimer);
    this.js = undefined;
  }

  private idle(): boolean {
    return this.pending.length === 0 && this.inFlight === 0 && (Object.values(this.queues) as Ring<unknown>[]).every((q) => q.length === 0);
  }

  private async drainQueues(): Promise<void> {
    for (const kind of ['events', 'logs', 'spans'] as const) {
      const queue = this.queues[kind];
      while (queue.length > 0) {
        const items = queue.take(this.options.maxBatchItems);
        const field = kind === 'spans' ? 'resourceSpans' : kind;
        const body = kind === 'spans' ? groupSpans(items as SpanItem[], this.options.service, this.options.pod) : items;
        this.push(kind, { ...this.envelope(kind), [field]: body }, items.length);
        if (queue.length > 0) await new Promise((r) => setImmediate(r));
      }
    }
  }

  private envelope(kind: TelemetryKind) {
    const seq = this.seq[kind]++;
    return {
      v: PROTOCOL_VERSION,
      kind,
      id: `${this.options.pod}.${kind}.${this.options.bootId}.${seq}`,
      service: this.options.service,
      pod: this.options.pod,
      ts: Date.now(),
      seq,
    };
  }

  private push(kind: TelemetryKind, message: { id: string }, count: number): void {
    const data = encoder.encode(JSON.stringify(message));
    this.pending.push({ kind, subject: telemetrySubject(kind, this.options.service, this.options.pod), id: message.id, data, count, attempts: 0 });
    this.pendingBytes += data.byteLength;
    while (this.pendingBytes > this.options.maxPendingBytes && this.pending.length > 1) {
      const dropped = this.pending.shift()!;
      this.pendingBytes -= dropped.data.byteLength;
      this.stats.dropped[dropped.kind] += dropped.count;
    }
    this.pump();
  }

  private pump(): void {
    const js = this.js;
    if (!js) return;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      if (!this.pumpTimer) this.pumpTimer = setTimeout(() => ((this.pumpTimer = undefined), this.pump()), wait);
      return;
    }
    while (this.inFlight < this.options.maxInFlight && this.pending.length > 0) {
      const message = this.pending.shift()!;
      this.pendingBytes -= message.data.byteLength;
      this.inFlight++;
      js.publish(message.subject, message.data, { msgID: message.id, timeout: this.options.publishTimeoutMs }).then(
        () => {
          this.inFlight--;
          this.stats.published[message.kind] += message.count;
          this.stats.lastPublishAt = Date.now();
          this.pump();
          this.notifyIfIdle();
        },
        () => {
          this.inFlight--;
          this.stats.publishErrors++;
          message.attempts++;
          // Back to the front, same id: if the first try did land, JetStream drops the duplicate.
          this.pending.unshift(message);
          this.pendingBytes += message.data.byteLength;
          this.pausedUntil = Date.now() + Math.min(2000, 100 * 2 ** Math.min(message.attempts, 5));
          this.pump();
        },
      );
    }
  }

  private notifyIfIdle(): void {
    if (this.settledWaiters.length && this.idle()) for (const wake of this.settledWaiters.splice(0)) wake();
  }
}

/** What the span exporter queues: an OTLP span plus the instrumentation scope it came from. */
export interface SpanItem {
  scope: { name: string; version?: string };
  span: unknown;
}

function groupSpans(items: SpanItem[], service: string, pod: string) {
  const byScope = new Map<string, { scope: SpanItem['scope']; spans: unknown[] }>();
  for (const item of items) {
    const key = `${item.scope.name}@${item.scope.version ?? ''}`;
    let group = byScope.get(key);
    if (!group) byScope.set(key, (group = { scope: item.scope, spans: [] }));
    group.spans.push(item.span);
  }
  return [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: service } },
          { key: 'service.instance.id', value: { stringValue: pod } },
        ],
      },
      scopeSpans: [...byScope.values()],
    },
  ];
}
