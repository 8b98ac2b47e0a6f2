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

/** One derived series (a name and its labels) and its points per second, in one message. */
interface DerivedSeries {
  name: string;
  labels: Record<string, string>;
  counts: Map<number, MetricPoint>;
  observations: Map<number, { point: Omit<MetricPoint, 'dist'>; values: number[] }>;
}

/**
 * Counts and distributions per derived series and second: a few points per message. A series is found by a key
 * its caller builds from the name and label values, so an event costs one string and one lookup, not a labels
 * object; the labels are made once per series.
 */
class Derivation {
  private readonly series = new Map<string, DerivedSeries>();

  constructor(private readonly service: string, private readonly pod: string) {}

  find(key: string): DerivedSeries | undefined {
    return this.series.get(key);
  }

  add(key: string, name: string, own: Record<string, string>): DerivedSeries {
    const series: DerivedSeries = { name, labels: labelsOf(this.service, this.pod, own), counts: new Map(), observations: new Map() };
    this.series.set(key, series);
    return series;
  }

  count(series: DerivedSeries, ts: number): void {
    const second = Math.floor(ts / 1000) * 1000;
    const point = series.counts.get(second);
    if (point) point.value++;
    else series.counts.set(second, { ts: second, name: series.name, kind: 'counter', labels: series.labels, value: 1, total: 0 });
  }

  observe(series: DerivedSeries, ts: number, value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const second = Math.floor(ts / 1000) * 1000;
    const entry = series.observations.get(second);
    if (entry) entry.values.push(value);
    else series.observations.set(second, { point: { ts: second, name: series.name, kind: 'histogram', labels: series.labels, value: 0, total: 0 }, values: [value] });
  }

  points(): MetricPoint[] {
    const out: MetricPoint[] = [];
    for (const series of this.series.values()) {
      for (const point of series.counts.values()) out.push(point);
      for (const { point, values } of series.observations.values()) out.push({ ...point, value: values.length, dist: distributionOf(values) });
    }
    return out;
  }
}

function fromEvents(m: EventBatch): MetricPoint[] {
  const d = new Derivation(m.service, m.pod);
  for (const e of m.events) {
    const tenant = e.tenant ?? '';
    const key = `${e.type}\u0000${tenant}`;
    const events = d.find(key) ?? d.add(key, DERIVED.events, e.tenant ? { type: e.type, tenant } : { type: e.type });
    d.count(events, e.ts);
    const duration = e.attrs?.durationMs;
    if (typeof duration === 'number') {
      const name = e.type === 'session.ended' ? DERIVED.sessionDuration : e.type === 'stream.closed' ? DERIVED.streamDuration : undefined;
      if (name) {
        const durationKey = `${name}\u0000${tenant}`;
        d.observe(d.find(durationKey) ?? d.add(durationKey, name, e.tenant ? { tenant } : {}), e.ts, duration);
      }
    }
  }
  return d.points();
}

function fromLogs(m: LogBatch): MetricPoint[] {
  const d = new Derivation(m.service, m.pod);
  for (const record of m.logs) d.count(d.find(record.level) ?? d.add(record.level, DERIVED.logRecords, { level: record.level }), record.ts);
  return d.points();
}

/** The canonical key of a series: its name and labels in sorted order. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}
