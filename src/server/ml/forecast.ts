/**
 * forecast(series, options): clean the series, backtest every candidate that has enough history at a few
 * rolling origins, keep the one with the lowest backtest MASE, and put 80 % / 95 % prediction intervals
 * around its forecast from the empirical distribution of its own backtest errors.
 */
import { CANDIDATES, fallbackForecast, type CandidateContext, type GlobalModels, type ModelName } from './candidates';
import { maseScale, smape } from './metrics';
import { isSeasonal } from './seasonality';
import { cleanSeries, type SeriesInput } from './series';

export interface ForecastOptions {
  /** Steps ahead. */
  horizon: number;
  /** The primary season in steps (e.g. 24 for hourly data with a daily cycle); omit or 1 for none. */
  season?: number;
  /** A longer season (e.g. 168 for hourly data); default: 7 × season when the data shows it. */
  longSeason?: number;
  /** Pooled models fitted across many series (fitGlobalModels). */
  global?: GlobalModels;
  /** Rolling backtest origins (default 3, half a horizon apart). */
  origins?: number;
  /** Parameters fitted earlier for this series (result.fits), reused instead of refitting. */
  fits?: SeriesFits;
  /**
   * Also consider the mean of the best `combine` candidates as a candidate of its own ("combination"), backtested
   * like the others (its errors are the mean of theirs); off by default (M4's figures are without it).
   */
  combine?: number;
  /**
   * The combination's backtest score is multiplied by this (default 1) before the comparison, as the pooled model's
   * is by POOLED_PREFERENCE: a single candidate must be that much better to replace the average of the best ones.
   */
  combinationPreference?: number;
}

export interface ForecastPoint {
  /** Epoch ms when the series had timestamps; otherwise the index after the last value (n, n+1, …). */
  t: number;
  mean: number;
  lo80: number;
  hi80: number;
  lo95: number;
  hi95: number;
}

export interface CandidateScore {
  model: ModelName;
  smape: number;
  mase: number;
}

export interface ForecastResult {
  model: ModelName;
  /** Why this model: the backtest, or the fallback and its cause. */
  reason: string;
  /** model "combination": the candidates averaged. */
  members?: ModelName[];
  /** The chosen model's backtest accuracy (sMAPE in percent), or null when there was too little history to backtest. */
  backtest: { smape: number; mase: number; origins: number } | null;
  candidates: CandidateScore[];
  points: ForecastPoint[];
  /** Problems found in the input and how they were handled. */
  warnings: string[];
  /** Parameters to pass back as options.fits while the series only grows a little. */
  fits: SeriesFits;
}

export interface SeriesFits {
  /** History length when fitted. */
  length: number;
  backtest: Partial<Record<ModelName, unknown>>;
  forecast: Partial<Record<ModelName, unknown>>;
}

/**
 * The pooled model's backtest score is multiplied by this before the comparison: another candidate must be 20 %
 * better to replace it. A few origins are a noisy judge, and the pooled model is the better default on average.
 * Tuned on the training part of M4 Hourly (last 48 values held out), with the next two constants.
 */
const POOLED_PREFERENCE = 0.8;
/** Backtest errors of a few origins understate the spread of the future's: interval half-widths are widened by this. */
const INTERVAL_WIDEN = 1.25;
const DEFAULT_ORIGINS = 3;

/**
 * The candidate with the lowest sum of its sMAPE and MASE each divided by seasonal naive's (OWA-like, so neither
 * scale-free measure dominates), the pooled model's discounted by POOLED_PREFERENCE and the combination's by
 * `combinationPreference`.
 */
function choose<T extends CandidateScore>(scored: T[], combinationPreference = 1): T {
  const reference = scored.find((s) => s.model === 'seasonal-naive') ?? scored[0]!;
  const preference = (model: ModelName) => (model === 'pooled-linear' ? POOLED_PREFERENCE : model === 'combination' ? combinationPreference : 1);
  const value = (s: CandidateScore) => (s.smape / Math.max(reference.smape, 1e-9) + s.mase / Math.max(reference.mase, 1e-9)) * preference(s.model);
  let best = scored[0]!;
  for (const s of scored) if (value(s) < value(best)) best = s;
  return best;
}

export function forecast(input: SeriesInput, options: ForecastOptions): ForecastResult {
  const horizon = Math.max(1, Math.floor(options.horizon));
  const clean = cleanSeries(input);
  const y = clean.values;
  const n = y.length;
  const timeAt = (k: number) => (clean.start !== undefined && clean.stepMs !== undefined ? clean.start + (n + k) * clean.stepMs : n + k);
  const season = Math.max(1, Math.floor(options.season ?? 1));
  const ctx: CandidateContext = { season, ...(options.global ? { global: options.global } : {}) };
  const longSeason = options.longSeason ?? (season > 1 && n >= 21 * season && isSeasonal(y, 7 * season) ? 7 * season : undefined);
  if (longSeason) ctx.longSeason = longSeason;
  const warnings = [...clean.warnings];
  const emptyFits: SeriesFits = { length: n, backtest: {}, forecast: {} };

  if (n === 0 || clean.constant) {
    const value = n === 0 ? 0 : y[0]!;
    const reason = n === 0 ? 'no usable values: forecasting 0' : 'constant series: forecasting the constant';
    return { model: n === 0 ? 'mean' : 'naive', reason, backtest: null, candidates: [], points: flat(horizon, value, timeAt), warnings, fits: emptyFits };
  }

  const origins = Math.max(1, Math.floor(options.origins ?? DEFAULT_ORIGINS));
  const spacing = Math.max(1, Math.floor(horizon / 2));
  const earliest = n - horizon - (origins - 1) * spacing;
  const runnable = CANDIDATES.filter((c) => c.minLength(ctx) <= earliest);
  const required = n - earliest + Math.min(...CANDIDATES.map((c) => c.minLength(ctx)));
  if (runnable.length === 0) return shortHistory(y, horizon, required, clean.nonNegative, timeAt, warnings, emptyFits);

  const reuse = options.fits && options.fits.length <= n ? options.fits : undefined;
  const fits: SeriesFits = { length: reuse?.length ?? n, backtest: {}, forecast: {} };
  const trainSpan = y.subarray(0, earliest);
  const scale = maseScale(trainSpan, season) || maseScale(trainSpan, 1) || 1;
  const scored: Array<CandidateScore & { errors: Float64Array[] }> = [];
  for (const candidate of runnable) {
    const params = reuse && candidate.name in reuse.backtest ? reuse.backtest[candidate.name] : candidate.fit(trainSpan, ctx);
    fits.backtest[candidate.name] = params;
    const errors: Float64Array[] = [];
    let sm = 0;
    let ma = 0;
    for (let j = 0; j < origins; j++) {
      const origin = n - horizon - j * spacing;
      const history = y.subarray(0, origin);
      const predicted = candidate.predict(history, horizon, params, ctx, 'backtest');
      if (!predicted || predicted.some((v) => !Number.isFinite(v))) {
        errors.length = 0;
        break;
      }
      const actual = y.subarray(origin, origin + horizon);
      const e = actual.map((v, k) => v - predicted[k]!);
      errors.push(e);
      sm += smape(actual, predicted);
      ma += e.reduce((s, v) => s + Math.abs(v), 0) / horizon / scale;
    }
    if (errors.length === origins) scored.push({ model: candidate.name, smape: sm / origins, mase: ma / origins, errors });
  }
  if (scored.length === 0) return shortHistory(y, horizon, required, clean.nonNegative, timeAt, warnings, emptyFits);

  const members = options.combine && options.combine > 1 && scored.length > 1 ? rank(scored).slice(0, options.combine) : [];
  if (members.length > 1) scored.push(combination(members, y, n, horizon, origins, spacing, scale));
  const best = choose(scored, options.combinationPreference);
  const predictWith = (name: ModelName): Float64Array => {
    const candidate = CANDIDATES.find((c) => c.name === name)!;
    const params = reuse && name in reuse.forecast ? reuse.forecast[name] : candidate.fit(y, ctx);
    fits.forecast[name] = params;
    return candidate.predict(y, horizon, params, ctx, 'forecast') ?? fallbackForecast(y, horizon).mean;
  };
  const mean =
    best.model === 'combination'
      ? members.map((m) => predictWith(m.model)).reduce((acc, f) => acc.map((v, k) => v + f[k]! / members.length), new Float64Array(horizon))
      : predictWith(best.model);
  const bands = errorQuantiles(best.errors, horizon);
  const points = Array.from({ length: horizon }, (_, k): ForecastPoint => {
    const m = mean[k]!;
    const clip = (v: number) => (clean.nonNegative ? Math.max(0, v) : v);
    return { t: timeAt(k), mean: clip(m), lo80: clip(m - bands.q80[k]!), hi80: m + bands.q80[k]!, lo95: clip(m - bands.q95[k]!), hi95: m + bands.q95[k]! };
  });
  return {
    model: best.model,
    reason: `best backtest of ${scored.length} candidate${scored.length > 1 ? 's' : ''} over ${origins} rolling origin${origins > 1 ? 's' : ''} (sMAPE and MASE relative to seasonal naive)`,
    backtest: { smape: best.smape, mase: best.mase, origins },
    ...(best.model === 'combination' ? { members: members.map((m) => m.model) } : {}),
    candidates: scored.map(({ model, smape: s, mase: m }) => ({ model, smape: s, mase: m })),
    points,
    warnings,
    fits,
  };
}

/** Candidates from best to worst by the choice criterion. */
function rank<T extends CandidateScore>(scored: T[]): T[] {
  const rest = [...scored];
  const out: T[] = [];
  while (rest.length) {
    const best = choose(rest);
    out.push(best);
    rest.splice(rest.indexOf(best), 1);
  }
  return out;
}

/** The mean of some candidates as a candidate: at each origin its errors are the mean of theirs. */
function combination(members: Array<CandidateScore & { errors: Float64Array[] }>, y: Float64Array, n: number, horizon: number, origins: number, spacing: number, scale: number): CandidateScore & { errors: Float64Array[] } {
  const errors: Float64Array[] = [];
  let sm = 0;
  let ma = 0;
  for (let j = 0; j < origins; j++) {
    const e = new Float64Array(horizon);
    for (const m of members) for (let k = 0; k < horizon; k++) e[k]! += m.errors[j]![k]! / members.length;
    errors.push(e);
    const origin = n - horizon - j * spacing;
    const actual = y.subarray(origin, origin + horizon);
    sm += smape(actual, actual.map((v, k) => v - e[k]!));
    ma += e.reduce((s, v) => s + Math.abs(v), 0) / horizon / scale;
  }
  return { model: 'combination', smape: sm / origins, mase: ma / origins, errors };
}

/**
 * Symmetric interval half-widths per step: the 80 % and 95 % quantiles of the absolute backtest errors at that
 * step and its neighbours (±max(2, h/8) steps), so a few origins still give enough errors per step.
 */
function errorQuantiles(errors: Float64Array[], horizon: number): { q80: Float64Array; q95: Float64Array } {
  const q80 = new Float64Array(horizon);
  const q95 = new Float64Array(horizon);
  const band = Math.max(2, Math.floor(horizon / 8));
  const pool: number[] = [];
  for (let k = 0; k < horizon; k++) {
    pool.length = 0;
    for (const e of errors) for (let j = Math.max(0, k - band); j <= Math.min(horizon - 1, k + band); j++) pool.push(Math.abs(e[j]!));
    pool.sort((a, b) => a - b);
    q80[k] = INTERVAL_WIDEN * quantile(pool, 0.8);
    q95[k] = INTERVAL_WIDEN * quantile(pool, 0.95);
  }
  return { q80, q95 };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function flat(horizon: number, value: number, timeAt: (k: number) => number): ForecastPoint[] {
  return Array.from({ length: horizon }, (_, k) => ({ t: timeAt(k), mean: value, lo80: value, hi80: value, lo95: value, hi95: value }));
}

/** Too little history to backtest: the last value, with random-walk intervals from the step-to-step changes. */
function shortHistory(y: Float64Array, horizon: number, required: number, nonNegative: boolean, timeAt: (k: number) => number, warnings: string[], fits: SeriesFits): ForecastResult {
  const { mean, model } = fallbackForecast(y, horizon);
  let sumSq = 0;
  for (let i = 1; i < y.length; i++) sumSq += (y[i]! - y[i - 1]!) ** 2;
  const sigma = y.length > 1 ? Math.sqrt(sumSq / (y.length - 1)) : 0;
  const points = Array.from({ length: horizon }, (_, k): ForecastPoint => {
    const w = sigma * Math.sqrt(k + 1);
    const clip = (v: number) => (nonNegative ? Math.max(0, v) : v);
    return { t: timeAt(k), mean: mean[k]!, lo80: clip(mean[k]! - 1.2816 * w), hi80: mean[k]! + 1.2816 * w, lo95: clip(mean[k]! - 1.96 * w), hi95: mean[k]! + 1.96 * w };
  });
  const reason = `only ${y.length} point${y.length === 1 ? '' : 's'}: too few to backtest any model (${required} are needed), so the last value is carried forward${y.length > 1 ? ' with random-walk intervals' : ' (no spread can be estimated from one point)'}`;
  return { model, reason, backtest: null, candidates: [], points, warnings, fits };
}
