/**
 * Messages between the extension and the flamegraph webview, named by direction. The extension builds the
 * model (src/server/profiles/flame.ts); the webview only lays out what it is sent and draws it. Node arrays
 * are in preorder, so a node's subtree is the contiguous range [i, subtreeEnd[i]).
 */
import * as z from 'zod/mini';
import './schema';

/** What a frame is, for colouring and "only my code". */
export const FRAME_KINDS = ['user', 'library', 'runtime', 'folded', 'collapsed'] as const;
export type FrameKind = (typeof FRAME_KINDS)[number];

/** A flame tree ready to draw. Arrays may arrive as typed arrays or plain arrays (both index the same). */
export interface FlameData {
  /** Distinct strings; nodes refer to them by index. */
  names: string[];
  files: string[];
  /** Per node (preorder; node 0 is the root). */
  name: ArrayLike<number>;
  file: ArrayLike<number>;
  /** The line with most samples in the node (1-based; 0 unknown). */
  line: ArrayLike<number>;
  depth: ArrayLike<number>;
  /** Offset of the node from its root's left edge, in value units; children are laid out heaviest first. */
  start: ArrayLike<number>;
  total: ArrayLike<number>;
  self: ArrayLike<number>;
  /** Samples through the node (the profile's `samples` type where it has one, else sample records). */
  samples: ArrayLike<number>;
  subtreeEnd: ArrayLike<number>;
  /** Index into FRAME_KINDS. */
  kind: ArrayLike<number>;
  /** For `folded` nodes: how many frames they stand for (focusing the parent brings them back). */
  folded: ArrayLike<number>;
  /** The node's id in the full tree on the extension side (for expand requests). */
  id: ArrayLike<number>;
  maxDepth: number;
  /** Diff only: the base side's values and layout (a node absent from the base has 0). */
  base?: { total: ArrayLike<number>; self: ArrayLike<number>; start: ArrayLike<number>; rootTotal: number };
}

export interface FlameTopRow {
  name: string;
  file: string;
  line: number;
  self: number;
  total: number;
  /** Diff only. */
  baseSelf?: number;
  baseTotal?: number;
}

export interface FlameView {
  title: string;
  /** Where the profile came from, as a user would say it. */
  source: string;
  unit: string;
  sampleType: string;
  sampleTypes: string[];
  /** Root total (the denominator of every %). */
  total: number;
  profiles: number;
  diff: boolean;
  /** Nodes the full tree has, and how many were folded into `folded` nodes to stay fast. */
  fullNodes: number;
  foldedNodes: number;
  /** The node of the full tree the model is expanded under (0: the root). */
  expandedId: number;
  transform: FlameTransform;
  problems: string[];
  /** For the fleet's stored profiles: the selection shown, which the panel's time range and label filter change. */
  selection?: FlameSelection;
}

/** Ranges a fleet flamegraph offers, in ms. */
export const SELECTION_RANGES: readonly { label: string; ms: number }[] = [
  { label: 'Last 5 minutes', ms: 5 * 60_000 },
  { label: 'Last 15 minutes', ms: 15 * 60_000 },
  { label: 'Last hour', ms: 3600_000 },
  { label: 'Last 6 hours', ms: 6 * 3600_000 },
  { label: 'Last 24 hours', ms: 24 * 3600_000 },
];

export interface FlameSelection {
  type: string;
  rangeMs: number;
  /** `k=v,k=v` as typed. */
  where: string;
}

export interface FlameTransform {
  onlyMyCode: boolean;
  /** Frames (function keys "name\u0000file") removed from every stack. */
  hidden: string[];
  /** A function key: only stacks through it, rooted at it. */
  focus?: string;
  sampleType?: string;
}

export type FlameToWebview =
  | { type: 'model'; view: FlameView; data: FlameData; top: FlameTopRow[] }
  | { type: 'sandwich'; name: string; file: string; callers: FlameData; callees: FlameData; unit: string; total: number }
  | { type: 'search'; query: string }
  | { type: 'error'; message: string };

const FunctionKey = z.string().check(z.maxLength(4096));

export const FlameTransformSchema = z.object({
  onlyMyCode: z.boolean(),
  hidden: z.array(FunctionKey).check(z.maxLength(1000)),
  focus: z.optional(FunctionKey),
  sampleType: z.optional(z.string().check(z.maxLength(200))),
});

export const FlameFromWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('openSource'), file: z.string().check(z.maxLength(4096)), line: z.number().check(z.int(), z.nonnegative()) }),
  z.object({ type: z.literal('expand'), id: z.number().check(z.int(), z.nonnegative()) }),
  z.object({ type: z.literal('sandwich'), name: z.string().check(z.maxLength(4096)), file: z.string().check(z.maxLength(4096)) }),
  z.object({ type: z.literal('transform'), transform: FlameTransformSchema }),
  /** The webview's own timings (first frame, frame times), logged by the extension. */
  z.object({ type: z.literal('timing'), name: z.string().check(z.maxLength(100)), ms: z.number() }),
  z.object({
    type: z.literal('select'),
    rangeMs: z.number().check(z.int(), z.minimum(1000), z.maximum(31 * 24 * 3600_000)),
    where: z.string().check(z.maxLength(1000)),
  }),
]);
export type FlameFromWebview = z.infer<typeof FlameFromWebviewSchema>;

export function functionKey(name: string, file: string): string {
  return `${name}\u0000${file}`;
}
