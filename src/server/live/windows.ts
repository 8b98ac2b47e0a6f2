/**
 * The live windows: every metric series of the fleet at 1-second resolution for the last 15 minutes, in
 * memory. A series is a ring of 900 one-second slots; a slot holds the second's counter increase, the gauge's
 * last value, or the merged distribution of the histogram's observations. Memory is bounded by the number of
 * series (capped) times 900 slots.
 */
import { LIVE_WINDOW_MS, type MetricKind } from '../../protocol/analytics';
import { merge, type Distribution } from '../telemetry/histogram';
import { seriesKey, type MetricPoint } from '../telemetry/points';

export const RESOLUTION_MS = 1000;
/**
 * What the windows keep: the promised 15 minutes plus a minute, so a query for "the 15 minutes up to the
 * second the dashboard showed" can still be answered exactly a few seconds later.
 */
export const LIVE_RETENTION_MS = LIVE_WINDOW_MS + 60_000;
const SLOTS = LIVE_RETENTION_MS / RESOLUTION_MS;

export class LiveSeries {
  /** The second (epoch ms / 1000) each slot currently holds; -1 for empty. */
  readonly seconds = new Float64Array(SLOTS).fill(-1);
  /** Counter increase or gauge value per slot. */
  readonly values = new Float64Array(SLOTS);
  readonly dists: (Distribution | undefined)[];
  /** Counters: the pod's last reported running total. Gauges: the last value. */
  last = 0;
  lastAt = 0;
  /** Histograms: observations and their sum since the server first saw the series (for Prometheus summaries). */
  observed = 0;
  observedSum = 0;

  constructor(readonly key: string, readonly name: string, readonly kind: MetricKind, readonly labels: Record<string, string>) {
    this.dists = kind === 'histogram' ? new Array<Distribution | undefined>(SLOTS) : [];
  }

  add(point: MetricPoint): void {
    const second = Math.floor(point.ts / RESOLUTION_MS);
    const slot = second % SLOTS;
    const fresh = this.seconds[slot] !== second;
    if (fresh) {
      this.seconds[slot] = second;
      this.values[slot] = 0;
      if (this.kind === 'histogram') this.dists[slot] = undefined;
    }
    switch (this.kind) {
      case 'counter':
        this.values[slot]! += point.value;
        break;
      case 'gauge':
        this.values[slot] = point.value;
        break;
      case 'histogram':
        this.values[slot]! += point.value;
        this.observed += point.value;
        if (point.dist) {
          this.dists[slot] = this.dists[slot] ? merge(this.dists[slot], point.dist) : point.dist;
          this.observedSum += point.dist.sum;
        }
        break;
    }
    if (point.ts >= this.lastAt) {
      this.lastAt = point.ts;
      this.last = this.kind === 'counter' ? point.total : point.value;
    }
  }

  /** Calls `visit(secondStartMs, slot)` for every slot whose second lies in [from, to). */
  each(from: number, to: number, visit: (ts: number, slot: number) => void): void {
    const first = Math.floor(from / RESOLUTION_MS);
    const last = Math.ceil(to / RESOLUTION_MS) - 1;
    for (let slot = 0; slot < SLOTS; slot++) {
      const second = this.seconds[slot]!;
      if (second >= first && second <= last) visit(second * RESOLUTION_MS, slot);
    }
  }
}

export interface WindowStats {
  series: number;
  points: number;
  /** Points refused because the series cap was reached. */
  refused: number;
  /** Points older than the window when they arrived. */
  late: number;
}

export class LiveWindows {
  private readonly byKey = new Map<string, LiveSeries>();
  private readonly byName = new Map<string, Set<LiveSeries>>();
  readonly stats: WindowStats = { series: 0, points: 0, refused: 0, late: 0 };

  constructor(private readonly maxSeries = 50_000) {}

  add(point: MetricPoint, now = Date.now()): void {
    if (point.ts < now - LIVE_RETENTION_MS) {
      this.stats.late++;
      return;
    }
    const key = seriesKey(point.name, point.labels);
    let series = this.byKey.get(key);
    if (!series) {
      if (this.byKey.size >= this.maxSeries) {
        this.stats.refused++;
        return;
      }
      series = new LiveSeries(key, point.name, point.kind, point.labels);
      this.byKey.set(key, series);
      let named = this.byName.get(point.name);
      if (!named) this.byName.set(point.name, (named = new Set()));
      named.add(series);
      this.stats.series = this.byKey.size;
    } else if (series.kind !== point.kind) {
      // The same name and labels reported as another kind: keep what the series started as.
      this.stats.refused++;
      return;
    }
    series.add(point);
    this.stats.points++;
  }

  named(name: string): Iterable<LiveSeries> {
    return this.byName.get(name) ?? [];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): Iterable<LiveSeries> {
    return this.byKey.values();
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Forgets series that have had no data for the whole window. */
  prune(now = Date.now()): void {
    for (const [key, series] of this.byKey) {
      if (series.lastAt < now - LIVE_RETENTION_MS) {
        this.byKey.delete(key);
        const named = this.byName.get(series.name);
        named?.delete(series);
        if (named?.size === 0) this.byName.delete(series.name);
      }
    }
    this.stats.series = this.byKey.size;
  }
}
