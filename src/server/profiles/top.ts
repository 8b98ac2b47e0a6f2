/**
 * The top table and callers/callees, computed as `go tool pprof` does: frames are grouped into nodes by
 * function name (`function`, pprof's default granularity), by function and file (`filefunction`) or by line
 * (`line`); a sample's value is flat for its leaf node and cum for every distinct node on its stack (a
 * recursive function counts once per sample); rows sort by |flat|, then name, then |cum|.
 */
import { resolveSampleIndex, type Frame, type ProfileData } from './profileData';

export type Granularity = 'function' | 'filefunction' | 'line';
export const GRANULARITIES: readonly Granularity[] = ['function', 'filefunction', 'line'];

export interface TopRow {
  name: string;
  /** The node's file; for `function` rows that span files (same name), the first file seen. */
  file: string;
  /** Only for `line` rows. */
  line?: number;
  flat: number;
  flatPercent: number;
  cum: number;
  cumPercent: number;
}

/** The `sg profile top --json` shape (docs/profiling.md). */
export interface TopTable {
  total: number;
  unit: string;
  sampleType: string;
  rows: TopRow[];
}

export interface NodeInfo {
  name: string;
  file: string;
  line: number;
}

/** Frames grouped into nodes at a granularity: `frameNode[frame]` is the node of each frame. */
export interface NodeGrouping {
  nodes: NodeInfo[];
  frameNode: Uint32Array;
}

export function groupFrames(frames: readonly Frame[], by: Granularity): NodeGrouping {
  const index = new Map<string, number>();
  const nodes: NodeInfo[] = [];
  const frameNode = new Uint32Array(frames.length);
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    const key = by === 'function' ? f.name : by === 'filefunction' ? `${f.name}\0${f.file}` : `${f.name}\0${f.file}\0${f.line}`;
    let node = index.get(key);
    if (node === undefined) {
      node = nodes.length;
      nodes.push({ name: f.name, file: f.file, line: by === 'line' ? f.line : 0 });
      index.set(key, node);
    }
    frameNode[i] = node;
  }
  return { nodes, frameNode };
}

/** pprof's PrintableName at a granularity: what ties are broken on. */
export function printableName(node: NodeInfo, by: Granularity): string {
  if (by === 'function') return node.name;
  if (by === 'line' && node.line !== 0) return `${node.name} ${node.file}:${node.line}`;
  return node.file ? `${node.name} ${node.file}` : node.name;
}

export interface TopOptions {
  by?: Granularity;
  /** A sample type name or index; pprof's default when absent. */
  sampleIndex?: string;
}

export interface NodeTotals {
  grouping: NodeGrouping;
  flat: Float64Array;
  cum: Float64Array;
  total: number;
  sampleIndex: number;
}

/** Flat and cum per node over every sample; `grouping` overrides the granularity's. */
export function nodeTotals(profile: ProfileData, options: TopOptions = {}, grouping: NodeGrouping = groupFrames(profile.frames, options.by ?? 'function')): NodeTotals {
  const sampleIndex = resolveSampleIndex(profile, options.sampleIndex);
  const n = grouping.nodes.length;
  const flat = new Float64Array(n);
  const cum = new Float64Array(n);
  const seen = new Int32Array(n).fill(-1);
  const { frameNode } = grouping;
  const { stackStart, stackFrames, values } = profile;
  const nt = profile.sampleTypes.length;
  let total = 0;
  for (let s = 0; s < profile.sampleCount; s++) {
    const v = values[s * nt + sampleIndex]!;
    if (v === 0) continue;
    total += v < 0 ? -v : v;
    const first = stackStart[s]!;
    const last = stackStart[s + 1]!;
    if (first === last) continue;
    flat[frameNode[stackFrames[first]!]!]! += v;
    for (let k = first; k < last; k++) {
      const node = frameNode[stackFrames[k]!]!;
      if (seen[node] !== s) {
        seen[node] = s;
        cum[node]! += v;
      }
    }
  }
  return { grouping, flat, cum, total, sampleIndex };
}

const abs = Math.abs;

export function sortRows<T extends { flat: number; cum: number }>(rows: T[], name: (row: T) => string): T[] {
  const names = new Map(rows.map((r) => [r, name(r)]));
  return rows.sort((a, b) => abs(b.flat) - abs(a.flat) || compareStrings(names.get(a)!, names.get(b)!) || abs(b.cum) - abs(a.cum));
}

/** Byte-wise order, as Go compares strings (localeCompare would not). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function topTable(profile: ProfileData, options: TopOptions = {}): TopTable {
  const by = options.by ?? 'function';
  const totals = nodeTotals(profile, options);
  const { nodes } = totals.grouping;
  const rows: (TopRow & { node: NodeInfo })[] = [];
  const pct = (v: number) => (totals.total ? (v / totals.total) * 100 : 0);
  for (let i = 0; i < nodes.length; i++) {
    const flat = totals.flat[i]!;
    const cum = totals.cum[i]!;
    if (flat === 0 && cum === 0) continue;
    const node = nodes[i]!;
    rows.push({ name: node.name, file: node.file, ...(by === 'line' ? { line: node.line } : {}), flat, flatPercent: pct(flat), cum, cumPercent: pct(cum), node });
  }
  sortRows(rows, (r) => printableName(r.node, by));
  const type = profile.sampleTypes[totals.sampleIndex]!;
  return { total: totals.total, unit: type.unit, sampleType: type.type, rows: rows.map(({ node: _node, ...row }) => row) };
}

export interface Neighbour {
  name: string;
  file: string;
  line?: number;
  value: number;
  /** Share of the function's cum, as pprof -peek's calls%. */
  percent: number;
}

/** The `sg profile peek --json` shape: a function with who calls it and what it calls. */
export interface Neighbours {
  total: number;
  unit: string;
  sampleType: string;
  function: TopRow;
  callers: Neighbour[];
  callees: Neighbour[];
}

/**
 * Callers and callees of the node named `name` (its printable name at the granularity), with edge weights as
 * pprof counts them: once per sample per distinct edge, self-calls left out.
 */
export function neighbours(profile: ProfileData, name: string, options: TopOptions = {}): Neighbours | undefined {
  const by = options.by ?? 'function';
  const totals = nodeTotals(profile, options);
  const { nodes, frameNode } = totals.grouping;
  const target = nodes.findIndex((n) => printableName(n, by) === name);
  if (target < 0) return undefined;
  const n = nodes.length;
  const callerWeight = new Float64Array(n);
  const calleeWeight = new Float64Array(n);
  const callerSeen = new Int32Array(n).fill(-1);
  const calleeSeen = new Int32Array(n).fill(-1);
  const { stackStart, stackFrames, values } = profile;
  const nt = profile.sampleTypes.length;
  for (let s = 0; s < profile.sampleCount; s++) {
    const v = values[s * nt + totals.sampleIndex]!;
    if (v === 0) continue;
    const first = stackStart[s]!;
    // Leaf first: frame k is called by frame k+1.
    for (let k = stackStart[s + 1]! - 1; k > first; k--) {
      const parent = frameNode[stackFrames[k]!]!;
      const child = frameNode[stackFrames[k - 1]!]!;
      if (parent === child) continue;
      if (child === target && callerSeen[parent] !== s) {
        callerSeen[parent] = s;
        callerWeight[parent]! += v;
      }
      if (parent === target && calleeSeen[child] !== s) {
        calleeSeen[child] = s;
        calleeWeight[child]! += v;
      }
    }
  }
  const cum = totals.cum[target]!;
  const list = (weights: Float64Array): Neighbour[] => {
    const out: (Neighbour & { printable: string })[] = [];
    for (let i = 0; i < n; i++) {
      const value = weights[i]!;
      if (value === 0) continue;
      const node = nodes[i]!;
      out.push({ name: node.name, file: node.file, ...(by === 'line' ? { line: node.line } : {}), value, percent: cum ? (value / cum) * 100 : 0, printable: printableName(node, by) });
    }
    out.sort((a, b) => abs(b.value) - abs(a.value) || compareStrings(a.printable, b.printable));
    return out.map(({ printable: _p, ...rest }) => rest);
  };
  const node = nodes[target]!;
  const pct = (v: number) => (totals.total ? (v / totals.total) * 100 : 0);
  const type = profile.sampleTypes[totals.sampleIndex]!;
  return {
    total: totals.total,
    unit: type.unit,
    sampleType: type.type,
    function: { name: node.name, file: node.file, ...(by === 'line' ? { line: node.line } : {}), flat: totals.flat[target]!, flatPercent: pct(totals.flat[target]!), cum, cumPercent: pct(cum) },
    callers: list(callerWeight),
    callees: list(calleeWeight),
  };
}
