/**
 * The server's one NATS connection: connects with backoff until it works, then relies on the client's
 * own reconnect (forever) and reports every state change so the status bar can show it.
 */
import { EventEmitter } from 'node:events';
import { connect, type NatsConnection } from 'nats';
import { explainNatsError, natsConnectionOptions } from '../common/natsOptions';
import { errorMessage, type Logger } from '../common/logger';
import type { NatsSettings } from '../protocol/settings';
import { redactUrl } from '../protocol/settings';
import type { NatsState, NatsStatus } from '../protocol/status';

export class NatsLink extends EventEmitter<{ status: [NatsStatus]; connected: [NatsConnection] }> {
  private current: NatsStatus = { state: 'not-configured', since: Date.now() };
  private settings: NatsSettings | null = null;
  private connection: NatsConnection | undefined;
  /** Bumped on every reconfigure; a loop that sees a newer generation stops. */
  private generation = 0;

  constructor(private readonly log: Logger, private readonly clientName: string) {
    super();
  }

  get status(): NatsStatus {
    return this.current;
  }

  get nc(): NatsConnection | undefined {
    return this.current.state === 'connected' ? this.connection : undefined;
  }

  async configure(settings: NatsSettings | null): Promise<void> {
    if (JSON.stringify(settings) === JSON.stringify(this.settings)) return;
    this.settings = settings;
    const generation = ++this.generation;
    await this.closeConnection();
    // Closing can take a while (a connection to a server that went away); a newer configure may have
    // connected meanwhile, and this older one must not overwrite its state.
    if (generation !== this.generation) return;
    if (!settings) {
      this.set({ state: 'not-configured' });
      return;
    }
    void this.connectLoop(settings, generation);
  }

  async close(): Promise<void> {
    this.generation++;
    await this.closeConnection();
    this.set({ state: 'disconnected', url: this.current.url });
  }

  private async connectLoop(settings: NatsSettings, generation: number): Promise<void> {
    const url = redactUrl(settings.url);
    let delay = 500;
    while (generation === this.generation) {
      this.set({ state: 'connecting', url });
      let nc: NatsConnection;
      try {
        nc = await connect({
          ...natsConnectionOptions(settings, this.clientName),
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          timeout: 5000,
        });
      } catch (error) {
        if (generation !== this.generation) return;
        const reason = explainNatsError(error, url);
        this.log.warn(`${reason}; retrying in ${delay} ms`);
        this.set({ state: 'error', url, error: reason });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
        continue;
      }
      if (generation !== this.generation) {
        await nc.close().catch(() => {});
        return;
      }
      this.connection = nc;
      const info = nc.info;
      const server = info ? { name: info.server_name, version: info.version, jetstream: Boolean(info.jetstream) } : undefined;
      this.log.info(`connected to NATS ${url} (server ${server?.name ?? '?'} ${server?.version ?? ''})`);
      this.set({ state: 'connected', url, ...(server ? { server } : {}) });
      this.emit('connected', nc);
      void this.watch(nc, url, server, generation);
      const closedBy = await nc.closed();
      if (generation !== this.generation) return;
      this.log.warn(`NATS connection closed${closedBy ? `: ${errorMessage(closedBy)}` : ''}; reconnecting`);
      delay = 500;
    }
  }

  private async watch(nc: NatsConnection, url: string, server: NatsStatus['server'], generation: number): Promise<void> {
    for await (const event of nc.status()) {
      if (generation !== this.generation) return;
      let state: NatsState | undefined;
      if (event.type === 'disconnect') state = 'reconnecting';
      else if (event.type === 'reconnect') state = 'connected';
      if (state && state !== this.current.state) {
        this.log.info(`NATS ${state === 'connected' ? 'reconnected' : 'disconnected; reconnecting'} (${url})`);
        this.set({ state, url, ...(server ? { server } : {}) });
      }
    }
  }

  private async closeConnection(): Promise<void> {
    const nc = this.connection;
    this.connection = undefined;
    if (!nc || nc.isClosed()) return;
    // Draining needs the server; a connection waiting to reconnect is closed at once instead.
    if (this.current.state === 'connected') await nc.drain().catch(() => nc.close());
    else await nc.close().catch(() => {});
  }

  private set(status: Omit<NatsStatus, 'since'>): void {
    this.current = { ...status, since: Date.now() };
    this.emit('status', this.current);
  }
}
