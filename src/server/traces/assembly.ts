/**
 * Spans of one trace, as the store holds them (any order, late ones included, some missing), into the trace a
 * person reads: a tree in display order, clocks of different pods reconciled, the impossible flagged rather
 * than hidden, self times, the critical path and statistics. Pure: no store, no I/O.
 *
 * What it does with bad spans (each counted in `problems`, each span flagged):
 * - the same span id twice: the longer copy is kept (`duplicate` on it);
 * - a parent id that is not in the trace: the orphans hang under a placeholder row for the missing span;
 * - parent links that form a cycle (a span its own ancestor): the cycle is cut at its earliest span;
 * - a child on another pod that starts before its parent, or an RPC server span outside its client span: it is
 *   moved, with its subtree, to sit inside the parent (Jaeger's adjustment), by `skewMs`;
 * - an end before the start: drawn as 0 ms; a duration over a day: drawn to the trace's end. `rawDurationMs`
 *   keeps what the span said.
 */
import type {
  AssembledSpan,
  AssembledTrace,
  CriticalSegment,
  OperationStats,
  SpanEvent,
  SpanFlag,
  SpanLink,
  TraceAttachment,
  TraceLogLine,
  TraceProblems,
  TraceStatus,
} from '../../protocol/traces';
import { criticalPath } from './criticalPath';

/** A span as read from the store. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  service: string;
  pod: string;
  name: string;
  kind: number;
  /** Epoch ms. */
  start: number;
  /** As sent: may be negative or absurd. */
  durationMs: number;
  statusCode: number;
  statusMessage: string;
  route: string;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; time: number; attributes: Record<string, string | number | boolean> }[];
  links: SpanLink[];
  dropped?: { attributes: number; events: number; links: number };
}

export interface StoredLog {
  ts: number;
  spanId: string;
  service: string;
  pod: string;
  level: string;
  msg: string;
}

/** Longer than a day is no request's span. */
export const ABSURD_DURATION_MS = 24 * 3600_000;
/** Attribute values longer than this are shown shortened. */
export const LONG_ATTRIBUTE_CHARS = 4096;
/** Spans of one pod whose times disagree by less than this are rounding (the store keeps starts in whole ms). */
const SAME_CLOCK_TOLERANCE_MS = 1;

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

interface Node {
  span: StoredSpan | undefined;
  id: string;
  start: number;
  duration: number;
  flags: SpanFlag[];
  children: Node[];
  skew: number;
  placeholderFor?: string;
}

export interface AssembleInput {
  traceId: string;
  spans: readonly StoredSpan[];
  logs?: readonly StoredLog[];
  attachments?: readonly TraceAttachment[];
  spansLeftOut?: number;
}

export function assembleTrace({ traceId, spans, logs = [], attachments = [], spansLeftOut = 0 }: AssembleInput): AssembledTrace {
  const problems: TraceProblems = { missingParents: 0, cycles: 0, skewCorrected: 0, negativeDurations: 0, absurdDurations: 0, duplicates: 0, longAttributes: 0, spansLeftOut };
  const nodes = new Map<string, Node>();
  for (const span of spans) {
    const existing = nodes.get(span.spanId);
    if (existing) {
      problems.duplicates++;
      if (!existing.flags.includes('duplicate')) existing.flags.push('duplicate');
      if (existing.span && span.durationMs <= existing.span.durationMs) continue;
      existing.span = span;
      existing.start = span.start;
      existing.duration = span.durationMs;
      continue;
    }
    nodes.set(span.spanId, { span, id: span.spanId, start: span.start, duration: span.durationMs, flags: [], children: [], skew: 0 });
  }
  for (const node of nodes.values()) {
    if (node.duration < 0) {
      node.flags.push('negative-duration');
      problems.negativeDurations++;
      node.duration = 0;
    } else if (!Number.isFinite(node.duration) || node.duration > ABSURD_DURATION_MS) {
      node.flags.push('absurd-duration');
      problems.absurdDurations++;
    }
    for (const value of Object.values(node.span!.attributes)) if (typeof value === 'string' && value.length > LONG_ATTRIBUTE_CHARS) problems.longAttributes++;
  }

  const roots = linkTree(nodes, problems);
  const extentEnd = layoutExtent(nodes);
  for (const node of nodes.values()) if (node.flags.includes('absurd-duration')) node.duration = Math.max(0, extentEnd - node.start);
  for (const root of roots) correctSkew(root, problems);
  fitPlaceholders(roots);

  const ordered = displayOrder(roots);
  let traceStart = ordered.length ? Infinity : 0;
  for (const { node } of ordered) traceStart = Math.min(traceStart, node.start + node.skew);
  const index = new Map<Node, number>();
  ordered.forEach(({ node }, i) => index.set(node, i));
  const assembled: AssembledSpan[] = ordered.map(({ node, depth, parent }) => toAssembled(node, depth, parent ? index.get(parent)! : -1, traceStart));
  let traceEnd = traceStart;
  for (const s of assembled) traceEnd = Math.max(traceEnd, traceStart + s.start + s.durationMs);

  computeSelfTimes(assembled);
  const path = criticalPath(assembled);
  for (const segment of path) assembled[segment.span]!.criticalMs += segment.end - segment.start;
  const root = assembled.find((s) => s.parent === -1 && !s.flags.includes('placeholder'));

  return {
    traceId,
    start: traceStart,
    durationMs: traceEnd - traceStart,
    services: [...new Set(assembled.filter((s) => !s.flags.includes('placeholder')).map((s) => s.service))].sort(),
    spans: assembled,
    logs: placeLogs(logs, assembled, traceStart),
    attachments: [...attachments].sort((a, b) => a.ts - b.ts),
    criticalPath: path,
    stats: statistics(assembled),
    problems,
    route: root?.route ?? '',
    rootName: root?.name ?? '',
  };
}

/** Parent links into a forest: roots, orphans under placeholders of their missing parents, cycles cut. */
function linkTree(nodes: Map<string, Node>, problems: TraceProblems): Node[] {
  const roots: Node[] = [];
  const placeholders = new Map<string, Node>();
  for (const node of nodes.values()) {
    const parentId = node.span!.parentSpanId;
    if (!parentId) {
      roots.push(node);
      continue;
    }
    const parent = parentId === node.id ? undefined : nodes.get(parentId);
    if (parent) {
      parent.children.push(node);
      continue;
    }
    if (parentId === node.id) {
      // Its own parent: the shortest cycle. Shown as a top-level span.
      node.flags.push('cycle');
      problems.cycles++;
      roots.push(node);
      continue;
    }
    node.flags.push('missing-parent');
    problems.missingParents++;
    let placeholder = placeholders.get(parentId);
    if (!placeholder) {
      placeholder = { span: undefined, id: parentId, start: node.start, duration: 0, flags: ['placeholder'], children: [], skew: 0, placeholderFor: parentId };
      placeholders.set(parentId, placeholder);
      roots.push(placeholder);
    }
    placeholder.children.push(node);
  }
  // Whatever no root reaches sits on a cycle (or hangs below one): cut each cycle at its earliest span.
  const reached = new Set<Node>();
  const mark = (from: Node) => {
    const stack = [from];
    while (stack.length) {
      const node = stack.pop()!;
      if (reached.has(node)) continue;
      reached.add(node);
      for (const child of node.children) stack.push(child);
    }
  };
  for (const root of roots) mark(root);
  const unreached = [...nodes.values()].filter((n) => !reached.has(n)).sort((a, b) => a.start - b.start);
  for (const node of unreached) {
    if (reached.has(node)) continue;
    // Walk up to a node on the cycle, then cut the cycle there (its earliest member).
    const seen = new Set<Node>();
    let cursor = node;
    while (!seen.has(cursor)) {
      seen.add(cursor);
      cursor = nodes.get(cursor.span!.parentSpanId)!;
    }
    const cycle: Node[] = [cursor];
    for (let n = nodes.get(cursor.span!.parentSpanId)!; n !== cursor; n = nodes.get(n.span!.parentSpanId)!) cycle.push(n);
    const cut = cycle.reduce((a, b) => (b.start < a.start ? b : a));
    const parent = nodes.get(cut.span!.parentSpanId)!;
    parent.children.splice(parent.children.indexOf(cut), 1);
    cut.flags.push('cycle');
    problems.cycles++;
    roots.push(cut);
    mark(cut);
  }
  return roots;
}

/** The latest end of spans whose durations are believable (absurd ones are drawn up to it). */
function layoutExtent(nodes: Map<string, Node>): number {
  let end = -Infinity;
  let start = Infinity;
  for (const node of nodes.values()) {
    start = Math.min(start, node.start);
    if (!node.flags.includes('absurd-duration')) end = Math.max(end, node.start + node.duration);
  }
  return Number.isFinite(end) ? end : start;
}

/** Moves children recorded by another pod's clock inside their parent, top-down (subtrees move along). */
function correctSkew(root: Node, problems: TraceProblems): void {
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length) {
    const [node, inherited] = stack.pop()!;
    node.skew = inherited;
    for (const child of node.children) {
      let shift = inherited;
      const parent = node.span;
      const span = child.span;
      if (parent && span && parent.pod !== span.pod) {
        const parentStart = node.start + inherited;
        const parentEnd = parentStart + node.duration;
        const childStart = child.start + inherited;
        const childEnd = childStart + child.duration;
        const rpc = parent.kind === SPAN_KIND_CLIENT && span.kind === SPAN_KIND_SERVER;
        const before = childStart < parentStart - SAME_CLOCK_TOLERANCE_MS;
        const outside = childStart < parentStart - SAME_CLOCK_TOLERANCE_MS || childEnd > parentEnd + SAME_CLOCK_TOLERANCE_MS;
        if (before || (rpc && outside)) {
          // Centre it in the parent (the network took as long each way), or start with the parent if longer.
          const target = child.duration <= node.duration ? parentStart + (node.duration - child.duration) / 2 : parentStart;
          shift = inherited + (target - childStart);
          child.flags.push('skew-corrected');
          problems.skewCorrected++;
        }
      }
      stack.push([child, shift]);
    }
  }
}

/** A placeholder spans its orphans (it has no times of its own). */
function fitPlaceholders(roots: Node[]): void {
  for (const root of roots) {
    if (!root.placeholderFor) continue;
    let start = Infinity;
    let end = -Infinity;
    for (const child of root.children) {
      start = Math.min(start, child.start + child.skew);
      end = Math.max(end, child.start + child.skew + child.duration);
    }
    root.start = start;
    root.duration = Math.max(0, end - start);
  }
}

function displayOrder(roots: Node[]): { node: Node; depth: number; parent: Node | undefined }[] {
  const out: { node: Node; depth: number; parent: Node | undefined }[] = [];
  const byStart = (a: Node, b: Node) => a.start + a.skew - (b.start + b.skew) || (a.id < b.id ? -1 : 1);
  const stack: { node: Node; depth: number; parent: Node | undefined }[] = [...roots].sort(byStart).reverse().map((node) => ({ node, depth: 0, parent: undefined }));
  while (stack.length) {
    const item = stack.pop()!;
    out.push(item);
    const children = [...item.node.children].sort(byStart);
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, depth: item.depth + 1, parent: item.node });
  }
  return out;
}

function statusOf(code: number): TraceStatus {
  return code === 2 ? 'error' : code === 1 ? 'ok' : 'unset';
}

function toAssembled(node: Node, depth: number, parent: number, traceStart: number): AssembledSpan {
  const span = node.span;
  const events: SpanEvent[] = (span?.events ?? []).map((e) => ({ name: e.name, at: e.time + node.skew - traceStart, attributes: e.attributes }));
  return {
    spanId: node.id,
    parentSpanId: span?.parentSpanId ?? '',
    parent,
    depth,
    service: span?.service ?? '(missing span)',
    pod: span?.pod ?? '',
    name: span?.name ?? `missing span ${node.id}`,
    kind: span?.kind ?? 0,
    start: node.start + node.skew - traceStart,
    durationMs: node.duration,
    rawDurationMs: span?.durationMs ?? 0,
    rawStart: span?.start ?? node.start,
    skewMs: node.skew,
    status: statusOf(span?.statusCode ?? 0),
    statusMessage: span?.statusMessage ?? '',
    selfMs: 0,
    criticalMs: 0,
    children: node.children.length,
    flags: node.flags,
    route: span?.route ?? '',
    attributes: span?.attributes ?? {},
    events,
    links: span?.links ?? [],
    ...(span?.dropped ? { dropped: span.dropped } : {}),
  };
}

/** Self time: the span's time that none of its children covers (children clipped to the span). */
function computeSelfTimes(spans: AssembledSpan[]): void {
  const children: number[][] = spans.map(() => []);
  spans.forEach((s, i) => {
    if (s.parent >= 0) children[s.parent]!.push(i);
  });
  spans.forEach((span, i) => {
    const start = span.start;
    const end = span.start + span.durationMs;
    const intervals = children[i]!.map((c) => [Math.max(start, spans[c]!.start), Math.min(end, spans[c]!.start + spans[c]!.durationMs)] as const).filter(([a, b]) => b > a);
    intervals.sort((a, b) => a[0] - b[0]);
    let covered = 0;
    let cursor = start;
    for (const [a, b] of intervals) {
      const from = Math.max(a, cursor);
      if (b > from) {
        covered += b - from;
        cursor = b;
      }
    }
    span.selfMs = Math.max(0, span.durationMs - covered);
  });
}

function statistics(spans: AssembledSpan[]): { byService: OperationStats[]; byOperation: OperationStats[] } {
  const byService = new Map<string, OperationStats>();
  const byOperation = new Map<string, OperationStats>();
  const add = (map: Map<string, OperationStats>, key: string, service: string, operation: string, span: AssembledSpan) => {
    let entry = map.get(key);
    if (!entry) map.set(key, (entry = { service, operation, count: 0, totalMs: 0, selfMs: 0, maxMs: 0, errors: 0, criticalMs: 0 }));
    entry.count++;
    entry.totalMs += span.durationMs;
    entry.selfMs += span.selfMs;
    entry.maxMs = Math.max(entry.maxMs, span.durationMs);
    if (span.status === 'error') entry.errors++;
    entry.criticalMs += span.criticalMs;
  };
  for (const span of spans) {
    if (span.flags.includes('placeholder')) continue;
    add(byService, span.service, span.service, '', span);
    add(byOperation, `${span.service}\u0000${span.name}`, span.service, span.name, span);
  }
  const bySelf = (a: OperationStats, b: OperationStats) => b.selfMs - a.selfMs || b.count - a.count;
  return { byService: [...byService.values()].sort(bySelf), byOperation: [...byOperation.values()].sort(bySelf) };
}

function placeLogs(logs: readonly StoredLog[], spans: AssembledSpan[], traceStart: number): TraceLogLine[] {
  const bySpan = new Map(spans.map((s, i) => [s.spanId, i]));
  return logs
    .map((log) => {
      const span = bySpan.get(log.spanId) ?? -1;
      const skew = span >= 0 ? spans[span]!.skewMs : 0;
      return { at: log.ts + skew - traceStart, ts: log.ts, spanId: log.spanId, span, service: log.service, pod: log.pod, level: log.level, msg: log.msg };
    })
    .sort((a, b) => a.at - b.at);
}

export type { CriticalSegment };
