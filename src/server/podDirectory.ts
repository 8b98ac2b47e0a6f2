/**
 * The server's view of the fleet: every couple of seconds, who is live (services API) and how they are
 * (health endpoint). A pod that stops answering discovery drops out at the next poll.
 */
import { EventEmitter } from 'node:events';
import type { NatsConnection } from 'nats';
import { listPods, podHealth } from '../common/fleet';
import { errorMessage, type Logger } from '../common/logger';
import type { FleetPod } from '../protocol/lsp';

export class PodDirectory extends EventEmitter<{ changed: [FleetPod[]] }> {
  private pods: FleetPod[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The connection being polled; a poll that finishes after it changed is discarded. */
  private nc: NatsConnection | undefined;
  private polling: NatsConnection | undefined;

  constructor(private readonly log: Logger, private readonly intervalMs = 2000) {
    super();
  }

  get current(): FleetPod[] {
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

  dispose(): void {
    clearInterval(this.timer);
  }

  private async poll(nc: NatsConnection): Promise<void> {
    if (this.polling === nc || nc.isClosed()) return;
    this.polling = nc;
    try {
      const infos = await listPods(nc, { maxWaitMs: 750 });
      const now = Date.now();
      const pods = await Promise.all(
        infos.map(async (info): Promise<FleetPod> => {
          try {
            return { info, health: await podHealth(nc, info.pod, 1000), seenAt: now };
          } catch (error) {
            return { info, healthError: errorMessage(error), seenAt: now };
          }
        }),
      );
      if (nc === this.nc) this.publish(pods);
    } catch (error) {
      this.log.debug(`fleet poll failed: ${errorMessage(error)}`);
    } finally {
      if (this.polling === nc) this.polling = undefined;
    }
  }

  private publish(pods: FleetPod[]): void {
    const before = this.pods;
    this.pods = pods;
    // Health changes every poll; the event carries the whole list and the client re-renders.
    if (before.length || pods.length) this.emit('changed', pods);
  }
}
