/**
 * Anomaly detection on every live metric series: one OnlineDetector (src/server/ml/anomaly.ts: constant memory,
 * about 15 KB) per series of the live windows, fed one value per step — a counter's rate, a gauge's last value, a
 * histogram's p99 — and forgotten when the series leaves the windows. The number of series watched is capped,
 * so memory is bounded whatever the fleet sends.
 */
import type { AnomalyEntry, AnomalySummary } from '../../protocol/predict';
import { OnlineDetector } from '../ml/anomaly';
import type { LiveSeries, LiveWindows } from '../live/windows';
import { mergeAll, quantile, type Distribution } from '../telemetry/histogram';

export const ANOMALY_STEP_MS = 10_000;
export const MAX_WATCHED_SERIES = 5000;
/** A detector reports no score for this many steps (100 steps of 10 s: about 17 minutes). */
export const ANOMALY_WARMUP = 100;

interface Watched {
  detector: OnlineDetector;
  steps: number;
  last?: AnomalyEntry;
}

/** The step's value of a live series: rate, last value or p99; undefined when the step holds nothing to say. */
export function stepValue(series: LiveSeries, from: number, stepMs: number): number | undefined {
  let sum = 0;
  let seen = 0;
  let lastTs = -Infinity;
  let last = 0;
  const dists: Distribution[] = [];
  series.each(from, from + stepMs, (ts, slot) => {
    seen++;
    const v = series.values[slot]!;
    sum += v;
    if (ts > lastTs) {
      lastTs = ts;
      last = v;
    }
    const d = series.dists[slot];
    if (d?.count) dists.push(d);
  });
  switch (series.kind) {
    case 'counter':
      // A counter that reported nothing this step did not move: its rate is 0 (once it has been seen at all).
      return sum / (stepMs / 1000);
    case 'gauge':
      return seen ? last : undefined;
    case 'histogram':
      return dists.length ? quantile(mergeAll(dists), 0.99) : undefined;
  }
}

export class AnomalyMonitor {
  private readonly watched = new Map<string, Watched>();
  private refused = 0;
  private lastStep: number | undefined;

  constructor(private readonly windows: LiveWindows, readonly stepMs = ANOMALY_STEP_MS, private readonly maxSeries = MAX_WATCHED_SERIES) {}

  /** Scores every complete step since the last call (the current step is still arriving). */
  tick(now = Date.now()): void {
    const settled = Math.floor((now - 2000) / this.stepMs) * this.stepMs;
    // After a long pause, only the latest step: the windows no longer hold the ones in between.
    let from = this.lastStep === undefined ? settled - this.stepMs : Math.max(this.lastStep + this.stepMs, settled - 6 * this.stepMs);
    for (; from < settled; from += this.stepMs) this.scoreStep(from);
    this.lastStep = settled - this.stepMs;
  }

  private scoreStep(from: number): void {
    const seen = new Set<string>();
    this.refused = 0;
    for (const series of this.windows.all()) {
      seen.add(series.key);
      let w = this.watched.get(series.key);
      if (!w) {
        if (this.watched.size >= this.maxSeries) {
          this.refused++;
          continue;
        }
        this.watched.set(series.key, (w = { detector: new OnlineDetector({ warmup: ANOMALY_WARMUP }), steps: 0 }));
      }
      const value = stepValue(series, from, this.stepMs);
      if (value === undefined || !Number.isFinite(value)) continue;
      const score = w.detector.update(from, value);
      w.steps++;
      w.last = { metric: series.name, labels: series.labels, score, value, at: from };
    }
    for (const key of this.watched.keys()) if (!seen.has(key)) this.watched.delete(key);
  }

  summary(top = 10): AnomalySummary {
    let warming = 0;
    const entries: AnomalyEntry[] = [];
    for (const w of this.watched.values()) {
      if (w.steps < w.detector.warmup) warming++;
      else if (w.last) entries.push(w.last);
    }
    entries.sort((a, b) => b.score - a.score);
    return { tracked: this.watched.size, warming, refused: this.refused, stepMs: this.stepMs, top: entries.slice(0, top) };
  }

  /** Current scores of every watched series past warm-up, for /metrics. */
  scores(): AnomalyEntry[] {
    return [...this.watched.values()].filter((w) => w.steps >= w.detector.warmup && w.last).map((w) => w.last!);
  }
}
