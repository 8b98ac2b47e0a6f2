/**
 * A telemetry message as metric points: what the live windows and the store's metrics table hold. Besides the
 * pods' own counters, gauges and histograms, the server derives a few series from business events and logs
 * (its recording rules), the same way for the live windows and the store, so that sessions, the funnel and
 * log rates are queried like any metric:
 *
 *   sg_events_total{type, tenant}          every business event (session.started is a connect, …)
 *   sg_session_duration_ms{tenant}         session lengths, from session.ended
 *   sg_stream_duration_ms{tenant}          subscription lengths, from stream.closed
 *   sg_log_records_total{level}            log records
 */
import type { MetricKind } from '../../protocol/analytics';
import type { EventBatch, HistogramPoint, LogBatch, MetricsBatch, TelemetryMessage } from '../../protocol/nats';
import { distributionOf, type Distribution } from './histogram';

export interface MetricPoint {
  /** Epoch ms. */
  ts: number;
  name: string;
  kind: MetricKind;
  /** The point's own labels plus `service` and `pod` (the envelope wins; a pod's own are kept as exported_*). */
  labels: Record<string, string>;
  /** Gauges: the value. Counters: the increase since the previous point. Histograms: the observation count. */
  value: number;
  /** Counters: the pod's running total. */
  total: number;
  dist?: Distribution;
}

export const DERIVED = {
  events: 'sg_events_total',
  sessionDuration: 'sg_session_duration_ms',
  streamDuration: 'sg_stream_duration_ms',
  logRecords: 'sg_log_records_total',
} as const;

export function metricPoints(message: TelemetryMessage, distributions: Map<HistogramPoint, Distribution>): MetricPoint[] {
  switch (message.kind) {
    case 'metrics':
      return fromMetrics(message, distributions);
    case 'events':
      return fromEvents(message);
    case 'logs':
      return fromLogs(message);
    case 'spans':
    case 'truth':
      return [];
  }
}

function labelsOf(service: string, pod: string, own: Record<string, string> | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (own) {
    for (const [key, value] of Object.entries(own)) {
      labels[key === 'service' || key === 'pod' ? `exported_${key}` : key] = value;
    }
  }
  labels.service = service;
  labels.pod = pod;
  return labels;
}

function fromMetrics(m: MetricsBatch, distributions: Map<HistogramPoint, Distribution>): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const c of m.counters) points.push({ ts: m.ts, name: c.name, kind: 'counter', labels: labelsOf(m.service, m.pod, c.labels), value: c.delta, total: c.total });
  for (const g of m.gauges) points.push({ ts: m.ts, name: g.name, kind: 'gauge', labels: labelsOf(m.service, m.pod, g.labels), value: g.value, total: 0 });
  for (const h of m.histograms) {
    const dist = distributions.get(h);
    if (!dist) throw new Error(`histogram ${h.name} was not decoded`);
    points.push({ ts: m.ts, name: h.name, kind: 'histogram', labels: labelsOf(m.service, m.pod, h.labels), value: h.count, total: 0, dist });
  }
  return points;
}

/** The key of a derived point: labels are built by this module in a fixed order, so no sorting is needed. */
function derivedKey(second: number, name: string, own: Record<string, string>): string {
  let key = `${second}\u0000${name}`;
  for (const k in own) key += `\u0000${k}\u0001${own[k]}`;
  return key;
}

/** Counts per (second, name, labels) and distributions per (second, name, labels): a few points per message. */
class Derivation {
  private readonly counts = new Map<string, MetricPoint>();
  private readonly observations = new Map<string, { point: Omit<MetricPoint, 'dist'>; values: number[] }>();

  constructor(private readonly service: string, private readonly pod: string) {}

  count(ts: number, name: string, own: Record<string, string>): void {
    const second = Math.floor(ts / 1000) * 1000;
    const key = derivedKey(second, name, own);
    const point = this.counts.get(key);
    if (point) point.value++;
    else this.counts.set(key, { ts: second, name, kind: 'counter', labels: labelsOf(this.service, this.pod, own), value: 1, total: 0 });
  }

  observe(ts: number, name: string, own: Record<string, string>, value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const second = Math.floor(ts / 1000) * 1000;
    const key = derivedKey(second, name, own);
    const entry = this.observations.get(key);
    if (entry) entry.values.push(value);
    else this.observations.set(key, { point: { ts: second, name, kind: 'histogram', labels: labelsOf(this.service, this.pod, own), value: 0, total: 0 }, values: [value] });
  }

  points(): MetricPoint[] {
    const out = [...this.counts.values()];
    for (const { point, values } of this.observations.values()) out.push({ ...point, value: values.length, dist: distributionOf(values) });
    return out;
  }
}

function fromEvents(m: EventBatch): MetricPoint[] {
  const d = new Derivation(m.service, m.pod);
  for (const e of m.events) {
    const tenant: Record<string, string> = e.tenant ? { tenant: e.tenant } : {};
    d.count(e.ts, DERIVED.events, { type: e.type, ...tenant });
    const duration = e.attrs?.durationMs;
    if (typeof duration === 'number') {
      if (e.type === 'session.ended') d.observe(e.ts, DERIVED.sessionDuration, tenant, duration);
      else if (e.type === 'stream.closed') d.observe(e.ts, DERIVED.streamDuration, tenant, duration);
    }
  }
  return d.points();
}

function fromLogs(m: LogBatch): MetricPoint[] {
  const d = new Derivation(m.service, m.pod);
  for (const record of m.logs) d.count(record.ts, DERIVED.logRecords, { level: record.level });
  return d.points();
}

/** The canonical key of a series: its name and labels in sorted order. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}
