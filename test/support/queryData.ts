/**
 * Telemetry shaped like the sandbox fleet's (three gateway pods and a Go pod; the gateway's routes, metric
 * names and labels; traces across pods; logs in traces; business events), generated from a seed so that the
 * query corpus, the language tests and the benchmarks read the same rows from DuckDB and from ClickHouse.
 * Pod gw-2 restarts halfway, so its counters' running totals fall back to zero there.
 */
import { emptyBatch, type Row, type RowBatch } from '../../src/server/store/rows';
import { distributionOf } from '../../src/server/telemetry/histogram';

export const ROUTES = ['POST /v1/sessions', 'DELETE /v1/sessions/:id', 'POST /v1/streams/:stream/messages', 'GET /v1/streams/:stream/subscribe', 'GET /v1/streams/:stream/history'];
export const PODS = ['gw-1', 'gw-2', 'gw-3'];
export const TENANTS = ['acme', 'globex', 'initech', 'umbrella'];
/** 2025-01-01T00:00:00Z: the corpus's fixed clock starts here. */
export const DATA_START = Date.UTC(2025, 0, 1);

export interface DataShape {
  start: number;
  minutes: number;
  /** Seconds between a pod's metric points. */
  metricIntervalS: number;
  /** Spans per pod and minute. */
  spansPerMinute: number;
  seed: number;
}

export const CORPUS_SHAPE: DataShape = { start: DATA_START, minutes: 30, metricIntervalS: 10, spansPerMinute: 20, seed: 42 };

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (rand: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');

/** Calls `emit` with batches of rows (one per simulated minute), so a day of data never sits in memory at once. */
export function generate(shape: DataShape, emit: (batch: Partial<RowBatch>) => void): void {
  const rand = random(shape.seed);
  const totals = new Map<string, number>();
  const restartMinute = Math.floor(shape.minutes / 2);
  for (let minute = 0; minute < shape.minutes; minute++) {
    const batch: RowBatch = emptyBatch();
    const minuteStart = shape.start + minute * 60_000;
    // A daily cycle: busier in the afternoon (UTC), never idle.
    const load = 1 + 0.6 * Math.sin(((minuteStart / 3_600_000) % 24) / 24 * 2 * Math.PI - Math.PI / 2);
    const slow = minute % 11 === 7 ? 4 : 1;
    for (let s = 0; s < 60; s += shape.metricIntervalS) {
      const ts = minuteStart + s * 1000;
      for (const pod of PODS) {
        const base = { ts, service: 'gateway', pod, msg_id: `${pod}.${ts}` };
        const zeros = { total: 0, count: 0, sum: 0, min: 0, max: 0, zero: 0, bin_keys: [] as number[], bin_counts: [] as number[] };
        if (pod === 'gw-2' && minute === restartMinute && s === 0) for (const key of [...totals.keys()]) if (key.startsWith('gw-2')) totals.set(key, 0);
        ROUTES.forEach((route, r) => {
          for (const code of ['200', '500']) {
            const delta = code === '200' ? Math.floor(rand() * 20 * load) + (r === 2 ? 10 : 0) : rand() < 0.1 * slow ? 1 + Math.floor(rand() * 2) : 0;
            const key = `${pod}\u0000${route}\u0000${code}`;
            const total = (totals.get(key) ?? 0) + delta;
            totals.set(key, total);
            batch.metrics.push({ ...base, ...zeros, name: 'gw_http_requests_total', kind: 'counter', label_keys: ['code', 'route'], label_values: [code, route], value: delta, total });
          }
          const n = 5 + Math.floor(rand() * 10);
          const values = Array.from({ length: n }, () => Math.round(Math.exp(1 + rand() * 3) * slow * (r + 1) * 100) / 100);
          const d = distributionOf(values);
          batch.metrics.push({ ...base, name: 'gw_http_request_duration_ms', kind: 'histogram', label_keys: ['route'], label_values: [route], value: d.count, total: 0, count: d.count, sum: d.sum, min: d.min, max: d.max, zero: d.zero, bin_keys: Array.from(d.keys), bin_counts: Array.from(d.counts) });
        });
        batch.metrics.push({ ...base, ...zeros, name: 'gw_active_sessions', kind: 'gauge', label_keys: [], label_values: [], value: Math.round(40 * load + rand() * 10) });
        batch.metrics.push({ ...base, ...zeros, name: 'process_cpu_percent', kind: 'gauge', label_keys: [], label_values: [], value: Math.round((20 + rand() * 30) * slow * 10) / 10 });
      }
    }
    for (const pod of PODS) {
      for (let i = 0; i < shape.spansPerMinute; i++) {
        const ts = minuteStart + Math.floor(rand() * 60_000);
        const r = Math.floor(rand() * ROUTES.length);
        const route = ROUTES[r]!;
        const trace = hex(rand, 32);
        const root = hex(rand, 16);
        const duration = Math.round(Math.exp(1 + rand() * 3) * slow * (r + 1) * 100) / 100;
        const error = rand() < 0.04 * slow;
        batch.spans.push(span(ts, trace, root, '', pod, route, duration, error ? 2 : 1, 2));
        const child = hex(rand, 16);
        const nats = Math.round(duration * 0.4 * 100) / 100;
        batch.spans.push(span(ts + 1, trace, child, root, pod, route, nats, 1, 4, 'nats publish'));
        if (error || rand() < 0.2) {
          batch.logs.push({ ts: ts + 2, id: hex(rand, 12), service: 'gateway', pod, level: error ? 'error' : 'info', msg: error ? `request failed on ${route}: upstream timeout after ${Math.round(duration)} ms` : `handled ${route}`, trace_id: trace, span_id: root, attrs: JSON.stringify({ route }), msg_id: `${pod}.log.${ts}` });
        }
        if (rand() < 0.3) {
          const tenant = TENANTS[Math.floor(rand() * TENANTS.length)]!;
          const type = ['session.started', 'stream.opened', 'message.published', 'session.ended'][Math.floor(rand() * 4)]!;
          batch.events.push({ ts: ts + 3, id: hex(rand, 12), service: 'gateway', pod, type, tenant, session: `s-${hex(rand, 6)}`, stream: rand() < 0.5 ? `stream-${Math.floor(rand() * 5)}` : '', trace_id: trace, attrs: '', msg_id: `${pod}.ev.${ts}` });
        }
      }
      if (rand() < 0.5) batch.logs.push({ ts: minuteStart + 30_000, id: hex(rand, 12), service: 'gateway', pod, level: 'warn', msg: 'event loop delay above 50 ms', trace_id: '', span_id: '', attrs: '', msg_id: `${pod}.warn.${minute}` });
    }
    if (minute % 11 === 7) {
      const id = `inc-${minute}`;
      batch.incidents.push({ ts: minuteStart, id, service: 'gateway', pod: 'gw-3', type: 'latency-spike', phase: 'start', start_ms: minuteStart, end_ms: minuteStart + 60_000, msg_id: `${id}.start` });
      batch.incidents.push({ ts: minuteStart + 60_000, id, service: 'gateway', pod: 'gw-3', type: 'latency-spike', phase: 'end', start_ms: minuteStart, end_ms: minuteStart + 60_000, msg_id: `${id}.end` });
    }
    emit(batch);
  }
}

function span(ts: number, trace: string, id: string, parent: string, pod: string, route: string, duration: number, status: number, kind: number, name = route): Row {
  return {
    ts,
    end_ts: ts + Math.round(duration),
    trace_id: trace,
    span_id: id,
    parent_span_id: parent,
    service: 'gateway',
    pod,
    name,
    kind,
    duration_ms: duration,
    status_code: status,
    status_message: status === 2 ? 'upstream timeout' : '',
    route,
    scope: 'streamgate-gateway',
    attributes: JSON.stringify({ 'http.route': route }),
    events: '',
    msg_id: `${pod}.span.${id}`,
  };
}
