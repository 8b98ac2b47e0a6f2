/**
 * The figures people look at — the overview, the dashboard's tabs — built from series queries, so the live
 * windows and the store answer them the same way. Which metric plays which part (requests, latency, sessions,
 * streams, messages, bytes) is configurable (AnalyticsMetrics); the defaults are the gateway's.
 */
import {
  DEFAULT_STAT,
  SESSION_LENGTH_BOUNDS,
  type AnalyticsSummary,
  type ChartSeries,
  type DashboardData,
  type DashboardQuery,
  type DataSource,
  type PodRow,
  type RetentionRow,
  type RouteRow,
  type SeriesQuery,
  type SeriesResult,
  type SeriesStat,
  type SummaryRequest,
  type TenantRow,
} from '../../protocol/analytics';
import type { AnalyticsMetrics } from '../../protocol/settings';
import { mergeAll, valueOf, type Distribution } from '../telemetry/histogram';
import { DERIVED } from '../telemetry/points';
import type { LiveClients } from '../live/clients';
import type { LiveWindows } from '../live/windows';
import type { Store } from '../store';
import { bucketLive, bucketStore, sourceFor, statOf, toResult, type Bucketed, type StepAggregate } from './series';

export const DEFAULT_ANALYTICS_METRICS: AnalyticsMetrics = {
  requests: 'gw_http_requests_total',
  latency: 'gw_http_request_duration_ms',
  activeSessions: 'gw_active_sessions',
  activeStreams: 'gw_active_streams',
  messages: 'gw_messages_total',
  bytes: 'gw_bytes_total',
};

/** Steps a chart may use, so the axes read well: at most ~240 points per line. */
const STEPS = [1000, 5000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];

export function chartStep(rangeMs: number): number {
  return STEPS.find((s) => rangeMs / s <= 240) ?? STEPS[STEPS.length - 1]!;
}

type Filters = DashboardQuery['filters'];

export class Analytics {
  constructor(
    private readonly windows: LiveWindows,
    private readonly clients: LiveClients,
    private readonly store: () => Store | undefined,
    private readonly metrics: () => AnalyticsMetrics,
  ) {}

  /** Seconds whose metrics are complete: the current second is still arriving. */
  private static settled(now: number): number {
    return Math.floor(now / 1000) * 1000;
  }

  /** `needs`: every statistic of each step (the dashboard), or only `q.stat` (one series); see `bucketStore`. */
  async bucket(q: SeriesQuery, source: DataSource, needs: 'all' | 'stat' = 'all'): Promise<Bucketed | undefined> {
    if (source === 'live') return bucketLive(this.windows, q);
    const store = this.store();
    if (!store) throw new Error('the range reaches past the live windows (15 minutes) and the store is not ready');
    return bucketStore(store, q, needs);
  }

  async series(q: SeriesQuery, now = Date.now()): Promise<SeriesResult> {
    const source = sourceFor(q, now);
    return toResult(q, await this.bucket(q, source, 'stat'), source);
  }

  async summary(request: SummaryRequest, now = Date.now()): Promise<AnalyticsSummary> {
    const window = request.windowMs ?? 60_000;
    const to = Analytics.settled(now);
    const from = to - window;
    const m = this.metrics();
    const one = (metric: string, by: string[]): SeriesQuery => ({ metric, from, to, stepMs: window, by });
    const [requests, latency, latencyAll, sessions, streams] = await Promise.all([
      this.bucket(one(m.requests, ['service', 'pod', 'code']), 'live'),
      this.bucket(one(m.latency, ['service', 'pod']), 'live'),
      this.bucket(one(m.latency, []), 'live'),
      this.bucket(one(m.activeSessions, []), 'live'),
      this.bucket(one(m.activeStreams, []), 'live'),
    ]);
    const seconds = window / 1000;
    const pods = new Map<string, { service: string; pod: string; count: number; errors: number; dist?: Distribution }>();
    const podOf = (service: string, pod: string) => {
      const key = `${service}\u0000${pod}`;
      let entry = pods.get(key);
      if (!entry) pods.set(key, (entry = { service, pod, count: 0, errors: 0 }));
      return entry;
    };
    for (const group of requests?.groups ?? []) {
      const entry = podOf(group.labels.service!, group.labels.pod!);
      const n = sumIncrease(group.steps);
      entry.count += n;
      if (isError(group.labels.code)) entry.errors += n;
    }
    for (const group of latency?.groups ?? []) {
      const dist = mergedDist(group.steps);
      if (dist) podOf(group.labels.service!, group.labels.pod!).dist = dist;
    }
    const figures = (count: number, errors: number, dist: Distribution | undefined) => ({
      rps: count / seconds,
      p99: quantileOrNull(dist, 0.99),
      errorRate: count ? errors / count : 0,
    });
    const services = new Map<string, AnalyticsSummary['services'][number] & { count: number; errors: number; dists: Distribution[] }>();
    for (const p of [...pods.values()].sort((a, b) => a.pod.localeCompare(b.pod))) {
      let s = services.get(p.service);
      if (!s) services.set(p.service, (s = { service: p.service, rps: 0, p99: null, errorRate: 0, pods: [], count: 0, errors: 0, dists: [] }));
      s.pods.push({ pod: p.pod, ...figures(p.count, p.errors, p.dist) });
      s.count += p.count;
      s.errors += p.errors;
      if (p.dist) s.dists.push(p.dist);
    }
    const all = mergedDist(latencyAll?.groups[0]?.steps);
    let count = 0;
    let errors = 0;
    for (const p of pods.values()) {
      count += p.count;
      errors += p.errors;
    }
    return {
      at: to,
      window,
      totals: {
        ...figures(count, errors, all),
        p50: quantileOrNull(all, 0.5),
        p95: quantileOrNull(all, 0.95),
        activeSessions: lastSum(sessions),
        activeStreams: lastSum(streams),
      },
      services: [...services.values()]
        .sort((a, b) => a.service.localeCompare(b.service))
        .map(({ service, count: c, errors: e, dists, pods: list }) => ({ service, ...figures(c, e, dists.length ? mergeAll(dists) : undefined), pods: list })),
    };
  }

  async dashboard(query: DashboardQuery, now = Date.now()): Promise<DashboardData> {
    // A live view runs up to this millisecond, so what arrived in the current second shows at once (under a
    // second old); a fixed range ends at a whole second.
    const to = query.to ?? (query.live ? now : Analytics.settled(now));
    const from = to - query.rangeMs;
    const step = chartStep(query.rangeMs);
    const source = sourceFor({ from }, now);
    const m = this.metrics();
    const f = query.filters;
    const podWhere = pick(f, ['service', 'pod']);
    const routeWhere = { ...podWhere, ...pick(f, ['route']) };
    const tenantWhere = { ...podWhere, ...pick(f, ['tenant']) };
    const q = (metric: string, by: string[], where: Record<string, string>, stepMs = step): SeriesQuery => ({ metric, from, to, stepMs, by, where });
    const whole = (metric: string, by: string[], where: Record<string, string>) => q(metric, by, where, query.rangeMs);
    // The headline figures: now (the last minute) for a live view, over the whole range for a fixed one.
    const totalsWindow = query.live ? Math.min(60_000, query.rangeMs) : query.rangeMs;
    const totals = (metric: string, by: string[], where: Record<string, string>): SeriesQuery => ({ metric, from: to - totalsWindow, to, stepMs: totalsWindow, by, where });
    const b = (sq: SeriesQuery) => this.bucket(sq, source);

    const [
      trafficB,
      latencyB,
      errorsB,
      streamsB,
      podRequests,
      podLatency,
      podCpu,
      podRss,
      podLoop,
      routeRequests,
      routeLatency,
      latencyByRouteB,
      cpuB,
      loopB,
      sessionsB,
      newSessionsB,
      sessionLengthB,
      funnelB,
      messagesB,
      bytesB,
      tenantMessages,
      tenantBytes,
      tenantSessions,
      optionPods,
      optionTenants,
      metricB,
      totalsRequests,
      totalsLatency,
      totalsSessions,
      totalsStreams,
    ] = await Promise.all([
      b(q(m.requests, ['service'], routeWhere)),
      b(q(m.latency, [], routeWhere)),
      b(q(m.requests, ['code'], routeWhere)),
      b(q(m.activeStreams, ['service'], podWhere)),
      b(whole(m.requests, ['service', 'pod', 'code'], routeWhere)),
      b(whole(m.latency, ['pod'], routeWhere)),
      b(whole('process_cpu_percent', ['pod'], podWhere)),
      b(whole('process_rss_bytes', ['pod'], podWhere)),
      b(whole('nodejs_eventloop_delay_p99_ms', ['pod'], podWhere)),
      b(whole(m.requests, ['route', 'code'], routeWhere)),
      b(whole(m.latency, ['route'], routeWhere)),
      b(q(m.latency, ['route'], routeWhere)),
      b(q('process_cpu_percent', ['pod'], podWhere)),
      b(q('nodejs_eventloop_delay_p99_ms', ['pod'], podWhere)),
      b(q(m.activeSessions, ['service'], podWhere)),
      b(q(DERIVED.events, [], { ...tenantWhere, type: 'session.started' })),
      b(whole(DERIVED.sessionDuration, [], tenantWhere)),
      b(whole(DERIVED.events, ['type'], tenantWhere)),
      b(q(m.messages, ['plan'], tenantWhere)),
      b(q(m.bytes, ['plan'], tenantWhere)),
      b(whole(m.messages, ['tenant', 'plan'], tenantWhere)),
      b(whole(m.bytes, ['tenant', 'plan'], tenantWhere)),
      b(whole(DERIVED.events, ['tenant'], { ...tenantWhere, type: 'session.started' })),
      b(whole(m.requests, ['service', 'pod', 'route'], {})),
      b(whole(m.messages, ['tenant'], {})),
      query.metric ? b(q(query.metric, ['pod'], podWhere)) : Promise.resolve(undefined),
      b(totals(m.requests, ['code'], routeWhere)),
      b(totals(m.latency, [], routeWhere)),
      b(totals(m.activeSessions, [], podWhere)),
      b(totals(m.activeStreams, [], podWhere)),
    ]);

    const rangeSeconds = query.rangeMs / 1000;
    const chart = (bucketed: Bucketed | undefined, stat: SeriesStat, name: (labels: Record<string, string>) => string): ChartSeries[] =>
      (bucketed?.groups ?? [])
        .map((g) => ({ name: name(g.labels), points: pointsOf(bucketed!.kind, g.steps, stat, from, to, step) }))
        .filter((s) => s.points.some(([, v]) => v !== null))
        .sort((a, b2) => a.name.localeCompare(b2.name));

    const requestsByPod = groupRequests(podRequests, ['service', 'pod']);
    const latencyByPod = new Map((podLatency?.groups ?? []).map((g) => [g.labels.pod!, mergedDist(g.steps)]));
    const gaugeAvg = (bucketed: Bucketed | undefined) => new Map((bucketed?.groups ?? []).map((g) => [g.labels.pod!, avgOf(g.steps)]));
    const lastOf = (bucketed: Bucketed | undefined) => new Map((bucketed?.groups ?? []).map((g) => [g.labels.pod!, lastSumOf(g.steps)]));
    const cpuByPod = gaugeAvg(podCpu);
    const rssByPod = lastOf(podRss);
    const loopByPod = gaugeAvg(podLoop);
    const pods: PodRow[] = [...requestsByPod.values()]
      .map(({ labels, count, errors }) => {
        const dist = latencyByPod.get(labels.pod!);
        return {
          pod: labels.pod!,
          service: labels.service!,
          rps: count / rangeSeconds,
          errorRate: count ? errors / count : 0,
          p50: quantileOrNull(dist, 0.5),
          p99: quantileOrNull(dist, 0.99),
          cpuPercent: cpuByPod.get(labels.pod!) ?? null,
          rssBytes: rssByPod.get(labels.pod!) ?? null,
          eventLoopP99Ms: loopByPod.get(labels.pod!) ?? null,
        };
      })
      .sort((a, b2) => a.service.localeCompare(b2.service) || a.pod.localeCompare(b2.pod));

    const latencyByRouteWhole = new Map((routeLatency?.groups ?? []).map((g) => [g.labels.route!, mergedDist(g.steps)]));
    const routes: RouteRow[] = [...groupRequests(routeRequests, ['route']).values()]
      .map(({ labels, count, errors }) => {
        const dist = latencyByRouteWhole.get(labels.route!);
        return { route: labels.route!, rps: count / rangeSeconds, errorRate: count ? errors / count : 0, p50: quantileOrNull(dist, 0.5), p95: quantileOrNull(dist, 0.95), p99: quantileOrNull(dist, 0.99) };
      })
      .sort((a, b2) => b2.rps - a.rps);

    const funnelCounts = new Map((funnelB?.groups ?? []).map((g) => [g.labels.type!, sumIncrease(g.steps)]));
    const sessionsByTenant = new Map((tenantSessions?.groups ?? []).map((g) => [g.labels.tenant!, sumIncrease(g.steps)]));
    const bytesByTenant = new Map((tenantBytes?.groups ?? []).map((g) => [g.labels.tenant!, sumIncrease(g.steps)]));
    const tenants: TenantRow[] = (tenantMessages?.groups ?? [])
      .map((g) => {
        const messages = sumIncrease(g.steps);
        return { tenant: g.labels.tenant!, plan: g.labels.plan!, messages, messagesPerSecond: messages / rangeSeconds, bytes: bytesByTenant.get(g.labels.tenant!) ?? 0, sessions: sessionsByTenant.get(g.labels.tenant!) ?? 0 };
      })
      .sort((a, b2) => b2.messages - a.messages);
    const plans = new Map<string, { plan: string; messages: number; bytes: number; tenants: number }>();
    for (const t of tenants) {
      const p = plans.get(t.plan) ?? { plan: t.plan, messages: 0, bytes: 0, tenants: 0 };
      p.messages += t.messages;
      p.bytes += t.bytes;
      p.tenants++;
      plans.set(t.plan, p);
    }

    const totalsBy = groupRequests(totalsRequests, []);
    const totalCount = [...totalsBy.values()].reduce((n, t) => n + t.count, 0);
    const totalErrors = [...totalsBy.values()].reduce((n, t) => n + t.errors, 0);
    const totalDist = mergedDist(totalsLatency?.groups[0]?.steps);

    return {
      at: to,
      from,
      to,
      step,
      source,
      query,
      totalsWindow,
      totals: {
        rps: totalCount / (totalsWindow / 1000),
        errorRate: totalCount ? totalErrors / totalCount : 0,
        p50: quantileOrNull(totalDist, 0.5),
        p95: quantileOrNull(totalDist, 0.95),
        p99: quantileOrNull(totalDist, 0.99),
        activeSessions: lastSum(totalsSessions),
        activeStreams: lastSum(totalsStreams),
      },
      overview: {
        traffic: chart(trafficB, 'rate', (l) => l.service || 'all'),
        latency: latencyB?.groups[0] ? (['p50', 'p95', 'p99'] as const).map((stat) => ({ name: stat, points: pointsOf('histogram', latencyB.groups[0]!.steps, stat, from, to, step) })) : [],
        errors: errorRateChart(errorsB, from, to, step),
        streams: chart(streamsB, 'value', (l) => l.service || 'all'),
        pods,
      },
      performance: {
        routes,
        latencyByRoute: chart(latencyByRouteB, 'p99', (l) => l.route || '?'),
        cpu: chart(cpuB, 'avg', (l) => l.pod || '?'),
        eventLoop: chart(loopB, 'avg', (l) => l.pod || '?'),
      },
      users: {
        activeSessions: chart(sessionsB, 'value', (l) => l.service || 'all'),
        newSessions: chart(newSessionsB, 'rate', () => 'new sessions/s'),
        sessionLengths: lengthBuckets(mergedDist(sessionLengthB?.groups[0]?.steps)),
        funnel: {
          connect: funnelCounts.get('session.started') ?? 0,
          subscribe: funnelCounts.get('session.subscribed') ?? 0,
          publish: funnelCounts.get('session.published') ?? 0,
        },
        retention: await this.retention(source, from, to, f),
      },
      business: {
        messages: chart(messagesB, 'rate', (l) => l.plan || 'all'),
        bytes: chart(bytesB, 'rate', (l) => l.plan || 'all'),
        tenants,
        plans: [...plans.values()].sort((a, b2) => b2.messages - a.messages),
      },
      ...(query.metric
        ? {
            metric: {
              name: query.metric,
              kind: metricB?.kind ?? 'gauge',
              stat: DEFAULT_STAT[metricB?.kind ?? 'gauge'],
              series: chart(metricB, DEFAULT_STAT[metricB?.kind ?? 'gauge'], (l) => l.pod || 'all'),
            },
          }
        : {}),
      options: {
        services: unique(optionPods, 'service'),
        pods: unique(optionPods, 'pod'),
        routes: unique(optionPods, 'route'),
        tenants: unique(optionTenants, 'tenant'),
      },
      seriesTracked: this.windows.size,
    };
  }

  /** Clients seen in the first half of the range and how many came back in the second, per tenant. */
  private async retention(source: DataSource, from: number, to: number, f: Filters): Promise<RetentionRow[]> {
    const mid = from + Math.floor((to - from) / 2);
    const seen = new Map<string, { first: Set<string>; second: Set<string> }>();
    const note = (tenant: string, client: string, ts: number) => {
      let entry = seen.get(tenant);
      if (!entry) seen.set(tenant, (entry = { first: new Set(), second: new Set() }));
      (ts < mid ? entry.first : entry.second).add(client);
    };
    if (source === 'live') {
      // By the second, the resolution the live clients keep; they keep tenant and client, so only the tenant filter applies.
      for (const [tenant, halves] of this.clients.halves(from, mid, to, f.tenant)) seen.set(tenant, halves);
    } else {
      const store = this.store();
      if (!store) throw new Error('the store is not ready');
      const client = store.dialect === 'duckdb' ? `json_extract_string(attrs, '$.client')` : `visitParamExtractString(attrs, 'client')`;
      const params: (string | number)[] = [mid, mid, from, to];
      let extra = '';
      for (const key of ['service', 'pod', 'tenant'] as const) {
        const value = f[key];
        if (value) {
          extra += ` AND ${key} = ?`;
          params.push(value);
        }
      }
      const rows = await store.query({
        text: `SELECT tenant, client, max(CASE WHEN ts < ? THEN 1 ELSE 0 END) AS a, max(CASE WHEN ts >= ? THEN 1 ELSE 0 END) AS b FROM (SELECT tenant, ${client} AS client, ts FROM events WHERE type = 'session.started' AND ts >= ? AND ts < ?${extra}) AS s WHERE client != '' GROUP BY tenant, client`,
        params,
      });
      for (const row of rows) {
        if (Number(row.a)) note(String(row.tenant), String(row.client), from);
        if (Number(row.b)) note(String(row.tenant), String(row.client), to - 1);
      }
    }
    return [...seen.entries()]
      .map(([tenant, { first, second }]) => {
        let returning = 0;
        for (const c of first) if (second.has(c)) returning++;
        return { tenant, clients: first.size, returning, retention: first.size ? returning / first.size : null };
      })
      .sort((a, b) => b.clients - a.clients || a.tenant.localeCompare(b.tenant));
  }
}

function pick(filters: Filters, keys: (keyof Filters)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = filters[key];
    if (value) out[key] = value;
  }
  return out;
}

function isError(code: string | undefined): boolean {
  return Number(code) >= 500;
}

function sumIncrease(steps: Map<number, StepAggregate>): number {
  let n = 0;
  for (const agg of steps.values()) n += agg.increase;
  return n;
}

function mergedDist(steps: Map<number, StepAggregate> | undefined): Distribution | undefined {
  if (!steps) return undefined;
  const dists = [...steps.values()].map((a) => a.dist).filter((d): d is Distribution => Boolean(d?.count));
  return dists.length ? mergeAll(dists) : undefined;
}

function quantileOrNull(dist: Distribution | undefined, q: number): number | null {
  if (!dist?.count) return null;
  return statOf('histogram', `p${Math.round(q * 100)}` as SeriesStat, { increase: dist.count, lastSum: 0, valueSum: 0, valueCount: 0, min: dist.min, max: dist.max, dist }, 1000);
}

function avgOf(steps: Map<number, StepAggregate>): number | null {
  let sum = 0;
  let count = 0;
  for (const agg of steps.values()) {
    sum += agg.valueSum;
    count += agg.valueCount;
  }
  return count ? sum / count : null;
}

/** The gauge's value at the end of the range: the last step's sum of last values. */
function lastSumOf(steps: Map<number, StepAggregate>): number | null {
  let latest = -Infinity;
  let value: number | null = null;
  for (const [at, agg] of steps) {
    if (at > latest) {
      latest = at;
      value = agg.lastSum;
    }
  }
  return value;
}

function lastSum(bucketed: Bucketed | undefined): number {
  return bucketed?.groups.reduce((n, g) => n + (lastSumOf(g.steps) ?? 0), 0) ?? 0;
}

/** Request counts and 5xx counts per group of `by` labels, from a bucketing by those labels and code. */
function groupRequests(bucketed: Bucketed | undefined, by: string[]): Map<string, { labels: Record<string, string>; count: number; errors: number }> {
  const out = new Map<string, { labels: Record<string, string>; count: number; errors: number }>();
  for (const g of bucketed?.groups ?? []) {
    const labels: Record<string, string> = {};
    for (const name of by) labels[name] = g.labels[name] ?? '';
    const key = JSON.stringify(labels);
    let entry = out.get(key);
    if (!entry) out.set(key, (entry = { labels, count: 0, errors: 0 }));
    const n = sumIncrease(g.steps);
    entry.count += n;
    if (isError(g.labels.code)) entry.errors += n;
  }
  return out;
}

function stepsOf(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += step) out.push(t);
  return out;
}

/** A group's points for a statistic, one per step of [from, to). */
function pointsOf(kind: Bucketed['kind'], steps: Map<number, StepAggregate>, stat: SeriesStat, from: number, to: number, step: number): [number, number | null][] {
  return stepsOf(from, to, step).map((t) => {
    const agg = steps.get(t);
    return [t, agg ? statOf(kind, stat, agg, step) : null];
  });
}

function errorRateChart(byCode: Bucketed | undefined, from: number, to: number, step: number): ChartSeries[] {
  if (!byCode?.groups.length) return [];
  const points = stepsOf(from, to, step).map((t): [number, number | null] => {
    let all = 0;
    let errors = 0;
    for (const g of byCode.groups) {
      const n = g.steps.get(t)?.increase ?? 0;
      all += n;
      if (isError(g.labels.code)) errors += n;
    }
    return [t, all ? errors / all : null];
  });
  return [{ name: '5xx share', points }];
}

function lengthBuckets(dist: Distribution | undefined): [number | null, number][] {
  const bounds: (number | null)[] = [...SESSION_LENGTH_BOUNDS, null];
  const counts = bounds.map(() => 0);
  if (dist) {
    counts[0]! += dist.zero;
    for (let i = 0; i < dist.keys.length; i++) {
      const value = valueOf(dist.keys[i]!);
      const at = bounds.findIndex((bound) => bound === null || value <= bound);
      counts[at]! += dist.counts[i]!;
    }
  }
  return bounds.map((bound, i) => [bound, counts[i]!]);
}

function unique(bucketed: Bucketed | undefined, label: string): string[] {
  const values = new Set<string>();
  for (const g of bucketed?.groups ?? []) if (g.labels[label]) values.add(g.labels[label]);
  return [...values].sort();
}
