/**
 * Predictions and alerts, whoever asks: the extension over LSP (`lsp.ts`), `sg predict` / `sg alerts` and other
 * tools over the `sg-server` NATS service (`nats.ts`), the predictions webview through the extension
 * (`webview.ts`). Requests are validated on entry with these schemas; answers are plain data the browser
 * bundles import as types. The alert rules are defined here once: the server evaluates them, `sg alerts export`
 * writes the same rules as Prometheus alerting rules, and `docs/runbooks/<id>.md` explains each one.
 */
import * as z from 'zod/mini';
import './schema';

/** What can be forecast for a service. */
export const FORECAST_KINDS = ['load', 'errors', 'sessions', 'cost'] as const;
export type ForecastKind = (typeof FORECAST_KINDS)[number];

export const MIN_HORIZON_MS = 60_000;
export const MAX_HORIZON_MS = 7 * 24 * 3600_000;

const Name = z.string().check(z.minLength(1, 'cannot be empty'), z.maxLength(200));

export const ForecastRequestSchema = z.object({
  kind: z.enum(FORECAST_KINDS),
  service: Name,
  /** load and errors only: one route of the service. */
  route: z.optional(Name),
  /** How far ahead, ms (default one hour). */
  horizonMs: z.optional(z.number().check(z.int(), z.minimum(MIN_HORIZON_MS, 'the horizon is at least 1 minute'), z.maximum(MAX_HORIZON_MS, 'the horizon is at most 7 days'))),
  /** cost: requests per second one pod serves, and the price of a pod-hour (default: the server's settings). */
  capacityPerPod: z.optional(z.number().check(z.positive('capacityPerPod must be above 0'))),
  pricePerPodHour: z.optional(z.number().check(z.nonnegative('pricePerPodHour cannot be negative'))),
});
export type ForecastRequest = z.infer<typeof ForecastRequestSchema>;

export interface ForecastPoint {
  /** Epoch ms of the step's start. */
  t: number;
  mean: number;
  lo80: number;
  hi80: number;
  lo95: number;
  hi95: number;
}

/** The `sg predict --json` contract (docs/cli.md): exactly these four fields. */
export interface ForecastContract {
  series: string;
  model: string;
  /** The chosen model's rolling-origin backtest (sMAPE in percent); null values when the history was too short to backtest. */
  backtest: { smape: number | null; mase: number | null };
  points: ForecastPoint[];
}

/** Live forecast error against the backtest's: is the model still as good as when it was chosen? */
export interface DriftStatus {
  state: 'unknown' | 'ok' | 'degraded';
  /** sMAPE (percent) of earlier forecasts against what happened, over `realized` points; null before any. */
  liveSmape: number | null;
  backtestSmape: number | null;
  realized: number;
  /** Refits triggered by degraded live error since the server started, and when the last was. */
  refits: number;
  lastRefitAt?: number;
  /** One sentence: what was compared and what was done. */
  note: string;
}

export interface ScalingAdvice {
  /** Live pods of the service now, and the most the forecast needs within the horizon. */
  currentPods: number;
  neededPods: number;
  /** The forecast's peak upper 95 % bound (requests/s) and when it is reached. */
  peak: number;
  peakAt: number;
  capacityPerPod: number;
  /** Where the capacity came from: the request, the settings, measured on the fleet's pods (requests/s at 70 % of a core), or the default. */
  capacitySource?: 'request' | 'setting' | 'measured' | 'default';
  /** Epoch ms before which to scale (the first step that needs more pods than run now); absent when no change is needed before the horizon. */
  before?: number;
  action: 'scale-up' | 'scale-down' | 'hold';
  /** "scale gateway to 5 pods before 14:00 — forecast p95 12k req/s, capacity 2.5k per pod" (times in the server's local time). */
  text: string;
}

export interface CostSummary {
  /** Total over the horizon at the mean forecast, and at the 80 % and 95 % bounds. */
  total: number;
  total80: [number, number];
  total95: [number, number];
  pricePerPodHour: number;
  capacityPerPod: number;
  currency: string;
}

/** Everything the server knows about one forecast: the contract's fields and what the views show besides. */
export interface ForecastAnswer extends ForecastContract {
  kind: ForecastKind;
  service: string;
  route?: string;
  unit: string;
  /** Why this model: the backtest that chose it, or the fallback and its cause. */
  reason: string;
  /** Problems found in the history (gaps, …) and how they were handled. */
  warnings: string[];
  /** Step of history and forecast, ms; the season used (0: none found) and where it came from. */
  stepMs: number;
  seasonMs: number;
  seasonSource: 'setting' | 'detected' | 'none';
  /** History the forecast was made from (the last part of it, for charts): [step start, value or null]. */
  history: [number, number | null][];
  generatedAt: number;
  drift: DriftStatus;
  /** load: how many pods the forecast needs; cost: the same advice the cost is computed from. */
  scaling?: ScalingAdvice;
  /** cost: the horizon's total. */
  cost?: CostSummary;
  /** model "combination": the models averaged. */
  members?: string[];
  /** Other candidates' backtests, for the curious. */
  candidates: { model: string; smape: number; mase: number }[];
}

export const PredictionsQuerySchema = z.object({
  /** The service to show (default: the busiest one). */
  service: z.optional(Name),
  horizonMs: z.optional(z.number().check(z.int(), z.minimum(MIN_HORIZON_MS), z.maximum(MAX_HORIZON_MS))),
});
export type PredictionsQuery = z.infer<typeof PredictionsQuerySchema>;

/** The predictions webview's data: one service's four forecasts, with the services there are to choose from. */
export interface PredictionsData {
  at: number;
  service: string | null;
  services: string[];
  horizonMs: number;
  forecasts: Partial<Record<ForecastKind, ForecastAnswer>>;
  /** Why a forecast is missing (no data for that kind). */
  missing: Partial<Record<ForecastKind, string>>;
  alerts: AlertEvent[];
  anomalies: AnomalySummary;
}

// --- Anomalies --------------------------------------------------------------------------------------------------

export interface AnomalyEntry {
  /** The live series' name and labels. */
  metric: string;
  labels: Record<string, string>;
  score: number;
  value: number;
  at: number;
}

export interface AnomalySummary {
  /** Live series with a detector, and how many are still warming up. */
  tracked: number;
  warming: number;
  /** Series refused because the cap was reached. */
  refused: number;
  stepMs: number;
  /** The highest scores at the last step, highest first. */
  top: AnomalyEntry[];
}

// --- Alerts ---------------------------------------------------------------------------------------------------------

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * The signals rules watch, each per service or per pod, computed the same way from the live windows:
 * errorRate (5xx share), p99 (request latency, ms), rps (requests/s), cpu (percent), rss (bytes), eventLoop (p99 ms),
 * silent (1 when a pod that reported in the last 5 minutes sent no metrics in the step, else 0), restarts (how often
 * the pod's process started again in the last 2 minutes: its agent's counters fell back), cpuCost (a pod's CPU per
 * request over the median of its service's pods: 1 is usual, 3 is three times the others' cost).
 */
export const ALERT_SIGNALS = ['errorRate', 'p99', 'rps', 'cpu', 'rss', 'eventLoop', 'silent', 'restarts', 'cpuCost'] as const;
export type AlertSignal = (typeof ALERT_SIGNALS)[number];

export interface AlertRule {
  id: string;
  /** threshold: the signal is past `threshold` for `forMs`; anomaly: its detector scores ≥ `threshold` for `forMs`; forecast: its forecast crosses `threshold` within `withinMs`. */
  type: 'threshold' | 'anomaly' | 'forecast';
  signal: AlertSignal;
  scope: 'service' | 'pod';
  threshold: number;
  forMs: number;
  /** forecast rules: how far ahead a crossing counts. */
  withinMs?: number;
  severity: AlertSeverity;
  /** After an alert resolves, the same rule and subject stay quiet this long. */
  cooldownMs: number;
  title: string;
  enabled: boolean;
}

/** Settings may change these fields of a built-in rule (by id). */
export const AlertRuleOverrideSchema = z.object({
  id: Name,
  enabled: z.optional(z.boolean()),
  threshold: z.optional(z.number()),
  forMs: z.optional(z.number().check(z.int(), z.nonnegative())),
  withinMs: z.optional(z.number().check(z.int(), z.positive())),
  severity: z.optional(z.enum(ALERT_SEVERITIES)),
  cooldownMs: z.optional(z.number().check(z.int(), z.nonnegative())),
});
export type AlertRuleOverride = z.infer<typeof AlertRuleOverrideSchema>;

export const DEFAULT_ALERT_RULES: AlertRule[] = [
  { id: 'error-rate-high', type: 'threshold', signal: 'errorRate', scope: 'service', threshold: 0.02, forMs: 20_000, severity: 'critical', cooldownMs: 120_000, title: 'Error rate above 2 %', enabled: true },
  { id: 'latency-p99-high', type: 'threshold', signal: 'p99', scope: 'service', threshold: 500, forMs: 30_000, severity: 'warning', cooldownMs: 120_000, title: 'p99 latency above 500 ms', enabled: true },
  { id: 'pod-silent', type: 'threshold', signal: 'silent', scope: 'pod', threshold: 0.5, forMs: 20_000, severity: 'critical', cooldownMs: 120_000, title: 'Pod stopped reporting', enabled: true },
  { id: 'pod-crash-loop', type: 'threshold', signal: 'restarts', scope: 'pod', threshold: 1, forMs: 0, severity: 'critical', cooldownMs: 300_000, title: 'Pod restarting over and over', enabled: true },
  { id: 'pod-event-loop-high', type: 'threshold', signal: 'eventLoop', scope: 'pod', threshold: 200, forMs: 30_000, severity: 'warning', cooldownMs: 120_000, title: 'Event-loop delay p99 above 200 ms', enabled: true },
  { id: 'error-rate-anomaly', type: 'anomaly', signal: 'errorRate', scope: 'pod', threshold: 0.95, forMs: 20_000, severity: 'warning', cooldownMs: 300_000, title: 'Unusual error rate', enabled: true },
  { id: 'latency-anomaly', type: 'anomaly', signal: 'p99', scope: 'pod', threshold: 0.95, forMs: 20_000, severity: 'warning', cooldownMs: 300_000, title: 'Unusual p99 latency', enabled: true },
  { id: 'pod-cpu-anomaly', type: 'anomaly', signal: 'cpu', scope: 'pod', threshold: 0.95, forMs: 30_000, severity: 'warning', cooldownMs: 300_000, title: 'Unusual CPU use', enabled: true },
  { id: 'pod-cpu-cost-anomaly', type: 'anomaly', signal: 'cpuCost', scope: 'pod', threshold: 0.95, forMs: 30_000, severity: 'warning', cooldownMs: 300_000, title: 'Unusual CPU per request', enabled: true },
  { id: 'pod-memory-anomaly', type: 'anomaly', signal: 'rss', scope: 'pod', threshold: 0.95, forMs: 30_000, severity: 'warning', cooldownMs: 300_000, title: 'Unusual memory use', enabled: true },
  { id: 'traffic-anomaly', type: 'anomaly', signal: 'rps', scope: 'service', threshold: 0.95, forMs: 30_000, severity: 'info', cooldownMs: 300_000, title: 'Unusual traffic', enabled: true },
  { id: 'error-rate-forecast', type: 'forecast', signal: 'errorRate', scope: 'service', threshold: 0.02, forMs: 0, withinMs: 30 * 60_000, severity: 'warning', cooldownMs: 600_000, title: 'Error rate forecast to cross 2 %', enabled: true },
  { id: 'load-capacity-forecast', type: 'forecast', signal: 'rps', scope: 'service', threshold: 0, forMs: 0, withinMs: 60 * 60_000, severity: 'warning', cooldownMs: 600_000, title: 'Load forecast above the pods\' capacity', enabled: true },
];

/** One alert's life: pending → firing → resolved. */
export interface AlertEvent {
  /** Unique per firing: rule, subject and the time it started firing. */
  id: string;
  rule: string;
  type: AlertRule['type'];
  severity: AlertSeverity;
  state: 'firing' | 'resolved';
  service: string;
  pod?: string;
  signal: AlertSignal;
  /** The signal's value (threshold, forecast) or the detector's score (anomaly) when it fired, and the last seen. */
  value: number;
  threshold: number;
  /** "error rate 31.2 % on gateway is above 2 % for 20 s" / "error rate will cross 2 % in about 25 minutes". */
  summary: string;
  startsAt: number;
  /** forecast rules: when the crossing is expected. */
  expectedAt?: number;
  resolvedAt?: number;
  /** How many evaluations found it still firing (de-duplication counts them instead of alerting again). */
  repeats: number;
  runbook: string;
}

export const AlertsQuerySchema = z.object({
  /** Also resolved alerts of the last this-many ms (default 1 hour). */
  sinceMs: z.optional(z.number().check(z.int(), z.nonnegative(), z.maximum(7 * 24 * 3600_000))),
});
export type AlertsQuery = z.infer<typeof AlertsQuerySchema>;

export interface AlertsAnswer {
  at: number;
  rules: AlertRule[];
  /** Firing first, then the most recent. */
  alerts: AlertEvent[];
}

/** Alerts are published as they fire and resolve on `sg.alerts.<severity>.<service>` (core NATS, JSON AlertEvent). */
export const ALERT_SUBJECT_PREFIX = 'sg.alerts';
export function alertSubject(event: Pick<AlertEvent, 'severity' | 'service'>): string {
  return `${ALERT_SUBJECT_PREFIX}.${event.severity}.${event.service.replace(/[.*>\s]/g, '_') || '_'}`;
}

/** Where a rule's runbook lives in the repository (and in the docs site). */
export function runbookPath(ruleId: string): string {
  return `docs/runbooks/${ruleId}.md`;
}

/** Units the views and the CLI print forecasts in. */
export const FORECAST_UNITS: Record<ForecastKind, string> = { load: 'requests/s', errors: '5xx share', sessions: 'active sessions', cost: 'per hour' };
