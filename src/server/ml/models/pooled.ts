/**
 * The model that learns across series: one linear autoregression, pooled over every series given, on the last
 * `lags` values divided by their mean level, predicting all `horizon` steps at once (direct, one column of
 * coefficients per step). With `lags` past a week of hourly data it sees both the 24 h and the 168 h season.
 * Montero-Manso & Hyndman (2021) show such global linear models with long memory beat per-series models on
 * M4's hourly series. Fitted by ridge regression from normal equations: one pass over the windows.
 */
import { NormalEquations } from '../linalg';

export interface PooledOptions {
  /** How many past values the model reads (the window). */
  lags: number;
  horizon: number;
  /** Ridge penalty per training window. */
  lambda: number;
  /** Take every `stride`-th window of each series (1: all). */
  stride: number;
  /** How many of the latest values set the scale (≤ lags). */
  scaleWindow: number;
  /** Model y/scale, or log(y/scale) for positive series. */
  log: boolean;
}

export const DEFAULT_POOLED: PooledOptions = { lags: 336, horizon: 48, lambda: 0.001, stride: 3, scaleWindow: 336, log: true };

export interface PooledModel {
  kind: 'pooled-linear';
  lags: number;
  horizon: number;
  scaleWindow: number;
  log: boolean;
  /** (lags + 1) × horizon, row-major; the last row is the intercept. */
  coefficients: Float64Array;
  windows: number;
}

/** Mean absolute level of the window: the scale every input and target is divided by. */
function windowScale(y: ArrayLike<number>, end: number, window: number): number {
  let sum = 0;
  for (let i = end - window; i < end; i++) sum += Math.abs(y[i]!);
  return sum / window;
}

const EPS = 1e-3;
function encode(v: number, scale: number, log: boolean): number {
  return log ? Math.log(Math.max(v / scale, EPS)) : v / scale;
}
function decode(v: number, scale: number, log: boolean): number {
  return log ? Math.exp(v) * scale : v * scale;
}

export function fitPooled(series: ArrayLike<number>[], options: PooledOptions = DEFAULT_POOLED): PooledModel | undefined {
  return fitPooledPair(series, options, 0).forForecast;
}

/**
 * Two fits in one pass: without the last `holdout` values of every series (for honest backtests there) and with
 * everything (for the forecasts). The normal equations of the held-out windows are simply added to the others.
 */
export function fitPooledPair(series: ArrayLike<number>[], options: PooledOptions, holdout: number, onProgress?: (done: number) => void): { forBacktest?: PooledModel; forForecast?: PooledModel } {
  const { lags, horizon, stride } = options;
  const p = lags + 1;
  const early = new NormalEquations(p, horizon);
  const late = new NormalEquations(p, horizon);
  const x = new Float64Array(p);
  const target = new Float64Array(horizon);
  for (const y of series) {
    for (let end = y.length - horizon; end >= lags; end -= stride) {
      const scale = windowScale(y, end, options.scaleWindow);
      if (!(scale > 0)) continue;
      for (let j = 0; j < lags; j++) x[j] = encode(y[end - lags + j]!, scale, options.log);
      x[lags] = 1;
      for (let k = 0; k < horizon; k++) target[k] = encode(y[end + k]!, scale, options.log);
      (end + horizon <= y.length - holdout ? early : late).add(x, target);
    }
    onProgress?.(1);
  }
  const solve = (equations: NormalEquations): PooledModel | undefined =>
    equations.rows < p
      ? undefined
      : { kind: 'pooled-linear', lags, horizon, scaleWindow: options.scaleWindow, log: options.log, coefficients: equations.solve(options.lambda * equations.rows), windows: equations.rows };
  return { forBacktest: solve(early), forForecast: solve(holdout > 0 ? early.plus(late) : early) };
}

/** The next `h` ≤ model.horizon values, or undefined when the history is shorter than the model's window. */
export function pooledForecast(model: PooledModel, y: ArrayLike<number>, h: number): Float64Array | undefined {
  const { lags, horizon, coefficients } = model;
  const n = y.length;
  if (n < lags || h > horizon) return undefined;
  const scale = windowScale(y, n, model.scaleWindow);
  const out = new Float64Array(h);
  if (!(scale > 0)) return out;
  for (let k = 0; k < h; k++) {
    let sum = coefficients[lags * horizon + k]!;
    for (let j = 0; j < lags; j++) sum += encode(y[n - lags + j]!, scale, model.log) * coefficients[j * horizon + k]!;
    out[k] = decode(sum, scale, model.log);
  }
  return out;
}
