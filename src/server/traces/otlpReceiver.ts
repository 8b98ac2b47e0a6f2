/**
 * OTLP/HTTP trace ingest (`POST /v1/traces`, JSON or protobuf, gzip or not) for any OpenTelemetry-instrumented
 * service. Spans are checked one by one, turned into the pods' own span messages and published to the
 * telemetry stream, so they reach the store through the same exactly-once ingest as the pods' spans; the
 * exporter gets 200 only once JetStream holds them (503 otherwise, which OTLP exporters retry).
 *
 * Nothing is dropped silently: a span that cannot be read is rejected and named in the response's
 * `partialSuccess` (and counted), an attribute value too long for a telemetry message is shortened with a
 * note on the span (`sg.shortened_attributes`) and counted, and the sender is told.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { NatsConnection } from 'nats';
import { errorMessage, type Logger } from '../../common/logger';
import { OtlpSpanSchema, PROTOCOL_VERSION, telemetrySubject, TELEMETRY_STREAM_SPEC, type OtlpSpan, type SpanBatch } from '../../protocol/nats';
import { describeZodError } from '../../protocol/schema';
import { decodeTraceRequest, encodeTraceResponse, ProtobufError } from './otlpProtobuf';

/** Largest request body accepted (before gunzip and after), bytes. */
export const MAX_OTLP_BODY_BYTES = 32 * 1024 * 1024;
/** Attribute values longer than this are shortened to it, characters. */
export const MAX_ATTRIBUTE_CHARS = 64 * 1024;
/** Spans of one service and pod are sent in messages of about this many bytes of JSON. */
const MESSAGE_TARGET_BYTES = 256 * 1024;

export interface OtlpReceiverStatus {
  requests: number;
  spans: number;
  rejectedSpans: number;
  shortenedValues: number;
  failedRequests: number;
}

type Json = Record<string, unknown>;
/** Elements of arrays read from a request may be anything, null included. */
type MaybeJson = Json | null | undefined;

export class OtlpTraceReceiver {
  readonly status: OtlpReceiverStatus = { requests: 0, spans: 0, rejectedSpans: 0, shortenedValues: 0, failedRequests: 0 };
  private seq = 0;

  constructor(private readonly connection: () => NatsConnection | undefined, private readonly log: Logger) {}

  /** Answers `POST /v1/traces`; any other method gets 405. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const protobuf = type === 'application/x-protobuf' || type === 'application/protobuf';
    const reply = (code: number, body: { error?: string; partial?: { rejectedSpans: number; errorMessage: string } }) => {
      if (code !== 200) this.status.failedRequests++;
      if (protobuf && code === 200) {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end(encodeTraceResponse(body.partial));
        return;
      }
      res.writeHead(code, { 'content-type': 'application/json', ...(code === 503 ? { 'retry-after': '1' } : {}) });
      if (code === 200) res.end(JSON.stringify(body.partial ? { partialSuccess: { rejectedSpans: String(body.partial.rejectedSpans), errorMessage: body.partial.errorMessage } } : {}));
      else res.end(JSON.stringify({ code, message: body.error }));
    };
    if (req.method !== 'POST') {
      reply(405, { error: 'POST OTLP ExportTraceServiceRequest bodies here (application/json or application/x-protobuf)' });
      return;
    }
    if (!protobuf && type !== 'application/json') {
      reply(415, { error: `content-type must be application/json or application/x-protobuf, not "${type || '(none)'}"` });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      reply(413, { error: errorMessage(error) });
      return;
    }
    let request: unknown;
    try {
      request = protobuf ? decodeTraceRequest(body) : JSON.parse(body.toString('utf8'));
    } catch (error) {
      reply(400, { error: error instanceof ProtobufError ? `not an OTLP protobuf ExportTraceServiceRequest: ${error.message}` : `not JSON: ${errorMessage(error)}` });
      return;
    }
    const nc = this.connection();
    if (!nc || nc.isClosed()) {
      reply(503, { error: 'the StreamGate server is not connected to NATS yet; retry' });
      return;
    }
    this.status.requests++;
    const converted = toSpanMessages(request, () => this.seq++);
    if ('error' in converted) {
      reply(400, { error: converted.error });
      return;
    }
    try {
      const js = nc.jetstream();
      await Promise.all(converted.messages.map(({ subject, message }) => js.publish(subject, new TextEncoder().encode(JSON.stringify(message)), { msgID: message.id })));
    } catch (error) {
      this.log.warn(`OTLP traces: publishing to the telemetry stream failed: ${errorMessage(error)}`);
      reply(503, { error: `the telemetry stream did not take the spans: ${errorMessage(error)}` });
      return;
    }
    this.status.spans += converted.spans;
    this.status.rejectedSpans += converted.rejected.length;
    this.status.shortenedValues += converted.shortened;
    const notes: string[] = [];
    if (converted.rejected.length) notes.push(`${converted.rejected.length} span(s) rejected: ${converted.rejected.slice(0, 5).join('; ')}${converted.rejected.length > 5 ? '; …' : ''}`);
    if (converted.shortened) notes.push(`${converted.shortened} attribute value(s) longer than ${MAX_ATTRIBUTE_CHARS} characters were shortened (listed in sg.shortened_attributes on their spans)`);
    reply(200, notes.length ? { partial: { rejectedSpans: converted.rejected.length, errorMessage: notes.join('. ') } } : {});
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_OTLP_BODY_BYTES) throw new Error(`the request body is larger than ${MAX_OTLP_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  const body = encoding === 'gzip' ? gunzipSync(raw, { maxOutputLength: MAX_OTLP_BODY_BYTES }) : encoding === 'deflate' ? inflateSync(raw, { maxOutputLength: MAX_OTLP_BODY_BYTES }) : raw;
  return body;
}

export interface ConvertedSpans {
  messages: { subject: string; message: SpanBatch }[];
  spans: number;
  /** Why each rejected span was rejected. */
  rejected: string[];
  shortened: number;
}

const SPAN_KINDS: Record<string, number> = { SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 };
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/** An ExportTraceServiceRequest (as JSON-shaped objects) into span messages of the telemetry stream. */
export function toSpanMessages(request: unknown, nextSeq: () => number, now = Date.now()): ConvertedSpans | { error: string } {
  if (typeof request !== 'object' || request === null) return { error: 'the body is not an ExportTraceServiceRequest object' };
  const resourceSpans = (request as Json).resourceSpans ?? [];
  if (!Array.isArray(resourceSpans)) return { error: 'resourceSpans must be an array' };
  const rejected: string[] = [];
  let shortened = 0;
  let accepted = 0;
  const messages: { subject: string; message: SpanBatch }[] = [];
  for (const [ri, rs] of (resourceSpans as MaybeJson[]).entries()) {
    const resourceAttributes = attributesOf((rs?.resource as Json | undefined)?.attributes);
    const service = stringAttribute(resourceAttributes, 'service.name') || 'unknown_service';
    const pod = stringAttribute(resourceAttributes, 'service.instance.id') || stringAttribute(resourceAttributes, 'host.name') || 'otlp';
    const scopeSpans = Array.isArray(rs?.scopeSpans) ? (rs.scopeSpans as MaybeJson[]) : Array.isArray(rs?.instrumentationLibrarySpans) ? (rs.instrumentationLibrarySpans as MaybeJson[]) : [];
    let pending: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[] = [];
    let pendingBytes = 0;
    const flush = () => {
      if (!pending.length) return;
      const resource = { attributes: resourceAttributes as SpanBatch['resourceSpans'][number]['resource']['attributes'] };
      const payload = [{ resource, scopeSpans: pending }];
      const id = `otlp.${createHash('sha256').update(JSON.stringify(payload)).digest('hex').slice(0, 40)}`;
      const message: SpanBatch = { v: PROTOCOL_VERSION, id, service, pod, ts: now, seq: nextSeq(), kind: 'spans', resourceSpans: payload };
      messages.push({ subject: telemetrySubject('spans', service, pod), message });
      pending = [];
      pendingBytes = 0;
    };
    for (const [si, ss] of scopeSpans.entries()) {
      const scopeJson = (ss?.scope ?? ss?.instrumentationLibrary ?? {}) as Json;
      const scope = { name: typeof scopeJson.name === 'string' ? scopeJson.name : '', ...(typeof scopeJson.version === 'string' && scopeJson.version ? { version: scopeJson.version } : {}) };
      const spans = Array.isArray(ss?.spans) ? (ss.spans as MaybeJson[]) : [];
      for (const [i, raw] of spans.entries()) {
        const where = `resourceSpans[${ri}].scopeSpans[${si}].spans[${i}]`;
        const normal = normaliseSpan(raw);
        const parsed = OtlpSpanSchema.safeParse(normal.span);
        if (!parsed.success) {
          rejected.push(`${where}${typeof raw?.name === 'string' ? ` (${raw.name.slice(0, 80)})` : ''}: ${describeZodError(parsed.error)}`);
          continue;
        }
        const fitted = fitSpan(parsed.data);
        if (!fitted) {
          rejected.push(`${where} (${parsed.data.name.slice(0, 80)}): larger than a telemetry message (${TELEMETRY_STREAM_SPEC.maxMsgSize} bytes) even with every attribute value shortened`);
          continue;
        }
        shortened += fitted.shortened;
        accepted++;
        if (pendingBytes + fitted.bytes > MESSAGE_TARGET_BYTES) flush();
        const last = pending[pending.length - 1];
        if (last && last.scope.name === scope.name && last.scope.version === scope.version) last.spans.push(fitted.span);
        else pending.push({ scope, spans: [fitted.span] });
        pendingBytes += fitted.bytes;
      }
    }
    flush();
  }
  return { messages, spans: accepted, rejected, shortened };
}

function attributesOf(value: unknown): Json[] {
  return Array.isArray(value) ? (value as unknown[]).filter((kv): kv is Json => typeof kv === 'object' && kv !== null && typeof (kv as Json).key === 'string') : [];
}

function stringAttribute(attributes: Json[], key: string): string {
  const value = attributes.find((kv) => kv.key === key)?.value as Json | undefined;
  return typeof value?.stringValue === 'string' ? value.stringValue : '';
}

/** Ids to hex (OTLP/JSON says hex; proto3's JSON mapping would give base64), times to strings, enums to numbers. */
function normaliseSpan(raw: unknown): { span: unknown } {
  if (typeof raw !== 'object' || raw === null) return { span: raw };
  const s = { ...(raw as Json) };
  for (const key of ['traceId', 'spanId', 'parentSpanId'] as const) if (typeof s[key] === 'string') s[key] = idToHex(s[key]);
  if (s.parentSpanId === '') delete s.parentSpanId;
  for (const key of ['startTimeUnixNano', 'endTimeUnixNano'] as const) if (typeof s[key] === 'number' && Number.isFinite(s[key])) s[key] = BigInt(Math.round(s[key])).toString();
  if (typeof s.kind === 'string') s.kind = SPAN_KINDS[s.kind] ?? s.kind;
  if (s.kind === undefined) s.kind = 0;
  const status: Json = typeof s.status === 'object' && s.status !== null ? { ...(s.status as Json) } : {};
  if (typeof status.code === 'string') status.code = STATUS_CODES[status.code] ?? status.code;
  if (status.code === undefined) status.code = 0;
  if (status.message === '') delete status.message;
  s.status = status;
  if (s.attributes === undefined) s.attributes = [];
  if (Array.isArray(s.events)) {
    s.events = (s.events as MaybeJson[]).map((e) => (typeof e?.timeUnixNano === 'number' ? { ...e, timeUnixNano: BigInt(Math.round(e.timeUnixNano)).toString() } : e));
    if ((s.events as unknown[]).length === 0) delete s.events;
  }
  if (Array.isArray(s.links)) {
    s.links = (s.links as MaybeJson[]).map((l) => {
      const link = { ...l };
      for (const key of ['traceId', 'spanId'] as const) if (typeof link[key] === 'string') link[key] = idToHex(link[key]);
      return link;
    });
    if ((s.links as unknown[]).length === 0) delete s.links;
  }
  for (const key of ['droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount'] as const) if (s[key] === 0) delete s[key];
  return { span: s };
}

function idToHex(id: string): string {
  if (/^[0-9a-fA-F]*$/.test(id)) return id.toLowerCase();
  if ((id.length === 24 || id.length === 12) && /^[A-Za-z0-9+/]+={0,2}$/.test(id)) return Buffer.from(id, 'base64').toString('hex');
  return id;
}

/** The span as it will be sent: long values shortened, and its JSON size; undefined if it cannot fit a message. */
function fitSpan(span: OtlpSpan): { span: OtlpSpan; bytes: number; shortened: number } | undefined {
  for (const limit of [MAX_ATTRIBUTE_CHARS, 1024]) {
    const names: string[] = [];
    const attributes = span.attributes.map((kv) => {
      const text = kv.value.stringValue;
      if (text === undefined || text.length <= limit) return kv;
      names.push(`${kv.key} (${text.length} characters)`);
      return { key: kv.key, value: { stringValue: `${text.slice(0, limit)}… [shortened by the StreamGate server from ${text.length} characters]` } };
    });
    const fitted: OtlpSpan = names.length ? { ...span, attributes: [...attributes, { key: 'sg.shortened_attributes', value: { stringValue: names.join(', ') } }] } : span;
    const bytes = Buffer.byteLength(JSON.stringify(fitted));
    if (bytes < TELEMETRY_STREAM_SPEC.maxMsgSize - 16 * 1024) return { span: fitted, bytes, shortened: names.length };
  }
  return undefined;
}
