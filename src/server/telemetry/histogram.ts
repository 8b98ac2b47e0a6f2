/**
 * Latency (and size) distributions as the server keeps them: the bins of a DDSketch with the logarithmic
 * mapping at 1 % relative accuracy, which is what every agent sends. Bins of any number of pods and seconds
 * merge by adding counts, and a quantile of the merged bins is within 1 % of the exact one — the property the
 * dashboards' p99s rest on. Kept as two parallel arrays (sorted keys, counts) so a second of a series is a few
 * hundred bytes and merging is a linear walk.
 */
import { DDSketch } from '@datadog/sketches-js';

export const RELATIVE_ACCURACY = 0.01;
export const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);

export interface Distribution {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Observations at (or indistinguishable from) zero. */
  zero: number;
  /** Ascending bin keys and their counts. */
  keys: Int32Array;
  counts: Float64Array;
}

export function emptyDistribution(): Distribution {
  return { count: 0, sum: 0, min: Infinity, max: -Infinity, zero: 0, keys: new Int32Array(0), counts: new Float64Array(0) };
}

/** The key an observation falls in (the agents' mapping: LogarithmicMapping(0.01), offset 0). */
export function keyOf(value: number): number {
  return Math.ceil(Math.log(value) / LN_GAMMA);
}

/** The value a key stands for: within 1 % of every observation in its bin. */
export function valueOf(key: number): number {
  return (Math.exp(key * LN_GAMMA) * 2) / (1 + GAMMA);
}

/** A distribution of raw observations (for values the server derives itself, e.g. session lengths). */
export function distributionOf(values: readonly number[]): Distribution {
  const bins = new Map<number, number>();
  let zero = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    const value = v < 0 ? 0 : v;
    sum += value;
    if (value < min) min = value;
    if (value > max) max = value;
    if (value < 1e-9) zero++;
    else {
      const key = keyOf(value);
      bins.set(key, (bins.get(key) ?? 0) + 1);
    }
  }
  return fromBins(bins, { count: values.length, sum, min, max, zero });
}

function fromBins(bins: Map<number, number>, stats: Omit<Distribution, 'keys' | 'counts'>): Distribution {
  const keys = Int32Array.from(bins.keys()).sort();
  const counts = new Float64Array(keys.length);
  for (let i = 0; i < keys.length; i++) counts[i] = bins.get(keys[i]!)!;
  return { ...stats, keys, counts };
}

/**
 * Decodes an agent's base64 protobuf DDSketch. Throws with the reason when it is not one the server can merge
 * (another mapping or accuracy, negative values, corrupt bytes).
 */
export function decodeSketch(base64: string, stats: { count: number; sum: number; min: number; max: number }): Distribution {
  let sketch: DDSketch;
  try {
    sketch = DDSketch.fromProto(Buffer.from(base64, 'base64'));
  } catch (error) {
    throw new Error(`the sketch is not a DDSketch protobuf (${error instanceof Error ? error.message : String(error)})`);
  }
  const mapping = sketch.mapping.toProto();
  // interpolation NONE (0) is the exact logarithmic mapping; the others bin differently and cannot be merged.
  if (Math.abs((mapping.gamma ?? 0) - GAMMA) > 1e-9 || (mapping.indexOffset ?? 0) !== 0 || (mapping.interpolation ?? 0) !== 0) {
    throw new Error(`the sketch uses gamma ${mapping.gamma} (interpolation ${mapping.interpolation ?? 0}, offset ${mapping.indexOffset ?? 0}); the server merges logarithmic sketches of 1 % accuracy (gamma ${GAMMA.toFixed(6)})`);
  }
  if (sketch.negativeStore.count > 0) throw new Error('the sketch holds negative values; durations and sizes cannot be negative');
  const store = sketch.store;
  const bins = new Map<number, number>();
  for (let i = 0; i < store.bins.length; i++) {
    const count = store.bins[i]!;
    if (count > 0) bins.set(i + store.offset, count);
  }
  const binned = [...bins.values()].reduce((a, b) => a + b, 0) + sketch.zeroCount;
  if (Math.abs(binned - stats.count) > 1e-6 * Math.max(1, stats.count)) {
    throw new Error(`the sketch holds ${binned} observations but the point says count ${stats.count}`);
  }
  return fromBins(bins, { ...stats, zero: sketch.zeroCount });
}

/** Adds `b` into a new distribution (neither input changes). */
export function merge(a: Distribution, b: Distribution): Distribution {
  if (b.count === 0) return a;
  if (a.count === 0) return b;
  const keys = new Int32Array(a.keys.length + b.keys.length);
  const counts = new Float64Array(keys.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const ka = i < a.keys.length ? a.keys[i]! : Infinity;
    const kb = j < b.keys.length ? b.keys[j]! : Infinity;
    if (ka === kb) {
      keys[n] = ka;
      counts[n++] = a.counts[i++]! + b.counts[j++]!;
    } else if (ka < kb) {
      keys[n] = ka;
      counts[n++] = a.counts[i++]!;
    } else {
      keys[n] = kb;
      counts[n++] = b.counts[j++]!;
    }
  }
  return {
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    zero: a.zero + b.zero,
    keys: keys.subarray(0, n),
    counts: counts.subarray(0, n),
  };
}

/** Merges many at once (a k-way merge through a map is simpler and as fast for the sizes seen here). */
export function mergeAll(parts: readonly Distribution[]): Distribution {
  const live = parts.filter((p) => p.count > 0);
  if (live.length === 0) return emptyDistribution();
  if (live.length === 1) return live[0]!;
  if (live.length === 2) return merge(live[0]!, live[1]!);
  const bins = new Map<number, number>();
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let zero = 0;
  for (const p of live) {
    count += p.count;
    sum += p.sum;
    if (p.min < min) min = p.min;
    if (p.max > max) max = p.max;
    zero += p.zero;
    for (let i = 0; i < p.keys.length; i++) bins.set(p.keys[i]!, (bins.get(p.keys[i]!) ?? 0) + p.counts[i]!);
  }
  return fromBins(bins, { count, sum, min, max, zero });
}

/**
 * The value at quantile q (0..1): the observation of rank q·(n−1), as DDSketch defines it, within 1 % of the
 * exact one; clamped to the exact min and max the pods sent. NaN for an empty distribution.
 */
export function quantile(d: Distribution, q: number): number {
  if (d.count === 0) return NaN;
  const rank = Math.min(1, Math.max(0, q)) * (d.count - 1);
  if (rank < d.zero) return Math.max(0, d.min);
  let running = d.zero;
  let value = NaN;
  for (let i = 0; i < d.keys.length; i++) {
    running += d.counts[i]!;
    if (running > rank) {
      value = valueOf(d.keys[i]!);
      break;
    }
  }
  if (Number.isNaN(value)) value = d.keys.length ? valueOf(d.keys[d.keys.length - 1]!) : d.max;
  return Math.min(d.max, Math.max(d.min, value));
}
