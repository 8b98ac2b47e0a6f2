/**
 * Merging profiles: samples are concatenated, frames re-interned into one table. Profiles merge on the sample
 * types they all share (a Go heap profile and a Node one share inuse_objects and inuse_space); one that shares
 * none with the first is refused by name, and the others still merge.
 */
import { FrameTable, growU32, type ProfileData, type SampleLabel, type ValueType } from './profileData';

export class MergeError extends Error {}

const typeKey = (t: ValueType) => `${t.type}/${t.unit}`;

/** The sample types every profile has, in the first profile's order. */
export function commonSampleTypes(profiles: readonly ProfileData[]): ValueType[] {
  const first = profiles[0];
  if (!first) return [];
  return first.sampleTypes.filter((t) => profiles.every((p) => p.sampleTypes.some((u) => typeKey(u) === typeKey(t))));
}

/**
 * Splits `profiles` into those that can merge with the first and those that cannot (with the reason), so a
 * caller can report the second and merge the first.
 */
export function partitionCompatible(profiles: readonly ProfileData[]): { compatible: ProfileData[]; refused: { source: string; reason: string }[] } {
  const first = profiles[0];
  if (!first) return { compatible: [], refused: [] };
  const firstTypes = new Set(first.sampleTypes.map(typeKey));
  const compatible: ProfileData[] = [first];
  const refused: { source: string; reason: string }[] = [];
  for (const profile of profiles.slice(1)) {
    if (profile.sampleTypes.some((t) => firstTypes.has(typeKey(t)))) compatible.push(profile);
    else {
      refused.push({
        source: profile.source,
        reason: `has sample types ${profile.sampleTypes.map(typeKey).join(', ')}, none of which ${first.source} has (${[...firstTypes].join(', ')}): it cannot merge with it`,
      });
    }
  }
  return { compatible, refused };
}

export function mergeProfiles(profiles: readonly ProfileData[], source = `${profiles.length} profiles`): ProfileData {
  if (profiles.length === 0) throw new MergeError('nothing to merge');
  if (profiles.length === 1) return profiles[0]!;
  const types = commonSampleTypes(profiles);
  if (types.length === 0) throw new MergeError(`the profiles share no sample type (${profiles.map((p) => `${p.source}: ${p.sampleTypes.map(typeKey).join(', ')}`).join('; ')})`);
  const frames = new FrameTable();
  let sampleCount = 0;
  let frameCount = 0;
  for (const p of profiles) {
    sampleCount += p.sampleCount;
    frameCount += p.stackFrames.length;
  }
  const stackStart = new Uint32Array(sampleCount + 1);
  const stackFrames = new Uint32Array(frameCount);
  const values = new Float64Array(sampleCount * types.length);
  const labels: (SampleLabel[] | undefined)[] = new Array<SampleLabel[] | undefined>(sampleCount);
  let s = 0;
  let f = 0;
  for (const p of profiles) {
    const fnRemap = new Map<number, number>();
    const remap = p.frames.map((frame) => {
      let fn = fnRemap.get(frame.fn);
      if (fn === undefined) {
        fn = frames.internFunction(frame.name, frame.systemName, frame.file, frame.startLine);
        fnRemap.set(frame.fn, fn);
      }
      return frames.internFrame(fn, frame.line, frame.column);
    });
    const columns = types.map((t) => p.sampleTypes.findIndex((u) => typeKey(u) === typeKey(t)));
    const nt = p.sampleTypes.length;
    for (let i = 0; i < p.sampleCount; i++, s++) {
      for (let k = p.stackStart[i]!, end = p.stackStart[i + 1]!; k < end; k++) stackFrames[f++] = remap[p.stackFrames[k]!]!;
      stackStart[s + 1] = f;
      for (let j = 0; j < columns.length; j++) values[s * columns.length + j] = p.values[i * nt + columns[j]!]!;
      labels[s] = p.labels[i];
    }
  }
  const first = profiles[0]!;
  const timed = profiles.filter((p) => p.timeNanos > 0);
  return {
    source,
    sampleTypes: types,
    defaultSampleType: types.some((t) => t.type === first.defaultSampleType) ? first.defaultSampleType : undefined,
    periodType: first.periodType,
    period: first.period,
    timeNanos: timed.length ? Math.min(...timed.map((p) => p.timeNanos)) : 0,
    durationNanos: profiles.reduce((a, p) => a + p.durationNanos, 0),
    comments: profiles.flatMap((p) => p.comments),
    frames: frames.frames,
    sampleCount,
    stackStart,
    stackFrames,
    values,
    labels,
  };
}

/** Keeps the samples whose labels satisfy `keep` (label filters of a selection). */
export function filterSamples(profile: ProfileData, keep: (labels: SampleLabel[] | undefined, index: number) => boolean): ProfileData {
  const nt = profile.sampleTypes.length;
  const stackStart = [0];
  const stackFrames = growU32(profile.stackFrames.length);
  const values: number[] = [];
  const labels: (SampleLabel[] | undefined)[] = [];
  for (let i = 0; i < profile.sampleCount; i++) {
    if (!keep(profile.labels[i], i)) continue;
    for (let k = profile.stackStart[i]!; k < profile.stackStart[i + 1]!; k++) stackFrames.push(profile.stackFrames[k]!);
    stackStart.push(stackFrames.length);
    for (let j = 0; j < nt; j++) values.push(profile.values[i * nt + j]!);
    labels.push(profile.labels[i]);
  }
  return { ...profile, sampleCount: labels.length, stackStart: Uint32Array.from(stackStart), stackFrames: stackFrames.finish(), values: Float64Array.from(values), labels };
}
