/**
 * Sample-level transforms the profile store needs: folding a per-tick timeline into one sample per stack,
 * keeping the ticks of a time range, and scaling values (a snapshot type averaged over a range).
 */
import { TIME_OFFSET_LABEL } from '../../agent/pprof';
import { growF64, growU32, type ProfileData } from './profileData';
import { filterSamples } from './merge';

export { TIME_OFFSET_LABEL };

export function hasTimeline(profile: ProfileData): boolean {
  for (let i = 0; i < profile.sampleCount; i++) {
    const labels = profile.labels[i];
    if (labels?.some((l) => l.key === TIME_OFFSET_LABEL)) return true;
  }
  return false;
}

/** One sample per distinct stack (labels dropped), values added: the timeline as the aggregate profile. */
export function foldSamples(profile: ProfileData): ProfileData {
  const nt = profile.sampleTypes.length;
  const index = new Map<string, number>();
  const stackStart = growU32(256);
  stackStart.push(0);
  const stackFrames = growU32(profile.stackFrames.length);
  const values = growF64(256);
  for (let i = 0; i < profile.sampleCount; i++) {
    const from = profile.stackStart[i]!;
    const to = profile.stackStart[i + 1]!;
    const key = profile.stackFrames.subarray(from, to).join(',');
    let s = index.get(key);
    if (s === undefined) {
      s = index.size;
      index.set(key, s);
      for (let k = from; k < to; k++) stackFrames.push(profile.stackFrames[k]!);
      stackStart.push(stackFrames.length);
      for (let j = 0; j < nt; j++) values.push(0);
    }
    const out = values.finish();
    for (let j = 0; j < nt; j++) out[s * nt + j]! += profile.values[i * nt + j]!;
  }
  const sampleCount = index.size;
  return {
    ...profile,
    sampleCount,
    stackStart: stackStart.finish().slice(),
    stackFrames: stackFrames.finish().slice(),
    values: values.finish().slice(0, sampleCount * nt),
    labels: new Array<undefined>(sampleCount),
  };
}

/** The timeline's samples whose tick fell in [fromMs, toMs) (epoch ms). */
export function ticksBetween(profile: ProfileData, fromMs: number, toMs: number): ProfileData {
  const startNs = profile.timeNanos;
  return filterSamples(profile, (labels) => {
    const offset = labels?.find((l) => l.key === TIME_OFFSET_LABEL)?.num;
    if (offset === undefined) return false;
    const atMs = (startNs + offset) / 1e6;
    return atMs >= fromMs && atMs < toMs;
  });
}

export function scaleValues(profile: ProfileData, factor: number): ProfileData {
  if (factor === 1) return profile;
  const values = new Float64Array(profile.values.length);
  for (let i = 0; i < values.length; i++) values[i] = profile.values[i]! * factor;
  return { ...profile, values };
}
