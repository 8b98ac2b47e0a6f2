/**
 * Regressions: functions whose self share of CPU (or of the live heap) jumped against a baseline, tested so
 * that the noise of sampling and of ordinary variation between pods and minutes does not raise alarms.
 *
 * Method (docs/profiling.md#regressions). Each stored profile is one replicate. A sample is attributed to its
 * leaf frame, or past builtins without a source file (V8's "(native)" frames) to the nearest frame that has one,
 * so an allocation inside `Array.from` is blamed on the function that called it. For a function f and each side
 * (baseline B, current C), with profiles i holding x_i of f's value out of T_i:
 *   - N_i = T_i / period is the profile's number of independent samples (CPU ticks, or heap samples of one
 *     sampling interval each), p_i = x_i / T_i its share, and p_B, p_C the pooled shares of each side;
 *   - the dispersion φ = max(1, Pearson χ² / df) of the p_i around their side's share, pooled over both sides,
 *     measures how much more than binomial sampling the share varies between profiles (pods differ, minutes
 *     differ);
 *   - z = (p_C − p_B) / sqrt(φ · p̄(1 − p̄) · (1/N_B + 1/N_C)), a quasi-binomial two-proportion test.
 * A regression needs z ≥ 4 (one-sided p < 3·10⁻⁵ were the model exact), a rise of at least 1 percentage point,
 * and a current share at least 1.5× the baseline's. The three thresholds were set before any measurement and
 * not tuned; the false-alarm rate they give on quiet sandbox data is in docs/benchmarks.md.
 */
import type { Regression } from '../../protocol/profiles';
import { resolveSampleIndex, type ProfileData } from './profileData';

export interface RegressionThresholds {
  z: number;
  minDeltaPoints: number;
  minRatio: number;
}

export const DEFAULT_THRESHOLDS: RegressionThresholds = { z: 4, minDeltaPoints: 1, minRatio: 1.5 };

/** The sample type a regression of `type` is measured in. */
export function regressionSampleType(type: 'cpu' | 'heap'): string {
  return type === 'cpu' ? 'cpu' : 'inuse_space';
}

export interface AttributedFunction {
  name: string;
  file: string;
  value: number;
  /** Value per line of the function (where the samples were attributed). */
  lines: Map<number, number>;
}

export interface Attributed {
  total: number;
  /** Independent samples the total stands for. */
  effectiveSamples: number;
  functions: Map<string, AttributedFunction>;
}

const hasSource = (file: string) => file !== '' && file !== '(native)';

/** A profile's value per function, each sample given to its nearest frame with a source file. */
export function attribute(profile: ProfileData, sampleType: string): Attributed {
  const j = resolveSampleIndex(profile, profile.sampleTypes.some((t) => t.type === sampleType) ? sampleType : undefined);
  const nt = profile.sampleTypes.length;
  const functions = new Map<string, AttributedFunction>();
  let total = 0;
  for (let s = 0; s < profile.sampleCount; s++) {
    const v = profile.values[s * nt + j]!;
    if (v === 0) continue;
    total += Math.abs(v);
    const first = profile.stackStart[s]!;
    const last = profile.stackStart[s + 1]!;
    if (first === last) continue;
    let frameIndex = profile.stackFrames[first]!;
    for (let k = first; k < last; k++) {
      if (hasSource(profile.frames[profile.stackFrames[k]!]!.file)) {
        frameIndex = profile.stackFrames[k]!;
        break;
      }
    }
    const frame = profile.frames[frameIndex]!;
    const key = `${frame.name}\0${frame.file}`;
    let fn = functions.get(key);
    if (!fn) {
      fn = { name: frame.name, file: frame.file, value: 0, lines: new Map() };
      functions.set(key, fn);
    }
    fn.value += v;
    fn.lines.set(frame.line, (fn.lines.get(frame.line) ?? 0) + v);
  }
  return { total, effectiveSamples: effectiveSamples(profile, j, total), functions };
}

/** CPU: the tick count (the `samples` type, or total / period); heap: bytes / sampling interval. */
function effectiveSamples(profile: ProfileData, sampleIndex: number, total: number): number {
  const counts = profile.sampleTypes.findIndex((t) => t.type === 'samples' && t.unit === 'count');
  const unit = profile.sampleTypes[sampleIndex]!.unit;
  if (counts >= 0 && unit === 'nanoseconds') {
    const nt = profile.sampleTypes.length;
    let n = 0;
    for (let s = 0; s < profile.sampleCount; s++) n += Math.abs(profile.values[s * nt + counts]!);
    return n;
  }
  if (profile.period > 0 && profile.periodType?.unit === unit) return total / profile.period;
  return Math.max(1, profile.sampleCount);
}

interface Side {
  profiles: Attributed[];
  n: number;
}

function pooledShare(side: Side, key: string): number {
  let x = 0;
  let n = 0;
  for (const p of side.profiles) {
    if (p.total <= 0) continue;
    x += ((p.functions.get(key)?.value ?? 0) / p.total) * p.effectiveSamples;
    n += p.effectiveSamples;
  }
  return n > 0 ? x / n : 0;
}

/** Pearson χ² of the profiles' shares around their side's pooled share, in units of p̄(1 − p̄). */
function chiSquare(side: Side, key: string, pSide: number): number {
  let chi = 0;
  for (const p of side.profiles) {
    if (p.total <= 0) continue;
    const share = (p.functions.get(key)?.value ?? 0) / p.total;
    chi += p.effectiveSamples * (share - pSide) ** 2;
  }
  return chi;
}

export interface RegressionTest {
  name: string;
  file: string;
  line: number;
  baseline: number;
  current: number;
  z: number;
  dispersion: number;
}

/** The test for every function present in the current side, strongest first (regressions or not). */
export function testShares(baseline: Attributed[], current: Attributed[]): RegressionTest[] {
  const b: Side = { profiles: baseline, n: baseline.reduce((a, p) => a + p.effectiveSamples, 0) };
  const c: Side = { profiles: current, n: current.reduce((a, p) => a + p.effectiveSamples, 0) };
  if (b.n <= 0 || c.n <= 0) return [];
  const names = new Map<string, { name: string; file: string; lines: Map<number, number> }>();
  for (const p of current) {
    for (const [key, fn] of p.functions) {
      const seen = names.get(key) ?? { name: fn.name, file: fn.file, lines: new Map<number, number>() };
      for (const [line, v] of fn.lines) seen.lines.set(line, (seen.lines.get(line) ?? 0) + v);
      names.set(key, seen);
    }
  }
  const df = baseline.length + current.length - 2;
  const out: RegressionTest[] = [];
  for (const [key, fn] of names) {
    const pB = pooledShare(b, key);
    const pC = pooledShare(c, key);
    const pBar = (pB * b.n + pC * c.n) / (b.n + c.n);
    if (pBar <= 0 || pBar >= 1) continue;
    const dispersion = df > 0 ? Math.max(1, (chiSquare(b, key, pB) + chiSquare(c, key, pC)) / (df * pBar * (1 - pBar))) : 1;
    const z = (pC - pB) / Math.sqrt(dispersion * pBar * (1 - pBar) * (1 / b.n + 1 / c.n));
    let line = 0;
    let best = -Infinity;
    for (const [l, v] of fn.lines) if (v > best) [line, best] = [l, v];
    out.push({ name: fn.name, file: fn.file, line, baseline: pB * 100, current: pC * 100, z, dispersion });
  }
  return out.sort((x, y) => y.z - x.z);
}

export function isRegression(t: RegressionTest, thresholds: RegressionThresholds = DEFAULT_THRESHOLDS): boolean {
  return t.z >= thresholds.z && t.current - t.baseline >= thresholds.minDeltaPoints && t.current >= thresholds.minRatio * t.baseline;
}

/** Regressions of `current` against `baseline` (profiles of one type), largest rise first. */
export function detectRegressions(
  type: 'cpu' | 'heap',
  baseline: readonly ProfileData[],
  current: readonly ProfileData[],
  thresholds: RegressionThresholds = DEFAULT_THRESHOLDS,
): Regression[] {
  const sampleType = regressionSampleType(type);
  const b = baseline.map((p) => attribute(p, sampleType));
  const c = current.map((p) => attribute(p, sampleType));
  const samples = (side: Attributed[]) => Math.round(side.reduce((a, p) => a + p.effectiveSamples, 0));
  return testShares(b, c)
    .filter((t) => isRegression(t, thresholds))
    .sort((x, y) => y.current - y.baseline - (x.current - x.baseline))
    .map((t) => ({
      type,
      function: t.name,
      file: t.file,
      line: t.line,
      baselinePercent: t.baseline,
      currentPercent: t.current,
      evidence:
        `self share ${t.baseline.toFixed(2)}% → ${t.current.toFixed(2)}% of ${type === 'cpu' ? 'CPU' : 'the live heap'}` +
        ` (z = ${t.z.toFixed(1)}, dispersion ${t.dispersion.toFixed(1)}; ${c.length} current profiles with ${samples(c)} samples,` +
        ` ${b.length} baseline profiles with ${samples(b)}${t.line ? `; mostly line ${t.line}` : ''})`,
    }));
}
