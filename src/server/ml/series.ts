/**
 * Turns whatever a caller has into a regular series the models can read, and says what it had to fix:
 * timestamps out of order (sorted), duplicated (averaged), gaps (linear interpolation at the usual step),
 * NaN/±Infinity (interpolated), too short or constant (flagged for a simple fallback).
 */

/** Values at a regular step, or timestamps (epoch ms) and their values. */
export type SeriesInput = ArrayLike<number> | { timestamps: ArrayLike<number>; values: ArrayLike<number> };

export interface CleanSeries {
  values: Float64Array;
  /** Epoch ms of values[0] and the step between values, when the input had timestamps. */
  start?: number;
  stepMs?: number;
  /** What was wrong with the input and what was done about it; empty for a clean series. */
  warnings: string[];
  constant: boolean;
  nonNegative: boolean;
}

/** Gaps longer than this many steps are not interpolated: only the data after the gap is kept. */
const MAX_GAP_STEPS = 1000;

function isTimed(input: SeriesInput): input is { timestamps: ArrayLike<number>; values: ArrayLike<number> } {
  return typeof input === 'object' && 'timestamps' in input && 'values' in input;
}

export function cleanSeries(input: SeriesInput): CleanSeries {
  const warnings: string[] = [];
  let values: Float64Array;
  let start: number | undefined;
  let stepMs: number | undefined;
  if (isTimed(input)) {
    ({ values, start, stepMs } = regularise(input.timestamps, input.values, warnings));
  } else {
    values = Float64Array.from(input);
  }
  values = fillMissing(values, warnings);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const constant = values.length > 1 && min === max;
  if (values.length === 0) warnings.push('no usable values');
  else if (constant) warnings.push(`constant series (every value is ${min})`);
  const nonNegative = values.length > 0 && min >= 0;
  if (min < 0) warnings.push('negative values: multiplicative seasonality and log models are off for this series');
  return { values, ...(start !== undefined ? { start, stepMs } : {}), warnings, constant, nonNegative };
}

function regularise(tsIn: ArrayLike<number>, vsIn: ArrayLike<number>, warnings: string[]): { values: Float64Array; start?: number; stepMs?: number } {
  if (tsIn.length !== vsIn.length) warnings.push(`${tsIn.length} timestamps but ${vsIn.length} values: the extra ones are ignored`);
  const n = Math.min(tsIn.length, vsIn.length);
  const rows: Array<[number, number]> = [];
  let badTime = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(tsIn[i]!)) rows.push([tsIn[i]!, vsIn[i]!]);
    else badTime++;
  }
  if (badTime) warnings.push(`${badTime} rows without a valid timestamp dropped`);
  let outOfOrder = 0;
  for (let i = 1; i < rows.length; i++) if (rows[i]![0] < rows[i - 1]![0]) outOfOrder++;
  if (outOfOrder) {
    warnings.push(`${outOfOrder} timestamps out of order: sorted`);
    rows.sort((a, b) => a[0] - b[0]);
  }
  // Duplicated timestamps: the mean of their finite values.
  const merged: Array<[number, number]> = [];
  let duplicates = 0;
  for (let i = 0; i < rows.length; ) {
    let j = i;
    let sum = 0;
    let count = 0;
    while (j < rows.length && rows[j]![0] === rows[i]![0]) {
      if (Number.isFinite(rows[j]![1])) {
        sum += rows[j]![1];
        count++;
      }
      j++;
    }
    duplicates += j - i - 1;
    merged.push([rows[i]![0], count ? sum / count : Number.NaN]);
    i = j;
  }
  if (duplicates) warnings.push(`${duplicates} duplicated timestamps: their values averaged`);
  if (merged.length < 2) return { values: Float64Array.from(merged, (r) => r[1]), ...(merged[0] ? { start: merged[0][0] } : {}) };
  const diffs = merged.slice(1).map((r, i) => r[0] - merged[i]![0]).sort((a, b) => a - b);
  const step = diffs[Math.floor(diffs.length / 2)]!;
  // Keep the data after the last gap too long to bridge.
  let from = 0;
  for (let i = 1; i < merged.length; i++) if ((merged[i]![0] - merged[i - 1]![0]) / step > MAX_GAP_STEPS) from = i;
  if (from > 0) warnings.push(`a gap of more than ${MAX_GAP_STEPS} steps: only the ${merged.length - from} values after it are used`);
  const kept = merged.slice(from);
  const first = kept[0]![0];
  const length = Math.round((kept[kept.length - 1]![0] - first) / step) + 1;
  const values = new Float64Array(length).fill(Number.NaN);
  let offGrid = 0;
  for (const [t, v] of kept) {
    const slot = Math.round((t - first) / step);
    if (Math.abs(t - (first + slot * step)) > step / 4) offGrid++;
    values[slot] = Number.isNaN(values[slot]!) ? v : (values[slot]! + v) / 2;
  }
  if (offGrid) warnings.push(`${offGrid} timestamps off the ${step} ms grid: moved to the nearest step`);
  const missing = length - kept.length;
  if (missing > 0) warnings.push(`${missing} missing steps (gaps) filled by linear interpolation`);
  return { values, start: first, stepMs: step };
}

/** Linear interpolation over NaN/±Infinity; leading ones take the first finite value, trailing ones the last. */
function fillMissing(values: Float64Array, warnings: string[]): Float64Array {
  let bad = 0;
  for (const v of values) if (!Number.isFinite(v)) bad++;
  if (bad === 0) return values;
  if (bad === values.length) {
    warnings.push(`${bad} values, none of them a finite number`);
    return new Float64Array(0);
  }
  const out = Float64Array.from(values);
  let last = -1;
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) continue;
    if (last < 0) for (let k = 0; k < i; k++) out[k] = out[i]!;
    else for (let k = last + 1; k < i; k++) out[k] = out[last]! + ((out[i]! - out[last]!) * (k - last)) / (i - last);
    last = i;
  }
  for (let k = last + 1; k < out.length; k++) out[k] = out[last]!;
  warnings.push(`${bad} values missing or not finite (NaN, Infinity): interpolated`);
  return out;
}
