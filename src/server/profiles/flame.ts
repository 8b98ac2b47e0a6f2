/**
 * The flame model: a call tree of function frames (name and file) built from a profile's samples, laid out
 * heaviest child first, in preorder so a subtree is a contiguous range. Built in the extension host (or the
 * server); the webview only draws it.
 *
 * - Transforms: "only my code" collapses runs of library and runtime frames into one frame per package
 *   (`node_modules: nats`, `Node internals`, `Go runtime`); hidden frames are cut out of every stack (their
 *   callees join their caller); focusing a function keeps only stacks through it, rooted at it.
 * - No opaque "other": past `maxNodes`, the lightest subtrees fold into one `folded` node per parent that says
 *   how many frames it holds and their total; expanding a node rebuilds the view with its subtree unfolded.
 * - Diff: base and current samples go into one tree with two sets of values and two layouts.
 */
import { FRAME_KINDS, functionKey, type FlameData, type FlameTopRow, type FlameTransform, type FrameKind } from '../../protocol/flamegraph';
import { resolveSampleIndex, type Frame, type ProfileData } from './profileData';

const KIND = Object.fromEntries(FRAME_KINDS.map((k, i) => [k, i])) as Record<FrameKind, number>;

/** Library, runtime or the user's own code, from the file and name a profile gives. */
export function classifyFrame(frame: Pick<Frame, 'name' | 'file'>): { kind: 'user' | 'library' | 'runtime'; group: string } {
  const { name, file } = frame;
  if (file.startsWith('node:') || file.startsWith('internal/') || /^\(.*\)$/.test(name) || file === '(native)') return { kind: 'runtime', group: 'Node internals' };
  if (name.startsWith('runtime.') || name.startsWith('runtime/') || /\/go(-[\d.]+)?\/src\/runtime\//.test(file) || /^runtime\//.test(file)) return { kind: 'runtime', group: 'Go runtime' };
  const nm = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
  if (nm) return { kind: 'library', group: `node_modules: ${nm[1]!.replace(/\\/g, '/')}` };
  // Go's standard library: GOROOT paths, or -trimpath paths whose first element has no dot ("encoding/json/…").
  if (/\/go(-[\d.]+)?\/src\//.test(file) || (/^[a-z0-9]+(\/[a-z0-9_]+)*\/[^/]+\.(go|s)$/.test(file) && !file.split('/')[0]!.includes('.'))) {
    return { kind: 'library', group: 'Go standard library' };
  }
  return { kind: 'user', group: '' };
}

/** The full call tree, in preorder with children heaviest first. */
export interface FlameTree {
  names: string[];
  files: string[];
  name: Int32Array;
  file: Int32Array;
  line: Int32Array;
  depth: Int32Array;
  parent: Int32Array;
  total: Float64Array;
  self: Float64Array;
  samples: Float64Array;
  kind: Uint8Array;
  subtreeEnd: Int32Array;
  maxDepth: number;
  base?: { total: Float64Array; self: Float64Array };
  unit: string;
  sampleType: string;
}

interface Key {
  name: number;
  file: number;
  kind: number;
}

/** Builds trees; strings and frame keys are interned once per builder. */
class TreeBuilder {
  readonly names: string[] = [];
  readonly files: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  private readonly fileIndex = new Map<string, number>();
  readonly keys: Key[] = [];
  private readonly keyIndex = new Map<string, number>();
  // Per node, in creation order.
  readonly parent: number[] = [-1];
  readonly key: number[] = [-1];
  readonly total: number[] = [0];
  readonly self: number[] = [0];
  readonly samples: number[] = [0];
  readonly baseTotal: number[] = [0];
  readonly baseSelf: number[] = [0];
  private readonly child = new Map<number, number>();
  private readonly lineValue = new Map<number, number>();
  readonly bestLine: number[] = [0];
  private readonly bestLineValue: number[] = [0];

  constructor(rootName: string) {
    this.keys.push({ name: this.intern(this.names, this.nameIndex, rootName), file: this.intern(this.files, this.fileIndex, ''), kind: KIND.user });
    this.key[0] = 0;
  }

  private intern(list: string[], index: Map<string, number>, s: string): number {
    let i = index.get(s);
    if (i === undefined) {
      i = list.length;
      list.push(s);
      index.set(s, i);
    }
    return i;
  }

  keyOf(name: string, file: string, kind: number): number {
    const k = `${kind}\u0000${name}\u0000${file}`;
    let i = this.keyIndex.get(k);
    if (i === undefined) {
      i = this.keys.length;
      this.keys.push({ name: this.intern(this.names, this.nameIndex, name), file: this.intern(this.files, this.fileIndex, file), kind });
      this.keyIndex.set(k, i);
    }
    return i;
  }

  /** Adds one stack (root first: key indexes and lines) with its value to the current or base side. */
  add(keys: number[], lines: number[], value: number, samples: number, side: 'current' | 'base'): void {
    const total = side === 'current' ? this.total : this.baseTotal;
    const self = side === 'current' ? this.self : this.baseSelf;
    let node = 0;
    total[0]! += value;
    if (side === 'current') this.samples[0]! += samples;
    for (let i = 0; i < keys.length; i++) {
      const composite = node * 4194304 + keys[i]!; // 2^22 keys per node
      let next = this.child.get(composite);
      if (next === undefined) {
        next = this.parent.length;
        this.parent.push(node);
        this.key.push(keys[i]!);
        this.total.push(0);
        this.self.push(0);
        this.samples.push(0);
        this.baseTotal.push(0);
        this.baseSelf.push(0);
        this.bestLine.push(0);
        this.bestLineValue.push(-Infinity);
        this.child.set(composite, next);
      }
      node = next;
      total[node]! += value;
      if (side === 'current') {
        this.samples[node]! += samples;
        const line = lines[i]!;
        if (line > 0) {
          const lk = node * 1048576 + Math.min(line, 1048575);
          const v = (this.lineValue.get(lk) ?? 0) + Math.abs(value);
          this.lineValue.set(lk, v);
          if (v > this.bestLineValue[node]!) {
            this.bestLineValue[node] = v;
            this.bestLine[node] = line;
          }
        }
      }
    }
    self[node]! += value;
  }

  finish(diff: boolean, unit: string, sampleType: string): FlameTree {
    const n = this.parent.length;
    const children: number[][] = Array.from({ length: n }, () => []);
    for (let i = 1; i < n; i++) children[this.parent[i]!]!.push(i);
    const weight = (i: number) => this.total[i]! + (diff ? this.baseTotal[i]! * 1e-9 : 0);
    const order = new Int32Array(n);
    const newIndex = new Int32Array(n);
    const depthOf = new Int32Array(n);
    // Iterative preorder (profiles can be thousands of frames deep).
    let k = 0;
    const stack = [0];
    while (stack.length) {
      const node = stack.pop()!;
      newIndex[node] = k;
      order[k++] = node;
      const kids = children[node]!;
      kids.sort((a, b) => weight(b) - weight(a) || a - b);
      for (let c = kids.length - 1; c >= 0; c--) {
        depthOf[kids[c]!] = depthOf[node]! + 1;
        stack.push(kids[c]!);
      }
    }
    const tree: FlameTree = {
      names: this.names,
      files: this.files,
      name: new Int32Array(n),
      file: new Int32Array(n),
      line: new Int32Array(n),
      depth: new Int32Array(n),
      parent: new Int32Array(n),
      total: new Float64Array(n),
      self: new Float64Array(n),
      samples: new Float64Array(n),
      kind: new Uint8Array(n),
      subtreeEnd: new Int32Array(n),
      maxDepth: 0,
      unit,
      sampleType,
      ...(diff ? { base: { total: new Float64Array(n), self: new Float64Array(n) } } : {}),
    };
    for (let i = 0; i < n; i++) {
      const old = order[i]!;
      const key = this.keys[this.key[old]!]!;
      tree.name[i] = key.name;
      tree.file[i] = key.file;
      tree.kind[i] = key.kind;
      tree.line[i] = this.bestLine[old]!;
      tree.depth[i] = depthOf[old]!;
      tree.parent[i] = old === 0 ? -1 : newIndex[this.parent[old]!]!;
      tree.total[i] = this.total[old]!;
      tree.self[i] = this.self[old]!;
      tree.samples[i] = this.samples[old]!;
      if (tree.base) {
        tree.base.total[i] = this.baseTotal[old]!;
        tree.base.self[i] = this.baseSelf[old]!;
      }
      if (depthOf[old]! > tree.maxDepth) tree.maxDepth = depthOf[old]!;
    }
    // Subtree ends, children before parents (reverse preorder).
    for (let i = n - 1; i >= 0; i--) {
      if (tree.subtreeEnd[i] === 0) tree.subtreeEnd[i] = i + 1;
      const p = tree.parent[i]!;
      if (p >= 0 && tree.subtreeEnd[i]! > tree.subtreeEnd[p]!) tree.subtreeEnd[p] = tree.subtreeEnd[i]!;
    }
    return tree;
  }
}

export interface FlameBuildOptions {
  sampleIndex?: string;
  transform?: Partial<FlameTransform>;
  rootName?: string;
}

/** Feeds a profile's samples into `builder`, transformed; returns the sample type it used. */
function feed(builder: TreeBuilder, profile: ProfileData, options: FlameBuildOptions, side: 'current' | 'base', sampleIndex: number): void {
  const transform = options.transform ?? {};
  const hidden = new Set(transform.hidden ?? []);
  const frames = profile.frames;
  // Per frame: its key (or -1 when hidden), and when "only my code" collapses it, its group's key.
  const frameKey = new Int32Array(frames.length);
  const groupKey = new Int32Array(frames.length).fill(-1);
  const focusKey = transform.focus;
  let focusIndex = -1;
  for (let f = 0; f < frames.length; f++) {
    const frame = frames[f]!;
    const fk = functionKey(frame.name, frame.file);
    const cls = classifyFrame(frame);
    frameKey[f] = hidden.has(fk) ? -1 : builder.keyOf(frame.name, frame.file, KIND[cls.kind]);
    if (transform.onlyMyCode && cls.kind !== 'user' && fk !== focusKey) groupKey[f] = builder.keyOf(cls.group, '', KIND.collapsed);
    if (fk === focusKey) focusIndex = builder.keyOf(frame.name, frame.file, KIND[cls.kind]);
  }
  if (focusKey !== undefined && focusIndex < 0) return; // the function is not in this profile
  const samplesIndex = profile.sampleTypes.findIndex((t) => t.type === 'samples');
  const nt = profile.sampleTypes.length;
  const keys: number[] = [];
  const lines: number[] = [];
  for (let s = 0; s < profile.sampleCount; s++) {
    const value = profile.values[s * nt + sampleIndex]!;
    if (value === 0) continue;
    keys.length = 0;
    lines.length = 0;
    let lastGroup = -1;
    for (let k = profile.stackStart[s + 1]! - 1; k >= profile.stackStart[s]!; k--) {
      const f = profile.stackFrames[k]!;
      const key = frameKey[f]!;
      if (key < 0) continue;
      const group = groupKey[f]!;
      if (group >= 0) {
        if (group === lastGroup) continue;
        lastGroup = group;
        keys.push(group);
        lines.push(0);
        continue;
      }
      lastGroup = -1;
      keys.push(key);
      lines.push(frames[f]!.line);
    }
    let from = 0;
    if (focusIndex >= 0) {
      from = keys.indexOf(focusIndex);
      if (from < 0) continue;
    }
    builder.add(from ? keys.slice(from) : keys, from ? lines.slice(from) : lines, value, samplesIndex >= 0 ? profile.values[s * nt + samplesIndex]! : 1, side);
  }
}

export function buildFlameTree(profile: ProfileData, options: FlameBuildOptions = {}): FlameTree {
  const sampleIndex = resolveSampleIndex(profile, options.transform?.sampleType ?? options.sampleIndex);
  const builder = new TreeBuilder(options.rootName ?? 'all');
  feed(builder, profile, options, 'current', sampleIndex);
  const type = profile.sampleTypes[sampleIndex]!;
  return builder.finish(false, type.unit, type.type);
}

/** One tree holding both sides; node widths and order follow the current side. */
export function buildDiffTree(base: ProfileData, current: ProfileData, options: FlameBuildOptions = {}): FlameTree {
  const currentIndex = resolveSampleIndex(current, options.transform?.sampleType ?? options.sampleIndex);
  const type = current.sampleTypes[currentIndex]!;
  const baseIndex = base.sampleTypes.findIndex((t) => t.type === type.type && t.unit === type.unit);
  if (baseIndex < 0) throw new Error(`${base.source} has no sample type ${type.type} to compare with ${current.source}`);
  const builder = new TreeBuilder(options.rootName ?? 'all');
  feed(builder, current, options, 'current', currentIndex);
  feed(builder, base, options, 'base', baseIndex);
  return builder.finish(true, type.unit, type.type);
}

/**
 * Callers (the inverted paths from a function up to the roots) and callees (everything below it), each
 * rooted at the function. A sample counts once, at its outermost occurrence of the function.
 */
export function buildSandwich(profile: ProfileData, name: string, file: string, options: FlameBuildOptions = {}): { callers: FlameTree; callees: FlameTree } {
  const callees = buildFlameTree(profile, { ...options, transform: { ...options.transform, focus: functionKey(name, file) } });
  const sampleIndex = resolveSampleIndex(profile, options.transform?.sampleType ?? options.sampleIndex);
  const builder = new TreeBuilder(name);
  const nt = profile.sampleTypes.length;
  const samplesIndex = profile.sampleTypes.findIndex((t) => t.type === 'samples');
  const keyOfFrame = profile.frames.map((f) => builder.keyOf(f.name, f.file, KIND[classifyFrame(f).kind]));
  const target = new Uint8Array(profile.frames.length);
  profile.frames.forEach((f, i) => (target[i] = f.name === name && f.file === file ? 1 : 0));
  for (let s = 0; s < profile.sampleCount; s++) {
    const value = profile.values[s * nt + sampleIndex]!;
    if (value === 0) continue;
    const first = profile.stackStart[s]!;
    let outermost = -1;
    for (let k = profile.stackStart[s + 1]! - 1; k >= first; k--) {
      if (target[profile.stackFrames[k]!]) {
        outermost = k;
        break;
      }
    }
    if (outermost < 0) continue;
    const keys: number[] = [];
    const lines: number[] = [];
    for (let k = outermost + 1; k < profile.stackStart[s + 1]!; k++) {
      keys.push(keyOfFrame[profile.stackFrames[k]!]!);
      lines.push(profile.frames[profile.stackFrames[k]!]!.line);
    }
    builder.add(keys, lines, value, samplesIndex >= 0 ? profile.values[s * nt + samplesIndex]! : 1, 'current');
  }
  const type = profile.sampleTypes[sampleIndex]!;
  return { callers: builder.finish(false, type.unit, type.type), callees };
}

export interface FlameViewOptions {
  /** At most this many nodes are sent (folded nodes included). */
  maxNodes?: number;
  /** A node whose whole subtree is sent unfolded when it fits (after "expand"). */
  expandedId?: number;
}

export const DEFAULT_MAX_NODES = 150_000;

/** The k-th largest of `values` (k ≥ 1), or -Infinity when there are fewer. */
function kthLargest(values: Float64Array, k: number): number {
  if (k > values.length) return -Infinity;
  const sorted = Float64Array.from(values).sort();
  return sorted[values.length - k]!;
}

/**
 * What the webview draws: the whole tree when it fits in `maxNodes`, else the heaviest nodes with the rest
 * folded into one `folded` node per parent (counting the frames it holds). Under `expandedId` the budget goes
 * to that subtree first, so focusing a node brings back what it holds.
 */
export function flameData(tree: FlameTree, options: FlameViewOptions = {}): { data: FlameData; foldedNodes: number } {
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  const n = tree.total.length;
  const include = new Uint8Array(n);
  const magnitude = (i: number) => Math.max(Math.abs(tree.total[i]!), tree.base ? Math.abs(tree.base.total[i]!) : 0);
  if (n <= maxNodes) include.fill(1);
  else {
    const expanded = Math.min(Math.max(0, options.expandedId ?? 0), n - 1);
    // The expanded node's ancestors, then its subtree, then the rest, each by weight.
    for (let p = expanded; p >= 0; p = tree.parent[p]!) include[p] = 1;
    const budget = Math.floor(maxNodes * 0.9);
    const within = new Float64Array(tree.subtreeEnd[expanded]! - expanded);
    for (let i = expanded; i < tree.subtreeEnd[expanded]!; i++) within[i - expanded] = magnitude(i);
    const withinThreshold = kthLargest(within, Math.min(budget, within.length));
    let used = 0;
    for (let i = expanded; i < tree.subtreeEnd[expanded]! && used < budget; i++) {
      if (magnitude(i) >= withinThreshold && magnitude(i) > 0) {
        include[i] = 1;
        used++;
      }
    }
    const rest: number[] = [];
    for (let i = 0; i < n; i++) if (!include[i]) rest.push(magnitude(i));
    const left = Math.max(0, budget - used);
    const restThreshold = left ? kthLargest(Float64Array.from(rest), Math.min(left, rest.length)) : Infinity;
    for (let i = 0; i < n && used < budget; i++) {
      if (!include[i] && magnitude(i) >= restThreshold && magnitude(i) > 0) {
        include[i] = 1;
        used++;
      }
    }
    // A kept node's parent is always kept (weights never grow downward), except where thresholds tie: fix up.
    for (let i = 1; i < n; i++) if (include[i] && !include[tree.parent[i]!]) include[i] = 0;
  }

  // Emit included nodes in preorder; a folded node after each parent's kept children.
  const names = [...tree.names];
  const foldedName = new Map<number, number>();
  const out = {
    name: [] as number[],
    file: [] as number[],
    line: [] as number[],
    depth: [] as number[],
    total: [] as number[],
    self: [] as number[],
    samples: [] as number[],
    kind: [] as number[],
    folded: [] as number[],
    id: [] as number[],
    parent: [] as number[],
    baseTotal: [] as number[],
    baseSelf: [] as number[],
  };
  let foldedNodes = 0;
  const emit = (i: number, parentOut: number): number => {
    const o = out.name.length;
    out.name.push(tree.name[i]!);
    out.file.push(tree.file[i]!);
    out.line.push(tree.line[i]!);
    out.depth.push(tree.depth[i]!);
    out.total.push(tree.total[i]!);
    out.self.push(tree.self[i]!);
    out.samples.push(tree.samples[i]!);
    out.kind.push(tree.kind[i]!);
    out.folded.push(0);
    out.id.push(i);
    out.parent.push(parentOut);
    out.baseTotal.push(tree.base?.total[i] ?? 0);
    out.baseSelf.push(tree.base?.self[i] ?? 0);
    return o;
  };
  // Iterative walk over the full preorder, carrying each node's output index.
  const outIndex = new Int32Array(n).fill(-1);
  const pendingFold = new Map<number, { total: number; base: number; samples: number; count: number; depth: number }>();
  const flushFold = (parentFull: number) => {
    const fold = pendingFold.get(parentFull);
    if (!fold) return;
    pendingFold.delete(parentFull);
    let nameIndex = foldedName.get(fold.count);
    if (nameIndex === undefined) {
      nameIndex = names.length;
      names.push(`${fold.count} small frame${fold.count === 1 ? '' : 's'}`);
      foldedName.set(fold.count, nameIndex);
    }
    out.name.push(nameIndex);
    out.file.push(0);
    out.line.push(0);
    out.depth.push(fold.depth);
    out.total.push(fold.total);
    out.self.push(0);
    out.samples.push(fold.samples);
    out.kind.push(KIND.folded);
    out.folded.push(fold.count);
    out.id.push(parentFull);
    out.parent.push(outIndex[parentFull]!);
    out.baseTotal.push(fold.base);
    out.baseSelf.push(0);
    foldedNodes += fold.count;
  };
  // Closing a node (its subtree is done) emits its folded node; a stack of open nodes tracks that.
  const open: number[] = [];
  for (let i = 0; i < n; ) {
    while (open.length && i >= tree.subtreeEnd[open[open.length - 1]!]!) flushFold(open.pop()!);
    if (include[i]) {
      outIndex[i] = emit(i, i === 0 ? -1 : outIndex[tree.parent[i]!]!);
      open.push(i);
      i++;
    } else {
      const p = tree.parent[i]!;
      const fold = pendingFold.get(p) ?? { total: 0, base: 0, samples: 0, count: 0, depth: tree.depth[i]! };
      fold.total += tree.total[i]!;
      fold.base += tree.base?.total[i] ?? 0;
      fold.samples += tree.samples[i]!;
      fold.count += tree.subtreeEnd[i]! - i;
      pendingFold.set(p, fold);
      i = tree.subtreeEnd[i]!;
    }
  }
  while (open.length) flushFold(open.pop()!);

  // The emitted order is preorder except that folded nodes follow their siblings' subtrees: reorder by a
  // preorder walk of the output tree, then lay out.
  const m = out.name.length;
  const kids: number[][] = Array.from({ length: m }, () => []);
  for (let o = 1; o < m; o++) kids[out.parent[o]!]!.push(o);
  const order: number[] = [];
  const walk = [0];
  while (walk.length) {
    const o = walk.pop()!;
    order.push(o);
    const c = kids[o]!;
    for (let j = c.length - 1; j >= 0; j--) walk.push(c[j]!);
  }
  const pos = new Int32Array(m);
  order.forEach((o, k) => (pos[o] = k));
  const pick = <T extends number[]>(a: T) => Float64Array.from(order, (o) => a[o]!);
  const data: FlameData = {
    names,
    files: tree.files,
    name: Int32Array.from(order, (o) => out.name[o]!),
    file: Int32Array.from(order, (o) => out.file[o]!),
    line: Int32Array.from(order, (o) => out.line[o]!),
    depth: Int32Array.from(order, (o) => out.depth[o]!),
    start: new Float64Array(m),
    total: pick(out.total),
    self: pick(out.self),
    samples: pick(out.samples),
    subtreeEnd: new Int32Array(m),
    kind: Uint8Array.from(order, (o) => out.kind[o]!),
    folded: Int32Array.from(order, (o) => out.folded[o]!),
    id: Int32Array.from(order, (o) => out.id[o]!),
    maxDepth: 0,
  };
  const parentOf = Int32Array.from(order, (o) => (out.parent[o]! < 0 ? -1 : pos[out.parent[o]!]!));
  layout(data.total as Float64Array, parentOf, data.start as Float64Array);
  if (tree.base) {
    const baseTotal = pick(out.baseTotal);
    const baseStart = new Float64Array(m);
    layout(baseTotal, parentOf, baseStart);
    data.base = { total: baseTotal, self: pick(out.baseSelf), start: baseStart, rootTotal: baseTotal[0] ?? 0 };
  }
  const end = data.subtreeEnd as Int32Array;
  for (let k = m - 1; k >= 0; k--) {
    if (end[k] === 0) end[k] = k + 1;
    const p = parentOf[k]!;
    if (p >= 0 && end[k]! > end[p]!) end[p] = end[k]!;
    if (data.depth[k]! > data.maxDepth) data.maxDepth = data.depth[k]!;
  }
  return { data, foldedNodes };
}

/** Children start where their previous sibling ends, the first at the parent's start. */
function layout(total: Float64Array, parent: Int32Array, start: Float64Array): void {
  const next = new Float64Array(total.length);
  for (let k = 0; k < total.length; k++) {
    const p = parent[k]!;
    if (p < 0) {
      start[k] = 0;
    } else {
      start[k] = start[p]! + next[p]!;
      next[p]! += Math.max(0, total[k]!);
    }
  }
}

/** The top table of a flame tree (by function name and file): what the webview lists beside the graph. */
export function flameTop(tree: FlameTree, limit = 500): FlameTopRow[] {
  const rows = new Map<string, FlameTopRow & { seen: number }>();
  // Cum counts a function once per path: skip a node whose ancestor is the same function.
  const n = tree.total.length;
  const activeAt = new Map<string, number>(); // key → subtreeEnd of the outermost open occurrence
  const keyOf = (i: number) => `${tree.name[i]}:${tree.file[i]}`;
  const stack: number[] = [];
  for (let i = 1; i < n; i++) {
    while (stack.length && i >= tree.subtreeEnd[stack[stack.length - 1]!]!) {
      const closed = stack.pop()!;
      if (activeAt.get(keyOf(closed)) === tree.subtreeEnd[closed]) activeAt.delete(keyOf(closed));
    }
    stack.push(i);
    if (tree.kind[i] === KIND.folded) continue;
    const key = keyOf(i);
    let row = rows.get(key);
    if (!row) {
      row = { name: tree.names[tree.name[i]!]!, file: tree.files[tree.file[i]!]!, line: tree.line[i]!, self: 0, total: 0, seen: 0, ...(tree.base ? { baseSelf: 0, baseTotal: 0 } : {}) };
      rows.set(key, row);
    }
    row.self += tree.self[i]!;
    if (tree.base) row.baseSelf! += tree.base.self[i]!;
    if (!activeAt.has(key)) {
      activeAt.set(key, tree.subtreeEnd[i]!);
      row.total += tree.total[i]!;
      if (tree.base) row.baseTotal! += tree.base.total[i]!;
    }
  }
  return [...rows.values()]
    .map(({ seen: _seen, ...row }) => row)
    .sort((a, b) => Math.abs(b.self) - Math.abs(a.self) || Math.abs(b.total) - Math.abs(a.total) || (a.name < b.name ? -1 : 1))
    .slice(0, limit);
}
