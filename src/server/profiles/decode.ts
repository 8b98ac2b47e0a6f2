/**
 * Bytes to `ProfileData`: pprof protobuf (gzipped or not, from any producer) and V8 `.cpuprofile` JSON.
 * Everything a file can get wrong — truncation, corruption, a decompression bomb, an id or string index that
 * points nowhere — becomes a `ProfileDecodeError` naming the file and what is wrong, so one bad file in a
 * selection is reported and the rest still merge.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, posix } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FrameTable, growF64, growU32, type Frame, type ProfileData, type SampleLabel, type ValueType } from './profileData';
import { ProtobufReader, WIRE_LENGTH, WIRE_VARINT, WireError } from './protobufReader';
import { v8CpuProfileToPprofBytes, V8ImportError } from './v8Import';

export interface DecodeLimits {
  /** Largest file read (bytes). */
  maxInputBytes: number;
  /** Largest inflated size of a gzipped profile (bytes): a decompression bomb stops here. */
  maxInflatedBytes: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxInputBytes: 256 * 1024 * 1024, maxInflatedBytes: 512 * 1024 * 1024 };

export class ProfileDecodeError extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
  }
}

export function readProfileFile(path: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): ProfileData {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    throw new ProfileDecodeError(path, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (size > limits.maxInputBytes) throw new ProfileDecodeError(path, `is ${size} bytes, over the ${limits.maxInputBytes}-byte limit for a profile`);
  return decodeProfile(readFileSync(path), path, limits);
}

export function decodeProfile(bytes: Uint8Array, source: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): ProfileData {
  if (bytes.length === 0) throw new ProfileDecodeError(source, 'is empty');
  if (bytes.length > limits.maxInputBytes) throw new ProfileDecodeError(source, `is ${bytes.length} bytes, over the ${limits.maxInputBytes}-byte limit for a profile`);
  let raw = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) raw = inflate(bytes, source, limits.maxInflatedBytes);
  try {
    if (looksLikeJson(raw)) return decodePprof(v8CpuProfileToPprofBytes(raw), source);
    if (looksLikeText(raw)) throw new WireError('is text, not a pprof protobuf (legacy text profiles such as ?debug=1 output are not supported; fetch the profile without debug=)');
    return decodePprof(raw, source);
  } catch (error) {
    if (error instanceof WireError || error instanceof V8ImportError || error instanceof SemanticError) throw new ProfileDecodeError(source, error.message);
    throw error;
  }
}

function inflate(bytes: Uint8Array, source: string, max: number): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: max });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new ProfileDecodeError(source, `inflates to more than ${max} bytes (a decompression bomb, or raise the limit)`);
    }
    throw new ProfileDecodeError(source, `is not valid gzip (${(error as Error).message}): truncated or corrupt`);
  }
}

function looksLikeJson(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length && i < 64; i++) {
    const b = bytes[i]!;
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf) continue; // space, BOM
    return b === 0x7b; // {
  }
  return false;
}

/** Text profiles start with a printable header such as "--- contention:" or "heap profile:". */
function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 16);
  return head.length >= 4 && head.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x09) && /^(---|heap|goroutine|\w[\w ]*profile)/.test(String.fromCharCode(...head));
}

class SemanticError extends Error {}

interface RawFunction {
  name: number;
  systemName: number;
  filename: number;
  startLine: number;
}

interface RawLocation {
  mapping: number;
  /** Per line: function id, line, column. */
  lines: number[];
}

/** Decodes the wire format, then resolves every reference; ids and string indexes are checked. */
function decodePprof(buf: Uint8Array, source: string): ProfileData {
  const r = new ProtobufReader(buf);
  const strings: string[] = [];
  const sampleTypes: [number, number][] = [];
  const locStart = growU32(256);
  const locIds = growF64(4096);
  const valueStart = growU32(256);
  const values = growF64(4096);
  const rawLabels: (number[] | undefined)[] = [];
  const mappings = new Map<number, number>();
  const locations = new Map<number, RawLocation>();
  const functions = new Map<number, RawFunction>();
  const comments: number[] = [];
  let dropFrames = 0;
  let keepFrames = 0;
  let timeNanos = 0;
  let durationNanos = 0;
  let periodType: [number, number] | undefined;
  let period = 0;
  let defaultSampleType = 0;
  let sampleCount = 0;

  while (!r.done) {
    const { field, wire } = r.key();
    switch (field) {
      case 1:
        r.expect(wire, WIRE_LENGTH, 'sample_type');
        sampleTypes.push(readValueType(r));
        break;
      case 2: {
        r.expect(wire, WIRE_LENGTH, 'sample');
        locStart.push(locIds.length);
        valueStart.push(values.length);
        rawLabels.push(readSample(r, locIds, values));
        sampleCount++;
        break;
      }
      case 3: {
        r.expect(wire, WIRE_LENGTH, 'mapping');
        const [id, filename] = readMapping(r);
        if (mappings.has(id)) throw new SemanticError(`mapping id ${id} appears twice`);
        mappings.set(id, filename);
        break;
      }
      case 4: {
        r.expect(wire, WIRE_LENGTH, 'location');
        const [id, location] = readLocation(r);
        if (id === 0) throw new SemanticError('a location has id 0 (ids start at 1)');
        if (locations.has(id)) throw new SemanticError(`location id ${id} appears twice`);
        locations.set(id, location);
        break;
      }
      case 5: {
        r.expect(wire, WIRE_LENGTH, 'function');
        const [id, fn] = readFunction(r);
        if (id === 0) throw new SemanticError('a function has id 0 (ids start at 1)');
        if (functions.has(id)) throw new SemanticError(`function id ${id} appears twice`);
        functions.set(id, fn);
        break;
      }
      case 6:
        r.expect(wire, WIRE_LENGTH, 'string_table');
        strings.push(r.string());
        break;
      case 7:
        dropFrames = r.varint();
        break;
      case 8:
        keepFrames = r.varint();
        break;
      case 9:
        timeNanos = r.varint();
        break;
      case 10:
        durationNanos = r.varint();
        break;
      case 11:
        r.expect(wire, WIRE_LENGTH, 'period_type');
        periodType = readValueType(r);
        break;
      case 12:
        period = r.varint();
        break;
      case 13:
        r.repeatedVarint(wire, comments);
        break;
      case 14:
        defaultSampleType = r.varint();
        break;
      default:
        r.skip(wire);
    }
  }
  locStart.push(locIds.length);
  valueStart.push(values.length);

  if (strings.length === 0) throw new SemanticError('has no string table: not a pprof profile');
  if (strings[0] !== '') throw new SemanticError(`string_table[0] must be "" but is "${strings[0]!.slice(0, 40)}": not a pprof profile`);
  if (sampleTypes.length === 0) throw new SemanticError('has no sample types: not a pprof profile, or empty');
  const str = (index: number, what: string): string => {
    const s = strings[index];
    if (s === undefined || !Number.isInteger(index)) throw new SemanticError(`${what} is string ${index}, but the string table has ${strings.length} strings`);
    return s;
  };
  const valueType = ([type, unit]: [number, number], what: string): ValueType => ({ type: str(type, `${what}'s type`), unit: str(unit, `${what}'s unit`) });

  // Frames per location, leaf first (a location's line[0] is the innermost inlined call).
  const frameTable = new FrameTable();
  const framesOf = new Map<number, number[]>();
  const dropRx = dropFrames ? compileFrameRegex(str(dropFrames, 'drop_frames'), 'drop_frames') : undefined;
  const keepRx = keepFrames ? compileFrameRegex(str(keepFrames, 'keep_frames'), 'keep_frames') : undefined;
  const pruned = new Map<number, 'all' | 'beneath'>();
  const functionIndex = new Map<number, number>();
  const internFunction = (functionId: number): number => {
    let index = functionIndex.get(functionId);
    if (index === undefined) {
      const fn = functions.get(functionId)!;
      const name = str(fn.name, `function ${functionId}'s name`);
      index = frameTable.internFunction(name, str(fn.systemName, `function ${functionId}'s system name`), cleanPath(str(fn.filename, `function ${functionId}'s file name`)), fn.startLine);
      functionIndex.set(functionId, index);
    }
    return index;
  };
  for (const [id, location] of locations) {
    const objfile = location.mapping ? mappingFile(mappings, location.mapping, id, str) : '';
    const lineFrames: number[] = [];
    for (let i = 0; i < location.lines.length; i += 3) {
      const functionId = location.lines[i]!;
      const line = location.lines[i + 1]!;
      const column = location.lines[i + 2]!;
      if (functionId === 0) {
        lineFrames.push(frameTable.intern(unnamedFrame(objfile, line)));
        continue;
      }
      const fn = functions.get(functionId);
      if (!fn) throw new SemanticError(`location ${id} refers to function ${functionId}, which is not in the profile`);
      if (fn.name === 0) {
        lineFrames.push(frameTable.intern({ ...unnamedFrame(objfile, line), file: cleanPath(str(fn.filename, `function ${functionId}'s file name`)), startLine: fn.startLine }));
        continue;
      }
      lineFrames.push(frameTable.internFrame(internFunction(functionId), line, column));
    }
    if (lineFrames.length === 0) lineFrames.push(frameTable.intern(unnamedFrame(objfile, 0)));
    let kept = lineFrames;
    if (dropRx) {
      // pprof's Prune: the outermost frame matching drop_frames (and not keep_frames) and everything beneath it go.
      for (let i = lineFrames.length - 1; i >= 0; i--) {
        const name = simplifyFunctionName(frameTable.frames[lineFrames[i]!]!.name);
        if (location.lines.length && dropRx.test(name) && !keepRx?.test(name)) {
          pruned.set(id, i === lineFrames.length - 1 ? 'all' : 'beneath');
          kept = lineFrames.slice(i + 1);
          break;
        }
      }
    }
    framesOf.set(id, kept);
  }

  const types = sampleTypes.map((t, i) => valueType(t, `sample type ${i}`));
  const stackStart = new Uint32Array(sampleCount + 1);
  const stackFrames = growU32(Math.max(16, locIds.length * 2));
  const locIdArray = locIds.finish();
  const locStartArray = locStart.finish();
  const valueStartArray = valueStart.finish();
  const valueArray = values.finish();
  const nTypes = types.length;
  const outValues = new Float64Array(sampleCount * nTypes);
  const labels: (SampleLabel[] | undefined)[] = new Array<SampleLabel[] | undefined>(sampleCount);
  for (let s = 0; s < sampleCount; s++) {
    const v0 = valueStartArray[s]!;
    const nValues = valueStartArray[s + 1]! - v0;
    if (nValues !== nTypes) throw new SemanticError(`sample ${s} has ${nValues} values but the profile has ${nTypes} sample types`);
    for (let j = 0; j < nTypes; j++) outValues[s * nTypes + j] = valueArray[v0 + j]!;
    let first = locStartArray[s]!;
    const last = locStartArray[s + 1]!;
    if (pruned.size) first = pruneSample(locIdArray, first, last, pruned);
    for (let k = first; k < last; k++) {
      const frames = framesOf.get(locIdArray[k]!);
      if (!frames) throw new SemanticError(`sample ${s} refers to location ${locIdArray[k]}, which is not in the profile`);
      for (const f of frames) stackFrames.push(f);
    }
    stackStart[s + 1] = stackFrames.length;
    const raw = rawLabels[s];
    if (raw) labels[s] = resolveLabels(raw, s, str);
  }

  const defaultType = defaultSampleType ? str(defaultSampleType, 'default_sample_type') : undefined;
  return {
    source,
    sampleTypes: types,
    defaultSampleType: defaultType || undefined,
    periodType: periodType ? valueType(periodType, 'period_type') : undefined,
    period,
    timeNanos,
    durationNanos,
    comments: comments.map((c, i) => str(c, `comment ${i}`)),
    frames: frameTable.frames,
    sampleCount,
    stackStart,
    stackFrames: stackFrames.finish(),
    values: outValues,
    labels,
  };
}

function readValueType(r: ProtobufReader): [number, number] {
  const [start, end] = r.bytes();
  const m = new ProtobufReader(r.buf, start, end);
  let type = 0;
  let unit = 0;
  while (!m.done) {
    const { field, wire } = m.key();
    if (field === 1 && wire === WIRE_VARINT) type = m.varint();
    else if (field === 2 && wire === WIRE_VARINT) unit = m.varint();
    else m.skip(wire);
  }
  return [type, unit];
}

/** Appends the sample's location ids and values; returns its labels as [key, str, num, unit]* when it has any. */
function readSample(r: ProtobufReader, locIds: { push(v: number): void }, values: { push(v: number): void }): number[] | undefined {
  const [start, end] = r.bytes();
  const m = new ProtobufReader(r.buf, start, end);
  let labels: number[] | undefined;
  while (!m.done) {
    const { field, wire } = m.key();
    if (field === 1) m.repeatedVarint(wire, locIds);
    else if (field === 2) m.repeatedVarint(wire, values);
    else if (field === 3 && wire === WIRE_LENGTH) {
      const [ls, le] = m.bytes();
      const l = new ProtobufReader(m.buf, ls, le);
      const label = [0, 0, 0, 0];
      while (!l.done) {
        const k = l.key();
        if (k.field >= 1 && k.field <= 4 && k.wire === WIRE_VARINT) label[k.field - 1] = l.varint();
        else l.skip(k.wire);
      }
      (labels ??= []).push(...label);
    } else m.skip(wire);
  }
  return labels;
}

function readMapping(r: ProtobufReader): [number, number] {
  const [start, end] = r.bytes();
  const m = new ProtobufReader(r.buf, start, end);
  let id = 0;
  let filename = 0;
  while (!m.done) {
    const { field, wire } = m.key();
    if (field === 1 && wire === WIRE_VARINT) id = m.varint();
    else if (field === 5 && wire === WIRE_VARINT) filename = m.varint();
    else m.skip(wire);
  }
  return [id, filename];
}

function readLocation(r: ProtobufReader): [number, RawLocation] {
  const [start, end] = r.bytes();
  const m = new ProtobufReader(r.buf, start, end);
  let id = 0;
  const location: RawLocation = { mapping: 0, lines: [] };
  while (!m.done) {
    const { field, wire } = m.key();
    if (field === 1 && wire === WIRE_VARINT) id = m.varint();
    else if (field === 2 && wire === WIRE_VARINT) location.mapping = m.varint();
    else if (field === 4 && wire === WIRE_LENGTH) {
      const [ls, le] = m.bytes();
      const l = new ProtobufReader(m.buf, ls, le);
      let functionId = 0;
      let line = 0;
      let column = 0;
      while (!l.done) {
        const k = l.key();
        if (k.field === 1 && k.wire === WIRE_VARINT) functionId = l.varint();
        else if (k.field === 2 && k.wire === WIRE_VARINT) line = l.varint();
        else if (k.field === 3 && k.wire === WIRE_VARINT) column = l.varint();
        else l.skip(k.wire);
      }
      location.lines.push(functionId, line, column);
    } else m.skip(wire);
  }
  return [id, location];
}

function readFunction(r: ProtobufReader): [number, RawFunction] {
  const [start, end] = r.bytes();
  const m = new ProtobufReader(r.buf, start, end);
  let id = 0;
  const fn: RawFunction = { name: 0, systemName: 0, filename: 0, startLine: 0 };
  while (!m.done) {
    const { field, wire } = m.key();
    if (wire !== WIRE_VARINT) m.skip(wire);
    else if (field === 1) id = m.varint();
    else if (field === 2) fn.name = m.varint();
    else if (field === 3) fn.systemName = m.varint();
    else if (field === 4) fn.filename = m.varint();
    else if (field === 5) fn.startLine = m.varint();
    else m.skip(wire);
  }
  return [id, fn];
}

function resolveLabels(raw: number[], sample: number, str: (i: number, what: string) => string): SampleLabel[] {
  const out: SampleLabel[] = [];
  for (let i = 0; i < raw.length; i += 4) {
    const what = `sample ${sample}'s label`;
    const label: SampleLabel = { key: str(raw[i]!, `${what} key`) };
    if (raw[i + 1]) label.str = str(raw[i + 1]!, `${what} value`);
    else label.num = raw[i + 2]!;
    if (raw[i + 3]) label.unit = str(raw[i + 3]!, `${what} unit`);
    out.push(label);
  }
  return out;
}

function mappingFile(mappings: Map<number, number>, mappingId: number, locationId: number, str: (i: number, what: string) => string): string {
  const filename = mappings.get(mappingId);
  if (filename === undefined) throw new SemanticError(`location ${locationId} refers to mapping ${mappingId}, which is not in the profile`);
  return str(filename, `mapping ${mappingId}'s file name`);
}

function objfileName(objfile: string): string {
  return objfile ? `[${basename(objfile)}]` : '<unknown>';
}

function unnamedFrame(objfile: string, line: number): Omit<Frame, 'fn'> {
  return { name: objfileName(objfile), systemName: '', file: '', line, column: 0, startLine: 0 };
}

/** Go's filepath.Clean for the paths profiles carry (pprof cleans file names before comparing them). */
export function cleanPath(path: string): string {
  if (!path || path.includes('\\') || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  const clean = posix.normalize(path);
  return clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean;
}

function compileFrameRegex(pattern: string, what: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new SemanticError(`${what} is not a valid regular expression (${(error as Error).message})`);
  }
}

/** pprof's simplifyFunc: a C++-style argument list does not take part in drop_frames matching. */
function simplifyFunctionName(name: string): string {
  const trimmed = name.startsWith('.') ? name.slice(1) : name;
  const reserved = /\(anonymous namespace\)|operator\(\)|\(/g;
  for (let m = reserved.exec(trimmed); m; m = reserved.exec(trimmed)) {
    if (m[0] === '(') return trimmed.slice(0, m.index);
  }
  return trimmed;
}

/** pprof's Prune on one sample: from the root, the first pruned location after a user frame cuts the stack. */
function pruneSample(locIds: Float64Array, first: number, last: number, pruned: Map<number, 'all' | 'beneath'>): number {
  let foundUser = false;
  for (let k = last - 1; k >= first; k--) {
    const kind = pruned.get(locIds[k]!);
    if (!kind) {
      foundUser = true;
      continue;
    }
    if (!foundUser) continue;
    return kind === 'all' ? k + 1 : k;
  }
  return first;
}
