/**
 * The analytics the server answers with, whoever asks: the extension over LSP (`lsp.ts`), the CLI and other
 * tools over the `sg-server` NATS service (`nats.ts`), the dashboard webview through the extension
 * (`webview.ts`). Requests are validated on entry with these schemas; answers are plain data (the browser
 * bundles import the types).
 *
 * Conventions the figures rest on (docs/analytics.md): a service's request counter is the metric whose name ends
 * in `_http_requests_total` (labels `route`, `code`), its latency histogram the one ending in
 * `_http_request_duration_ms` (label `route`); sessions and streams come from the pods' business events.
 */
import * as z from 'zod/mini';
import './schema';

export const METRIC_KINDS = ['counter', 'gauge', 'histogram'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

/**
 * What a point of a series is, per step:
 * - rate: increments per second (counters), observations per second (histograms);
 * - increase: increments in the step (counters), observations in the step (histograms);
 * - value: the sum over the matching series of each one's last value (gauges);
 * - avg, min, max: of the gauge values, or of the observations (histograms);
 * - p50 … p99: quantiles of the observations, merged from the pods' DDSketches (relative error ≤ 1 %).
 */
export const SERIES_STATS = ['rate', 'increase', 'value', 'avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99'] as const;
export type SeriesStat = (typeof SERIES_STATS)[number];

export const DEFAULT_STAT: Record<MetricKind, SeriesStat> = { counter: 'rate', gauge: 'value', histogram: 'p99' };

/** Longest range one query may cover, and most points it may return: guards on the server. */
export const MAX_QUERY_RANGE_MS = 31 * 24 * 3600_000;
export const MAX_QUERY_POINTS = 20_000;
/** How far back the live windows reach (1-second resolution). */
export const LIVE_WINDOW_MS = 15 * 60_000;

const LabelName = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'label names are letters, digits, _ and .'));

export const SeriesQuerySchema = z
  .object({
    metric: z.string().check(z.regex(/^[A-Za-z_:][A-Za-z0-9_:.]*$/, 'a metric name is letters, digits, _, : and .')),
    /** Epoch ms, inclusive. */
    from: z.number().check(z.int()),
    /** Epoch ms, exclusive. */
    to: z.number().check(z.int()),
    stepMs: z.number().check(z.int(), z.minimum(1000, 'the step is at least 1s')),
    /** Group by these labels (service and pod count as labels); none: one series for everything that matches. */
    by: z.optional(z.array(LabelName).check(z.maxLength(8))),
    /** Only series whose labels equal these. */
    where: z.optional(z.record(LabelName, z.string())),
    stat: z.optional(z.enum(SERIES_STATS)),
  })
  .check(
    z.refine((q) => q.to > q.from, { message: 'the range ends before it starts (to must be after from)' }),
    z.refine((q) => q.to - q.from <= MAX_QUERY_RANGE_MS, { message: 'the range is longer than 31 days' }),
    z.refine((q) => (q.to - q.from) / q.stepMs <= MAX_QUERY_POINTS, { message: `that many steps exceed ${MAX_QUERY_POINTS} points: use a larger step` }),
  );
export type SeriesQuery = z.infer<typeof SeriesQuerySchema>;

export type DataSource = 'live' | 'store';

/** The answer to a series query; the `sg analytics query --json` contract (docs/cli.md). */
export interface SeriesResult {
  metric: string;
  kind: MetricKind;
  stat: SeriesStat;
  from: number;
  to: number;
  step: number;
  /** Live windows (the last 15 minutes, 1-second resolution) or the store. */
  source: DataSource;
  series: {
    labels: Record<string, string>;
    /** [step start epoch ms, value]; null where the step has no data. */
    points: [number, number | null][];
    /** Counters: the exact number of increments in the range. */
    total?: number;
  }[];
}

// --- The overview: `sg analytics summary` ------------------------------------------------------------------

export interface RateFigures {
  /** Requests per second. */
  rps: number;
  /** Latency quantiles, ms; null without requests. */
  p99: number | null;
  /** Failed requests (5xx) as a fraction of all. */
  errorRate: number;
}

/** The `sg analytics summary --json` contract (docs/cli.md). */
export interface AnalyticsSummary {
  /** Epoch ms the figures were computed at. */
  at: number;
  /** How many ms before `at` the figures cover. */
  window: number;
  totals: RateFigures & { p50: number | null; p95: number | null; activeSessions: number; activeStreams: number };
  services: (RateFigures & { service: string; pods: (RateFigures & { pod: string })[] })[];
}

export const SummaryRequestSchema = z.object({
  /** Figures over the last this-many ms (default 60 s, at most the live window). */
  windowMs: z.optional(z.number().check(z.int(), z.minimum(1000), z.maximum(LIVE_WINDOW_MS))),
});
export type SummaryRequest = z.infer<typeof SummaryRequestSchema>;

// --- The dashboard --------------------------------------------------------------------------------------------

export const DASHBOARD_TABS = ['overview', 'performance', 'users', 'business'] as const;
export type DashboardTab = (typeof DASHBOARD_TABS)[number];

export const DashboardQuerySchema = z.object({
  /** Live: the last `rangeMs`, ending now and following time, headline figures over its last minute. Otherwise [to − rangeMs, to). */
  live: z.boolean(),
  rangeMs: z.number().check(z.int(), z.minimum(60_000), z.maximum(MAX_QUERY_RANGE_MS)),
  /** Epoch ms the range ends at (default: the last whole second); a live view with `to` is that view as of then. */
  to: z.optional(z.number().check(z.int())),
  filters: z.object({
    service: z.optional(z.string()),
    pod: z.optional(z.string()),
    route: z.optional(z.string()),
    tenant: z.optional(z.string()),
  }),
  /** A metric to chart on its own, by pod (from "Open in dashboard" on a hover). */
  metric: z.optional(z.string().check(z.regex(/^[A-Za-z_:][A-Za-z0-9_:.]*$/, 'a metric name is letters, digits, _, : and .'))),
});
export type DashboardQuery = z.infer<typeof DashboardQuerySchema>;

/** A line of a chart: one label set's points. */
export interface ChartSeries {
  name: string;
  points: [number, number | null][];
}

export interface PodRow extends RateFigures {
  pod: string;
  service: string;
  p50: number | null;
  cpuPercent: number | null;
  rssBytes: number | null;
  eventLoopP99Ms: number | null;
}

export interface RouteRow extends RateFigures {
  route: string;
  p50: number | null;
  p95: number | null;
}

export interface TenantRow {
  tenant: string;
  plan: string;
  /** Messages per second and in the range, bytes in the range. */
  messagesPerSecond: number;
  messages: number;
  bytes: number;
  sessions: number;
}

export interface RetentionRow {
  tenant: string;
  /** Distinct clients seen in the first half of the range, and how many of them came back in the second. */
  clients: number;
  returning: number;
  /** returning / clients; null without clients. */
  retention: number | null;
}

/** Everything the dashboard shows for one query; built by the server, rendered by the webview. */
export interface DashboardData {
  at: number;
  from: number;
  to: number;
  step: number;
  source: DataSource;
  query: DashboardQuery;
  /** The headline figures cover the last this-many ms: the last minute of a live view, a fixed range whole. */
  totalsWindow: number;
  totals: AnalyticsSummary['totals'];
  overview: {
    traffic: ChartSeries[];
    latency: ChartSeries[];
    errors: ChartSeries[];
    streams: ChartSeries[];
    pods: PodRow[];
  };
  performance: {
    routes: RouteRow[];
    latencyByRoute: ChartSeries[];
    cpu: ChartSeries[];
    eventLoop: ChartSeries[];
  };
  users: {
    activeSessions: ChartSeries[];
    newSessions: ChartSeries[];
    /** Session lengths: [upper bound in ms (null: no bound), sessions]. */
    sessionLengths: [number | null, number][];
    funnel: { connect: number; subscribe: number; publish: number };
    retention: RetentionRow[];
  };
  business: {
    messages: ChartSeries[];
    bytes: ChartSeries[];
    tenants: TenantRow[];
    plans: { plan: string; messages: number; bytes: number; tenants: number }[];
  };
  /** The metric the query asked for, by pod, with its default statistic. */
  metric?: { name: string; kind: MetricKind; stat: SeriesStat; series: ChartSeries[] };
  /** What the filters can be set to, from what the range holds. */
  options: { services: string[]; pods: string[]; routes: string[]; tenants: string[] };
  /** How many distinct metric series the server tracks live. */
  seriesTracked: number;
}

/** Session-length buckets of the user behaviour tab, ms (the last is open-ended). */
export const SESSION_LENGTH_BOUNDS = [5_000, 15_000, 30_000, 60_000, 120_000, 300_000] as const;
