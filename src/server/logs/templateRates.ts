/**
 * Anomalies in how often each log template is written, judged minute by minute from per-template counts
 * (the product feeds them from the store):
 * - `new`: a template is seen for the first time after the monitor's warm-up;
 * - `jump`: a minute's count is far above the template's recent rate (at least `jumpFactor` times it, at least
 *   `minJumpCount` more lines, and at least `jumpZ` standard deviations above it, the deviation being the larger
 *   of the window's own and the Poisson one, so bursty templates need bigger bursts);
 * - `vanished`: a template that was steadily written has been silent so long that, at its recent rate, the
 *   silence had less than a e^-`vanishExpectedCount` chance (at least `minSilentMinutes` minutes, and only
 *   for templates followed `minBaselineMinutes` or more before they fell silent).
 * Each anomaly is reported once: a jump again only after the rate came back down, a vanished template again
 * only after it came back.
 */

export interface RateMonitorOptions {
  /** Minutes of history a template's recent rate is measured over. */
  baselineMinutes: number;
  /** Minutes of a template's history needed before its jumps are judged. */
  minBaselineMinutes: number;
  /** Minutes after the monitor starts during which nothing is called new (everything is new at first). */
  warmupMinutes: number;
  jumpFactor: number;
  minJumpCount: number;
  jumpZ: number;
  /** Lines the silence should have held at the recent rate before a template is called vanished. */
  vanishExpectedCount: number;
  minSilentMinutes: number;
  /** Templates followed; past this the one silent longest is dropped. */
  maxTemplates: number;
}

export const DEFAULT_RATE_OPTIONS: Readonly<RateMonitorOptions> = {
  baselineMinutes: 60,
  minBaselineMinutes: 10,
  warmupMinutes: 10,
  jumpFactor: 3,
  minJumpCount: 10,
  jumpZ: 4,
  vanishExpectedCount: 10,
  minSilentMinutes: 3,
  maxTemplates: 20_000,
};

export type TemplateRateAnomaly =
  | { kind: 'new'; templateId: number; minute: number; count: number }
  | { kind: 'jump'; templateId: number; minute: number; count: number; expected: number; z: number }
  | { kind: 'vanished'; templateId: number; minute: number; silentMinutes: number; expected: number; lastSeenMinute: number };

/** A template's recent per-minute rate: mean and variance of a window of counts. */
export interface RateBaseline {
  mean: number;
  variance: number;
  minutes: number;
}

export function baselineOf(counts: ArrayLike<number>): RateBaseline {
  const n = counts.length;
  if (n === 0) return { mean: 0, variance: 0, minutes: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += counts[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (counts[i]! - mean) ** 2;
  return { mean, variance: n > 1 ? squares / (n - 1) : 0, minutes: n };
}

/** The z-score of `count` against a baseline if it is a jump under the options, else undefined. */
export function jumpScore(count: number, baseline: RateBaseline, options: Pick<RateMonitorOptions, 'jumpFactor' | 'minJumpCount' | 'jumpZ'>): number | undefined {
  const excess = count - baseline.mean;
  if (count < options.jumpFactor * baseline.mean || excess < options.minJumpCount) return undefined;
  const deviation = Math.sqrt(Math.max(baseline.variance, baseline.mean, 1));
  const z = excess / deviation;
  return z >= options.jumpZ ? z : undefined;
}

/** True once `silentMinutes` of silence at `rate` lines a minute is unlikely enough to call the template vanished. */
export function hasVanished(rate: number, silentMinutes: number, options: Pick<RateMonitorOptions, 'vanishExpectedCount' | 'minSilentMinutes'>): boolean {
  return silentMinutes >= options.minSilentMinutes && rate * silentMinutes >= options.vanishExpectedCount;
}

interface TrackedTemplate {
  /** Ring buffer of the last baselineMinutes counts (observed minutes only). */
  counts: Float64Array;
  filled: number;
  next: number;
  /** Minutes since it was last seen; the rate before the silence is kept for vanish checks. */
  silentMinutes: number;
  rateBeforeSilence: number;
  /** Minutes of history when the silence began: too little and the template cannot be said to vanish. */
  historyBeforeSilence: number;
  lastSeenMinute: number;
  jumping: boolean;
  vanished: boolean;
}

/**
 * Follows every template's per-minute count. Feed each minute once, in increasing order; minutes never fed
 * (the server was down) do not count as silence.
 */
export class TemplateRateMonitor {
  readonly options: Readonly<RateMonitorOptions>;
  private readonly tracked = new Map<number, TrackedTemplate>();
  private firstMinute: number | undefined;
  private lastMinute: number | undefined;

  constructor(options: Partial<RateMonitorOptions> = {}) {
    this.options = { ...DEFAULT_RATE_OPTIONS, ...options };
    const o = this.options;
    for (const key of ['baselineMinutes', 'minBaselineMinutes', 'warmupMinutes', 'minSilentMinutes', 'maxTemplates'] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 0) throw new RangeError(`${key} must be a whole number ≥ 0, not ${o[key]}`);
    }
    if (o.baselineMinutes < 2) throw new RangeError('baselineMinutes must be ≥ 2');
    if (o.minBaselineMinutes > o.baselineMinutes) throw new RangeError('minBaselineMinutes cannot exceed baselineMinutes');
  }

  /**
   * The counts of one minute (templates not in `counts` wrote nothing) and the anomalies they show.
   * `minute` is any increasing whole number (e.g. epoch minutes).
   */
  observe(minute: number, counts: ReadonlyMap<number, number>): TemplateRateAnomaly[] {
    if (!Number.isInteger(minute)) throw new RangeError(`minute must be a whole number, not ${minute}`);
    if (this.lastMinute !== undefined && minute <= this.lastMinute) {
      throw new RangeError(`minute ${minute} is not after the last one observed (${this.lastMinute})`);
    }
    this.firstMinute ??= minute;
    this.lastMinute = minute;
    const warm = minute - this.firstMinute >= this.options.warmupMinutes;
    const anomalies: TemplateRateAnomaly[] = [];
    for (const [templateId, count] of counts) {
      if (!(count > 0) || this.tracked.has(templateId)) continue;
      this.tracked.set(templateId, this.newTemplate());
      if (warm) anomalies.push({ kind: 'new', templateId, minute, count });
    }
    for (const [templateId, template] of this.tracked) {
      const count = counts.get(templateId) ?? 0;
      const anomaly = this.judge(templateId, template, minute, count > 0 ? count : 0);
      if (anomaly) anomalies.push(anomaly);
    }
    this.enforceLimit();
    return anomalies;
  }

  /** Templates followed now. */
  get size(): number {
    return this.tracked.size;
  }

  /** Stops following a template (e.g. merged into another by the miner). */
  forget(templateId: number): void {
    this.tracked.delete(templateId);
  }

  private newTemplate(): TrackedTemplate {
    return {
      counts: new Float64Array(this.options.baselineMinutes),
      filled: 0,
      next: 0,
      silentMinutes: 0,
      rateBeforeSilence: 0,
      historyBeforeSilence: 0,
      lastSeenMinute: -1,
      jumping: false,
      vanished: false,
    };
  }

  private judge(templateId: number, t: TrackedTemplate, minute: number, count: number): TemplateRateAnomaly | undefined {
    const baseline = baselineOf(t.counts.subarray(0, t.filled));
    let anomaly: TemplateRateAnomaly | undefined;
    if (count > 0) {
      t.silentMinutes = 0;
      t.vanished = false;
      t.lastSeenMinute = minute;
      const z = t.filled >= this.options.minBaselineMinutes ? jumpScore(count, baseline, this.options) : undefined;
      if (z !== undefined && !t.jumping) anomaly = { kind: 'jump', templateId, minute, count, expected: baseline.mean, z };
      t.jumping = z !== undefined;
    } else {
      if (t.silentMinutes === 0) {
        t.rateBeforeSilence = baseline.mean;
        t.historyBeforeSilence = t.filled;
      }
      t.silentMinutes++;
      t.jumping = false;
      const known = t.historyBeforeSilence >= this.options.minBaselineMinutes;
      if (!t.vanished && known && hasVanished(t.rateBeforeSilence, t.silentMinutes, this.options)) {
        t.vanished = true;
        anomaly = {
          kind: 'vanished',
          templateId,
          minute,
          silentMinutes: t.silentMinutes,
          expected: t.rateBeforeSilence * t.silentMinutes,
          lastSeenMinute: t.lastSeenMinute,
        };
      }
    }
    t.counts[t.next] = count;
    t.next = (t.next + 1) % t.counts.length;
    t.filled = Math.min(t.filled + 1, t.counts.length);
    return anomaly;
  }

  private enforceLimit(): void {
    const excess = this.tracked.size - this.options.maxTemplates;
    if (excess <= 0) return;
    const silentLongest = [...this.tracked].sort((a, b) => b[1].silentMinutes - a[1].silentMinutes).slice(0, excess);
    for (const [templateId] of silentLongest) this.tracked.delete(templateId);
  }
}
