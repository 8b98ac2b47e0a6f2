/**
 * V8 CPU and sampling-heap profiles to pprof (the format of `go tool pprof`, Pyroscope and Parca), with
 * JavaScript positions mapped back to TypeScript sources when the scripts have source maps.
 */
import { Function as PprofFunction, Location, Profile, StringTable, type SampleInput } from 'pprof-format';
import type { SourceMapper } from './sourcemaps';
import { scriptPath } from './sourcemaps';

export interface V8CallFrame {
  functionName: string;
  url: string;
  /** 0-based, as V8 reports it. */
  lineNumber: number;
  columnNumber: number;
}

export interface V8CpuProfileNode {
  id: number;
  callFrame: V8CallFrame;
  children?: number[];
  hitCount?: number;
  /** Samples per source line (1-based) inside this function. */
  positionTicks?: { line: number; ticks: number }[];
}

export interface V8CpuProfile {
  nodes: V8CpuProfileNode[];
  /** Microseconds. */
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface V8HeapNode {
  id: number;
  callFrame: V8CallFrame;
  selfSize: number;
  children: V8HeapNode[];
}

export interface V8HeapProfile {
  head: V8HeapNode;
  samples?: { size: number; nodeId: number; ordinal: number }[];
}

const SKIPPED = new Set(['(root)', '(idle)']);

/** Interns functions and locations; one per (function, line). */
class PprofBuilder {
  readonly strings = new StringTable();
  private readonly functions = new Map<string, PprofFunction>();
  private readonly locations = new Map<string, Location>();

  constructor(private readonly mapper: SourceMapper | undefined) {}

  /**
   * A location for `frame` at `line` (1-based, in the generated script), mapped to its source. V8 reports a
   * column only for where a function starts (its position ticks carry lines alone), so a tick on the
   * function's first line is mapped at the function's column — in a minified one-line bundle every function
   * shares line 1 and only the column tells them apart — and a tick on a later line at that line's first
   * mapped position, kept only when it lands in the function's own source file.
   */
  location(frame: V8CallFrame, line: number): number {
    const generatedStart = frame.lineNumber + 1;
    const mappedStart = this.mapper?.map(frame.url, generatedStart, frame.columnNumber);
    const onStartLine = line === generatedStart;
    const mappedLine = onStartLine ? mappedStart : this.mapper?.map(frame.url, line, 0);
    const file = mappedStart?.file ?? fileName(frame.url);
    const name = functionName(frame.functionName, mappedStart?.name);
    const startLine = mappedStart?.line ?? generatedStart;
    let sourceLine = line;
    // pprof columns are 1-based; 0 means unknown.
    let column = onStartLine ? frame.columnNumber + 1 : 0;
    if (mappedStart) {
      const usable = mappedLine && mappedLine.file === file;
      sourceLine = usable ? mappedLine.line : startLine;
      column = usable ? mappedLine.column : mappedStart.column;
    }

    // The start column keeps apart same-named functions on one line (anonymous ones in a minified bundle).
    const functionKey = `${name}\0${file}\0${startLine}\0${mappedStart ? mappedStart.column : frame.columnNumber}`;
    let fn = this.functions.get(functionKey);
    if (!fn) {
      fn = new PprofFunction({
        id: this.functions.size + 1,
        name: this.strings.dedup(name),
        systemName: this.strings.dedup(frame.functionName || name),
        filename: this.strings.dedup(file),
        startLine,
      });
      this.functions.set(functionKey, fn);
    }
    const locationKey = `${fn.id}:${sourceLine}:${column}`;
    let location = this.locations.get(locationKey);
    if (!location) {
      location = new Location({ id: this.locations.size + 1, line: [{ functionId: fn.id, line: sourceLine, column }] });
      this.locations.set(locationKey, location);
    }
    return Number(location.id);
  }

  /** The finished profile; value and period types are [type, unit] pairs. */
  build(shape: { sampleTypes: [string, string][]; periodType: [string, string]; period: number; timeNanos: bigint; durationNanos?: number }, samples: SampleInput[]): Profile {
    const s = this.strings;
    const valueType = ([type, unit]: [string, string]) => ({ type: s.dedup(type), unit: s.dedup(unit) });
    return new Profile({
      sampleType: shape.sampleTypes.map(valueType),
      sample: samples,
      location: [...this.locations.values()],
      function: [...this.functions.values()],
      stringTable: s,
      timeNanos: shape.timeNanos,
      ...(shape.durationNanos !== undefined ? { durationNanos: shape.durationNanos } : {}),
      periodType: valueType(shape.periodType),
      period: shape.period,
    });
  }
}

/**
 * The source map's name at a function's start is its name before minification (V8 reports the mangled one,
 * "r" for alphaWork); V8's name where the map has none.
 */
function functionName(v8Name: string, mappedName: string | undefined): string {
  return mappedName || v8Name || '(anonymous)';
}

function fileName(url: string): string {
  if (!url) return '(native)';
  return scriptPath(url) ?? url;
}

/** Splits `total` into parts proportional to `weights`, whole numbers summing to `total` (largest remainder). */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((w) => (w / sum) * total);
  const floors = exact.map(Math.floor);
  let left = total - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    floors[i]!++;
    left--;
  }
  return floors;
}

export interface CpuConversionOptions {
  /**
   * Epoch microseconds minus V8's clock (its timestamps are CLOCK_MONOTONIC µs, as process.hrtime): places the
   * profile in wall time. Without it the profile is taken to have ended at `nowMs`.
   */
  epochOffsetMicros?: number;
  nowMs?: number;
  /** One pprof sample per tick with its time (num label TIME_OFFSET_LABEL), instead of one per node and line. */
  timeline?: boolean;
}

/** Num label of a timeline sample: nanoseconds after the profile's time_nanos. */
export const TIME_OFFSET_LABEL = 'sg.time_offset';

export function cpuProfileToPprof(profile: V8CpuProfile, mapper?: SourceMapper, options: CpuConversionOptions = {}): Profile {
  const builder = new PprofBuilder(mapper);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // Samples and time per node, from the sample stream (hitCount only when V8 gave no samples).
  const counts = new Map<number, number>();
  const nanos = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const durationMicros = Math.max(1, profile.endTime - profile.startTime);
  if (samples.length) {
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i]!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
      // timeDeltas[i] is the time since the previous sample; attribute the next delta to this sample.
      const delta = deltas[i + 1] ?? deltas[i] ?? 0;
      nanos.set(id, (nanos.get(id) ?? 0) + Math.max(0, delta) * 1000);
    }
  } else {
    const totalHits = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
    for (const n of profile.nodes) {
      if (!n.hitCount) continue;
      counts.set(n.id, n.hitCount);
      nanos.set(n.id, (n.hitCount / totalHits) * durationMicros * 1000);
    }
  }
  const totalSamples = [...counts.values()].reduce((a, b) => a + b, 0);
  const periodNanos = totalSamples ? Math.round((durationMicros * 1000) / totalSamples) : 0;
  const startMicros = options.epochOffsetMicros !== undefined ? profile.startTime + options.epochOffsetMicros : ((options.nowMs ?? Date.now()) * 1000 - durationMicros);

  const ancestorCache = new Map<number, number[]>();
  const ancestors = (id: number): number[] => {
    const cached = ancestorCache.get(id);
    if (cached) return cached;
    const out: number[] = [];
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const node = byId.get(p)!;
      if (SKIPPED.has(node.callFrame.functionName)) continue;
      out.push(builder.location(node.callFrame, node.callFrame.lineNumber + 1));
    }
    ancestorCache.set(id, out);
    return out;
  };

  /** The node's samples split over its lines in proportion to V8's per-line ticks: [stack, count] per line. */
  const stacksOf = (node: V8CpuProfileNode, count: number): { stack: number[]; count: number }[] => {
    const stack = ancestors(node.id);
    const ticks = (node.positionTicks ?? []).filter((t) => t.ticks > 0);
    if (!ticks.length) return [{ stack: [builder.location(node.callFrame, node.callFrame.lineNumber + 1), ...stack], count }];
    const split = apportion(count, ticks.map((t) => t.ticks));
    return ticks.map((t, i) => ({ stack: [builder.location(node.callFrame, t.line), ...stack], count: split[i]! })).filter((x) => x.count > 0);
  };

  const sampleList: SampleInput[] = [];
  if (options.timeline && samples.length) timelineSamples(profile, byId, counts, stacksOf, sampleList, builder.strings.dedup(TIME_OFFSET_LABEL), builder.strings.dedup('nanoseconds'));
  else {
    for (const [id, count] of counts) {
      const node = byId.get(id);
      if (!node || SKIPPED.has(node.callFrame.functionName) || count === 0) continue;
      const time = nanos.get(id) ?? 0;
      for (const line of stacksOf(node, count)) sampleList.push({ locationId: line.stack, value: [line.count, Math.round((time * line.count) / count)] });
    }
  }

  return builder.build(
    {
      sampleTypes: [['samples', 'count'], ['cpu', 'nanoseconds']],
      periodType: ['cpu', 'nanoseconds'],
      period: periodNanos,
      timeNanos: BigInt(Math.round(startMicros)) * 1000n,
      durationNanos: durationMicros * 1000,
    },
    sampleList,
  );
}

/**
 * One sample per tick, labelled with its time after the profile's start. V8 gives a tick its node only, not its
 * line: a node's ticks are dealt to its lines in proportion (each line's ticks spread evenly over the node's),
 * so per-line totals equal the aggregate profile's and a tick's line is exact only for one-line nodes.
 */
function timelineSamples(
  profile: V8CpuProfile,
  byId: Map<number, V8CpuProfileNode>,
  counts: Map<number, number>,
  stacksOf: (node: V8CpuProfileNode, count: number) => { stack: number[]; count: number }[],
  out: SampleInput[],
  labelKey: number,
  unitKey: number,
): void {
  const samples = profile.samples!;
  const deltas = profile.timeDeltas ?? [];
  const dealt = new Map<number, number[][]>();
  const seen = new Map<number, number>();
  let at = 0;
  for (let i = 0; i < samples.length; i++) {
    at += Math.max(0, deltas[i] ?? 0);
    const id = samples[i]!;
    const node = byId.get(id);
    if (!node || SKIPPED.has(node.callFrame.functionName)) continue;
    let order = dealt.get(id);
    if (!order) {
      order = deal(stacksOf(node, counts.get(id)!));
      dealt.set(id, order);
    }
    const k = seen.get(id) ?? 0;
    seen.set(id, k + 1);
    const delta = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
    out.push({ locationId: order[k % order.length]!, value: [1, delta * 1000], label: [{ key: labelKey, num: at * 1000, numUnit: unitKey }] });
  }
}

/** Stacks repeated by count and interleaved (each at evenly spaced positions), so any stretch of ticks gets its share. */
function deal(lines: { stack: number[]; count: number }[]): number[][] {
  const slots: { at: number; stack: number[] }[] = [];
  for (const line of lines) for (let k = 0; k < line.count; k++) slots.push({ at: (k + 0.5) / line.count, stack: line.stack });
  return slots.sort((a, b) => a.at - b.at).map((s) => s.stack);
}

/**
 * How many objects one sample of `size` bytes stands for when V8 samples on average every `interval` bytes:
 * a Poisson process picks an object with probability 1 − e^(−size/interval). (V8 already scales `selfSize`
 * the same way, so object counts and bytes come out as estimates on the same scale, as Go's do.)
 */
export function objectsPerSample(size: number, interval: number): number {
  return interval > 0 && size > 0 ? 1 / (1 - Math.exp(-size / interval)) : 1;
}

export function heapProfileToPprof(profile: V8HeapProfile, samplingIntervalBytes: number, mapper?: SourceMapper, nowMs = Date.now()): Profile {
  const builder = new PprofBuilder(mapper);
  const objects = new Map<number, number>();
  for (const sample of profile.samples ?? []) {
    objects.set(sample.nodeId, (objects.get(sample.nodeId) ?? 0) + objectsPerSample(sample.size, samplingIntervalBytes));
  }
  const sampleList: SampleInput[] = [];
  const walk = (node: V8HeapNode, stack: number[]) => {
    const skipped = SKIPPED.has(node.callFrame.functionName);
    const here = skipped ? stack : [builder.location(node.callFrame, node.callFrame.lineNumber + 1), ...stack];
    if (!skipped && node.selfSize > 0) {
      const count = objects.get(node.id) ?? Math.max(1, node.selfSize / samplingIntervalBytes);
      sampleList.push({ locationId: here, value: [Math.max(1, Math.round(count)), node.selfSize] });
    }
    for (const child of node.children) walk(child, here);
  };
  walk(profile.head, []);
  return builder.build(
    {
      sampleTypes: [['inuse_objects', 'count'], ['inuse_space', 'bytes']],
      periodType: ['space', 'bytes'],
      period: samplingIntervalBytes,
      timeNanos: BigInt(Math.round(nowMs)) * 1_000_000n,
    },
    sampleList,
  );
}
