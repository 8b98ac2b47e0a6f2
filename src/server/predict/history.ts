/**
 * The history a forecast reads, through the same series queries the dashboard uses, so it comes from the live
 * windows (the last 15 minutes) or the store (anything longer) alike:
 *   load      the requests counter's rate (requests/s) of the service, or of one route;
 *   errors    the share of its requests answered 5xx, per step (no requests: no value);
 *   sessions  the active-sessions gauge summed over its pods.
 * Cost is computed from load.
 */
import { LIVE_WINDOW_MS, type SeriesQuery } from '../../protocol/analytics';
import type { ForecastKind } from '../../protocol/predict';
import type { AnalyticsMetrics } from '../../protocol/settings';
import type { AnalyticsApi } from '../analytics/api';

export interface History {
  /** Step starts (epoch ms) and values, steps without data left out. */
  timestamps: number[];
  values: number[];
  /** Every step of the range, with null where there was no data: for charts. */
  steps: [number, number | null][];
}

export type HistoryKind = Exclude<ForecastKind, 'cost'>;

/**
 * The store may trail the stream by a few seconds (or minutes, on a busy machine), the live windows never do: a
 * range longer than the live windows is read in two parts, the store up to the last 15 minutes and the live
 * windows for those.
 */
function splitRange(range: { from: number; to: number; stepMs: number }): { from: number; to: number; stepMs: number }[] {
  const liveSteps = Math.floor((LIVE_WINDOW_MS - 2 * range.stepMs) / range.stepMs);
  const liveFrom = range.to - liveSteps * range.stepMs;
  if (liveSteps < 1 || liveFrom <= range.from) return [range];
  return [{ ...range, to: liveFrom }, { ...range, from: liveFrom }];
}

export async function readHistory(
  api: AnalyticsApi,
  metrics: AnalyticsMetrics,
  kind: HistoryKind,
  target: { service: string; route?: string },
  range: { from: number; to: number; stepMs: number },
): Promise<History> {
  const parts = await Promise.all(splitRange(range).map((part) => readPart(api, metrics, kind, target, part)));
  const steps = parts.flat();
  const timestamps: number[] = [];
  const values: number[] = [];
  for (const [t, v] of steps) {
    if (v === null) continue;
    timestamps.push(t);
    values.push(v);
  }
  return { timestamps, values, steps };
}

async function readPart(
  api: AnalyticsApi,
  metrics: AnalyticsMetrics,
  kind: HistoryKind,
  target: { service: string; route?: string },
  range: { from: number; to: number; stepMs: number },
): Promise<[number, number | null][]> {
  const where: Record<string, string> = { service: target.service, ...(target.route && kind !== 'sessions' ? { route: target.route } : {}) };
  const base = { from: range.from, to: range.to, stepMs: range.stepMs, where };
  let steps: [number, number | null][];
  if (kind === 'load') {
    const result = await api.series({ ...base, metric: metrics.requests, stat: 'rate' } satisfies SeriesQuery);
    steps = result.series[0]?.points ?? [];
  } else if (kind === 'sessions') {
    const result = await api.series({ ...base, metric: metrics.activeSessions, stat: 'value' } satisfies SeriesQuery);
    steps = result.series[0]?.points ?? [];
  } else {
    const result = await api.series({ ...base, metric: metrics.requests, stat: 'increase', by: ['code'] } satisfies SeriesQuery);
    const all = new Map<number, number>();
    const failed = new Map<number, number>();
    for (const s of result.series) {
      const isError = Number(s.labels.code) >= 500;
      for (const [t, v] of s.points) {
        if (v === null) continue;
        all.set(t, (all.get(t) ?? 0) + v);
        if (isError) failed.set(t, (failed.get(t) ?? 0) + v);
      }
    }
    steps = [];
    for (let t = range.from; t < range.to; t += range.stepMs) {
      const n = all.get(t);
      steps.push([t, n ? (failed.get(t) ?? 0) / n : null]);
    }
  }
  // A step with no point yet (the series had not started, or nothing arrived) is missing, not zero.
  return steps.length ? steps : stepsOf(range).map((t): [number, number | null] => [t, null]);
}

function stepsOf(range: { from: number; to: number; stepMs: number }): number[] {
  const out: number[] = [];
  for (let t = range.from; t < range.to; t += range.stepMs) out.push(t);
  return out;
}

/** Services that served requests in the last `rangeMs`, busiest first. */
export async function servicesWithTraffic(api: AnalyticsApi, metrics: AnalyticsMetrics, rangeMs: number, now: number): Promise<string[]> {
  const to = Math.floor(now / 1000) * 1000;
  const result = await api.series({ metric: metrics.requests, from: to - rangeMs, to, stepMs: rangeMs, by: ['service'], stat: 'increase' });
  return result.series
    .map((s) => ({ service: s.labels.service ?? '', total: s.total ?? 0 }))
    .filter((s) => s.service && s.total > 0)
    .sort((a, b) => b.total - a.total || a.service.localeCompare(b.service))
    .map((s) => s.service);
}

/**
 * When the service's request history starts, within the last `lookbackMs` (hour steps, then minute steps inside
 * the first hour found); undefined when it has none.
 */
export async function historyStart(api: AnalyticsApi, metrics: AnalyticsMetrics, service: string, lookbackMs: number, now: number): Promise<number | undefined> {
  const hour = 3600_000;
  const to = Math.floor(now / 1000) * 1000;
  const coarseFrom = Math.floor((to - lookbackMs) / hour) * hour;
  const coarse = await api.series({ metric: metrics.requests, from: coarseFrom, to, stepMs: hour, where: { service }, stat: 'increase' });
  const first = coarse.series[0]?.points.find(([, v]) => v !== null && v > 0)?.[0];
  if (first === undefined) return undefined;
  const fine = await api.series({ metric: metrics.requests, from: first, to: Math.min(to, first + hour), stepMs: 60_000, where: { service }, stat: 'increase' });
  return fine.series[0]?.points.find(([, v]) => v !== null && v > 0)?.[0] ?? first;
}
