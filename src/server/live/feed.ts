/**
 * Fills the live windows from JetStream. Every server reads everything here (ordered consumers, one per kind
 * the windows use), even when several servers share the ingest consumer, so each one's live figures are whole.
 * On start it replays the last 15 minutes from the stream, so a restarted server's windows are full at once.
 */
import { EventEmitter } from 'node:events';
import { DeliverPolicy, type ConsumerMessages, type NatsConnection } from 'nats';
import { errorMessage, type Logger } from '../../common/logger';
import { TELEMETRY_STREAM } from '../../protocol/nats';
import type { LiveStatus } from '../../protocol/status';
import { decodeTelemetry } from '../telemetry/decode';
import { metricPoints } from '../telemetry/points';
import type { LiveClients } from './clients';
import { LIVE_RETENTION_MS, type LiveWindows } from './windows';

const FEEDS = ['sg.tel.metrics.>', 'sg.tel.events.>', 'sg.tel.logs.>'];

export class LiveFeed extends EventEmitter<{ status: [LiveStatus] }> {
  private readonly consumers: ConsumerMessages[] = [];
  private running = false;
  private readonly caughtUp = new Set<string>();
  readonly status: LiveStatus = { state: 'stopped', series: 0, points: 0, refused: 0, newestAt: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly windows: LiveWindows,
    private readonly clients: LiveClients,
    private readonly log: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.set({ state: 'warming' });
    const js = this.nc.jetstream();
    const since = new Date(Date.now() - LIVE_RETENTION_MS).toISOString();
    for (const filter of FEEDS) {
      const consumer = await js.consumers.get(TELEMETRY_STREAM, { filterSubjects: filter, deliver_policy: DeliverPolicy.StartTime, opt_start_time: since });
      const messages = await consumer.consume({ max_messages: 2000 });
      this.consumers.push(messages);
      // Nothing to replay on this subject: it is caught up from the start.
      if ((await consumer.info(true)).num_pending === 0) this.markCaughtUp(filter);
      void this.read(filter, messages);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const messages of this.consumers.splice(0)) messages.stop();
    this.set({ state: 'stopped' });
  }

  private async read(filter: string, messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        const decoded = decodeTelemetry(m.subject, m.data);
        if (!decoded.ok) {
          this.status.refused++;
          continue;
        }
        const { message } = decoded;
        const now = Date.now();
        for (const point of metricPoints(message, decoded.distributions)) this.windows.add(point, now);
        if (message.kind === 'events') this.clients.add(message, now);
        if (message.ts > this.status.newestAt) this.status.newestAt = message.ts;
        if (m.info.pending === 0) this.markCaughtUp(filter);
      }
    } catch (error) {
      if (this.running) this.log.warn(`live feed ${filter}: ${errorMessage(error)}`);
    }
  }

  private markCaughtUp(filter: string): void {
    if (this.caughtUp.has(filter)) return;
    this.caughtUp.add(filter);
    if (this.caughtUp.size === FEEDS.length) this.set({ state: 'live' });
  }

  private set(patch: Partial<LiveStatus>): void {
    Object.assign(this.status, patch, { series: this.windows.size, points: this.windows.stats.points });
    this.emit('status', { ...this.status });
  }

  /** The current figures (series and points move with every message, so they are read on demand). */
  snapshot(): LiveStatus {
    return { ...this.status, series: this.windows.size, points: this.windows.stats.points };
  }
}
