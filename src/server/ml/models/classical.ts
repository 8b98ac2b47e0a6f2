/**
 * The classical candidates, each fitted to one series: naive, seasonal naive, Naive2 (M4's benchmark), damped
 * Holt–Winters exponential smoothing (ETS(A,Ad,A), on logs when the series is positive) and Theta.
 */
import { nelderMead } from '../optimize';
import { isSeasonal, multiplicativeIndices } from '../seasonality';

export function naiveForecast(y: ArrayLike<number>, h: number): Float64Array {
  return new Float64Array(h).fill(y[y.length - 1]!);
}

/** Repeats the last full season; with less than one season of history, the last value. */
export function seasonalNaiveForecast(y: ArrayLike<number>, m: number, h: number): Float64Array {
  const n = y.length;
  if (m <= 1 || n < m) return naiveForecast(y, h);
  const out = new Float64Array(h);
  for (let i = 0; i < h; i++) out[i] = y[n - m + (i % m)]!;
  return out;
}

/** M4's Naive2: naive on data deseasonalised by classical multiplicative decomposition when the 90 % test says seasonal. */
export function naive2Forecast(y: ArrayLike<number>, m: number, h: number): Float64Array {
  const n = y.length;
  if (!isSeasonal(y, m)) return naiveForecast(y, h);
  const indices = multiplicativeIndices(y, m);
  const last = y[n - 1]! / indices[(n - 1) % m]!;
  const out = new Float64Array(h);
  for (let i = 0; i < h; i++) out[i] = last * indices[(n + i) % m]!;
  return out;
}

/** Seasonally adjusts by multiplicative indices (when seasonal and positive) and returns how to put it back. */
export function deseasonalise(y: ArrayLike<number>, m: number): { adjusted: Float64Array; reseason(forecast: Float64Array, start: number): Float64Array } {
  const n = y.length;
  const seasonal = m > 1 && isSeasonal(y, m);
  const indices = seasonal ? multiplicativeIndices(y, m) : new Float64Array(Math.max(m, 1)).fill(1);
  const period = indices.length;
  const adjusted = new Float64Array(n);
  for (let i = 0; i < n; i++) adjusted[i] = y[i]! / indices[i % period]!;
  return {
    adjusted,
    reseason(forecast, start) {
      return forecast.map((v, i) => v * indices[(start + i) % period]!);
    },
  };
}

export interface EtsParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
  log: boolean;
  m: number;
}

interface EtsState {
  level: number;
  trend: number;
  season: Float64Array;
  sse: number;
}

function etsRun(x: Float64Array, p: EtsParams): EtsState {
  const m = p.m > 1 && x.length >= 2 * p.m ? p.m : 1;
  const first = m > 1 ? m : Math.min(x.length, 4);
  let level = 0;
  for (let i = 0; i < first; i++) level += x[i]!;
  level /= first;
  let trend = 0;
  if (x.length >= 2 * first) {
    let second = 0;
    for (let i = first; i < 2 * first; i++) second += x[i]!;
    trend = (second / first - level) / first;
  }
  const season = new Float64Array(m);
  if (m > 1) for (let i = 0; i < m; i++) season[i] = x[i]! - level;
  let sse = 0;
  for (let t = 0; t < x.length; t++) {
    const s = m > 1 ? season[t % m]! : 0;
    const fitted = level + p.phi * trend + s;
    const e = x[t]! - fitted;
    sse += e * e;
    level = level + p.phi * trend + p.alpha * e;
    trend = p.phi * trend + p.beta * e;
    if (m > 1) season[t % m] = s + p.gamma * e;
  }
  return { level, trend, season, sse };
}

function etsInput(y: ArrayLike<number>): { x: Float64Array; log: boolean } {
  let positive = true;
  for (let i = 0; i < y.length; i++) if (!(y[i]! > 0)) positive = false;
  return { x: Float64Array.from(y, (v) => (positive ? Math.log(v) : v)), log: positive };
}

/** Fits α, β, γ, φ by least squares (Nelder–Mead). */
export function fitEts(y: ArrayLike<number>, m: number): EtsParams {
  const { x, log } = etsInput(y);
  const seasonal = m > 1 && x.length >= 2 * m;
  const base = { log, m: seasonal ? m : 1 };
  const objective = (v: number[]) => {
    const alpha = v[0]!;
    const beta = Math.min(v[1]!, alpha);
    return etsRun(x, { ...base, alpha, beta, gamma: seasonal ? Math.min(v[2]!, 1 - alpha) : 0, phi: v[3]! }).sse;
  };
  const { x: best } = nelderMead(objective, [0.3, 0.02, 0.05, 0.95], [0.01, 0, 0, 0.8], [0.99, 0.3, 0.5, 0.98], 200);
  const alpha = best[0]!;
  return { ...base, alpha, beta: Math.min(best[1]!, alpha), gamma: seasonal ? Math.min(best[2]!, 1 - alpha) : 0, phi: best[3]! };
}

export function etsForecast(y: ArrayLike<number>, h: number, params: EtsParams): Float64Array {
  // Logs only while the series stays positive (a later zero would make them meaningless).
  const input = etsInput(y);
  const log = params.log && input.log;
  const run = etsRun(log ? input.x : Float64Array.from(y), { ...params, log });
  const m = run.season.length;
  const out = new Float64Array(h);
  let damp = 0;
  for (let i = 0; i < h; i++) {
    damp += params.phi ** (i + 1);
    const s = m > 1 ? run.season[(y.length + i) % m]! : 0;
    const v = run.level + damp * run.trend + s;
    out[i] = log ? Math.exp(v) : v;
  }
  return out;
}

/** The Theta method (Assimakopoulos & Nikolopoulos) as M4 ran it: on seasonally adjusted data, θ=0 and θ=2 lines. */
export function thetaForecast(y: ArrayLike<number>, m: number, h: number, alpha?: number): Float64Array {
  return thetaModel(y, m, alpha).forecast(h);
}

/** The SES smoothing parameter Theta fits on this history, to cache and pass back to thetaForecast. */
export function fitTheta(y: ArrayLike<number>, m: number): number {
  return thetaModel(y, m).alpha;
}

function thetaModel(y: ArrayLike<number>, m: number, fixedAlpha?: number): { alpha: number; forecast(h: number): Float64Array } {
  const n = y.length;
  const { adjusted, reseason } = deseasonalise(y, m);
  // θ=0: the least-squares line.
  let st = 0;
  let sy = 0;
  let stt = 0;
  let sty = 0;
  for (let t = 0; t < n; t++) {
    st += t;
    sy += adjusted[t]!;
    stt += t * t;
    sty += t * adjusted[t]!;
  }
  const slope = n > 1 ? (n * sty - st * sy) / (n * stt - st * st) : 0;
  const intercept = (sy - slope * st) / n;
  // θ=2: twice the data minus the line, forecast by simple exponential smoothing.
  const theta2 = adjusted.map((v, t) => 2 * v - (intercept + slope * t));
  const sesSse = (alpha: number) => {
    let level = theta2[0]!;
    let sse = 0;
    for (let t = 1; t < n; t++) {
      const e = theta2[t]! - level;
      sse += e * e;
      level += alpha * e;
    }
    return { sse, level };
  };
  const alpha = fixedAlpha ?? nelderMead((v) => sesSse(v[0]!).sse, [0.5], [0.01], [0.99], 60).x[0]!;
  const level = sesSse(alpha).level;
  return {
    alpha,
    forecast(h) {
      const out = new Float64Array(h);
      for (let i = 0; i < h; i++) out[i] = 0.5 * (intercept + slope * (n + i)) + 0.5 * level;
      return reseason(out, n);
    },
  };
}
