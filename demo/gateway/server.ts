/**
 * The gateway's HTTP API:
 *   POST   /v1/sessions                        start a session (Authorization: Bearer <api key>)
 *   DELETE /v1/sessions/:id                    end it
 *   POST   /v1/streams/:stream/messages        publish a JSON object or a binary frame (application/octet-stream)
 *   GET    /v1/streams/:stream/subscribe       server-sent events of the stream's messages, from every pod
 *   GET    /v1/streams/:stream/history?limit=N the last N messages (storage, behind a cache)
 *   GET    /healthz                            liveness and active incidents
 *   GET    /debug/pprof/...                    CPU and heap profiles (the agent)
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { AuthError, Authenticator } from './auth';
import { LruCache } from './cache';
import type { Fanout } from './fanout';
import { decodeBinaryFrame, FrameError, parseJsonBody, type Frame } from './frames';
import type { Incidents } from './incidents';
import { RateLimiter } from './ratelimit';
import { contentSignature, contentSignatureSlow } from './signature';
import type { MessageStore, StoredMessage } from './storage';
import { GatewayMetrics, type Telemetry } from './telemetry';
import { LOADTEST_TENANT, TENANTS, type Tenant } from './tenants';

const STREAM_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/**
 * What one request carries through the gateway: its trace context, passed explicitly rather than through
 * an async context manager (which would cost every promise a hook on Node 20). Ids are absent when the
 * request is not traced (an unsampled root).
 */
interface RequestScope {
  ctx: Context;
  traceId?: string;
  spanId?: string;
}

/** The scope of every request that is not traced: shared, so an unsampled request builds nothing for tracing. */
const UNTRACED: RequestScope = Object.freeze({ ctx: ROOT_CONTEXT });
const SERVER_SPAN: SpanOptions = Object.freeze({ kind: SpanKind.SERVER });

interface Session {
  id: string;
  tenant: string;
  startedAt: number;
  /** Whether the session has subscribed and published yet (the connect → subscribe → publish funnel). */
  subscribed: boolean;
  published: boolean;
}

/** The client's session on a request (`x-sg-session`), when it sends one that looks like ours. */
function sessionHeader(req: IncomingMessage): string | undefined {
  const value = req.headers['x-sg-session'];
  return typeof value === 'string' && /^[0-9a-f-]{36}$/.test(value) ? value : undefined;
}

export interface GatewayDeps {
  pod: string;
  telemetry: Telemetry;
  tracer: Tracer;
  fanout: Fanout;
  store: MessageStore;
  incidents: Incidents;
}

export class Gateway {
  private readonly auth = new Authenticator([...TENANTS, LOADTEST_TENANT]);
  private readonly limiter = new RateLimiter();
  private readonly sessions = new Map<string, Session>();
  private readonly historyCache = new LruCache<string, StoredMessage[]>(500, 2000);
  private readonly recentSignatures = new LruCache<string, true>(10_000, 60_000);
  private readonly server: Server;
  private readonly metrics: GatewayMetrics;
  private messageSeq = 0;

  constructor(private readonly deps: GatewayDeps) {
    this.metrics = new GatewayMetrics(deps.telemetry);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { telemetry, tracer, incidents } = this.deps;
    if (telemetry.handlePprof(req, res)) return;
    const started = performance.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway');
    } catch {
      // Node's parser accepts request targets that URL does not (e.g. "//["): answer, never crash the pod.
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `bad request target ${JSON.stringify(req.url)}` }));
      return;
    }
    const route = routeOf(req.method ?? 'GET', url.pathname);
    // A client's W3C traceparent, if any, makes this request part of the client's trace.
    const parent = req.headers.traceparent ? propagation.extract(ROOT_CONTEXT, req.headers) : ROOT_CONTEXT;
    // The tracer decides sampling first: attributes and contexts are built for recorded spans only.
    const span = tracer.startSpan(spanName(req.method ?? 'GET', route), SERVER_SPAN, parent);
    const scope = requestScope(parent, span, route, req.method ?? 'GET');
    let status = 500;
    try {
      await incidents.requestDelay();
      if (route !== '/healthz' && incidents.shouldFail()) throw new HttpError(500, 'internal error (injected error burst)');
      status = await this.route(req, res, url, route, scope);
    } catch (error) {
      status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (status >= 500) {
        telemetry.log('error', `request failed: ${message}`, { route, status }, scope);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      }
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json', ...(error instanceof HttpError ? error.headers : {}) });
        res.end(JSON.stringify({ error: message }));
      } else {
        res.destroy();
      }
    }
    span.setAttribute('http.status_code', status);
    span.end();
    this.metrics.request(route, status).inc();
    // A subscription lasts as long as the client listens: its duration is not a latency.
    if (route !== 'GET /v1/streams/:stream/subscribe') this.metrics.duration(route).record(performance.now() - started);
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, route: string, scope: RequestScope): Promise<number> {
    switch (route) {
      case '/healthz':
        return json(res, 200, { pod: this.deps.pod, sessions: this.sessions.size, subscribers: this.deps.fanout.subscriberCount, incidents: this.deps.incidents.list(), leakedBytes: this.deps.incidents.leakedBytes });
      case 'POST /v1/sessions':
        return this.startSession(req, res, scope);
      case 'DELETE /v1/sessions/:id':
        return this.endSession(req, res, url.pathname.split('/')[3]!, scope);
      case 'POST /v1/streams/:stream/messages':
        return this.publish(req, res, streamOf(url), scope);
      case 'GET /v1/streams/:stream/subscribe':
        return this.subscribe(req, res, streamOf(url), scope);
      case 'GET /v1/streams/:stream/history':
        return this.history(req, res, streamOf(url), url.searchParams.get('limit'), scope);
      default:
        throw new HttpError(404, `no route for ${req.method} ${url.pathname}`);
    }
  }

  private authenticate(req: IncomingMessage, scope: RequestScope): Tenant {
    try {
      return this.auth.authenticate(req.headers.authorization);
    } catch (error) {
      if (error instanceof AuthError) {
        this.deps.telemetry.event('auth.failed', { traceId: scope.traceId, attrs: { reason: error.message } });
        this.deps.telemetry.log('warn', `authentication failed: ${error.message}`, { remote: req.socket.remoteAddress ?? '' }, scope);
        throw new HttpError(error.status, error.message);
      }
      throw error;
    }
  }

  private async startSession(req: IncomingMessage, res: ServerResponse, scope: RequestScope): Promise<number> {
    const tenant = this.authenticate(req, scope);
    const client = await sessionClient(req);
    const session: Session = { id: randomUUID(), tenant: tenant.id, startedAt: Date.now(), subscribed: false, published: false };
    this.sessions.set(session.id, session);
    this.deps.telemetry.event('session.started', { traceId: scope.traceId, tenant: tenant.id, session: session.id, attrs: { plan: tenant.plan.name, ...(client ? { client } : {}) } });
    this.deps.telemetry.gauge('gw_active_sessions').set(this.sessions.size);
    return json(res, 201, { session: session.id, tenant: tenant.id });
  }

  private endSession(req: IncomingMessage, res: ServerResponse, id: string, scope: RequestScope): number {
    const tenant = this.authenticate(req, scope);
    const session = this.sessions.get(id);
    if (!session || session.tenant !== tenant.id) throw new HttpError(404, `no session ${id} for tenant ${tenant.id}`);
    this.sessions.delete(id);
    this.deps.telemetry.event('session.ended', { traceId: scope.traceId, tenant: tenant.id, session: id, attrs: { durationMs: Date.now() - session.startedAt } });
    this.deps.telemetry.gauge('gw_active_sessions').set(this.sessions.size);
    res.writeHead(204).end();
    return 204;
  }

  private async publish(req: IncomingMessage, res: ServerResponse, stream: string, scope: RequestScope): Promise<number> {
    const tenant = this.authenticate(req, scope);
    const { telemetry, incidents } = this.deps;
    const wait = this.limiter.take(tenant.id, tenant.plan);
    if (wait > 0) {
      telemetry.event('rate.limited', { traceId: scope.traceId, tenant: tenant.id, stream, attrs: { retryAfterMs: wait } });
      throw new HttpError(429, `rate limit of ${tenant.plan.ratePerSecond}/s exceeded for tenant ${tenant.id}`, { 'retry-after': String(Math.ceil(wait / 1000)) });
    }
    const raw = await readBody(req, tenant.plan.maxPayloadBytes);
    const binary = (req.headers['content-type'] ?? '').startsWith('application/octet-stream');
    let body: unknown;
    let payload: Buffer;
    try {
      if (binary) {
        payload = decodeBinaryFrame(raw).payload;
        body = payload.toString('base64');
      } else {
        body = parseJsonBody(raw);
        payload = raw;
      }
    } catch (error) {
      if (error instanceof FrameError) throw new HttpError(400, error.message);
      throw error;
    }
    const signature = incidents.isActive('cpu-hotspot') ? contentSignatureSlow(payload, tenant.id) : contentSignature(payload);
    const duplicate = this.recentSignatures.get(`${tenant.id}:${signature}`) !== undefined;
    this.recentSignatures.set(`${tenant.id}:${signature}`, true);
    incidents.retain(raw);
    const frame: Frame = {
      id: `${this.deps.pod}-${(this.messageSeq++).toString(36)}`,
      tenant: tenant.id,
      stream,
      ts: Date.now(),
      contentType: binary ? 'binary' : 'json',
      body,
      bytes: raw.length,
    };
    await this.deps.store.append(tenant.id, stream, { id: frame.id, ts: frame.ts, contentType: frame.contentType, bytes: frame.bytes, body });
    this.historyCache.invalidate(`${tenant.id}/${stream}`);
    this.deps.fanout.publish(frame, scope.ctx);
    const session = this.sessions.get(sessionHeader(req) ?? '');
    if (session && session.tenant === tenant.id && !session.published) {
      session.published = true;
      telemetry.event('session.published', { traceId: scope.traceId, tenant: tenant.id, session: session.id, stream });
    }
    const perTenant = this.metrics.tenant(tenant.id, tenant.plan.name);
    perTenant[frame.contentType].inc();
    perTenant.bytes.inc(raw.length);
    if (duplicate) perTenant.duplicates.inc();
    this.metrics.messageBytes.record(raw.length);
    return json(res, 202, { id: frame.id, duplicate });
  }

  private subscribe(req: IncomingMessage, res: ServerResponse, stream: string, scope: RequestScope): Promise<number> {
    const tenant = this.authenticate(req, scope);
    const { telemetry } = this.deps;
    const openedAt = Date.now();
    let delivered = 0;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(`event: ready\ndata: ${JSON.stringify({ pod: this.deps.pod, stream })}\n\n`);
    const sessionId = sessionHeader(req);
    telemetry.event('stream.opened', { traceId: scope.traceId, tenant: tenant.id, stream, ...(sessionId ? { session: sessionId } : {}) });
    const session = this.sessions.get(sessionId ?? '');
    if (session && session.tenant === tenant.id && !session.subscribed) {
      session.subscribed = true;
      telemetry.event('session.subscribed', { traceId: scope.traceId, tenant: tenant.id, session: session.id, stream });
    }
    const unsubscribe = this.deps.fanout.subscribe(tenant.id, stream, (frame) => {
      delivered++;
      res.write(`id: ${frame.id}\ndata: ${JSON.stringify(frame)}\n\n`);
    });
    const activeStreams = telemetry.gauge('gw_active_streams');
    activeStreams.set(this.deps.fanout.subscriberCount);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    return new Promise((resolve) => {
      res.once('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
        activeStreams.set(this.deps.fanout.subscriberCount);
        telemetry.event('stream.closed', { traceId: scope.traceId, tenant: tenant.id, stream, attrs: { durationMs: Date.now() - openedAt, delivered } });
        telemetry.counter('gw_delivered_messages_total', { tenant: tenant.id }).inc(delivered);
        resolve(200);
      });
    });
  }

  private async history(req: IncomingMessage, res: ServerResponse, stream: string, limitParam: string | null, scope: RequestScope): Promise<number> {
    const tenant = this.authenticate(req, scope);
    const limit = limitParam === null ? 50 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new HttpError(400, `limit must be a whole number from 1 to 500, not "${limitParam}"`);
    const key = `${tenant.id}/${stream}`;
    let messages = this.historyCache.get(key);
    const cached = messages !== undefined;
    if (!messages) {
      messages = await this.deps.store.history(tenant.id, stream, 500);
      this.historyCache.set(key, messages);
    }
    this.deps.telemetry.counter('gw_history_cache_total', { result: cached ? 'hit' : 'miss' }).inc();
    return json(res, 200, { stream, messages: messages.slice(-limit) });
  }
}

function requestScope(parent: Context, span: Span, route: string, method: string): RequestScope {
  const { traceId, spanId } = span.spanContext();
  if (span.isRecording()) {
    span.setAttributes({ 'http.method': method, 'http.route': route.slice(route.indexOf(' ') + 1) });
    return { ctx: trace.setSpan(parent, span), traceId, spanId };
  }
  // Not sampled: a caller's trace context still travels on (with its not-sampled flag); otherwise nothing does.
  return trace.isSpanContextValid(span.spanContext()) ? { ctx: parent, traceId, spanId } : UNTRACED;
}

/** Routes already name their method ("POST /v1/sessions"), except /healthz and unmatched paths. */
function spanName(method: string, route: string): string {
  return route.includes(' ') ? route : `${method} ${route}`;
}

function routeOf(method: string, path: string): string {
  if (path === '/healthz') return '/healthz';
  if (path === '/v1/sessions') return `${method} /v1/sessions`;
  if (/^\/v1\/sessions\/[^/]+$/.test(path)) return `${method} /v1/sessions/:id`;
  const m = /^\/v1\/streams\/[^/]+\/(messages|subscribe|history)$/.exec(path);
  if (m) return `${method} /v1/streams/:stream/${m[1]}`;
  return 'unmatched';
}

function streamOf(url: URL): string {
  const stream = decodeURIComponent(url.pathname.split('/')[3] ?? '');
  if (!STREAM_NAME.test(stream)) throw new HttpError(400, `stream names are 1–64 lowercase letters, digits and dashes, not "${stream}"`);
  return stream;
}

function json(res: ServerResponse, status: number, body: unknown): number {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return status;
}

/** The optional `{ "client": "…" }` body of a session start: who is connecting, for retention per tenant. */
async function sessionClient(req: IncomingMessage): Promise<string | undefined> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    req.resume();
    return undefined;
  }
  const raw = await readBody(req, 4096);
  try {
    const client = (JSON.parse(raw.toString('utf8')) as { client?: unknown }).client;
    return typeof client === 'string' && /^[\w.-]{1,64}$/.test(client) ? client : undefined;
  } catch {
    throw new HttpError(400, 'the session body must be JSON like {"client": "id"}');
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(new HttpError(413, `the message is ${declared} bytes; this plan allows ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.destroy();
        reject(new HttpError(413, `the message exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
