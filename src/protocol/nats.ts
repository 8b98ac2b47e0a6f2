/**
 * Everything that crosses NATS between pods (the agent), the language server, the debug adapter and `sg`:
 * subject names and message schemas. Consumers validate every message with these schemas on entry; producers
 * build them through the exported types.
 *
 * Telemetry goes to one JetStream stream, one subject per kind, service and pod:
 *   sg.tel.<kind>.<service>.<pod>     kind = metrics | spans | events | logs | truth
 * Control is request/reply on per-pod subjects, served as endpoints of a NATS micro service named `sg-pod` so
 * that `$SRV.PING.sg-pod` and `$SRV.INFO.sg-pod` list every live pod:
 *   sg.ctl.<pod>.health | profile | incident
 */
import * as z from 'zod/mini';
import { compiledObject } from './schema';
import { DashboardQuerySchema } from './analytics';

export const PROTOCOL_VERSION = 1;
export const TELEMETRY_STREAM = 'SG_TELEMETRY';
export const TELEMETRY_SUBJECTS = 'sg.tel.>';
export const DISCOVERY_SERVICE = 'sg-pod';
export const DEAD_LETTER_PREFIX = 'sg.dlq';
export const DEAD_LETTER_STREAM = 'SG_DEADLETTER';

// --- Streams the server owns ----------------------------------------------------------------------------------

/**
 * The JetStream streams of the product. The server (or `sg streams init`, for operators who pre-create them)
 * creates or updates them; pods only publish to their own subjects and never need the JetStream API.
 */
export interface StreamSpec {
  name: string;
  subjects: string[];
  description: string;
  /** How long messages are kept, ms. */
  maxAgeMs: number;
  maxBytes: number;
  /** Largest message accepted, bytes. */
  maxMsgSize: number;
  /** Publishes with the same Nats-Msg-Id within this window are stored once, ms. */
  duplicateWindowMs: number;
}

export const TELEMETRY_STREAM_SPEC: StreamSpec = {
  name: TELEMETRY_STREAM,
  subjects: [TELEMETRY_SUBJECTS],
  description: 'StreamGate pod telemetry: metrics, spans, events, logs, incident ground truth',
  maxAgeMs: 24 * 3600_000,
  maxBytes: 4 * 1024 ** 3,
  maxMsgSize: 1024 * 1024,
  duplicateWindowMs: 120_000,
};

export const DEAD_LETTER_STREAM_SPEC: StreamSpec = {
  name: DEAD_LETTER_STREAM,
  subjects: [`${DEAD_LETTER_PREFIX}.>`],
  description: 'Telemetry the server could not accept, with the reason in the Sg-Dlq-Reason header',
  maxAgeMs: 7 * 24 * 3600_000,
  maxBytes: 256 * 1024 ** 2,
  maxMsgSize: 1024 * 1024,
  duplicateWindowMs: 120_000,
};

/** The durable consumer every ingesting server shares: JetStream spreads the messages over them. */
export const INGEST_CONSUMER = 'sg-ingest';

/**
 * A rejected message goes to `sg.dlq.<kind>.<service>.<pod>` (the parts of its own subject, `unknown` where the
 * subject is not a telemetry subject) with these headers and its original bytes.
 */
export const DEAD_LETTER_HEADERS = {
  reason: 'Sg-Dlq-Reason',
  subject: 'Sg-Dlq-Subject',
  streamSeq: 'Sg-Dlq-Stream-Seq',
} as const;

export function deadLetterSubject(originalSubject: string): string {
  const parsed = parseTelemetrySubject(originalSubject);
  if (!parsed) return `${DEAD_LETTER_PREFIX}.unknown`;
  return `${DEAD_LETTER_PREFIX}.${parsed.kind}.${subjectToken(parsed.service)}.${subjectToken(parsed.pod)}`;
}

// --- The server's own service ---------------------------------------------------------------------------------

/** Servers register this micro service so the CLI and editors find a shared server with the same --nats. */
export const SERVER_SERVICE = 'sg-server';
/**
 * The stored profiles (src/protocol/profiles.ts): `profiles` takes a ProfileSelection and `profile-range` a
 * ProfileRangeRequest, both answered as a chunked gzipped pprof (PROFILE_HEADERS, with the summary as JSON in
 * Sg-Profile-Summary); `regressions` and `recommendations` answer JSON.
 */
export const PROFILE_SERVER_OPS = ['profiles', 'profile-range', 'regressions', 'recommendations'] as const;

export const SERVER_OPS = ['summary', 'series', 'view', 'subscribe', 'unsubscribe', 'query', 'catalog', 'traces', 'trace', 'logTemplates', 'logTemplate', 'forecast', 'predictions', 'alerts', ...PROFILE_SERVER_OPS] as const;
export type ServerOp = (typeof SERVER_OPS)[number];

/**
 * `sg.srv.<op>`: any server of the group answers (queue group). summary takes a SummaryRequest, series a
 * SeriesQuery, view a DashboardQuery (src/protocol/analytics.ts); subscribe starts live pushes of a view to the
 * subscriber's inbox, renewed by sending it again within the lease; unsubscribe ends them. query runs an SGQL
 * QueryRequest (src/protocol/query.ts) on the server's store and answers a QueryAnswer; catalog answers the
 * store's QueryCatalog (metric names, labels and values, for completion); traces takes a TraceSearchQuery and
 * trace a TraceGetRequest (src/protocol/traces.ts); logTemplates a LogTemplatesQuery and logTemplate a
 * LogTemplateQuery (src/protocol/logs.ts); forecast a ForecastRequest, predictions a PredictionsQuery, alerts an
 * AlertsQuery (src/protocol/predict.ts).
 */
export function serverSubject(op: ServerOp): string {
  return `sg.srv.${op}`;
}

/** What a server says of itself in its sg-server metadata (strings, as the services API requires). */
export interface ServerMetadata {
  store: string;
  /** "true" when it writes telemetry to its store. */
  ingest: string;
  startedAt: string;
}

const Subject = z.string().check(z.regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'a NATS subject without wildcards'));

export const SubscribeRequestSchema = z.object({
  query: DashboardQuerySchema,
  /** Where the pushes go. */
  inbox: Subject,
  /** Pushes stop this long after the last subscribe for this inbox, ms. */
  leaseMs: z.number().check(z.int(), z.minimum(1000), z.maximum(300_000)),
});
export type SubscribeRequest = z.infer<typeof SubscribeRequestSchema>;
export const UnsubscribeRequestSchema = z.object({ inbox: Subject });

export const TELEMETRY_KINDS = ['metrics', 'spans', 'events', 'logs', 'truth'] as const;
export type TelemetryKind = (typeof TELEMETRY_KINDS)[number];

export const CONTROL_OPS = ['health', 'profile', 'incident'] as const;
export type ControlOp = (typeof CONTROL_OPS)[number];

/** A NATS subject token: no dots, wildcards or whitespace. Pod and service names are made safe with this. */
export function subjectToken(value: string): string {
  const cleaned = value.replace(/[.*>\s]/g, '_');
  if (!cleaned) throw new Error('a subject token cannot be empty');
  return cleaned;
}

export function telemetrySubject(kind: TelemetryKind, service: string, pod: string): string {
  return `sg.tel.${kind}.${subjectToken(service)}.${subjectToken(pod)}`;
}

export function controlSubject(pod: string, op: ControlOp): string {
  return `sg.ctl.${subjectToken(pod)}.${op}`;
}

/** Parses sg.tel.<kind>.<service>.<pod>; undefined when the subject is not a telemetry subject. */
export function parseTelemetrySubject(subject: string): { kind: TelemetryKind; service: string; pod: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 5 || parts[0] !== 'sg' || parts[1] !== 'tel') return undefined;
  const kind = parts[2] as TelemetryKind;
  if (!TELEMETRY_KINDS.includes(kind)) return undefined;
  return { kind, service: parts[3]!, pod: parts[4]! };
}

// --- Telemetry ------------------------------------------------------------------------------------------------

/**
 * Labels and attributes are checked in one pass over the object, not as a record of per-value schemas: at 100k
 * events/s a union per attribute value cost as much as the rest of an event's validation together.
 */
function isFlatObject(value: unknown, isValue: (v: unknown) => boolean): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key of Object.keys(value)) if (!isValue((value as Record<string, unknown>)[key])) return false;
  return true;
}
const isLabelValue = (v: unknown) => typeof v === 'string';
const isAttrValue = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const Labels = z.custom<Record<string, string>>((v) => isFlatObject(v, isLabelValue), { message: 'labels must be an object of strings' });
const Attrs = z.custom<Record<string, string | number | boolean>>((v) => isFlatObject(v, isAttrValue), {
  message: 'attrs must be an object of strings, finite numbers and booleans',
});

/** Fields every telemetry message carries. `id` is unique per message (the JetStream Nats-Msg-Id too). */
const envelope = {
  v: z.literal(PROTOCOL_VERSION),
  id: z.string().check(z.minLength(1)),
  service: z.string().check(z.minLength(1)),
  pod: z.string().check(z.minLength(1)),
  /** Epoch milliseconds when the message was built. */
  ts: z.number(),
  /** Per pod and kind, +1 per message: gaps tell a consumer what it missed. */
  seq: z.number().check(z.int(), z.nonnegative()),
};

export const CounterPointSchema = compiledObject({
  name: z.string(),
  labels: z.optional(Labels),
  /** Since the pod started. */
  total: z.number(),
  /** Since the previous flush. */
  delta: z.number(),
});
export const GaugePointSchema = compiledObject({ name: z.string(), labels: z.optional(Labels), value: z.number() });
export const HistogramPointSchema = compiledObject({
  name: z.string(),
  labels: z.optional(Labels),
  /** Observations in this interval only. */
  count: z.number(),
  sum: z.number(),
  min: z.number(),
  max: z.number(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  /** DDSketch (relative accuracy 1 %) of this interval, protobuf, base64: mergeable across pods and time. */
  sketch: z.string(),
});

export const MetricsBatchSchema = compiledObject({
  ...envelope,
  kind: z.literal('metrics'),
  intervalMs: z.number(),
  counters: z.array(CounterPointSchema),
  gauges: z.array(GaugePointSchema),
  histograms: z.array(HistogramPointSchema),
});
export type MetricsBatch = z.infer<typeof MetricsBatchSchema>;
export type CounterPoint = z.infer<typeof CounterPointSchema>;
export type GaugePoint = z.infer<typeof GaugePointSchema>;
export type HistogramPoint = z.infer<typeof HistogramPointSchema>;

/**
 * OTLP/JSON attribute value. Arrays, key-value lists and bytes (which OTLP senders other than our agent use)
 * are kept as they came and stored as JSON text; their inner values are checked where they are read.
 */
const OtlpAnyValue = compiledObject({
  stringValue: z.optional(z.string()),
  intValue: z.optional(z.union([z.string(), z.number()])),
  doubleValue: z.optional(z.number()),
  boolValue: z.optional(z.boolean()),
  arrayValue: z.optional(compiledObject({ values: z.optional(z.array(z.unknown())) })),
  kvlistValue: z.optional(compiledObject({ values: z.optional(z.array(z.unknown())) })),
  bytesValue: z.optional(z.string()),
});
const OtlpKeyValue = compiledObject({ key: z.string(), value: OtlpAnyValue });
/** Trace and span ids: hex in either case (stored lowercase). */
const TraceIdSchema = z.string().check(z.regex(/^[0-9a-fA-F]{32}$/, 'traceId must be 32 hex digits'));
const SpanIdSchema = z.string().check(z.regex(/^[0-9a-fA-F]{16}$/, 'spanId must be 16 hex digits'));
export const OtlpLinkSchema = compiledObject({
  traceId: TraceIdSchema,
  spanId: SpanIdSchema,
  traceState: z.optional(z.string()),
  attributes: z.optional(z.array(OtlpKeyValue)),
});
export type OtlpLink = z.infer<typeof OtlpLinkSchema>;
export const OtlpSpanSchema = compiledObject({
  traceId: TraceIdSchema,
  spanId: SpanIdSchema,
  parentSpanId: z.optional(z.string()),
  name: z.string(),
  kind: z.number(),
  startTimeUnixNano: z.string(),
  endTimeUnixNano: z.string(),
  attributes: z.array(OtlpKeyValue),
  status: compiledObject({ code: z.number(), message: z.optional(z.string()) }),
  events: z.optional(z.array(compiledObject({ name: z.string(), timeUnixNano: z.string(), attributes: z.optional(z.array(OtlpKeyValue)) }))),
  links: z.optional(z.array(OtlpLinkSchema)),
  /** What the sender dropped before sending (OTLP's counts), shown with the span. */
  droppedAttributesCount: z.optional(z.number()),
  droppedEventsCount: z.optional(z.number()),
  droppedLinksCount: z.optional(z.number()),
});
export type OtlpSpan = z.infer<typeof OtlpSpanSchema>;
export type OtlpKeyValueT = z.infer<typeof OtlpKeyValue>;

export const SpanBatchSchema = compiledObject({
  ...envelope,
  kind: z.literal('spans'),
  /** OTLP/JSON ExportTraceServiceRequest shape. */
  resourceSpans: z.array(
    compiledObject({
      resource: compiledObject({ attributes: z.array(OtlpKeyValue) }),
      scopeSpans: z.array(compiledObject({ scope: compiledObject({ name: z.string(), version: z.optional(z.string()) }), spans: z.array(OtlpSpanSchema) })),
    }),
  ),
});
export type SpanBatch = z.infer<typeof SpanBatchSchema>;

/**
 * The business events of a StreamGate pod. The funnel of a session is session.started (connect) →
 * session.subscribed (its first subscription) → session.published (its first message).
 */
export const BUSINESS_EVENT_TYPES = [
  'session.started',
  'session.ended',
  'session.subscribed',
  'session.published',
  'stream.opened',
  'stream.closed',
  'auth.failed',
  'rate.limited',
] as const;
export type BusinessEventType = (typeof BUSINESS_EVENT_TYPES)[number];

export const BusinessEventSchema = compiledObject({
  /** Unique per event: consumers de-duplicate on it. */
  id: z.string(),
  ts: z.number(),
  type: z.enum(BUSINESS_EVENT_TYPES),
  tenant: z.optional(z.string()),
  session: z.optional(z.string()),
  stream: z.optional(z.string()),
  traceId: z.optional(z.string()),
  attrs: z.optional(Attrs),
});
export type BusinessEvent = z.infer<typeof BusinessEventSchema>;

export const EventBatchSchema = compiledObject({ ...envelope, kind: z.literal('events'), events: z.array(BusinessEventSchema) });
export type EventBatch = z.infer<typeof EventBatchSchema>;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const LogSiteSchema = compiledObject({
  /** Absolute path or path relative to the pod's working directory. */
  file: z.string().check(z.minLength(1), z.maxLength(4096)),
  /** 1-based. */
  line: z.number().check(z.int(), z.minimum(1)),
  /** 1-based, when known. */
  column: z.optional(z.number().check(z.int(), z.minimum(1))),
  function: z.optional(z.string().check(z.maxLength(512))),
});
export type LogSite = z.infer<typeof LogSiteSchema>;
export const LogRecordSchema = compiledObject({
  id: z.string(),
  ts: z.number(),
  level: z.enum(LOG_LEVELS),
  msg: z.string(),
  traceId: z.optional(z.string()),
  spanId: z.optional(z.string()),
  attrs: z.optional(Attrs),
  /** Where the logging call is in the pod's source (after source maps), when the agent can tell. */
  site: z.optional(LogSiteSchema),
});
export type LogRecord = z.infer<typeof LogRecordSchema>;
export const LogBatchSchema = compiledObject({ ...envelope, kind: z.literal('logs'), logs: z.array(LogRecordSchema) });
export type LogBatch = z.infer<typeof LogBatchSchema>;

export const INCIDENT_KINDS = ['latency-spike', 'error-burst', 'cpu-hotspot', 'memory-leak', 'crash-loop', 'slow-dependency'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** Ground truth of an injected incident, so alerts and anomaly detectors can be scored against it. */
export const IncidentTruthSchema = z.object({
  ...envelope,
  kind: z.literal('truth'),
  incident: z.object({
    id: z.string(),
    type: z.enum(INCIDENT_KINDS),
    pod: z.string(),
    phase: z.enum(['start', 'end']),
    /** Epoch ms. */
    start: z.number(),
    /** Planned end (start message) or actual end (end message), epoch ms. */
    end: z.number(),
  }),
});
export type IncidentTruth = z.infer<typeof IncidentTruthSchema>;

export const TelemetryMessageSchema = z.discriminatedUnion('kind', [MetricsBatchSchema, SpanBatchSchema, EventBatchSchema, LogBatchSchema, IncidentTruthSchema]);
export type TelemetryMessage = z.infer<typeof TelemetryMessageSchema>;

// --- Discovery ------------------------------------------------------------------------------------------------

/**
 * What a pod puts in its micro service metadata (strings only, as the services API requires). Labels are
 * flattened as `label.<name>`.
 */
export interface PodMetadata {
  service: string;
  pod: string;
  runtime: 'node' | 'go';
  startedAt: string;
  agentVersion: string;
  /** Base URL of Go-style pprof endpoints, when the pod serves them. */
  pprof?: string;
  [label: `label.${string}`]: string;
}

export interface PodInfo {
  id: string;
  service: string;
  pod: string;
  version: string;
  runtime: 'node' | 'go';
  startedAt: number;
  agentVersion: string;
  labels: Record<string, string>;
  pprof?: string;
}

/** Reads a $SRV.INFO / $SRV.PING answer of an sg-pod service; undefined when it is not one of ours. */
export function podInfoFromService(identity: { id: string; name: string; version: string; metadata?: Record<string, string> }): PodInfo | undefined {
  const m = identity.metadata;
  if (identity.name !== DISCOVERY_SERVICE || !m?.service || !m.pod) return undefined;
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(m)) if (key.startsWith('label.')) labels[key.slice(6)] = value;
  return {
    id: identity.id,
    service: m.service,
    pod: m.pod,
    version: identity.version,
    runtime: m.runtime === 'go' ? 'go' : 'node',
    startedAt: Date.parse(m.startedAt ?? '') || 0,
    agentVersion: m.agentVersion ?? 'unknown',
    labels,
    ...(m.pprof ? { pprof: m.pprof } : {}),
  };
}

/** `service=gateway,region=eu` → matcher. `service` and `pod` match those fields; anything else a label. */
export function parseSelector(text: string): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new Error(`a selector is key=value[,key=value…], not "${part}"`);
    selector[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return selector;
}

export function podMatches(pod: PodInfo, selector: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([key, value]) => {
    if (key === 'service') return pod.service === value;
    if (key === 'pod') return pod.pod === value;
    if (key === 'version') return pod.version === value;
    return pod.labels[key] === value;
  });
}

// --- Control --------------------------------------------------------------------------------------------------

export const HealthReplySchema = z.object({
  pod: z.string(),
  service: z.string(),
  ts: z.number(),
  uptimeS: z.number(),
  cpuPercent: z.number(),
  rssBytes: z.number(),
  heapUsedBytes: z.number(),
  /** Node pods; absent where it cannot be measured (a Go pod). */
  eventLoopDelayP99Ms: z.optional(z.number()),
  /** Node pods' active handles; absent where it cannot be measured. */
  activeHandles: z.optional(z.number()),
  /** Epoch ms of the last telemetry flush that reached NATS (0: none yet). */
  lastPublishAt: z.number(),
  published: z.record(z.string(), z.number()),
  dropped: z.record(z.string(), z.number()),
  buffered: z.number(),
  /** The longest the agent held the event loop in one go since the pod started, ms. */
  agentLongestTaskMs: z.optional(z.number()),
  /** Why telemetry was last dropped for good (a message larger than the server accepts), if it ever was. */
  lastPublishError: z.optional(z.string()),
});
export type HealthReply = z.infer<typeof HealthReplySchema>;

/**
 * A pod and how it is: discovery plus its last health answer, or why there is none. One shape for the
 * server's fleet poll, the Fleet view and `sg pods --json` (an array of these; see docs/cli.md).
 */
export interface PodStatus {
  info: PodInfo;
  health?: HealthReply;
  healthError?: string;
  /** Epoch ms when this was observed. */
  seenAt: number;
  /** The pod's requests over the last minute from the server's live windows (absent where nobody computed them). */
  live?: { rps: number; p99: number | null; errorRate: number };
}

export const MAX_PROFILE_SECONDS = 300;
export const ProfileRequestSchema = z.object({
  type: z.enum(['cpu', 'heap'], { error: 'profile type must be "cpu" or "heap"' }),
  /** CPU profiles only: how long to sample. */
  seconds: z.optional(
    z.number({ error: 'seconds must be a number' }).check(
      z.int('seconds must be a whole number'),
      z.minimum(1, 'seconds must be at least 1'),
      z.maximum(MAX_PROFILE_SECONDS, `seconds must be at most ${MAX_PROFILE_SECONDS}`),
    ),
  ),
  /**
   * CPU profiles only: one pprof sample per CPU tick with its time (num label `sg.time_offset`, nanoseconds
   * after the profile's time_nanos), so the samples of any time range can be picked out. Default false.
   */
  timeline: z.optional(z.boolean()),
});
export type ProfileRequest = z.infer<typeof ProfileRequestSchema>;

/**
 * A profile is answered as several messages on the request's reply subject (so it may exceed the server's
 * max payload): chunks carrying these headers, then an empty message that ends the stream. An error is one
 * message with the micro service error headers.
 */
export const PROFILE_HEADERS = {
  chunk: 'Sg-Chunk', // "<index>/<count>", index from 0
  sha256: 'Sg-Sha256', // of the whole gzipped profile
  type: 'Sg-Profile-Type',
  /** On answers of stored profiles: what the selection held, as JSON (SelectionSummary or ProfileRangeSummary). */
  summary: 'Sg-Profile-Summary',
} as const;

export const IncidentRequestSchema = z.object({
  type: z.enum(INCIDENT_KINDS),
  /** How long the incident lasts, ms. */
  durationMs: z.number().check(z.int(), z.minimum(1000), z.maximum(24 * 3600_000)),
});
export type IncidentRequest = z.infer<typeof IncidentRequestSchema>;
export const IncidentReplySchema = z.object({ id: z.string(), pod: z.string(), type: z.enum(INCIDENT_KINDS), start: z.number(), end: z.number() });
export type IncidentReply = z.infer<typeof IncidentReplySchema>;

// --- Debugging --------------------------------------------------------------------------------------------------
//
// Debug control is on subjects of its own, apart from health and profiles, so a NATS permission config can let
// only a debugger role set breakpoints (docs/debugging.md has the sample):
//   sg.dbg.<pod>.sync | eval                request/reply to one pod (served as endpoints of its sg-pod service)
//   sg.dbgevt.<session>.<pod>               snapshots, logpoint lines and breakpoint state, for one session only
//   sg.audit.debug.<pod>                    every debug action, kept in the SG_AUDIT stream

export const DEBUG_OPS = ['sync', 'eval'] as const;
export type DebugOp = (typeof DEBUG_OPS)[number];
export const AUDIT_STREAM = 'SG_AUDIT';
export const AUDIT_SUBJECTS = 'sg.audit.>';

/** The debug audit trail: owned by the server like the others, so pods need no JetStream API to keep it. */
export const AUDIT_STREAM_SPEC: StreamSpec = {
  name: AUDIT_STREAM,
  subjects: [AUDIT_SUBJECTS],
  description: 'Every debug action on a pod (who set which breakpoint, logpoint or evaluation, and when)',
  maxAgeMs: 90 * 24 * 3600_000,
  maxBytes: 1024 ** 3,
  maxMsgSize: 1024 * 1024,
  duplicateWindowMs: 120_000,
};

export function debugSubject(pod: string, op: DebugOp): string {
  return `sg.dbg.${subjectToken(pod)}.${op}`;
}

export function debugEventSubject(session: string, pod: string): string {
  return `sg.dbgevt.${subjectToken(session)}.${subjectToken(pod)}`;
}

/** Every pod's events of one session: what an adapter subscribes to. */
export function debugSessionSubjects(session: string): string {
  return `sg.dbgevt.${subjectToken(session)}.*`;
}

export function auditSubject(pod: string): string {
  return `sg.audit.debug.${subjectToken(pod)}`;
}

const positiveInt = (what: string, max: number) =>
  z.number({ error: `${what} must be a number` }).check(z.int(`${what} must be a whole number`), z.minimum(1, `${what} must be at least 1`), z.maximum(max, `${what} must be at most ${max}`));

/** What one capture may take. Every field has a default (DEFAULT_CAPTURE_LIMITS) and can be set per breakpoint. */
export const CaptureLimitsSchema = z.object({
  /** Frames in the call stack (default 20). */
  maxFrames: z.optional(positiveInt('maxFrames', 200)),
  /** Of those, how many (from the top) with their locals and arguments (default 5). */
  maxFramesWithLocals: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(50))),
  /** Object nesting captured below a local (default 3). */
  maxDepth: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(20))),
  /** Properties (or elements, entries) per object (default 20). */
  maxProperties: z.optional(positiveInt('maxProperties', 1000)),
  /** Characters per string (default 256). */
  maxStringLength: z.optional(positiveInt('maxStringLength', 65_536)),
  /** Bytes of one snapshot as JSON (default 32 kB). */
  maxSnapshotBytes: z.optional(z.number().check(z.int(), z.minimum(1024, 'maxSnapshotBytes must be at least 1024'), z.maximum(512 * 1024, 'maxSnapshotBytes must be at most 524288'))),
  /** Hard budget of one capture in ms, after which it stops and says what it left out (default 5). */
  maxCaptureMs: z.optional(z.number().check(z.positive('maxCaptureMs must be positive'), z.maximum(100, 'maxCaptureMs must be at most 100'))),
  /**
   * Pause for every snapshot (default false). A pause is what gives outer frames their locals, and costs the
   * pod ~0.5–2 ms because V8 builds every frame's scopes; without it, after a breakpoint's first snapshot on a
   * pod, snapshots are taken inside the breakpoint's condition: the top frame's locals, `this` and the stack.
   * Breakpoints with watches always pause (watches are evaluated with V8's side-effect check).
   */
  pauseEveryHit: z.optional(z.boolean()),
});
export type CaptureLimits = z.infer<typeof CaptureLimitsSchema>;
export const DEFAULT_CAPTURE_LIMITS: Required<CaptureLimits> = {
  maxFrames: 20,
  maxFramesWithLocals: 5,
  maxDepth: 3,
  maxProperties: 20,
  maxStringLength: 256,
  maxSnapshotBytes: 32 * 1024,
  maxCaptureMs: 5,
  pauseEveryHit: false,
};
export const DEFAULT_SNAPSHOTS_PER_MINUTE = 10;
export const DEFAULT_LOGS_PER_SECOND = 50;
export const DEFAULT_BREAKPOINT_TTL_MS = 60 * 60_000;
export const DEFAULT_CPU_BUDGET_PERCENT = 1;
/** How long a pod keeps a session's breakpoints without hearing from it (the adapter re-syncs every 10 s). */
export const DEFAULT_SESSION_LEASE_MS = 45_000;

export const BreakpointSpecSchema = z.object({
  /** Unique within the session; a changed breakpoint keeps its id. */
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  kind: z.enum(['snapshot', 'logpoint']),
  /** The source file as the workspace has it: relative (demo/gateway/server.ts) or absolute on the pod. */
  file: z.string().check(z.minLength(1, 'file is empty')),
  /** 1-based line in the source (TypeScript) file. */
  line: positiveInt('line', 10_000_000),
  condition: z.optional(z.string()),
  /** `>= 10`, `% 100 == 0`, `== 5`, or a number N (the same as >= N). */
  hitCondition: z.optional(z.string()),
  /** Logpoints: text with {expression} parts. */
  logMessage: z.optional(z.string()),
  /** Expressions evaluated (side-effect free) in the top frame with every snapshot. */
  watches: z.optional(z.array(z.string())),
  limits: z.optional(CaptureLimitsSchema),
  snapshotsPerMinute: z.optional(positiveInt('snapshotsPerMinute', 1_000_000)),
  logsPerSecond: z.optional(positiveInt('logsPerSecond', 100_000)),
  /** Epoch ms after which the pod removes the breakpoint. */
  expiresAt: z.number(),
  /** Percent of one core this breakpoint may cost the pod over a 10 s window (default 1). */
  cpuBudgetPercent: z.optional(z.number().check(z.positive(), z.maximum(100))),
  /** SHA-256 of the workspace's copy of the file, for the version-skew warning. */
  sourceHash: z.optional(z.string()),
});
export type BreakpointSpec = z.infer<typeof BreakpointSpecSchema>;

export const EXCEPTION_MODES = ['none', 'uncaught', 'all'] as const;
export type ExceptionMode = (typeof EXCEPTION_MODES)[number];

/** The whole set of one session's breakpoints on one pod; the pod adds, changes and removes to match. */
export const DebugSyncRequestSchema = z.object({
  session: z.string().check(z.regex(/^[A-Za-z0-9_-]{4,64}$/, 'session must be 4-64 letters, digits, - or _')),
  /** Who asked: the NATS user or a configured identity, for the audit trail. */
  identity: z.string().check(z.minLength(1, 'identity is empty'), z.maxLength(200)),
  breakpoints: z.array(BreakpointSpecSchema).check(z.maxLength(200, 'at most 200 breakpoints per session')),
  exceptions: z.optional(
    z.object({
      mode: z.enum(EXCEPTION_MODES),
      limits: z.optional(CaptureLimitsSchema),
      snapshotsPerMinute: z.optional(positiveInt('snapshotsPerMinute', 1_000_000)),
    }),
  ),
  /** How long the pod keeps this session's breakpoints if it hears nothing more (default 45 s). */
  leaseMs: z.optional(z.number().check(z.int(), z.minimum(1000), z.maximum(24 * 3600_000))),
  /**
   * The snapshots and log lines the session has from this pod without a gap: the pod sends again what it still
   * holds after `seq` of its run `boot` (what went out while a NATS restart had the session unsubscribed).
   */
  received: z.optional(z.object({ boot: z.string(), seq: z.number().check(z.int(), z.minimum(0)) })),
});
export type DebugSyncRequest = z.infer<typeof DebugSyncRequestSchema>;

export const BREAKPOINT_STATES = ['installed', 'pending', 'rejected', 'disabled', 'expired'] as const;
export type BreakpointStateName = (typeof BREAKPOINT_STATES)[number];

export const BreakpointStateSchema = z.object({
  id: z.string(),
  state: z.enum(BREAKPOINT_STATES),
  /** Why it is not installed, or a warning about it (a condition that throws, an ambiguous file). */
  message: z.optional(z.string()),
  /** The source line it was installed at (the next line with code when the asked line has none). */
  line: z.optional(z.number()),
  /** The pod's file it resolved to. */
  resolvedFile: z.optional(z.string()),
  /** SHA-256 of the pod's copy of that source (from its source map), for the version-skew warning. */
  sourceHash: z.optional(z.string()),
});
export type BreakpointState = z.infer<typeof BreakpointStateSchema>;

export const DebugSyncReplySchema = z.object({
  pod: z.string(),
  session: z.string(),
  breakpoints: z.array(BreakpointStateSchema),
  /** Exception snapshots as the pod has them: on, off, or disabled (with why). */
  exceptions: z.optional(z.object({ mode: z.enum(EXCEPTION_MODES), message: z.optional(z.string()) })),
  /** The pod's run and the last snapshot or log sequence number it sent the session (after any resent). */
  sent: z.optional(z.object({ boot: z.string(), seq: z.number() })),
});
export type DebugSyncReply = z.infer<typeof DebugSyncReplySchema>;

/**
 * A captured value. JSON primitives stand for themselves (a string that was cut is a `string` node); anything
 * else is a node with `t`. Values of secret-looking names or shapes are the string "[redacted]".
 */
export type CapturedValue =
  | string
  | number
  | boolean
  | null
  | { t: 'undefined' }
  | { t: 'string'; v: string; length: number }
  | { t: 'number'; v: string }
  | { t: 'bigint'; v: string }
  | { t: 'symbol'; v: string }
  | { t: 'function'; name: string }
  | { t: 'object'; class: string; props: [string, CapturedValue][]; more?: number; size?: number }
  | { t: 'array'; class: string; length: number; items: CapturedValue[]; more?: number }
  | { t: 'map'; class: string; size: number; entries: [CapturedValue, CapturedValue][]; more?: number }
  | { t: 'set'; class: string; size: number; items: CapturedValue[]; more?: number }
  | { t: 'bytes'; class: string; length: number; hex: string }
  | { t: 'error'; class: string; message: string; stack?: string }
  | { t: 'date'; v: string }
  | { t: 'regexp'; v: string }
  | { t: 'promise'; class: string }
  | { t: 'proxy' }
  | { t: 'getter' }
  | { t: 'cycle'; class: string }
  | { t: 'deep'; class: string; size?: number }
  | { t: 'omitted'; reason: string }
  | { t: 'thrown'; message: string };

const CapturedValueSchema: z.ZodMiniType<CapturedValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.object({ t: z.literal('undefined') }),
    z.object({ t: z.literal('string'), v: z.string(), length: z.number() }),
    z.object({ t: z.enum(['number', 'bigint', 'symbol', 'date', 'regexp']), v: z.string() }),
    z.object({ t: z.literal('function'), name: z.string() }),
    z.object({ t: z.literal('object'), class: z.string(), props: z.array(z.tuple([z.string(), CapturedValueSchema])), more: z.optional(z.number()), size: z.optional(z.number()) }),
    z.object({ t: z.literal('array'), class: z.string(), length: z.number(), items: z.array(CapturedValueSchema), more: z.optional(z.number()) }),
    z.object({ t: z.literal('map'), class: z.string(), size: z.number(), entries: z.array(z.tuple([CapturedValueSchema, CapturedValueSchema])), more: z.optional(z.number()) }),
    z.object({ t: z.literal('set'), class: z.string(), size: z.number(), items: z.array(CapturedValueSchema), more: z.optional(z.number()) }),
    z.object({ t: z.literal('bytes'), class: z.string(), length: z.number(), hex: z.string() }),
    z.object({ t: z.literal('error'), class: z.string(), message: z.string(), stack: z.optional(z.string()) }),
    z.object({ t: z.enum(['promise', 'cycle']), class: z.string() }),
    z.object({ t: z.enum(['proxy', 'getter']) }),
    z.object({ t: z.literal('deep'), class: z.string(), size: z.optional(z.number()) }),
    z.object({ t: z.literal('omitted'), reason: z.string() }),
    z.object({ t: z.literal('thrown'), message: z.string() }),
  ]),
);
export { CapturedValueSchema };

export const CapturedFrameSchema = z.object({
  function: z.string(),
  /** Source file on the pod (after source maps), or the script URL when it has none. */
  file: z.string(),
  /** 1-based, in `file`. */
  line: z.number(),
  column: z.number(),
  /** Locals and arguments, in scope order (innermost first); absent for frames past maxFramesWithLocals. */
  locals: z.optional(z.array(z.tuple([z.string(), CapturedValueSchema]))),
  this: z.optional(CapturedValueSchema),
});
export type CapturedFrame = z.infer<typeof CapturedFrameSchema>;

const eventEnvelope = {
  v: z.literal(PROTOCOL_VERSION),
  session: z.string(),
  pod: z.string(),
  service: z.string(),
  /** Epoch ms of the hit (snapshot, log) or of the change (status). */
  at: z.number(),
  /** Snapshots and log lines: the pod's run, and a number counting what it sent the session (gaps are losses). */
  boot: z.optional(z.string()),
  seq: z.optional(z.number()),
};

export const SnapshotEventSchema = z.object({
  ...eventEnvelope,
  kind: z.literal('snapshot'),
  id: z.string(),
  /** The breakpoint that took it; absent for exception snapshots. */
  breakpointId: z.optional(z.string()),
  reason: z.enum(['breakpoint', 'exception']),
  version: z.string(),
  frames: z.array(CapturedFrameSchema),
  watches: z.array(z.tuple([z.string(), CapturedValueSchema])),
  exception: z.optional(CapturedValueSchema),
  uncaught: z.optional(z.boolean()),
  /** Pod time of the capture, from the hit to the snapshot built, ms. */
  captureMs: z.number(),
  /** CPU time the pod spent on it over the same span, ms (what the CPU budget is charged). */
  captureCpuMs: z.optional(z.number()),
  /** What the limits or the time budget left out, in words. */
  leftOut: z.array(z.string()),
  bytes: z.number(),
});
export type SnapshotEvent = z.infer<typeof SnapshotEventSchema>;

export const LogEventSchema = z.object({ ...eventEnvelope, kind: z.literal('log'), breakpointId: z.string(), text: z.string() });
export type LogEvent = z.infer<typeof LogEventSchema>;

export const BreakpointStatusEventSchema = z.object({
  ...eventEnvelope,
  kind: z.literal('status'),
  breakpoint: z.optional(BreakpointStateSchema),
  exceptions: z.optional(z.object({ mode: z.enum(EXCEPTION_MODES), message: z.optional(z.string()) })),
});
export type BreakpointStatusEvent = z.infer<typeof BreakpointStatusEventSchema>;

export const DebugEventSchema = z.discriminatedUnion('kind', [SnapshotEventSchema, LogEventSchema, BreakpointStatusEventSchema]);
export type DebugEvent = z.infer<typeof DebugEventSchema>;

export const DebugEvalRequestSchema = z.object({
  session: z.string().check(z.minLength(1)),
  identity: z.string().check(z.minLength(1)),
  expression: z.string().check(z.minLength(1, 'the expression is empty')),
});
export type DebugEvalRequest = z.infer<typeof DebugEvalRequestSchema>;
export const DebugEvalReplySchema = z.object({ value: CapturedValueSchema });
export type DebugEvalReply = z.infer<typeof DebugEvalReplySchema>;

export const AUDIT_ACTIONS = ['set', 'change', 'remove', 'refused', 'budget-exceeded', 'expired', 'session-expired', 'eval', 'exceptions'] as const;
export const AuditEventSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  id: z.string(),
  ts: z.number(),
  pod: z.string(),
  service: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  /** Who asked, as the session said (its NATS user or configured identity); "pod" for what the pod decided. */
  who: z.string(),
  session: z.string(),
  breakpoint: z.optional(z.object({ id: z.string(), kind: z.enum(['snapshot', 'logpoint']), file: z.string(), line: z.number(), condition: z.optional(z.string()), logMessage: z.optional(z.string()) })),
  detail: z.optional(z.string()),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;
