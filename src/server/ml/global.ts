/** Fitting the pooled model across many series for forecast(): both fits the backtests and forecasts need. */
import type { GlobalModels } from './candidates';
import { DEFAULT_POOLED, fitPooledPair, type PooledOptions } from './models/pooled';
import { cleanSeries, type SeriesInput } from './series';

export interface GlobalFitOptions extends Partial<Omit<PooledOptions, 'lags' | 'scaleWindow'>> {
  /** Window lengths of the ensemble's members (default [336]). */
  lags?: number[];
  /** The forecast() backtest origins the fit must stay clear of (default 3). */
  origins?: number;
  /** Called with the share of the work done, for a progress bar. */
  onProgress?: (fraction: number) => void;
}

/** One member: two weeks of hourly data (an ensemble with 504 was no better on the held-out training data). */
export const DEFAULT_LAGS = [336];

/**
 * The pooled linear model over every series given (each cleaned as forecast() would), or undefined when they hold
 * too few windows of lags + horizon values. `horizon` must be the largest horizon that will be asked for.
 */
export function fitGlobalModels(series: SeriesInput[], options: GlobalFitOptions = {}): GlobalModels | undefined {
  const { lags = DEFAULT_LAGS, origins = 3, onProgress, ...rest } = options;
  let done = 0;
  const total = series.length * lags.length;
  const values = series.map((s) => cleanSeries(s).values);
  const result: GlobalModels = { forBacktest: [], forForecast: [] };
  for (const window of lags) {
    const pooled: PooledOptions = { ...DEFAULT_POOLED, ...rest, lags: window, scaleWindow: window };
    const holdout = pooled.horizon + (origins - 1) * Math.max(1, Math.floor(pooled.horizon / 2));
    const { forBacktest, forForecast } = fitPooledPair(values, pooled, holdout, () => onProgress?.(++done / total));
    if (!forBacktest || !forForecast) continue;
    result.forBacktest.push(forBacktest);
    result.forForecast.push(forForecast);
  }
  return result.forForecast.length ? result : undefined;
}
