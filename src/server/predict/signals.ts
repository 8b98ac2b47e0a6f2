/**
 * The signals alert rules watch, per service and per pod, for one step of the live windows: error rate (5xx
 * share), p99 latency, requests/s, CPU, memory, event-loop delay, and a pod's CPU per request against its peers.
 * Computed with the same bucketing as every series query, so a signal here equals what the dashboard shows for that
 * step.
 */
import type { AlertSignal } from '../../protocol/predict';
import type { AnalyticsMetrics } from '../../protocol/settings';
import { bucketLive, statOf, type Bucketed } from '../analytics/series';
import { median } from '../ml/metrics';
import type { LiveSeries, LiveWindows } from '../live/windows';
import { mergeAll, type Distribution } from '../telemetry/histogram';

export interface Subject {
  service: string;
  /** Absent: the whole service. */
  pod?: string;
}

export interface SignalValue extends Subject {
  signal: AlertSignal;
  value: number;
}

export function subjectKey(s: Subject): string {
  return s.pod ? `${s.service}/${s.pod}` : s.service;
}

export function subjectText(s: Subject): string {
  return s.pod ? `${s.pod} (${s.service})` : s.service;
}

const PROCESS_METRICS: Partial<Record<AlertSignal, { metric: string; stat: 'avg' | 'value' }>> = {
  cpu: { metric: 'process_cpu_percent', stat: 'avg' },
  rss: { metric: 'process_rss_bytes', stat: 'value' },
  eventLoop: { metric: 'nodejs_eventloop_delay_p99_ms', stat: 'avg' },
};

/** Every signal of every service and pod in [from, from + stepMs). */
export function readSignals(windows: LiveWindows, metrics: AnalyticsMetrics, from: number, stepMs: number): SignalValue[] {
  const q = (metric: string, by: string[]) => ({ metric, from, to: from + stepMs, stepMs, by });
  const out: SignalValue[] = [];
  const requests = bucketLive(windows, q(metrics.requests, ['service', 'pod', 'code']));
  const counts = new Map<string, { subject: Subject; all: number; failed: number }>();
  for (const g of requests?.groups ?? []) {
    const n = g.steps.get(from)?.increase ?? 0;
    const failed = Number(g.labels.code) >= 500 ? n : 0;
    for (const subject of [{ service: g.labels.service! }, { service: g.labels.service!, pod: g.labels.pod! }]) {
      const key = subjectKey(subject);
      const entry = counts.get(key) ?? { subject, all: 0, failed: 0 };
      entry.all += n;
      entry.failed += failed;
      counts.set(key, entry);
    }
  }
  for (const { subject, all, failed } of counts.values()) {
    out.push({ ...subject, signal: 'rps', value: all / (stepMs / 1000) });
    if (all > 0) out.push({ ...subject, signal: 'errorRate', value: failed / all });
  }
  const latency = bucketLive(windows, q(metrics.latency, ['service', 'pod']));
  const byService = new Map<string, Distribution[]>();
  for (const g of latency?.groups ?? []) {
    const agg = g.steps.get(from);
    if (!agg?.dist?.count) continue;
    const p99 = statOf('histogram', 'p99', agg, stepMs);
    if (p99 !== null) out.push({ service: g.labels.service!, pod: g.labels.pod!, signal: 'p99', value: p99 });
    const list = byService.get(g.labels.service!) ?? [];
    list.push(agg.dist);
    byService.set(g.labels.service!, list);
  }
  for (const [service, dists] of byService) {
    const dist = mergeAll(dists);
    const p99 = statOf('histogram', 'p99', { increase: dist.count, lastSum: 0, valueSum: 0, valueCount: 0, min: dist.min, max: dist.max, dist }, stepMs);
    if (p99 !== null) out.push({ service, signal: 'p99', value: p99 });
  }
  for (const [signal, spec] of Object.entries(PROCESS_METRICS) as [AlertSignal, { metric: string; stat: 'avg' | 'value' }][]) {
    const bucketed: Bucketed | undefined = bucketLive(windows, q(spec.metric, ['service', 'pod']));
    for (const g of bucketed?.groups ?? []) {
      const agg = g.steps.get(from);
      const value = agg ? statOf(bucketed!.kind, spec.stat, agg, stepMs) : null;
      if (value !== null && g.labels.pod) out.push({ service: g.labels.service!, pod: g.labels.pod, signal, value });
    }
  }
  out.push(...relativeCpuCost(out));
  // A pod that reported in the last 5 minutes but sent nothing this step is silent (crashed, hung, cut off).
  for (const { service, pod, series } of podsReporting(windows, from - SILENT_MEMORY_MS)) {
    let points = 0;
    series.each(from, from + stepMs, () => points++);
    out.push({ service, pod, signal: 'silent', value: points > 0 ? 0 : 1 });
  }
  return out;
}

/** Below this many requests a second a pod's CPU is mostly its idle work, and its CPU per request says little. */
const MIN_COST_RPS = 1;

/**
 * Each pod's CPU per request over the median of its service's pods (2 or more pods serving at least MIN_COST_RPS).
 * Traffic moves every pod's CPU alike through the day, so a pod's own CPU follows the day's shape; its cost
 * against its peers stays near 1 until that pod's code gets slower (a hot spot, a bad deploy, a noisy neighbour).
 */
function relativeCpuCost(signals: SignalValue[]): SignalValue[] {
  const rps = new Map(signals.filter((s) => s.pod && s.signal === 'rps').map((s) => [subjectKey(s), s.value]));
  const byService = new Map<string, { pod: string; cost: number }[]>();
  for (const s of signals) {
    if (!s.pod || s.signal !== 'cpu') continue;
    const served = rps.get(subjectKey(s));
    if (served === undefined || served < MIN_COST_RPS) continue;
    const list = byService.get(s.service) ?? [];
    list.push({ pod: s.pod, cost: s.value / served });
    byService.set(s.service, list);
  }
  const out: SignalValue[] = [];
  for (const [service, pods] of byService) {
    if (pods.length < 2) continue;
    const typical = median(pods.map((p) => p.cost));
    if (typical > 0) for (const p of pods) out.push({ service, pod: p.pod, signal: 'cpuCost', value: p.cost / typical });
  }
  return out;
}

/**
 * The pods that reported since `since`, with the series that says so: every agent sends its process's CPU every few
 * seconds, so that series' last point is when the pod last spoke.
 */
export function* podsReporting(windows: LiveWindows, since: number): Generator<{ service: string; pod: string; series: LiveSeries }> {
  for (const series of windows.named('process_cpu_percent')) {
    const { service, pod } = series.labels;
    if (service && pod && series.lastAt >= since) yield { service, pod, series };
  }
}

/**
 * Restarts of each pod's process, seen as its agent's published-messages counter falling back (every agent counts
 * from 0 when it starts). Sampled every second, so even a pod that lives two seconds is seen to restart.
 */
export class RestartTracker {
  private readonly totals = new Map<string, { service: string; pod: string; total: number; restarts: number[] }>();

  observe(windows: LiveWindows, now: number): void {
    for (const series of windows.named('sg_agent_published_total')) {
      const { service, pod, kind } = series.labels;
      if (!service || !pod || kind !== 'metrics') continue;
      const key = `${service}/${pod}`;
      const entry = this.totals.get(key);
      if (!entry) {
        this.totals.set(key, { service, pod, total: series.last, restarts: [] });
        continue;
      }
      if (series.last < entry.total) entry.restarts.push(now);
      entry.total = series.last;
      entry.restarts = entry.restarts.filter((t) => t > now - RESTART_MEMORY_MS);
    }
  }

  /** Restarts per pod within the last 2 minutes. */
  signals(): SignalValue[] {
    return [...this.totals.values()].map((e) => ({ service: e.service, pod: e.pod, signal: 'restarts' as const, value: e.restarts.length }));
  }
}

const RESTART_MEMORY_MS = 2 * 60_000;

/** The minutes a measured capacity looks back over (the live windows keep 15). */
export const CAPACITY_WINDOW_MS = 5 * 60_000;

/**
 * What each pod of a service served (requests/s) and used (percent of one core) over the last minutes, from the
 * live windows: what `measureCapacity` turns into requests/s per pod at the target CPU.
 */
export function podLoad(windows: LiveWindows, metrics: AnalyticsMetrics, service: string, now: number): { pod: string; rps: number; cpuPercent: number }[] {
  const from = now - CAPACITY_WINDOW_MS;
  const q = (metric: string) => ({ metric, from, to: now, stepMs: CAPACITY_WINDOW_MS, by: ['pod'], where: { service } });
  const requests = bucketLive(windows, q(metrics.requests));
  const cpu = bucketLive(windows, q(PROCESS_METRICS.cpu!.metric));
  const out: { pod: string; rps: number; cpuPercent: number }[] = [];
  for (const g of requests?.groups ?? []) {
    const pod = g.labels.pod;
    const served = g.steps.get(from);
    const used = cpu?.groups.find((c) => c.labels.pod === pod)?.steps.get(from);
    const cpuPercent = used && cpu ? statOf(cpu.kind, 'avg', used, CAPACITY_WINDOW_MS) : null;
    if (!pod || !served || cpuPercent === null) continue;
    out.push({ pod, rps: served.increase / (CAPACITY_WINDOW_MS / 1000), cpuPercent });
  }
  return out;
}

/** How long a pod that went silent is still expected to report. */
const SILENT_MEMORY_MS = 5 * 60_000;

export const SIGNAL_LABELS: Record<AlertSignal, string> = {
  errorRate: 'error rate',
  p99: 'p99 latency',
  rps: 'load',
  cpu: 'CPU',
  rss: 'memory',
  eventLoop: 'event-loop delay p99',
  silent: 'silence',
  restarts: 'restarts',
  cpuCost: 'CPU per request against the service\'s pods',
};

export function formatSignal(signal: AlertSignal, value: number): string {
  switch (signal) {
    case 'errorRate':
      return `${(value * 100).toFixed(value < 0.1 ? 2 : 1)} %`;
    case 'p99':
    case 'eventLoop':
      return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
    case 'rps':
      return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} req/s`;
    case 'cpu':
      return `${value.toFixed(1)} %`;
    case 'rss':
      return `${(value / 1024 ** 2).toFixed(0)} MiB`;
    case 'silent':
      return value >= 0.5 ? 'no metrics' : 'reporting';
    case 'restarts':
      return `${value} restart${value === 1 ? '' : 's'}`;
    case 'cpuCost':
      return `${value.toFixed(2)}× the median pod's`;
  }
}
