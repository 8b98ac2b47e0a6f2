/**
 * OnlineDetector: one pass, constant memory per series (a few fixed-size histograms), a score in [0, 1] per value.
 *
 * Method — "rarity experts, each calibrated by its own history":
 * 1. Three experts turn each value into a surprise, −log of a share in a decayed histogram:
 *    - value: the value's bin among 64 bins of the range, in a long memory (2000 steps) and a short one (300);
 *      the smaller surprise counts, so a value is rare only if it is rare in both — after a level shift the
 *      short memory learns the new level within a few hundred steps and the alarms stop;
 *    - pattern: the last three values, each quantised to 8 levels (512 patterns), in the long memory: a shape
 *      never seen, even within the usual range (a flat line where the series always moves, a new oscillation);
 *    - season: the value's bin among the values seen in the same quarter of the season (time of day), used only
 *      when the warm-up shows the season (autocorrelation at the season's lag above 0.3): a night value by day.
 * 2. Each expert's surprise becomes a tail share p (how often it was at least this surprised, over a memory of
 *    20 000 steps); the detector's p is the smallest times the number of experts (Bonferroni); raw = 1 − p.
 * 3. score = ½·(raw + min(raw, previous raw)): a one-step blip counts half as much as a sustained one.
 * 4. After a score ≥ 0.99 the detector rests for `rest` steps (scores halved): one incident, one alarm.
 *
 * The range: NAB gives every detector the file's min and max; the live product has neither, so the detector takes
 * the range of its warm-up values (plus 10 %) and doubles it towards any value that falls outside (merging bins),
 * which is itself a surprise the first time; replaying the warm-up values through the experts also primes the tails
 * (step 2) with their surprises, so the detector can alarm from its first scored step. (NAB's runs pass
 * the range and are unaffected.) The constants were tuned on the 45 NAB files (docs/ml.md).
 */
import { autocorrelation } from './seasonality';

export interface DetectorOptions {
  /** Steps per season (e.g. 288 for 5-minute data with a daily cycle); omit for none. */
  season?: number;
  /** Values before the first score (default max(100, 2 × season), at most 5000). */
  warmup?: number;
  /** Known value range (NAB gives every detector the file's min and max); otherwise learned from the warm-up. */
  range?: { min: number; max: number };
  /** Steps after an alarm during which scores are halved (default 0.15 × warmup, at least 10). */
  rest?: number;
}

const VALUE_BINS = 64;
const LONG_MEMORY = 2000;
const SHORT_MEMORY = 300;
const PATTERN_LEVELS = 8;
const PATTERN_LENGTH = 3;
const PHASES = 4;
const SEASON_EVIDENCE = 0.3;
const CALIBRATION_MEMORY = 20_000;
const ALARM_LEVEL = 0.99;
const SURPRISE_BINS = 128;
const SURPRISE_MAX = 24;

/** A decayed histogram over [0, SURPRISE_MAX) of an expert's surprises: the tail share of a new one. */
class TailEstimator {
  private readonly counts = new Float64Array(SURPRISE_BINS + 1);
  private total = 0;
  private readonly decay = 1 - 1 / CALIBRATION_MEMORY;

  /** The share of past surprises ≥ s (a pseudo-count keeps an unseen extreme rare, not impossible); then learns s. */
  tail(s: number): number {
    const bin = binOf(s);
    let above = 0;
    for (let b = bin; b <= SURPRISE_BINS; b++) above += this.counts[b]!;
    const p = (above + 0.5) / (this.total + 1);
    this.learn(s);
    return Math.min(1, p);
  }

  learn(s: number): void {
    for (let b = 0; b <= SURPRISE_BINS; b++) this.counts[b]! *= this.decay;
    this.total = this.total * this.decay + 1;
    this.counts[binOf(s)]! += 1;
  }
}

function binOf(s: number): number {
  return s >= SURPRISE_MAX ? SURPRISE_BINS : Math.floor((s / SURPRISE_MAX) * SURPRISE_BINS);
}

/** Where values sit in a range that widens (doubling towards the value) when one falls outside it. */
class Range {
  constructor(
    public lo: number,
    public hi: number,
    readonly fixed: boolean,
  ) {
    if (!(hi > lo)) this.hi = lo + Math.max(Math.abs(lo) * 1e-6, 1e-9);
  }

  /** Position of v in [0, 1]; a widening range first reports how it grew, so histograms can merge their bins. */
  place(v: number, onWiden: (towardsHigh: boolean) => void): number {
    while (!this.fixed && (v < this.lo || v > this.hi)) {
      const span = this.hi - this.lo;
      const up = v > this.hi;
      if (up) this.hi += span;
      else this.lo -= span;
      onWiden(up);
    }
    return Math.min(1, Math.max(0, (v - this.lo) / (this.hi - this.lo)));
  }
}

/** A decayed histogram of positions in [0, 1]: surprise = −log of the bin's share. */
class BinShares {
  private readonly counts = new Float64Array(VALUE_BINS);
  private total = 0;
  private readonly decay: number;
  constructor(memory: number) {
    this.decay = 1 - 1 / memory;
  }

  surprise(position: number): number {
    const bin = Math.min(VALUE_BINS - 1, Math.floor(position * VALUE_BINS));
    const share = (this.counts[bin]! + 0.1) / (this.total + 0.1 * VALUE_BINS);
    for (let b = 0; b < VALUE_BINS; b++) this.counts[b]! *= this.decay;
    this.total = this.total * this.decay + 1;
    this.counts[bin]! += 1;
    return -Math.log(share);
  }

  /** The range doubled: pairs of bins merge into the half that the old range now occupies. */
  widen(towardsHigh: boolean): void {
    const merged = new Float64Array(VALUE_BINS);
    const offset = towardsHigh ? 0 : VALUE_BINS >> 1;
    for (let b = 0; b < VALUE_BINS; b++) merged[offset + (b >> 1)]! += this.counts[b]!;
    this.counts.set(merged);
  }
}

/** Decayed counts of the last PATTERN_LENGTH quantised values; decay applied lazily on read, so a step is O(1). */
class PatternShares {
  private readonly size = PATTERN_LEVELS ** PATTERN_LENGTH;
  private readonly counts = new Float64Array(this.size);
  private readonly stamps = new Float64Array(this.size);
  private readonly decay = 1 - 1 / LONG_MEMORY;
  private total = 0;
  private key = 0;
  private seen = 0;

  surprise(position: number, step: number): number | undefined {
    const level = Math.min(PATTERN_LEVELS - 1, Math.floor(position * PATTERN_LEVELS));
    this.key = (this.key * PATTERN_LEVELS + level) % this.size;
    this.seen++;
    this.total = this.total * this.decay + 1;
    const count = this.counts[this.key]! * this.decay ** (step - this.stamps[this.key]!);
    this.counts[this.key] = count + 1;
    this.stamps[this.key] = step;
    if (this.seen < PATTERN_LENGTH) return undefined;
    return -Math.log((count + 0.1) / (this.total + 0.1 * this.size));
  }
}

export class OnlineDetector {
  readonly season: number;
  readonly warmup: number;
  readonly rest: number;
  private step = 0;
  private lastTs = Number.NEGATIVE_INFINITY;
  private range?: Range;
  private readonly longValues = new BinShares(LONG_MEMORY);
  private readonly shortValues = new BinShares(SHORT_MEMORY);
  private readonly phaseValues: BinShares[] = [];
  private readonly patterns = new PatternShares();
  private readonly tails = [new TailEstimator(), new TailEstimator(), new TailEstimator()];
  /** Warm-up values, kept only until the warm-up ends (bounded by `warmup`). */
  private warm: number[] = [];
  private seasonal = false;
  private previousRaw = 0;
  private restLeft = 0;

  constructor(options: DetectorOptions = {}) {
    this.season = Math.max(0, Math.floor(options.season ?? 0));
    this.warmup = Math.max(2, Math.floor(options.warmup ?? Math.min(5000, Math.max(100, 2 * this.season))));
    this.rest = Math.max(1, Math.floor(options.rest ?? Math.max(10, 0.15 * this.warmup)));
    if (this.season >= PHASES) for (let b = 0; b < PHASES; b++) this.phaseValues.push(new BinShares(LONG_MEMORY / PHASES));
    if (options.range) this.range = new Range(options.range.min, options.range.max, true);
  }

  /**
   * Scores a value in [0, 1] (0 during warm-up). Values must come in time order: an older or repeated timestamp,
   * or a value that is not a finite number, is ignored (score 0) and leaves the state unchanged.
   */
  update(ts: number, value: number): number {
    if (!Number.isFinite(value) || !(ts > this.lastTs)) return 0;
    this.lastTs = ts;
    const i = this.step++;
    if (i < this.warmup) {
      this.warm.push(value);
      if (this.range) this.surprises(value, i);
      if (i === this.warmup - 1) this.endWarmup();
      return 0;
    }
    const surprises = this.surprises(value, i);
    let pMin = 1;
    let used = 0;
    surprises.forEach((s, k) => {
      if (s === undefined) return;
      used++;
      pMin = Math.min(pMin, this.tails[k]!.tail(s));
    });
    const raw = 1 - Math.min(1, pMin * Math.max(1, used));
    let score = 0.5 * (raw + Math.min(raw, this.previousRaw));
    this.previousRaw = raw;
    if (this.restLeft > 0) {
      this.restLeft--;
      score *= 0.5;
    } else if (score >= ALARM_LEVEL) {
      this.restLeft = this.rest;
    }
    return score;
  }

  /** Is the season in the warm-up strong enough to use; without a given range, take the warm-up's and replay it. */
  private endWarmup(): void {
    if (this.season > 0 && this.warm.length >= 2 * this.season) this.seasonal = autocorrelation(this.warm, this.season)[this.season]! > SEASON_EVIDENCE;
    if (!this.range) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of this.warm) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const pad = (hi - lo) * 0.1;
      this.range = new Range(lo - pad, hi + pad, false);
      // The replay also calibrates the tails, from its 10th value on: its surprises are out of sample (each value
      // is scored before it is learned). Without them the tails start empty after the warm-up, and a sustained
      // anomaly cannot score 0.95 until they hold ~60 surprises (the pseudo-count's floor: 1 − 2 × 1.5 / (n + 1)).
      const primeFrom = Math.floor(this.warm.length / 10);
      this.warm.forEach((v, k) => {
        const surprises = this.surprises(v, k);
        if (k >= primeFrom) surprises.forEach((x, e) => x !== undefined && this.tails[e]!.learn(x));
      });
    }
    this.warm = [];
  }

  /** Each expert's surprise for this value (undefined: not available), learning the value as it goes. */
  private surprises(v: number, i: number): Array<number | undefined> {
    const range = this.range!;
    const position = range.place(v, (up) => {
      this.longValues.widen(up);
      this.shortValues.widen(up);
      for (const p of this.phaseValues) p.widen(up);
    });
    const value = Math.min(this.longValues.surprise(position), this.shortValues.surprise(position));
    const pattern = this.patterns.surprise(position, i);
    let season: number | undefined;
    if (this.phaseValues.length) {
      const phase = Math.floor(((i % this.season) / this.season) * PHASES);
      const s = this.phaseValues[phase]!.surprise(position);
      if (this.seasonal && i >= 2 * this.season) season = s;
    }
    return [value, pattern, season];
  }
}
