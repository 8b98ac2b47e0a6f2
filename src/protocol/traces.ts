/**
 * Traces as the server answers for them, to the editor (LSP), the CLI and other tools (the sg-server service):
 * the search query and its result, and an assembled trace. Plain data, importable by the webviews.
 */
import * as z from 'zod/mini';
import './schema';

export const TRACE_SORTS = ['slowest', 'newest', 'errors'] as const;
export type TraceSort = (typeof TRACE_SORTS)[number];

export const MAX_TRACE_SEARCH = 1000;

export const TraceSearchQuerySchema = z.object({
  /** Epoch ms; default: an hour before `to`. */
  from: z.optional(z.number()),
  /** Epoch ms; default: now. */
  to: z.optional(z.number()),
  /** Traces with at least one span of this service. */
  service: z.optional(z.string().check(z.minLength(1))),
  /** Traces with at least one span on this route (`http.route`, e.g. `GET /v1/streams/:stream`). */
  route: z.optional(z.string().check(z.minLength(1))),
  minDurationMs: z.optional(z.number().check(z.nonnegative())),
  errorsOnly: z.optional(z.boolean()),
  sort: z.optional(z.enum(TRACE_SORTS)),
  limit: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_TRACE_SEARCH))),
});
export type TraceSearchQuery = z.infer<typeof TraceSearchQuerySchema>;

export type TraceStatus = 'ok' | 'error' | 'unset';

export interface TraceSummary {
  traceId: string;
  /** Epoch ms of the earliest span. */
  start: number;
  /** From the earliest start to the latest end, ms (pod clocks as they are). */
  durationMs: number;
  spans: number;
  errors: number;
  services: string[];
  /** The root span's, or '' when the root has not arrived (or never will). */
  rootService: string;
  rootName: string;
  route: string;
  /** Whether the root span is in the store. */
  hasRoot: boolean;
}

export interface RouteTraceFigures {
  route: string;
  traces: number;
  errors: number;
  maxMs: number;
  avgMs: number;
}

export interface TraceSearchResult {
  from: number;
  to: number;
  traces: TraceSummary[];
  /** Traces per root route in the range (for "by route"), busiest first. */
  routes: RouteTraceFigures[];
}

const TraceIdSchema = z.string().check(z.regex(/^[0-9a-fA-F]{32}$/, 'a trace id is 32 hex digits'));
export const TraceGetRequestSchema = z.object({ traceId: TraceIdSchema });
export type TraceGetRequest = z.infer<typeof TraceGetRequestSchema>;

/** `sg traces show ID --json` (a contract: fields may be added, never renamed). */
export interface TraceJson {
  traceId: string;
  spans: {
    spanId: string;
    parentSpanId: string | null;
    service: string;
    name: string;
    /** Epoch ms as the span's pod recorded it (no skew correction). */
    start: number;
    durationMs: number;
    status: TraceStatus;
    attributes: Record<string, string | number | boolean>;
  }[];
}

/** Why a span is drawn the way it is; each is counted in the trace's problems. */
export const SPAN_FLAGS = ['missing-parent', 'cycle', 'skew-corrected', 'negative-duration', 'absurd-duration', 'duplicate', 'placeholder', 'no-root'] as const;
export type SpanFlag = (typeof SPAN_FLAGS)[number];

export interface SpanEvent {
  name: string;
  /** ms from the trace's start (corrected like the span). */
  at: number;
  attributes: Record<string, string | number | boolean>;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, string | number | boolean>;
}

/** One span of an assembled trace, in display order (depth-first, children by start). */
export interface AssembledSpan {
  spanId: string;
  /** As the span says ('' for a root); see `flags` when that span is missing. */
  parentSpanId: string;
  /** Index of the display parent in `spans` (-1 for a top-level row). */
  parent: number;
  depth: number;
  service: string;
  pod: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** ms from the trace's start, after clock-skew correction. */
  start: number;
  /** As drawn (≥ 0, clamped when absurd); `rawDurationMs` is what the span said. */
  durationMs: number;
  rawDurationMs: number;
  /** Epoch ms as the pod recorded it. */
  rawStart: number;
  /** How far the span (and its subtree) was moved to sit inside its parent, ms. */
  skewMs: number;
  status: TraceStatus;
  statusMessage: string;
  /** Time no child covered, ms. */
  selfMs: number;
  /** Time of this span on the critical path, ms (0: not on it). */
  criticalMs: number;
  children: number;
  flags: SpanFlag[];
  route: string;
  attributes: Record<string, string | number | boolean>;
  events: SpanEvent[];
  links: SpanLink[];
  dropped?: { attributes: number; events: number; links: number };
}

/** A log line of the trace, placed under its span. */
export interface TraceLogLine {
  /** ms from the trace's start (corrected by its span's skew). */
  at: number;
  ts: number;
  spanId: string;
  /** Index in `spans` of the span it belongs to (-1: a span not in the trace). */
  span: number;
  service: string;
  pod: string;
  level: string;
  msg: string;
}

/**
 * Something else recorded during a trace and shown on its spans. Logs are one kind; the debugger's snapshots
 * (which carry trace and span ids) are meant to be another: a source of attachments registers with the
 * server's TraceAttachments (src/server/traces/attachments.ts).
 */
export interface TraceAttachment {
  kind: string;
  ts: number;
  spanId: string;
  title: string;
  detail?: Record<string, string | number | boolean>;
}

export interface CriticalSegment {
  span: number;
  start: number;
  end: number;
}

export interface OperationStats {
  service: string;
  /** The span name ('' in the per-service rows). */
  operation: string;
  count: number;
  totalMs: number;
  selfMs: number;
  maxMs: number;
  errors: number;
  /** Self time on the critical path. */
  criticalMs: number;
}

export interface TraceProblems {
  missingParents: number;
  cycles: number;
  skewCorrected: number;
  negativeDurations: number;
  absurdDurations: number;
  duplicates: number;
  /** Attribute values longer than the viewer shows (kept whole in the store and in `--json`). */
  longAttributes: number;
  /** Spans left out because the trace holds more than the server assembles. */
  spansLeftOut: number;
}

export interface AssembledTrace {
  traceId: string;
  /** Epoch ms the offsets count from. */
  start: number;
  durationMs: number;
  services: string[];
  spans: AssembledSpan[];
  logs: TraceLogLine[];
  attachments: TraceAttachment[];
  criticalPath: CriticalSegment[];
  stats: { byService: OperationStats[]; byOperation: OperationStats[] };
  problems: TraceProblems;
  route: string;
  rootName: string;
}

export function traceJson(trace: AssembledTrace): TraceJson {
  return {
    traceId: trace.traceId,
    spans: trace.spans
      .filter((s) => !s.flags.includes('placeholder'))
      .map((s) => ({
        spanId: s.spanId,
        parentSpanId: s.parentSpanId || null,
        service: s.service,
        name: s.name,
        start: s.rawStart,
        durationMs: s.rawDurationMs,
        status: s.status,
        attributes: s.attributes,
      })),
  };
}

// --- The trace viewer's model (built by the server, drawn by the webview) ------------------------------------

/** Row flags of TraceView.rows.flags (a bit set). */
export const ROW_FLAG = {
  error: 1,
  critical: 2,
  /** Something about the span was impossible or repaired (see its flags in the details). */
  problem: 4,
  placeholder: 8,
  log: 16,
  attachment: 32,
} as const;

/**
 * A trace as rows for a virtualised waterfall: columns (one entry per row) rather than objects, so a 50,000-span
 * trace crosses to the webview as a few flat arrays. Rows are in display order: each span, then its children
 * and its log lines by time. `end[i]` is the index after row i's subtree (collapsing skips to it).
 */
export interface TraceView {
  traceId: string;
  start: number;
  durationMs: number;
  route: string;
  rootName: string;
  services: string[];
  spans: number;
  errors: number;
  criticalMs: number;
  problems: string;
  rows: {
    /** Index in the assembled trace's spans (spans), or in its logs / attachments (log and attachment rows). */
    ref: number[];
    depth: number[];
    end: number[];
    start: number[];
    duration: number[];
    /** Index into `services` (-1: none). */
    service: number[];
    flags: number[];
    label: string[];
    /** The critical part of a span row: from, to (ms from the trace's start); -1 when none. */
    criticalFrom: number[];
    criticalTo: number[];
  };
  stats: { byService: OperationStats[]; byOperation: OperationStats[] };
}

export interface SpanDetail {
  row: number;
  kind: 'span' | 'log' | 'attachment';
  title: string;
  /** Label and value pairs shown first (service, pod, ids, times, status). */
  facts: [string, string][];
  attributes: { key: string; value: string; length: number }[];
  events: { at: number; name: string; attributes: [string, string][] }[];
  links: { traceId: string; spanId: string; attributes: [string, string][] }[];
  logs: { at: number; level: string; msg: string }[];
  flags: SpanFlag[];
  /** Where the span's code is: code.filepath/code.lineno, or the route whose handler it is. */
  source?: { file: string; line: number } | { route: string };
}
