/**
 * Exports: pprof (gzipped protobuf, for `go tool pprof`, Pyroscope, Parca) and speedscope's JSON file format
 * (https://www.speedscope.app/file-format-schema.json). Each frame becomes one location with one line, so
 * inline grouping is not kept; every value, stack and label is.
 */
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Label, Location, Profile, Sample, StringTable, ValueType as PprofValueType } from 'pprof-format';
import { VERSION } from '../../common/version';
import { resolveSampleIndex, type ProfileData } from './profileData';

export function toPprof(profile: ProfileData): Profile {
  const strings = new StringTable();
  const functions = new Map<string, PprofFunction>();
  const locations: Location[] = [];
  for (const frame of profile.frames) {
    const key = `${frame.name}\0${frame.systemName}\0${frame.file}\0${frame.startLine}`;
    let fn = functions.get(key);
    if (!fn) {
      fn = new PprofFunction({
        id: functions.size + 1,
        name: strings.dedup(frame.name),
        systemName: strings.dedup(frame.systemName),
        filename: strings.dedup(frame.file),
        startLine: frame.startLine,
      });
      functions.set(key, fn);
    }
    locations.push(new Location({ id: locations.length + 1, line: [{ functionId: fn.id, line: frame.line, column: frame.column }] }));
  }
  const nt = profile.sampleTypes.length;
  const samples: Sample[] = [];
  for (let i = 0; i < profile.sampleCount; i++) {
    const locationId: number[] = [];
    for (let k = profile.stackStart[i]!; k < profile.stackStart[i + 1]!; k++) locationId.push(profile.stackFrames[k]! + 1);
    const value = Array.from(profile.values.subarray(i * nt, (i + 1) * nt));
    const label = (profile.labels[i] ?? []).map(
      (l) => new Label({ key: strings.dedup(l.key), ...(l.str !== undefined ? { str: strings.dedup(l.str) } : { num: l.num ?? 0 }), ...(l.unit ? { numUnit: strings.dedup(l.unit) } : {}) }),
    );
    samples.push(new Sample({ locationId, value, label }));
  }
  const valueType = (t: { type: string; unit: string }) => new PprofValueType({ type: strings.dedup(t.type), unit: strings.dedup(t.unit) });
  return new Profile({
    sampleType: profile.sampleTypes.map(valueType),
    sample: samples,
    location: locations,
    function: [...functions.values()],
    stringTable: strings,
    timeNanos: profile.timeNanos,
    durationNanos: profile.durationNanos,
    ...(profile.periodType ? { periodType: valueType(profile.periodType) } : {}),
    period: profile.period,
    comment: profile.comments.map((c) => strings.dedup(c)),
    ...(profile.defaultSampleType ? { defaultSampleType: strings.dedup(profile.defaultSampleType) } : {}),
  });
}

export function toPprofGzip(profile: ProfileData): Buffer {
  return gzipSync(toPprof(profile).encode());
}

type SpeedscopeUnit = 'none' | 'nanoseconds' | 'microseconds' | 'milliseconds' | 'seconds' | 'bytes';

/** The speedscope file format (the subset we write: shared frames and sampled profiles). */
export interface SpeedscopeFile {
  $schema: 'https://www.speedscope.app/file-format-schema.json';
  shared: { frames: { name: string; file?: string; line?: number; col?: number }[] };
  profiles: {
    type: 'sampled';
    name: string;
    unit: SpeedscopeUnit;
    startValue: number;
    endValue: number;
    /** Frame indexes, root first. */
    samples: number[][];
    weights: number[];
  }[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

function speedscopeUnit(unit: string): SpeedscopeUnit {
  switch (unit) {
    case 'nanoseconds':
    case 'microseconds':
    case 'milliseconds':
    case 'seconds':
    case 'bytes':
      return unit;
    default:
      return 'none';
  }
}

/**
 * One speedscope profile per sample type (identical stacks added up, zero weights left out); the active one is
 * `sampleIndex` (pprof's default when absent).
 */
export function toSpeedscope(profile: ProfileData, name: string, sampleIndex?: string): SpeedscopeFile {
  const frames = profile.frames.map((f) => ({ name: f.name, ...(f.file ? { file: f.file } : {}), ...(f.line ? { line: f.line } : {}), ...(f.column ? { col: f.column } : {}) }));
  const nt = profile.sampleTypes.length;
  // Distinct stacks once, root first.
  const stackIndex = new Map<string, number>();
  const stacks: number[][] = [];
  const stackOf = new Uint32Array(profile.sampleCount);
  for (let i = 0; i < profile.sampleCount; i++) {
    const leafFirst = profile.stackFrames.subarray(profile.stackStart[i], profile.stackStart[i + 1]);
    const key = leafFirst.join(',');
    let id = stackIndex.get(key);
    if (id === undefined) {
      id = stacks.length;
      stacks.push(Array.from(leafFirst).reverse());
      stackIndex.set(key, id);
    }
    stackOf[i] = id;
  }
  const profiles = profile.sampleTypes.map((type, j) => {
    const weightOf = new Float64Array(stacks.length);
    for (let i = 0; i < profile.sampleCount; i++) weightOf[stackOf[i]!]! += profile.values[i * nt + j]!;
    const samples: number[][] = [];
    const weights: number[] = [];
    let total = 0;
    weightOf.forEach((w, id) => {
      if (w === 0) return;
      samples.push(stacks[id]!);
      weights.push(w);
      total += w;
    });
    return { type: 'sampled' as const, name: `${name} (${type.type})`, unit: speedscopeUnit(type.unit), startValue: 0, endValue: total, samples, weights };
  });
  return {
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    shared: { frames },
    profiles,
    name,
    activeProfileIndex: resolveSampleIndex(profile, sampleIndex),
    exporter: `streamgate-devtools@${VERSION}`,
  };
}
