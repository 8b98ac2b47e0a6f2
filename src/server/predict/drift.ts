/**
 * Drift: is a model still as good live as its backtest said? Every forecast issued is kept (a few dozen per
 * series); once what it forecast has happened, its error joins the live error. When the live sMAPE over enough
 * points is clearly worse than the backtest's (1.5 × and 5 points more), the series is refitted: cached
 * parameters dropped, every candidate backtested again and the best chosen anew.
 */
import type { DriftStatus, ForecastPoint } from '../../protocol/predict';

/** Forecasts kept per series, realised pairs kept, pairs needed before judging. */
const MAX_ISSUED = 60;
const MAX_PAIRS = 240;
export const MIN_PAIRS = 6;
const DEGRADED_RATIO = 1.5;
const DEGRADED_MARGIN = 5;

interface Issued {
  at: number;
  points: ForecastPoint[];
  /** Index of the first point not yet compared with what happened. */
  next: number;
}

export class DriftTracker {
  private issued: Issued[] = [];
  /** sMAPE terms of realised forecast points, oldest first. */
  private terms: number[] = [];
  private refits = 0;
  private lastRefitAt: number | undefined;
  private backtestSmape: number | null = null;

  /** Compares the points of earlier forecasts that have now happened with the actual values. */
  observe(actual: Map<number, number>, settledBefore: number): void {
    for (const f of this.issued) {
      while (f.next < f.points.length && f.points[f.next]!.t < settledBefore) {
        const p = f.points[f.next++]!;
        const y = actual.get(p.t);
        if (y === undefined) continue;
        const denominator = Math.abs(y) + Math.abs(p.mean);
        this.terms.push(denominator > 0 ? (200 * Math.abs(y - p.mean)) / denominator : 0);
      }
    }
    this.issued = this.issued.filter((f) => f.next < f.points.length);
    if (this.terms.length > MAX_PAIRS) this.terms.splice(0, this.terms.length - MAX_PAIRS);
  }

  /** Keeps a forecast to compare later (one per step start: a repeated request does not count twice). */
  issue(at: number, points: ForecastPoint[], backtestSmape: number | null): void {
    this.backtestSmape = backtestSmape;
    const first = points[0]?.t;
    if (first === undefined || this.issued.some((f) => f.points[0]?.t === first)) return;
    this.issued.push({ at, points, next: 0 });
    if (this.issued.length > MAX_ISSUED) this.issued.shift();
  }

  get liveSmape(): number | null {
    return this.terms.length ? this.terms.reduce((a, b) => a + b, 0) / this.terms.length : null;
  }

  /** Degraded: enough realised points, and clearly worse than the backtest. */
  get degraded(): boolean {
    const live = this.liveSmape;
    if (live === null || this.backtestSmape === null || this.terms.length < MIN_PAIRS) return false;
    return live > Math.max(DEGRADED_RATIO * this.backtestSmape, this.backtestSmape + DEGRADED_MARGIN);
  }

  /** After a refit: the old model's errors say nothing of the new one. */
  refitted(at: number): void {
    this.refits++;
    this.lastRefitAt = at;
    this.terms = [];
    this.issued = [];
  }

  status(): DriftStatus {
    const live = this.liveSmape;
    const backtest = this.backtestSmape;
    const realized = this.terms.length;
    const refitNote = this.refits ? ` Refitted ${this.refits} time${this.refits === 1 ? '' : 's'} after live error degraded (last at ${new Date(this.lastRefitAt!).toISOString()}).` : '';
    const base = { liveSmape: live, backtestSmape: backtest, realized, refits: this.refits, ...(this.lastRefitAt ? { lastRefitAt: this.lastRefitAt } : {}) };
    if (live === null || backtest === null || realized < MIN_PAIRS) {
      return { ...base, state: 'unknown', note: `Live error not known yet: ${realized} of ${MIN_PAIRS} forecast points have happened${backtest === null ? ' (and there is no backtest to compare with)' : ''}.${refitNote}` };
    }
    const degraded = this.degraded;
    return {
      ...base,
      state: degraded ? 'degraded' : 'ok',
      note: `Live sMAPE ${live.toFixed(1)} % over ${realized} points against the backtest's ${backtest.toFixed(1)} %: ${degraded ? 'degraded, refitting' : 'as expected'}.${refitNote}`,
    };
  }
}
