/**
 * The settings the backend (language server or `sg server`) runs with. The extension builds them from
 * `streamgate.*`; the CLI from its flags. Validated on entry to the server.
 */
import * as z from 'zod/mini';
import { check } from './schema';
import { AlertRuleOverrideSchema } from './predict';

/** `nats://host:port` (or tls://, ws://, wss://) or a bare `host:port`. */
export function isNatsUrl(value: string): boolean {
  const trimmed = value.trim();
  if (/^[\w.-]+:\d+$/.test(trimmed)) return true;
  try {
    const url = new URL(trimmed);
    return ['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol) && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/** One NATS URL or a comma-separated cluster of them: what every place that takes a NATS URL accepts. */
export function isNatsUrlList(value: string): boolean {
  const urls = value.split(',');
  return urls.length > 0 && urls.every(isNatsUrl);
}

export const NatsSettingsSchema = z.object({
  /** One URL or a comma-separated list, e.g. `nats://127.0.0.1:4222`. */
  url: z.string().check(z.minLength(1, 'NATS URL is empty')),
  credentialsFile: z.optional(z.string()),
  token: z.optional(z.string()),
  user: z.optional(z.string()),
  password: z.optional(z.string()),
  tls: z.optional(
    z.object({
      caFile: z.optional(z.string()),
      certFile: z.optional(z.string()),
      keyFile: z.optional(z.string()),
    }),
  ),
});
export type NatsSettings = z.infer<typeof NatsSettingsSchema>;

export const StoreSettingsSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('duckdb'),
    path: z.string().check(z.minLength(1, 'the DuckDB path is empty')),
    /** DuckDB's memory limit (its buffer pool and query memory; it spills past it), MB. Default DUCKDB_MEMORY_LIMIT_MB. */
    memoryLimitMb: z.optional(z.number().check(z.int(), z.minimum(64, 'DuckDB needs at least 64 MB'), z.maximum(1_048_576))),
  }),
  z.object({
    kind: z.literal('clickhouse'),
    url: z.url(),
    database: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'database names are letters, digits and _')),
    user: z.optional(z.string()),
    password: z.optional(z.string()),
  }),
]);
export type StoreSettings = z.infer<typeof StoreSettingsSchema>;

/**
 * DuckDB's default limit is 80 % of the machine's memory, and it keeps what it wrote and read in its buffer pool
 * up to that: a language server that ingests for hours would grow to gigabytes. Past this limit DuckDB evicts and
 * spills to disk instead.
 */
export const DUCKDB_MEMORY_LIMIT_MB = 512;

/** Which metric plays which part in the overview and the dashboard (docs/analytics.md). */
export const AnalyticsMetricsSchema = z.object({
  /** Counter of requests, labels route and code. */
  requests: z.string(),
  /** Histogram of request latency in ms, label route. */
  latency: z.string(),
  activeSessions: z.string(),
  activeStreams: z.string(),
  /** Counters of messages and bytes, labels tenant and plan. */
  messages: z.string(),
  bytes: z.string(),
});
export type AnalyticsMetrics = z.infer<typeof AnalyticsMetricsSchema>;

/** Forecasts, cost and alerts (docs/predictions.md). */
export const PredictSettingsSchema = z.object({
  /** Requests per second one pod serves: scaling advice and cost (default 100). */
  capacityPerPod: z.optional(z.number().check(z.positive('capacityPerPod must be above 0'))),
  /** Price of one pod for one hour (default 0.10). */
  pricePerPodHour: z.optional(z.number().check(z.nonnegative('pricePerPodHour cannot be negative'))),
  currency: z.optional(z.string().check(z.maxLength(8))),
  /** The load's main season, ms (a day: 86400000); absent: detected from the history. */
  seasonMs: z.optional(z.number().check(z.int(), z.minimum(60_000, 'the season is at least a minute'))),
  /** Changes to the built-in alert rules, by id. */
  alertRules: z.optional(z.array(AlertRuleOverrideSchema)),
});
export type PredictSettings = z.infer<typeof PredictSettingsSchema>;

/**
 * embedded: this server ingests into its own store and answers (the default); shared: it answers from a shared
 * `sg server` found through the sg-server NATS service; auto: shared when one answers, embedded otherwise.
 */
export const SERVER_MODES = ['embedded', 'shared', 'auto'] as const;
export type ServerModeSetting = (typeof SERVER_MODES)[number];

/** A Go (or any net/http/pprof) target scraped over HTTP; `url` is the base of its /debug/pprof endpoints. */
export const PprofTargetSchema = z.object({
  url: z.url({ error: 'a pprof target url is an http(s) URL such as http://10.0.0.7:6060/debug/pprof' }),
  service: z.string().check(z.minLength(1, 'a pprof target needs a service')),
  pod: z.string().check(z.minLength(1, 'a pprof target needs a pod name')),
  version: z.optional(z.string()),
  labels: z.optional(z.record(z.string(), z.string())),
});
export type PprofTarget = z.infer<typeof PprofTargetSchema>;

/** Continuous profiling (docs/profiling.md#continuous-profiling): what the ingesting server collects, how often. */
export const ProfilingSettingsSchema = z.object({
  /** Collect at all (default true; only a server that ingests collects). */
  enabled: z.optional(z.boolean()),
  /** One round per pod every this many seconds (default 60). */
  intervalSeconds: z.optional(z.number().check(z.int(), z.minimum(5, 'profiles.intervalSeconds is at least 5'), z.maximum(3600))),
  /** Length of each CPU profile (default 10 s); less than the interval. */
  cpuSeconds: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(300))),
  /** Take a heap profile each round too (default true). */
  heap: z.optional(z.boolean()),
  /** Go targets scraped over HTTP besides the pods that announce a pprof URL. */
  targets: z.optional(z.array(PprofTargetSchema)),
  /** Days of profiles kept (default 7; retentionDays, when set, wins). */
  retentionDays: z.optional(z.number().check(z.positive(), z.maximum(3650))),
});
export type ProfilingSettings = z.infer<typeof ProfilingSettingsSchema>;

export const ServerSettingsSchema = z.object({
  nats: z.nullable(NatsSettingsSchema),
  store: StoreSettingsSchema,
  mode: z.optional(z.enum(SERVER_MODES)),
  /** Embedded mode: write telemetry to the store (default true). A server that only answers queries sets false. */
  ingest: z.optional(z.boolean()),
  analytics: z.optional(z.object({ metrics: z.optional(z.partial(AnalyticsMetricsSchema)) })),
  /** Days of telemetry kept in the store, all tables (default per table: docs/analytics.md). */
  retentionDays: z.optional(z.number().check(z.positive(), z.maximum(3650))),
  /**
   * Where metrics are recorded in source code: regular expressions whose first capture group is the metric name,
   * for the live values on hover (default: the agent's counter/gauge/histogram calls and Prometheus clients in Go).
   */
  metricCallPatterns: z.optional(z.array(z.string())),
  predict: z.optional(PredictSettingsSchema),
  profiling: z.optional(ProfilingSettingsSchema),
});
export type ServerSettings = z.infer<typeof ServerSettingsSchema>;

/** Parses `duckdb:PATH` or `clickhouse:URL[#database]` as taken by `sg server --store`. */
export function parseStoreSpec(spec: string): StoreSettings {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  if (kind === 'duckdb') {
    if (!rest) throw new Error(`--store duckdb needs a file path: duckdb:/path/to/streamgate.duckdb`);
    return { kind: 'duckdb', path: rest };
  }
  if (kind === 'clickhouse') {
    if (!rest) throw new Error(`--store clickhouse needs a URL: clickhouse:http://127.0.0.1:8123[#database]`);
    const [url = '', database = 'streamgate'] = rest.split('#');
    const parsed = check(StoreSettingsSchema, { kind: 'clickhouse', url, database });
    if (!parsed.ok) throw new Error(`--store ${spec}: ${parsed.error}`);
    return parsed.value;
  }
  throw new Error(`--store must be duckdb:PATH or clickhouse:URL, not "${spec}"`);
}

/** A URL with any user:password@ removed, for logs and status. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/g, '//');
}
