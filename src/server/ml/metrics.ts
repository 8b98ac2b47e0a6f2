/**
 * Forecast accuracy as the M4 competition defines it: sMAPE in percent, MASE scaled by the in-sample
 * seasonal-naive error, OWA against the Naive2 benchmark; and the median the detectors and checks share.
 */

/** Mean of 200·|y − ŷ|/(|y| + |ŷ|) over the horizon; a step where both are 0 counts as 0. */
export function smape(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const denominator = Math.abs(actual[i]!) + Math.abs(forecast[i]!);
    if (denominator > 0) sum += (200 * Math.abs(actual[i]! - forecast[i]!)) / denominator;
  }
  return sum / actual.length;
}

/** The in-sample mean absolute m-step difference: MASE's denominator (m = 1 when the history is shorter than m+1). */
export function maseScale(history: ArrayLike<number>, m: number): number {
  const lag = history.length > m ? m : 1;
  let sum = 0;
  for (let i = lag; i < history.length; i++) sum += Math.abs(history[i]! - history[i - lag]!);
  return history.length > lag ? sum / (history.length - lag) : Number.NaN;
}

/** Mean absolute error over the horizon divided by the in-sample seasonal-naive scale. */
export function mase(actual: ArrayLike<number>, forecast: ArrayLike<number>, history: ArrayLike<number>, m: number): number {
  return mae(actual, forecast) / maseScale(history, m);
}

export function mae(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(actual[i]! - forecast[i]!);
  return sum / actual.length;
}

/** 1 − MAPE as a share: the "accuracy" people quote; steps where the actual value is 0 are skipped. */
export function mapeAccuracy(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] === 0) continue;
    sum += Math.abs((actual[i]! - forecast[i]!) / actual[i]!);
    n++;
  }
  return n === 0 ? Number.NaN : 1 - sum / n;
}

/** Overall weighted average: the mean of the two ratios to the benchmark's sMAPE and MASE. */
export function owa(smapeValue: number, maseValue: number, benchmark: { smape: number; mase: number }): number {
  return 0.5 * (smapeValue / benchmark.smape + maseValue / benchmark.mase);
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
