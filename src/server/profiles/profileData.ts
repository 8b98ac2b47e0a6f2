/**
 * A decoded profile in the shape the maths wants: frames interned once, each sample a stack of frame indexes
 * (leaf first, inline frames expanded as `go tool pprof` does) with one value per sample type. Decoding
 * (`decode.ts`) resolves every id and string index, so nothing downstream meets a dangling reference.
 */

export interface ValueType {
  type: string;
  unit: string;
}

/** One frame: a function at a line. Inlined calls are frames of their own. */
export interface Frame {
  /** Function name ("main.scoreRoutes", "handleFrame"); for frames without a function, "[binary]" or "<unknown>". */
  name: string;
  systemName: string;
  /** Source file as the producer reported it ("" when unknown). */
  file: string;
  /** 1-based line in `file`; 0 when unknown. */
  line: number;
  /** 1-based column where the producer reports one (V8 does; Go does not); 0 when unknown. */
  column: number;
  startLine: number;
  /** The frame's function in the table that made it (frames of one function share it). */
  fn: number;
}

export interface SampleLabel {
  key: string;
  str?: string;
  num?: number;
  unit?: string;
}

export interface ProfileData {
  /** Where it came from (a file name, a pod and time), for messages. */
  source: string;
  sampleTypes: ValueType[];
  /** As the producer set it; `defaultSampleIndex` applies pprof's rule. */
  defaultSampleType: string | undefined;
  periodType: ValueType | undefined;
  period: number;
  timeNanos: number;
  durationNanos: number;
  comments: string[];
  frames: Frame[];
  /** Samples: frames of sample i are stackFrames[stackStart[i] .. stackStart[i+1]), leaf first. */
  sampleCount: number;
  stackStart: Uint32Array;
  stackFrames: Uint32Array;
  /** Row-major: value j of sample i is values[i * sampleTypes.length + j]. */
  values: Float64Array;
  /** Labels per sample; undefined where a sample has none (most). */
  labels: (SampleLabel[] | undefined)[];
}

/** pprof's default: the profile's default_sample_type, else the last sample type. */
export function defaultSampleIndex(profile: Pick<ProfileData, 'sampleTypes' | 'defaultSampleType'>): number {
  if (profile.defaultSampleType) {
    const index = profile.sampleTypes.findIndex((t) => t.type === profile.defaultSampleType);
    if (index >= 0) return index;
  }
  return profile.sampleTypes.length - 1;
}

export class SampleIndexError extends Error {}

/** A sample type by name ("cpu", "alloc_space") or position ("0"); pprof's default when absent. */
export function resolveSampleIndex(profile: Pick<ProfileData, 'sampleTypes' | 'defaultSampleType' | 'source'>, wanted: string | undefined): number {
  if (wanted === undefined || wanted === '') return defaultSampleIndex(profile);
  const byName = profile.sampleTypes.findIndex((t) => t.type === wanted);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(wanted) && Number(wanted) < profile.sampleTypes.length) return Number(wanted);
  throw new SampleIndexError(`no sample type "${wanted}" in ${profile.source} (it has ${profile.sampleTypes.map((t) => t.type).join(', ')})`);
}

/** Interns functions and frames by value; the one place their identity is defined. */
export class FrameTable {
  readonly frames: Frame[] = [];
  private readonly functions: { name: string; systemName: string; file: string; startLine: number }[] = [];
  private readonly functionIndex = new Map<string, number>();
  private readonly frameIndex = new Map<string, number>();

  /** A function's index; frames of one function share it, so frames intern on short keys. */
  internFunction(name: string, systemName: string, file: string, startLine: number): number {
    const key = `${name}\0${systemName}\0${file}\0${startLine}`;
    let id = this.functionIndex.get(key);
    if (id === undefined) {
      id = this.functions.length;
      this.functions.push({ name, systemName, file, startLine });
      this.functionIndex.set(key, id);
    }
    return id;
  }

  internFrame(fn: number, line: number, column: number): number {
    const key = `${fn},${line},${column}`;
    let id = this.frameIndex.get(key);
    if (id === undefined) {
      const f = this.functions[fn]!;
      id = this.frames.length;
      this.frames.push({ name: f.name, systemName: f.systemName, file: f.file, line, column, startLine: f.startLine, fn });
      this.frameIndex.set(key, id);
    }
    return id;
  }

  intern(frame: Omit<Frame, 'fn'>): number {
    return this.internFrame(this.internFunction(frame.name, frame.systemName, frame.file, frame.startLine), frame.line, frame.column);
  }
}

/** A growable typed array, for building sample tables without boxing every number. */
export class GrowableArray<T extends Uint32Array | Float64Array> {
  length = 0;
  constructor(
    private data: T,
    private readonly make: (n: number) => T,
  ) {}

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = this.make(Math.max(16, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  finish(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

export const growU32 = (capacity = 1024) => new GrowableArray(new Uint32Array(capacity), (n) => new Uint32Array(n));
export const growF64 = (capacity = 1024) => new GrowableArray(new Float64Array(capacity), (n) => new Float64Array(n));
