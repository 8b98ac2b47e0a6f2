/**
 * The candidate models a series is forecast with, behind one interface: fit parameters once (cacheable),
 * predict from any history with them. `GlobalModels` are the pooled fits shared by every series.
 */
import { etsForecast, fitEts, fitTheta, naiveForecast, seasonalNaiveForecast, thetaForecast, type EtsParams } from './models/classical';
import { pooledForecast, type PooledModel } from './models/pooled';

export type ModelName = 'naive' | 'seasonal-naive' | 'seasonal-naive-weekly' | 'ets-damped' | 'theta' | 'pooled-linear' | 'mean' | 'combination';

/**
 * The pooled models (an ensemble of window lengths, averaged) twice: fitted without each series' backtest span
 * (to choose honestly) and on everything.
 */
export interface GlobalModels {
  forBacktest: PooledModel[];
  forForecast: PooledModel[];
}

/** The ensemble's mean forecast; undefined when the history is shorter than its longest window. */
export function ensembleForecast(models: PooledModel[], y: ArrayLike<number>, h: number): Float64Array | undefined {
  const out = new Float64Array(h);
  for (const model of models) {
    const f = pooledForecast(model, y, h);
    if (!f) return undefined;
    for (let k = 0; k < h; k++) out[k]! += f[k]! / models.length;
  }
  return models.length ? out : undefined;
}

export interface CandidateContext {
  /** Primary season in steps (24 for hourly data with a daily cycle); 1 for none. */
  season: number;
  /** A longer season (168 for hourly data with a weekly cycle), when the data shows one. */
  longSeason?: number;
  global?: GlobalModels;
}

export interface Candidate {
  name: ModelName;
  /** History needed before this candidate can run at all. */
  minLength(ctx: CandidateContext): number;
  /** Parameters from a history (cheap models have none). */
  fit(y: Float64Array, ctx: CandidateContext): unknown;
  predict(y: Float64Array, h: number, params: unknown, ctx: CandidateContext, purpose: 'backtest' | 'forecast'): Float64Array | undefined;
}

const seasonalNaive: Candidate = {
  name: 'seasonal-naive',
  minLength: (ctx) => Math.max(2, ctx.season),
  fit: () => undefined,
  predict: (y, h, _p, ctx) => seasonalNaiveForecast(y, ctx.season, h),
};

const seasonalNaiveWeekly: Candidate = {
  name: 'seasonal-naive-weekly',
  minLength: (ctx) => (ctx.longSeason ? 2 * ctx.longSeason : Infinity),
  fit: () => undefined,
  predict: (y, h, _p, ctx) => (ctx.longSeason ? seasonalNaiveForecast(y, ctx.longSeason, h) : undefined),
};

const etsDamped: Candidate = {
  name: 'ets-damped',
  minLength: (ctx) => Math.max(8, 2 * ctx.season),
  fit: (y, ctx) => fitEts(y, ctx.season),
  predict: (y, h, params) => etsForecast(y, h, params as EtsParams),
};

const theta: Candidate = {
  name: 'theta',
  minLength: (ctx) => Math.max(8, 3 * ctx.season),
  fit: (y, ctx) => fitTheta(y, ctx.season),
  predict: (y, h, alpha, ctx) => thetaForecast(y, ctx.season, h, alpha as number),
};

const pooled: Candidate = {
  name: 'pooled-linear',
  minLength: (ctx) => (ctx.global ? Math.max(...ctx.global.forForecast.map((m) => m.lags)) : Infinity),
  fit: () => undefined,
  predict: (y, h, _p, ctx, purpose) => {
    if (!ctx.global) return undefined;
    return ensembleForecast(purpose === 'backtest' ? ctx.global.forBacktest : ctx.global.forForecast, y, h);
  },
};

export const CANDIDATES: Candidate[] = [seasonalNaive, seasonalNaiveWeekly, etsDamped, theta, pooled];

/** For histories too short for any candidate: the last value, or the mean of a few when they are noisy. */
export function fallbackForecast(y: Float64Array, h: number): { mean: Float64Array; model: ModelName } {
  if (y.length === 0) return { mean: new Float64Array(h), model: 'mean' };
  return { mean: naiveForecast(y, h), model: 'naive' };
}
