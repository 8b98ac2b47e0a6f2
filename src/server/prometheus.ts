/**
 * The fleet's series in the Prometheus text exposition format (version 0.0.4), for a real Prometheus to scrape
 * from `sg server`'s /metrics: every live series with its labels (service and pod included). Counters expose
 * the pods' own running totals; histograms become summaries with quantiles over the last minute, merged from
 * the pods' sketches, and the count and sum the server has seen. Series silent for 5 minutes are left out.
 */
import { mergeAll, quantile, type Distribution } from './telemetry/histogram';
import type { LiveSeries, LiveWindows } from './live/windows';

const STALE_MS = 5 * 60_000;
const QUANTILES = [0.5, 0.9, 0.95, 0.99];

export function metricName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[a-zA-Z_:]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

function labelName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[a-zA-Z_]/.test(cleaned) && !cleaned.startsWith('__') ? cleaned : `l_${cleaned}`;
}

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Record<string, string>, extra?: [string, string]): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${labelName(k)}="${escapeValue(v)}"`);
  if (extra) pairs.push(`${extra[0]}="${extra[1]}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function lastMinute(series: LiveSeries, now: number): Distribution | undefined {
  const parts: Distribution[] = [];
  series.each(now - 60_000, now + 1000, (_ts, slot) => {
    const d = series.dists[slot];
    if (d) parts.push(d);
  });
  return parts.length ? mergeAll(parts) : undefined;
}

export function exposition(windows: LiveWindows, now = Date.now()): string {
  const byName = new Map<string, LiveSeries[]>();
  for (const series of windows.all()) {
    if (series.lastAt < now - STALE_MS) continue;
    const name = metricName(series.name);
    const list = byName.get(name) ?? [];
    list.push(series);
    byName.set(name, list);
  }
  const out: string[] = [];
  for (const [name, list] of [...byName.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const kind = list[0]!.kind;
    const same = list.filter((s) => s.kind === kind);
    out.push(`# HELP ${name} ${kind} of the StreamGate fleet, from the pods' telemetry`);
    out.push(`# TYPE ${name} ${kind === 'histogram' ? 'summary' : kind}`);
    for (const s of same) {
      if (kind === 'histogram') {
        const dist = lastMinute(s, now);
        if (dist) for (const q of QUANTILES) out.push(`${name}${labelText(s.labels, ['quantile', String(q)])} ${number(quantile(dist, q))}`);
        out.push(`${name}_sum${labelText(s.labels)} ${number(s.observedSum)}`);
        out.push(`${name}_count${labelText(s.labels)} ${number(s.observed)}`);
      } else {
        out.push(`${name}${labelText(s.labels)} ${number(s.last)}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}
