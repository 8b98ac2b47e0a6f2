/**
 * Seasonality: the autocorrelation test M4 uses to decide whether a series is seasonal, and classical
 * multiplicative decomposition (the seasonal indices Naive2, Theta and the ETS start values use).
 */

export function autocorrelation(x: ArrayLike<number>, maxLag: number): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let denominator = 0;
  for (let i = 0; i < n; i++) denominator += (x[i]! - mean) ** 2;
  const acf = new Float64Array(maxLag + 1);
  acf[0] = 1;
  if (denominator === 0) return acf;
  for (let k = 1; k <= maxLag && k < n; k++) {
    let sum = 0;
    for (let i = k; i < n; i++) sum += (x[i]! - mean) * (x[i - k]! - mean);
    acf[k] = sum / denominator;
  }
  return acf;
}

/**
 * M4's seasonality test: the lag-m autocorrelation exceeds its 90 % limit under the null of no correlation beyond
 * lag m−1 (Bartlett's formula). Needs at least 3m points.
 */
export function isSeasonal(x: ArrayLike<number>, m: number): boolean {
  if (m <= 1 || x.length < 3 * m) return false;
  const acf = autocorrelation(x, m);
  let sum = 0;
  for (let k = 1; k < m; k++) sum += acf[k]! ** 2;
  const limit = 1.645 * Math.sqrt((1 + 2 * sum) / x.length);
  return Math.abs(acf[m]!) > limit;
}

/**
 * Seasonal indices of classical multiplicative decomposition (centred 2×m moving average; indices normalised to
 * mean 1), aligned so that index[i % m] belongs to x[i]. Falls back to additive-safe ones (all 1) when the series
 * touches zero or below, where a ratio means nothing.
 */
export function multiplicativeIndices(x: ArrayLike<number>, m: number): Float64Array {
  const n = x.length;
  const indices = new Float64Array(m).fill(1);
  for (let i = 0; i < n; i++) if (!(x[i]! > 0)) return indices;
  const sums = new Float64Array(m);
  const counts = new Float64Array(m);
  const half = Math.floor(m / 2);
  for (let t = half; t < n - half; t++) {
    let trend: number;
    if (m % 2 === 0) {
      let s = 0.5 * (x[t - half]! + x[t + half]!);
      for (let k = t - half + 1; k < t + half; k++) s += x[k]!;
      trend = s / m;
    } else {
      let s = 0;
      for (let k = t - half; k <= t + half; k++) s += x[k]!;
      trend = s / m;
    }
    sums[t % m]! += x[t]! / trend;
    counts[t % m]!++;
  }
  let mean = 0;
  for (let k = 0; k < m; k++) {
    indices[k] = counts[k]! > 0 ? sums[k]! / counts[k]! : 1;
    mean += indices[k]!;
  }
  mean /= m;
  for (let k = 0; k < m; k++) indices[k] = indices[k]! / mean;
  return indices;
}

/** Which of the candidate periods the series shows (each tested on its own), longest history permitting. */
export function detectSeasons(x: ArrayLike<number>, candidates: number[]): number[] {
  return candidates.filter((m) => isSeasonal(x, m));
}
