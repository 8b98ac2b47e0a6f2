/**
 * What the editor shows of a profile: per function (name and file) its self and total share and start line,
 * per line its self and total share, and for a hover the callers and a small text flamegraph of the callees.
 * Pure: the extension maps files to documents and draws.
 */
import { buildSandwich } from './flame';
import { resolveSampleIndex, type ProfileData } from './profileData';
import { neighbours, nodeTotals, topTable, type NodeGrouping } from './top';

export interface FunctionHeat {
  name: string;
  file: string;
  /** 1-based; the profile's start line, else the first line it was sampled on. */
  startLine: number;
  self: number;
  total: number;
}

export interface LineHeat {
  file: string;
  line: number;
  /** The function the line belongs to (the heaviest one, when several share it). */
  name: string;
  self: number;
  total: number;
  samples: number;
}

export interface HotCodeStats {
  unit: string;
  sampleType: string;
  total: number;
  /** Nanoseconds the profile covers (0 when unknown, as for a heap profile). */
  durationNanos: number;
  functions: FunctionHeat[];
  lines: LineHeat[];
}

/**
 * Functions are told apart by name, file and start line: a file's anonymous closures are all "(anonymous)",
 * and each needs its own lens.
 */
function groupByFunctionStart(profile: ProfileData): NodeGrouping & { startLine: number[] } {
  const index = new Map<string, number>();
  const nodes: NodeGrouping['nodes'] = [];
  const startLine: number[] = [];
  const frameNode = new Uint32Array(profile.frames.length);
  profile.frames.forEach((f, i) => {
    const start = f.startLine > 0 ? f.startLine : 0;
    const key = `${f.name}\0${f.file}\0${start}`;
    let node = index.get(key);
    if (node === undefined) {
      node = nodes.length;
      nodes.push({ name: f.name, file: f.file, line: 0 });
      startLine.push(start || f.line);
      index.set(key, node);
    } else if (!start && f.line > 0 && (startLine[node] === 0 || f.line < startLine[node]!)) startLine[node] = f.line;
    frameNode[i] = node;
  });
  return { nodes, frameNode, startLine };
}

export function hotCodeStats(profile: ProfileData, sampleType?: string): HotCodeStats {
  const sampleIndex = String(resolveSampleIndex(profile, sampleType));
  const grouping = groupByFunctionStart(profile);
  const byFunction = nodeTotals(profile, { sampleIndex }, grouping);
  const byLine = topTable(profile, { by: 'line', sampleIndex });
  const samplesType = profile.sampleTypes.findIndex((t) => t.type === 'samples');
  const samplesByLine = samplesType >= 0 ? new Map(topTable(profile, { by: 'line', sampleIndex: String(samplesType) }).rows.map((r) => [`${r.name}\0${r.file}\0${r.line}`, r.cum])) : undefined;
  const functions: FunctionHeat[] = [];
  grouping.nodes.forEach((n, i) => {
    const self = byFunction.flat[i]!;
    const total = byFunction.cum[i]!;
    if (n.file && (self !== 0 || total !== 0)) functions.push({ name: n.name, file: n.file, startLine: grouping.startLine[i]!, self, total });
  });
  functions.sort((a, b) => Math.abs(b.total) - Math.abs(a.total));
  return {
    unit: byLine.unit,
    sampleType: byLine.sampleType,
    total: byLine.total,
    durationNanos: profile.durationNanos,
    functions,
    lines: byLine.rows
      .filter((r) => r.file && r.line)
      .map((r) => ({ file: r.file, line: r.line!, name: r.name, self: r.flat, total: r.cum, samples: samplesByLine?.get(`${r.name}\0${r.file}\0${r.line}`) ?? 0 })),
  };
}

export interface LineHover {
  callers: { name: string; percent: number }[];
  /** Rows of a small flamegraph of the function's callees: depth, name, share of the function's total. */
  flame: { depth: number; name: string; percent: number }[];
}

/** Callers of a function and the top of its callee tree (three levels, three children each). */
export function lineHover(profile: ProfileData, name: string, file: string, sampleType?: string): LineHover {
  const sampleIndex = String(resolveSampleIndex(profile, sampleType));
  const peek = neighbours(profile, file ? `${name} ${file}` : name, { by: 'filefunction', sampleIndex });
  const { callees } = buildSandwich(profile, name, file, { sampleIndex });
  const flame: LineHover['flame'] = [];
  const root = callees.total[1] ?? 0; // node 1 is the function under the synthetic root
  const walk = (node: number, depth: number) => {
    flame.push({ depth, name: callees.names[callees.name[node]!]!, percent: root ? (callees.total[node]! / root) * 100 : 0 });
    if (depth >= 3) return;
    let shown = 0;
    for (let c = node + 1; c < callees.subtreeEnd[node]! && shown < 3; c = callees.subtreeEnd[c]!, shown++) walk(c, depth + 1);
  };
  if (callees.total.length > 1) walk(1, 0);
  return { callers: (peek?.callers ?? []).slice(0, 5).map((c) => ({ name: c.name, percent: c.percent })), flame };
}
