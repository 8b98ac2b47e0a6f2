/**
 * What the editor, the CLI and other tools ask of the analytics, whoever answers: this server's own windows
 * and store (LocalAnalytics), or a shared server over NATS (RemoteAnalytics in sharedClient.ts). Live
 * subscriptions are pushed at most once a second, and only when something new arrived.
 */
import type { AnalyticsSummary, DashboardData, DashboardQuery, SeriesQuery, SeriesResult, SummaryRequest } from '../../protocol/analytics';
import type { LiveWindows } from '../live/windows';
import type { Analytics } from './views';

export interface AnalyticsApi {
  summary(request: SummaryRequest): Promise<AnalyticsSummary>;
  series(query: SeriesQuery): Promise<SeriesResult>;
  dashboard(query: DashboardQuery): Promise<DashboardData>;
  /**
   * Pushes the dashboard for `query` now and then at most once a second while new data arrives; `onError`
   * hears why a push failed. Returns what stops it.
   */
  subscribe(query: DashboardQuery, push: (data: DashboardData) => void, onError: (error: Error) => void): () => void;
}

/** How often a live view is recomputed at most. */
export const PUSH_INTERVAL_MS = 1000;

export class LocalAnalytics implements AnalyticsApi {
  constructor(private readonly analytics: Analytics, private readonly windows: LiveWindows) {}

  summary(request: SummaryRequest): Promise<AnalyticsSummary> {
    return this.analytics.summary(request);
  }

  series(query: SeriesQuery): Promise<SeriesResult> {
    return this.analytics.series(query);
  }

  dashboard(query: DashboardQuery): Promise<DashboardData> {
    return this.analytics.dashboard(query);
  }

  subscribe(query: DashboardQuery, push: (data: DashboardData) => void, onError: (error: Error) => void): () => void {
    const state = { stopped: false };
    // A function, not the flag itself: it changes while tick awaits, which narrowing cannot see.
    const stopped = () => state.stopped;
    let busy = false;
    let seenPoints = -1;
    let lastSecond = 0;
    const tick = async () => {
      if (busy || stopped()) return;
      // A live view moves with time even when nothing arrives (its range slides); a fixed range only changes when data does.
      const points = this.windows.stats.points;
      const second = Math.floor(Date.now() / 1000);
      if (points === seenPoints && (!query.live || second === lastSecond)) return;
      busy = true;
      try {
        const data = await this.analytics.dashboard(query);
        seenPoints = points;
        lastSecond = second;
        if (!stopped()) push(data);
      } catch (error) {
        if (!stopped()) onError(error instanceof Error ? error : new Error(String(error)));
      } finally {
        busy = false;
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), PUSH_INTERVAL_MS);
    timer.unref();
    return () => {
      state.stopped = true;
      clearInterval(timer);
    };
  }
}
