/**
 * Regressions: functions whose self share of CPU (or of the live heap) jumped against a baseline, tested so
 * that the noise of sampling and of ordinary variation between pods and minutes does not raise alarms.
 *
 * Method (docs/profiling.md#regressions). Each stored profile is one replicate, and pods are compared with
 * themselves (a hot spot on one pod of three must not drown in the others). A sample is attributed to its leaf
 * frame, or past builtins without a source file (V8's "(native)" frames) to the nearest frame that has one, so
 * an allocation inside `Array.from` is blamed on the function that called it. For a function f, each pod g and
 * each side (baseline B, current C), with profiles i holding x_i of f's value out of T_i:
 *   - N_i = T_i / period is the profile's number of independent samples (CPU ticks, or heap samples of one
 *     sampling interval each), p_i = x_i / T_i its share, and p_gB, p_gC the pooled shares of each side;
 *   - the dispersion φ_f = Σ Pearson χ² / Σ df of the p_i around their own pod and side's share, pooled over
 *     pods and sides, measures how much more than binomial sampling f's share varies from one profile of a pod
 *     to the next (minutes differ); one φ = max(1, median of φ_f over functions holding ≥ 0.5 %) serves all
 *     functions, robust to the one that changed;
 *   - z_g = (p_gC − p_gB) / sqrt(φ · p̄_g(1 − p̄_g) · (1/N_gB + 1/N_gC)), a quasi-binomial two-proportion test,
 *     and f's result is its pod with the largest z.
 * A regression needs z ≥ 4 (one-sided p < 3·10⁻⁵ per test were the model exact), a rise of at least 1
 * percentage point on that pod, and a share there at least 1.5× the baseline's. The live heap is tested by growth
 * instead (testGrowth): heap snapshots are not independent replicates. The three thresholds were set before any measurement and
 * not tuned; the false-alarm rate they give on quiet sandbox data is in docs/benchmarks.md.
 */
import type { Regression } from '../../protocol/profiles';
import { resolveSampleIndex, type ProfileData } from './profileData';
import { median } from '../ml/metrics';

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

const side = (profiles: Attributed[]): Side => ({ profiles, n: profiles.reduce((a, p) => a + p.effectiveSamples, 0) });

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

/** Pearson χ² of the profiles' shares around their side's pooled share (times N_i, before dividing by p̄(1 − p̄)). */
function chiSquare(side: Side, key: string, pSide: number): number {
  let chi = 0;
  for (const p of side.profiles) {
    if (p.total <= 0) continue;
    const share = (p.functions.get(key)?.value ?? 0) / p.total;
    chi += p.effectiveSamples * (share - pSide) ** 2;
  }
  return chi;
}

/** A stratum's two sides: one pod's profiles before and now (or one service's, for a version baseline). */
export interface Stratum {
  name: string;
  baseline: Attributed[];
  current: Attributed[];
}

export interface RegressionTest {
  name: string;
  file: string;
  line: number;
  /** Shares (%) in the stratum where the rise is strongest. */
  baseline: number;
  current: number;
  z: number;
  dispersion: number;
  /** That stratum (a pod), and how many strata were compared. */
  stratum: string;
  strata: number;
}

/**
 * The test for every function present in a current side: per stratum (pods differ, so each pod is compared with
 * itself), with one dispersion per function pooled over the strata's within-side variation. A function's result
 * is its strongest stratum. Strongest first.
 */
export function testShares(strata: Stratum[]): RegressionTest[] {
  const usable = strata.map((s) => ({ name: s.name, b: side(s.baseline), c: side(s.current) })).filter((s) => s.b.n > 0 && s.c.n > 0);
  if (!usable.length) return [];
  const names = new Map<string, { name: string; file: string; lines: Map<number, number> }>();
  for (const s of usable) {
    for (const p of s.c.profiles) {
      for (const [key, fn] of p.functions) {
        const seen = names.get(key) ?? { name: fn.name, file: fn.file, lines: new Map<number, number>() };
        for (const [line, v] of fn.lines) seen.lines.set(line, (seen.lines.get(line) ?? 0) + v);
        names.set(key, seen);
      }
    }
  }
  const df = usable.reduce((a, s) => a + Math.max(0, s.b.profiles.length - 1) + Math.max(0, s.c.profiles.length - 1), 0);
  const perFunction = [...names.keys()].map((key) => {
    const shares = usable.map((s) => {
      const pB = pooledShare(s.b, key);
      const pC = pooledShare(s.c, key);
      const pBar = (pB * s.b.n + pC * s.c.n) / (s.b.n + s.c.n);
      return { s, pB, pC, pBar };
    });
    let chi = 0;
    let weight = 0;
    for (const { s, pB, pC, pBar } of shares) {
      if (pBar <= 0 || pBar >= 1) continue;
      chi += (chiSquare(s.b, key, pB) + chiSquare(s.c, key, pC)) / (pBar * (1 - pBar));
      weight += pBar * (s.b.n + s.c.n);
    }
    return { key, shares, dispersion: df > 0 ? chi / df : NaN, share: weight / usable.reduce((a, s) => a + s.b.n + s.c.n, 0) };
  });
  const dispersion = commonDispersion(perFunction);
  const out: RegressionTest[] = [];
  for (const { key, shares } of perFunction) {
    const fn = names.get(key)!;
    let best: RegressionTest | undefined;
    for (const { s, pB, pC, pBar } of shares) {
      if (pBar <= 0 || pBar >= 1) continue;
      const z = (pC - pB) / Math.sqrt(dispersion * pBar * (1 - pBar) * (1 / s.b.n + 1 / s.c.n));
      if (!best || z > best.z) best = { name: fn.name, file: fn.file, line: 0, baseline: pB * 100, current: pC * 100, z, dispersion, stratum: s.name, strata: usable.length };
    }
    if (!best) continue;
    let most = -Infinity;
    for (const [l, v] of fn.lines) if (v > most) [best.line, most] = [l, v];
    out.push(best);
  }
  return out.sort((x, y) => y.z - x.z);
}

/**
 * One dispersion for all functions: the median of the per-function estimates among functions holding at least
 * 0.5 % (enough samples to say anything). A median, so the function that did change — whose profiles disagree
 * wildly when one of them caught the change half-way — cannot inflate the noise it is measured against.
 */
function commonDispersion(perFunction: { dispersion: number; share: number }[]): number {
  const estimates = perFunction.filter((f) => Number.isFinite(f.dispersion) && f.share >= 0.005).map((f) => f.dispersion);
  return estimates.length ? Math.max(1, median(estimates)) : 1;
}

/**
 * Heap profiles are snapshots of one live heap, not independent draws: consecutive ones share most of their
 * samples. So for the live heap each pod's newest profile before the range is compared with its newest profile
 * in it, and a function's sampled bytes, in units of the sampling interval (n = bytes / interval, about Poisson),
 * give z = (n₁ − n₀) / sqrt(n₁ + n₀) — conservative, as the two snapshots are positively correlated.
 */
export function testGrowth(strata: Stratum[]): RegressionTest[] {
  const usable = strata.filter((s) => s.baseline.length && s.current.length);
  const out = new Map<string, RegressionTest>();
  for (const s of usable) {
    const before = s.baseline.at(-1)!;
    const now = s.current.at(-1)!;
    const unitBefore = before.total / Math.max(1e-9, before.effectiveSamples);
    const unitNow = now.total / Math.max(1e-9, now.effectiveSamples);
    for (const [key, fn] of now.functions) {
      const n1 = fn.value / unitNow;
      const n0 = (before.functions.get(key)?.value ?? 0) / unitBefore;
      const z = (n1 - n0) / Math.sqrt(Math.max(1, n1 + n0));
      const seen = out.get(key);
      if (seen && seen.z >= z) continue;
      let line = 0;
      let most = -Infinity;
      for (const [l, v] of fn.lines) if (v > most) [line, most] = [l, v];
      out.set(key, { name: fn.name, file: fn.file, line, baseline: before.total > 0 ? ((before.functions.get(key)?.value ?? 0) / before.total) * 100 : 0, current: now.total > 0 ? (fn.value / now.total) * 100 : 0, z, dispersion: 1, stratum: s.name, strata: usable.length });
    }
  }
  return [...out.values()].sort((x, y) => y.z - x.z);
}

export function isRegression(t: RegressionTest, thresholds: RegressionThresholds = DEFAULT_THRESHOLDS): boolean {
  return t.z >= thresholds.z && t.current - t.baseline >= thresholds.minDeltaPoints && t.current >= thresholds.minRatio * t.baseline;
}

/** A profile and the stratum it belongs to (its pod). */
export interface Replicate {
  profile: ProfileData;
  stratum: string;
}

/** Regressions of `current` against `baseline` (profiles of one type), largest rise first. */
export function detectRegressions(
  type: 'cpu' | 'heap',
  baseline: readonly Replicate[],
  current: readonly Replicate[],
  thresholds: RegressionThresholds = DEFAULT_THRESHOLDS,
): Regression[] {
  const sampleType = regressionSampleType(type);
  const strata = new Map<string, Stratum>();
  const stratum = (name: string) => strata.get(name) ?? strata.set(name, { name, baseline: [], current: [] }).get(name)!;
  for (const r of baseline) stratum(r.stratum).baseline.push(attribute(r.profile, sampleType));
  for (const r of current) stratum(r.stratum).current.push(attribute(r.profile, sampleType));
  const all = [...strata.values()];
  const samples = (which: 'baseline' | 'current', name: string) => Math.round(strata.get(name)![which].reduce((a, p) => a + p.effectiveSamples, 0));
  return (type === 'heap' ? testGrowth(all) : testShares(all))
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
        `self share ${t.baseline.toFixed(2)}% → ${t.current.toFixed(2)}% of ${type === 'cpu' ? 'CPU' : 'the live heap'} on ${t.stratum}` +
        (type === 'heap'
          ? ` (z = ${t.z.toFixed(1)}; the pod's newest heap profile in the range against its newest before it; ${t.strata} pod(s) compared${t.line ? `; mostly line ${t.line}` : ''})`
          : ` (z = ${t.z.toFixed(1)}, dispersion ${t.dispersion.toFixed(1)}; ${strata.get(t.stratum)!.current.length} current profiles with ${samples('current', t.stratum)} samples,` +
            ` ${strata.get(t.stratum)!.baseline.length} baseline profiles with ${samples('baseline', t.stratum)}; ${t.strata} pod(s) compared${t.line ? `; mostly line ${t.line}` : ''})`),
    }));
}
