/**
 * Telemetry from JetStream into the store, exactly once. Every ingesting server shares one durable consumer
 * (JetStream spreads the messages over them); a server acknowledges a message only after its rows are
 * written. A message seen again (redelivered after a crash, a NATS restart or a store outage) is checked
 * against the store table by table, so rows that made it are not written twice. Messages that fail
 * validation go to the dead-letter stream with the reason, are counted, and never stop ingest.
 */
import { EventEmitter } from 'node:events';
import { AckPolicy, DeliverPolicy, headers as natsHeaders, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { errorMessage, type Logger } from '../common/logger';
import { DEAD_LETTER_HEADERS, deadLetterSubject, INGEST_CONSUMER, TELEMETRY_STREAM, TELEMETRY_SUBJECTS } from '../protocol/nats';
import type { IngestStatus } from '../protocol/status';
import type { TelemetryMessage } from '../protocol/nats';
import type { Store } from './store';
import { emptyBatch, rowsOf, type RowBatch } from './store/rows';
import { TABLES } from './store/schema';
import { decodeTelemetry } from './telemetry/decode';
import { metricPoints } from './telemetry/points';

export interface IngestOptions {
  /** Messages written per batch at most. */
  batchMessages?: number;
  /** How long a partial batch waits for more, ms. */
  lingerMs?: number;
  /** How long JetStream waits for an acknowledgement before redelivering, ms. */
  ackWaitMs?: number;
}

const NS = 1_000_000;

/**
 * Adds rows that need state across messages (the log template miner): called for each new message after its
 * own rows are made, and with the rows of each batch once they are written.
 */
export interface IngestEnricher {
  enrich(message: TelemetryMessage, tables: Partial<RowBatch>): void;
  written(rows: RowBatch): void;
}

export class TelemetryIngest extends EventEmitter<{ status: [IngestStatus] }> {
  private running = false;
  /** The durable consumer was made (or found) on this connection; a NATS that lost it makes us make it again. */
  private consumerReady = false;
  /** Read through a getter: the flag changes while this class awaits, which narrowing cannot see. */
  private get active(): boolean {
    return this.running;
  }
  private messages: ConsumerMessages | undefined;
  private buffer: JsMsg[] = [];
  /** Whether the consumer is still delivering into the buffer. */
  private reading = false;
  /** Ids of the messages this server wrote lately: a copy arriving again is skipped without asking the store. */
  private readonly recent = new RecentIds(500_000);
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly options: Required<IngestOptions>;
  readonly status: IngestStatus = {
    state: 'stopped',
    messages: 0,
    rows: 0,
    deadLettered: 0,
    duplicates: 0,
    batches: 0,
    lastWriteAt: 0,
  };

  constructor(
    private readonly nc: NatsConnection,
    private readonly store: Store,
    private readonly log: Logger,
    options: IngestOptions = {},
    private readonly enricher?: IngestEnricher,
  ) {
    super();
    // A batch is written and acknowledged within a second or two; a server that died holding messages gives
    // them back to the others after ackWaitMs.
    this.options = { batchMessages: 1000, lingerMs: 200, ackWaitMs: 10_000, ...options };
  }

  /**
   * Starts reading; never fails: making the durable consumer is part of the loop, so a NATS that is slow or not
   * quite ready yet (a sandbox just started, JetStream still recovering) delays the ingest instead of ending it.
   */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.set({ state: 'starting' });
    // Ends on its own; one left behind by stop() on a closed connection must not become an unhandled rejection.
    this.loop = this.run().catch((error: unknown) => this.log.warn(`ingest: ${errorMessage(error)}`));
    return Promise.resolve();
  }

  /** Creates the durable consumer every ingesting server shares, or joins it when another made it first. */
  private async ensureConsumer(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    const config = {
      durable_name: INGEST_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: this.options.ackWaitMs * NS,
      max_ack_pending: 50_000,
      deliver_policy: DeliverPolicy.All,
      filter_subject: TELEMETRY_SUBJECTS,
      max_deliver: -1,
      description: 'StreamGate servers writing telemetry to their store',
    };
    try {
      await jsm.consumers.add(TELEMETRY_STREAM, config);
    } catch (error) {
      // Another server of the group made it first (same config): share it.
      if (!/already (exists|in use)/i.test(errorMessage(error))) throw error;
    }
    this.consumerReady = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.messages?.stop();
    this.wake?.();
    // A loop waiting on a connection that has closed (a consumer being made when the server moved on) never
    // ends; nothing of it can be acknowledged any more, and JetStream redelivers what it held.
    await Promise.race([this.loop, this.nc.closed()]);
    this.set({ state: 'stopped' });
  }

  private set(patch: Partial<IngestStatus>): void {
    Object.assign(this.status, patch);
    this.emit('status', { ...this.status });
  }

  private async run(): Promise<void> {
    const js = this.nc.jetstream();
    // A connection that is closing for good (the server moved to another NATS) ends the loop: the next one gets
    // an ingest of its own. One that is reconnecting does not.
    while (this.running && !this.nc.isClosed() && !this.nc.isDraining()) {
      try {
        await this.waitForStore();
        if (!this.active) break;
        if (!this.consumerReady) await this.ensureConsumer();
        const consumer = await js.consumers.get(TELEMETRY_STREAM, INGEST_CONSUMER);
        const messages = await consumer.consume({ max_messages: this.options.batchMessages * 2 });
        this.messages = messages;
        this.set({ state: 'running', reason: undefined });
        const reading = this.read(messages);
        await this.drain();
        messages.stop();
        await reading;
      } catch (error) {
        if (!this.active) break;
        if (/not found/i.test(errorMessage(error))) this.consumerReady = false;
        this.log.warn(`ingest: ${errorMessage(error)}; retrying in 1 s`);
        this.set({ state: 'paused', reason: errorMessage(error) });
        await sleep(1000);
      }
    }
    // Whatever is still buffered was never written: let JetStream give it to another server now.
    for (const m of this.buffer.splice(0)) m.nak();
  }

  /** Moves messages from the consumer into the buffer, waking the writer when a batch is full. */
  private async read(messages: ConsumerMessages): Promise<void> {
    this.reading = true;
    try {
      for await (const m of messages) {
        this.buffer.push(m);
        if (this.buffer.length >= this.options.batchMessages) this.wake?.();
        // The writer is behind (a slow store): stop pulling until it catches up.
        while (this.running && this.buffer.length >= this.options.batchMessages * 4) await sleep(20);
      }
    } finally {
      this.reading = false;
      this.wake?.();
    }
  }

  /** Writes batches until the consumer stops or the store fails (then it returns, and run() pauses). */
  private async drain(): Promise<void> {
    while (this.running) {
      if (this.buffer.length < this.options.batchMessages) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.lingerMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
      const batch = this.buffer.splice(0, this.options.batchMessages);
      if (batch.length === 0) {
        if (!this.reading) return;
        continue;
      }
      try {
        await this.process(batch);
      } catch (error) {
        // Not written: nothing of this batch or the buffer is acknowledged; JetStream redelivers it.
        for (const m of [...batch, ...this.buffer.splice(0)]) m.nak(1000);
        this.log.warn(`ingest paused: ${errorMessage(error)}`);
        this.set({ state: 'paused', reason: errorMessage(error) });
        return;
      }
    }
  }

  private async waitForStore(): Promise<void> {
    let delay = 250;
    while (this.running) {
      try {
        await this.store.ping();
        return;
      } catch (error) {
        this.set({ state: 'paused', reason: `the store is unreachable: ${errorMessage(error)}` });
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private async process(batch: JsMsg[]): Promise<void> {
    const rows = emptyBatch();
    const redelivered: { msgId: string; tables: Partial<RowBatch>; minTs: number }[] = [];
    const accepted: JsMsg[] = [];
    const seen = new Set<string>();
    for (const m of batch) {
      const decoded = decodeTelemetry(m.subject, m.data);
      if (!decoded.ok) {
        await this.deadLetter(m, decoded.reason);
        continue;
      }
      accepted.push(m);
      const { message } = decoded;
      if (seen.has(message.id) || this.recent.has(message.id)) {
        this.status.duplicates++;
        continue;
      }
      seen.add(message.id);
      const tables = rowsOf(message, metricPoints(message, decoded.distributions));
      this.enricher?.enrich(message, tables);
      // Seen before by some server (redelivered), or published without the header that lets JetStream drop
      // copies: the store says what it already has.
      if (m.redelivered || !m.headers?.get('Nats-Msg-Id')) {
        let minTs = message.ts;
        for (const list of Object.values(tables)) for (const row of list) minTs = Math.min(minTs, row.ts as number);
        redelivered.push({ msgId: message.id, tables, minTs });
      } else {
        append(rows, tables);
      }
    }
    if (redelivered.length) await this.keepMissing(redelivered, rows);
    await this.store.write(rows);
    this.enricher?.written(rows);
    for (const id of seen) this.recent.add(id);
    for (const m of accepted) m.ack();
    let written = 0;
    for (const table of TABLES) written += rows[table].length;
    this.set({
      messages: this.status.messages + accepted.length,
      rows: this.status.rows + written,
      batches: this.status.batches + 1,
      lastWriteAt: Date.now(),
    });
  }

  /** For messages seen before: only the tables that do not have their rows yet. */
  private async keepMissing(redelivered: { msgId: string; tables: Partial<RowBatch>; minTs: number }[], rows: RowBatch): Promise<void> {
    const minTs = Math.min(...redelivered.map((r) => r.minTs));
    for (const table of TABLES) {
      const candidates = redelivered.filter((r) => r.tables[table]?.length);
      if (!candidates.length) continue;
      const present = await this.store.presentMessageIds(table, candidates.map((r) => r.msgId), minTs);
      for (const r of candidates) {
        if (present.has(r.msgId)) this.status.duplicates++;
        else rows[table].push(...r.tables[table]!);
      }
    }
  }

  private async deadLetter(m: JsMsg, reason: string): Promise<void> {
    const h = natsHeaders();
    h.set(DEAD_LETTER_HEADERS.reason, reason.slice(0, 1000).replace(/[\r\n]+/g, ' '));
    h.set(DEAD_LETTER_HEADERS.subject, m.subject);
    h.set(DEAD_LETTER_HEADERS.streamSeq, String(m.seq));
    // The stream sequence makes the dead letter idempotent too: a redelivered bad message is stored once.
    await this.nc.jetstream().publish(deadLetterSubject(m.subject), m.data, { headers: h, msgID: `dlq.${TELEMETRY_STREAM}.${m.seq}` });
    m.ack();
    this.status.deadLettered++;
    this.log.debug(`dead-lettered ${m.subject} #${m.seq}: ${reason}`);
  }
}

/** A bounded set: the oldest ids go first once it is full. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
  }
}

function append(into: RowBatch, from: Partial<RowBatch>): void {
  for (const table of TABLES) {
    const list = from[table];
    if (list?.length) into[table].push(...list);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
