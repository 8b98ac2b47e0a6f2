/**
 * Live figures in the code: a hover on a metric's name (its live value, rate, p99 and a sparkline of the last
 * 15 minutes, with a link to the dashboard) and a code lens above each route handler (its rate, p99 and error
 * rate). Both ask the analytics only when the editor asks for them.
 */
import { LIVE_WINDOW_MS, type SeriesResult } from '../../protocol/analytics';
import { OPEN_DASHBOARD_COMMAND, type OpenDashboardArgs } from '../../protocol/lsp';
import type { AnalyticsApi } from '../analytics/api';
import type { AnalyticsMetrics } from '../../protocol/settings';

const SPARK_STEP_MS = 10_000;

export function formatNumber(value: number | null | undefined, unit = ''): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  const text = abs >= 1e9 ? `${(value / 1e9).toFixed(1)}G` : abs >= 1e6 ? `${(value / 1e6).toFixed(1)}M` : abs >= 1e4 ? `${(value / 1e3).toFixed(1)}k` : abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${text}${unit}`;
}

/** An inline SVG line of the points (nulls leave gaps), as a data URI for a markdown image. */
export function sparkline(points: readonly [number, number | null][], width = 240, height = 36): string {
  const values = points.map(([, v]) => v).filter((v): v is number => v !== null);
  const max = Math.max(...values, 0);
  const min = Math.min(...values, 0);
  const span = max - min || 1;
  const x = (i: number) => ((i / Math.max(1, points.length - 1)) * (width - 2) + 1).toFixed(1);
  const y = (v: number) => (height - 2 - ((v - min) / span) * (height - 4)).toFixed(1);
  let d = '';
  let pen = false;
  points.forEach(([, v], i) => {
    if (v === null) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i)} ${y(v)}`;
    pen = true;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><path d="${d}" fill="none" stroke="#3794ff" stroke-width="1.5"/></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

function commandLink(title: string, args: OpenDashboardArgs): string {
  return `[${title}](command:${OPEN_DASHBOARD_COMMAND}?${encodeURIComponent(JSON.stringify([args]))})`;
}

function lastValue(result: SeriesResult): number | null {
  const points = result.series[0]?.points ?? [];
  for (let i = points.length - 1; i >= 0; i--) if (points[i]![1] !== null) return points[i]![1];
  return null;
}

/** The hover for a metric: undefined when the fleet has never reported it in the live window. */
export async function metricHover(api: AnalyticsApi, metric: string, now = Date.now()): Promise<string | undefined> {
  const to = Math.floor(now / 1000) * 1000;
  const from = to - LIVE_WINDOW_MS;
  const spark = await api.series({ metric, from, to, stepMs: SPARK_STEP_MS });
  if (spark.series.length === 0) return undefined;
  const minute = { metric, from: to - 60_000, to, stepMs: 60_000 };
  const lines = [`**${metric}** · ${spark.kind} · live from the fleet`, ''];
  if (spark.kind === 'counter') {
    const rate = await api.series({ ...minute, stat: 'rate' });
    lines.push(`Rate **${formatNumber(lastValue(rate), '/s')}** over the last minute · ${formatNumber(spark.series[0]!.total)} in 15 minutes`);
  } else if (spark.kind === 'gauge') {
    const now1 = await api.series({ ...minute, stat: 'value' });
    const max = await api.series({ ...minute, stat: 'max' });
    lines.push(`Now **${formatNumber(lastValue(now1))}** (sum over pods) · max ${formatNumber(lastValue(max))} over the last minute`);
  } else {
    const [p50, p99, rate] = await Promise.all([api.series({ ...minute, stat: 'p50' }), api.series({ ...minute, stat: 'p99' }), api.series({ ...minute, stat: 'rate' })]);
    lines.push(`p50 **${formatNumber(lastValue(p50))}** · p99 **${formatNumber(lastValue(p99))}** · ${formatNumber(lastValue(rate), '/s')} observations, last minute`);
  }
  lines.push('', `![last 15 minutes of ${metric}](${sparkline(spark.series[0]!.points)})`, '', `${spark.stat === 'value' ? 'value' : spark.stat} every 10 s for 15 minutes · ${commandLink('Open in dashboard', { metric })}`);
  return lines.join('\n');
}

export interface RouteFigures {
  title: string;
  args: OpenDashboardArgs;
}

/** The code lens text of a route: its live rate, p99 and error rate over the last minute. */
export async function routeLens(api: AnalyticsApi, metrics: AnalyticsMetrics, route: string, now = Date.now()): Promise<RouteFigures> {
  const to = Math.floor(now / 1000) * 1000;
  const q = { from: to - 60_000, to, stepMs: 60_000, where: { route } };
  const [byCode, p99] = await Promise.all([api.series({ ...q, metric: metrics.requests, by: ['code'], stat: 'increase' }), api.series({ ...q, metric: metrics.latency, stat: 'p99' })]);
  let all = 0;
  let errors = 0;
  for (const s of byCode.series) {
    const n = s.points.reduce((sum, [, v]) => sum + (v ?? 0), 0);
    all += n;
    if (Number(s.labels.code) >= 500) errors += n;
  }
  const title = all
    ? `$(pulse) ${formatNumber(all / 60, ' req/s')} · p99 ${formatNumber(lastValue(p99), ' ms')} · ${((errors / all) * 100).toFixed(1)} % 5xx (fleet, last minute)`
    : '$(pulse) no requests in the last minute';
  return { title, args: { filters: { route }, tab: 'performance' } };
}
