/**
 * The server's view of the fleet: every couple of seconds, who is live (services API) and how they are
 * (health endpoint). A pod that stops answering discovery drops out at the next poll.
 */
import { EventEmitter } from 'node:events';
import type { NatsConnection } from 'nats';
import { podStatuses } from '../common/podClient';
import { errorMessage, type Logger } from '../common/logger';
import type { PodStatus } from '../protocol/nats';

export class PodDirectory extends EventEmitter<{ changed: [PodStatus[]] }> {
  private pods: PodStatus[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The connection being polled; a poll that finishes after it changed is discarded. */
  private nc: NatsConnection | undefined;
  /** The poll in progress, if any: a refresh joins it rather than asking the fleet twice at once. */
  private polling: { nc: NatsConnection; done: Promise<void> } | undefined;

  constructor(private readonly log: Logger, private readonly intervalMs = 2000) {
    super();
  }

  get current(): PodStatus[] {
    return this.pods;
  }

  /** Starts polling on this connection (replacing any previous one); undefined stops and clears. */
  use(nc: NatsConnection | undefined): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.nc = nc;
    if (!nc) {
      this.publish([]);
      return;
    }
    const poll = () => void this.poll(nc);
    poll();
    this.timer = setInterval(poll, this.intervalMs);
    this.timer.unref();
  }

  /** Asks the fleet now (Refresh in the Fleet view) and resolves with what it answered. */
  async refresh(): Promise<PodStatus[]> {
    const nc = this.nc;
    if (!nc) return this.pods;
    // A poll already under way may have asked before the user did: wait for it, then ask again.
    if (this.polling?.nc === nc) await this.polling.done;
    await this.poll(nc);
    return this.pods;
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private poll(nc: NatsConnection): Promise<void> {
    if (this.polling?.nc === nc) return this.polling.done;
    if (nc.isClosed()) return Promise.resolve();
    const done = (async () => {
      try {
        const pods = await podStatuses(nc, { maxWaitMs: 1000, healthTimeoutMs: 1500 });
        if (nc === this.nc) this.publish(pods);
      } catch (error) {
        this.log.debug(`fleet poll failed: ${errorMessage(error)}`);
      } finally {
        if (this.polling?.nc === nc) this.polling = undefined;
      }
    })();
    this.polling = { nc, done };
    return done;
  }

  private publish(pods: PodStatus[]): void {
    const before = this.pods;
    this.pods = pods;
    // Health changes every poll; the event carries the whole list and the client re-renders.
    if (before.length || pods.length) this.emit('changed', pods);
  }
}
