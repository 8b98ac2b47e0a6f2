/**
 * A TypeScript port of the Numenta Anomaly Benchmark's scoring (NAB 1.1, `sweeper.py` and the normalisation of
 * `runner.py`), written from its published description:
 *
 * - The first min(⌊0.15·N⌋, 750) rows of a file are probation and never scored.
 * - Inside a window [left, right] of width w a detection at row i is worth σ(−(right − i + 1)/w)·A_tp/σ(−1), where
 *   σ(p) = 2/(1 + e^{5p}) − 1; only the best (earliest) detection of a window counts; a window with none costs A_fn.
 * - A detection outside every window is worth A_fp·σ(|i − prevRight|/(prevWidth − 1)) after a window, −A_fp before
 *   the first one; σ is −1 from a relative position of 3 on.
 * - One threshold per detector and profile, swept over every distinct score of the whole corpus, maximises the total.
 * - Normalised score = 100·(S − S_null)/(S_perfect − S_null), S_null = −A_fn·windows, S_perfect = A_tp·windows.
 */

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

export const NAB_PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
export type NabProfile = (typeof NAB_PROFILES)[number];

/** NAB's config/profiles.json, used when a data folder has none. */
export const DEFAULT_COST_MATRICES: Record<NabProfile, CostMatrix> = {
  standard: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11 },
  reward_low_FP_rate: { tpWeight: 1, fnWeight: 1, fpWeight: 0.22 },
  reward_low_FN_rate: { tpWeight: 1, fnWeight: 2, fpWeight: 0.11 },
};

export const PROBATION_PERCENT = 0.15;

/** Rows NAB leaves unscored at the start of a file of `rows` rows. */
export function probationLength(rows: number): number {
  return Math.min(Math.floor(PROBATION_PERCENT * rows), PROBATION_PERCENT * 5000);
}

/** NAB's scaled sigmoid of a position relative to a window's right edge. */
export function scaledSigmoid(position: number): number {
  if (position >= 3) return -1;
  return 2 / (1 + Math.exp(5 * position)) - 1;
}

/** Row index ranges of a file's windows, inclusive, in time order. */
export type WindowRows = Array<[number, number]>;

/**
 * Window limits (epoch ms) to row indices. NAB's labels sit on rows: like NAB, the first row with exactly that
 * timestamp (its files have a few repeated timestamps); labels between rows are rounded inwards.
 */
export function windowRows(timestamps: ArrayLike<number>, limits: Array<[number, number]>): WindowRows {
  const rows: WindowRows = [];
  const n = timestamps.length;
  const exact = (t: number): number => {
    for (let i = 0; i < n; i++) if (timestamps[i] === t) return i;
    return -1;
  };
  for (const [start, end] of [...limits].sort((a, b) => a[0] - b[0])) {
    let left = exact(start);
    if (left < 0) {
      left = 0;
      while (left < n && timestamps[left]! < start) left++;
    }
    let right = exact(end);
    if (right < 0) {
      right = left - 1;
      while (right + 1 < n && timestamps[right + 1]! <= end) right++;
    }
    if (right >= left) rows.push([left, right]);
  }
  return rows;
}

/** Per-row values the sweep needs: the row's weighted score if detected, and which window (if any) it is in. */
export interface SweptFile {
  /** NAB's S(t) of each row: what a detection there would add (TP) or cost (FP). */
  sweep: Float64Array;
  /** −2: probation (unscored); −1: outside every window; otherwise the window's index in the file. */
  window: Int32Array;
  windows: number;
}

export function sweepFile(rows: number, windows: WindowRows, cost: CostMatrix): SweptFile {
  const sweep = new Float64Array(rows);
  const window = new Int32Array(rows);
  const maxTp = scaledSigmoid(-1);
  const probation = probationLength(rows);
  let next = 0;
  let current = -1;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < rows; i++) {
    if (current < 0 && next < windows.length && windows[next]![0] === i) current = next++;
    if (current >= 0) {
      const [left, right] = windows[current]!;
      const width = right - left + 1;
      sweep[i] = (scaledSigmoid(-(right - i + 1) / width) * cost.tpWeight) / maxTp;
    } else {
      const position = prevRight < 0 ? 3 : Math.abs(prevRight - i) / (prevWidth - 1);
      sweep[i] = scaledSigmoid(position) * cost.fpWeight;
    }
    window[i] = i < probation ? -2 : current;
    if (current >= 0 && windows[current]![1] === i) {
      prevRight = i;
      prevWidth = windows[current]![1] - windows[current]![0] + 1;
      current = -1;
    }
  }
  return { sweep, window, windows: windows.length };
}

export interface ThresholdScore {
  threshold: number;
  score: number;
}

/**
 * The corpus total at every distinct threshold, highest threshold first (a row is a detection when its anomaly
 * score ≥ the threshold). The first entry (threshold 1.1) detects nothing.
 */
export function scoresByThreshold(files: Array<{ swept: SweptFile; scores: ArrayLike<number> }>, cost: CostMatrix): ThresholdScore[] {
  const items: Array<{ score: number; sweep: number; window: number }> = [];
  // Each window with a scorable row starts as a miss (−A_fn) and becomes its best detection's value.
  const windowBest: number[] = [];
  for (const { swept, scores } of files) {
    const base = windowBest.length;
    for (let w = 0; w < swept.windows; w++) windowBest.push(Number.NaN);
    for (let i = 0; i < swept.window.length; i++) {
      const w = swept.window[i]!;
      if (w === -2) continue;
      if (w >= 0) windowBest[base + w] = -cost.fnWeight;
      items.push({ score: scores[i]!, sweep: swept.sweep[i]!, window: w < 0 ? -1 : base + w });
    }
  }
  items.sort((a, b) => b.score - a.score);
  let fp = 0;
  let windowsTotal = windowBest.reduce((sum, v) => (Number.isNaN(v) ? sum : sum + v), 0);
  const result: ThresholdScore[] = [];
  let threshold = 1.1;
  for (const item of items) {
    if (item.score !== threshold) {
      result.push({ threshold, score: fp + windowsTotal });
      threshold = item.score;
    }
    if (item.window < 0) {
      fp += item.sweep;
    } else if (item.sweep > windowBest[item.window]!) {
      windowsTotal += item.sweep - windowBest[item.window]!;
      windowBest[item.window] = item.sweep;
    }
  }
  result.push({ threshold, score: fp + windowsTotal });
  return result;
}

export interface ProfileResult {
  threshold: number;
  /** The corpus total S at that threshold. */
  raw: number;
  /** 100·(S − S_null)/(S_perfect − S_null). */
  normalised: number;
}

export interface CorpusFile {
  timestamps: ArrayLike<number>;
  windows: WindowRows;
  scores: ArrayLike<number>;
}

/** The best threshold of the corpus for one profile, or the score at a given threshold. */
export function scoreCorpus(files: CorpusFile[], cost: CostMatrix, fixedThreshold?: number): ProfileResult {
  const swept = files.map((f) => ({ swept: sweepFile(f.timestamps.length, f.windows, cost), scores: f.scores }));
  const curve = scoresByThreshold(swept, cost);
  const windows = files.reduce((n, f) => n + f.windows.length, 0);
  const pick = fixedThreshold === undefined ? best(curve) : atThreshold(curve, fixedThreshold);
  const nullScore = -cost.fnWeight * windows;
  const perfect = cost.tpWeight * windows;
  return { threshold: pick.threshold, raw: pick.score, normalised: (100 * (pick.score - nullScore)) / (perfect - nullScore) };
}

function best(curve: ThresholdScore[]): ThresholdScore {
  let top = curve[0]!;
  for (const entry of curve) if (entry.score > top.score) top = entry;
  return top;
}

/** NAB's scoreDataSet lookup: the entry of that threshold, else the lowest one above it. */
function atThreshold(curve: ThresholdScore[], threshold: number): ThresholdScore {
  let previous = curve[0]!;
  for (const entry of curve) {
    if (entry.threshold === threshold) return entry;
    if (entry.threshold < threshold) return previous;
    previous = entry;
  }
  return previous;
}

/** One file's total at a threshold: what NAB writes per file (and spreads over the rows of its S(t) column). */
export function scoreFile(swept: SweptFile, scores: ArrayLike<number>, threshold: number, cost: CostMatrix): number {
  const windowBest = new Array<number>(swept.windows).fill(Number.NaN);
  let fp = 0;
  for (let i = 0; i < swept.window.length; i++) {
    const w = swept.window[i]!;
    if (w === -2) continue;
    if (w >= 0 && Number.isNaN(windowBest[w]!)) windowBest[w] = -cost.fnWeight;
    if (scores[i]! < threshold) continue;
    if (w < 0) fp += swept.sweep[i]!;
    else windowBest[w] = Math.max(windowBest[w]!, swept.sweep[i]!);
  }
  return windowBest.reduce((sum, v) => (Number.isNaN(v) ? sum : sum + v), fp);
}
