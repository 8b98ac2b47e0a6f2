/**
 * The server's analytics as the `sg-server` NATS micro service, so the CLI, other tools and editors in shared
 * mode reach it with the same --nats. Every request is validated with the protocol's schemas; a bad one gets a
 * 400 naming the field. Live subscriptions push a view to the subscriber's inbox until its lease runs out.
 */
import type { NatsConnection, Service, ServiceMsg } from 'nats';
import { safeRespond } from '../agent/control';
import { errorMessage, type Logger } from '../common/logger';
import { VERSION } from '../common/version';
import { SeriesQuerySchema, SummaryRequestSchema, DashboardQuerySchema } from '../protocol/analytics';
import { AlertsQuerySchema, ForecastRequestSchema, PredictionsQuerySchema } from '../protocol/predict';
import { SERVER_SERVICE, serverSubject, SubscribeRequestSchema, UnsubscribeRequestSchema, type ServerMetadata, type ServerOp } from '../protocol/nats';
import { check } from '../protocol/schema';
import type * as z from 'zod/mini';
import { LogTemplateQuerySchema, LogTemplatesQuerySchema } from '../protocol/logs';
import { TraceGetRequestSchema, TraceSearchQuerySchema } from '../protocol/traces';
import type { AnalyticsApi } from './analytics/api';
import type { PredictService } from './predict/service';
import { QueryCatalogRequestSchema, QueryRequestSchema } from '../protocol/query';
import type { QueryService } from './query/service';
import type { LogsApi } from './logs/templateQueries';
import type { TracesApi } from './traces/api';

interface Lease {
  stop: () => void;
  expires: number;
}

export class ServerService {
  private readonly leases = new Map<string, Lease>();
  private readonly sweeper: NodeJS.Timeout;

  private constructor(private readonly nc: NatsConnection, private readonly service: Service, private readonly log: Logger) {
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  static async start(nc: NatsConnection, api: AnalyticsApi, metadata: ServerMetadata, log: Logger, more?: { traces: TracesApi; logs: LogsApi; queries: QueryService; predict?: PredictService }): Promise<ServerService> {
    const service = await nc.services.add({
      name: SERVER_SERVICE,
      version: VERSION,
      description: 'StreamGate server: live windows and store of the fleet\'s telemetry',
      metadata: metadata as unknown as Record<string, string>,
    });
    const self = new ServerService(nc, service, log);
    self.endpoint('summary', SummaryRequestSchema, (request) => api.summary(request));
    self.endpoint('series', SeriesQuerySchema, (query) => api.series(query));
    self.endpoint('view', DashboardQuerySchema, (query) => api.dashboard(query));
    self.endpoint('subscribe', SubscribeRequestSchema, async (request) => {
      const existing = self.leases.get(request.inbox);
      if (existing) {
        existing.expires = Date.now() + request.leaseMs;
        return { ok: true, renewed: true };
      }
      const encoder = new TextEncoder();
      const stop = api.subscribe(
        request.query,
        (data) => safeRespond(() => nc.publish(request.inbox, encoder.encode(JSON.stringify({ data })))),
        (error) => safeRespond(() => nc.publish(request.inbox, encoder.encode(JSON.stringify({ error: error.message })))),
      );
      self.leases.set(request.inbox, { stop, expires: Date.now() + request.leaseMs });
      return { ok: true, renewed: false };
    });
    self.endpoint('unsubscribe', UnsubscribeRequestSchema, async (request) => {
      self.leases.get(request.inbox)?.stop();
      return { ok: self.leases.delete(request.inbox) };
    });
    if (more) {
      self.endpoint('traces', TraceSearchQuerySchema, (query) => more.traces.search(query));
      self.endpoint('trace', TraceGetRequestSchema, (request) => more.traces.get(request.traceId));
      self.endpoint('logTemplates', LogTemplatesQuerySchema, (query) => more.logs.templates(query));
      self.endpoint('logTemplate', LogTemplateQuerySchema, (query) => more.logs.template(query));
      self.endpoint('query', QueryRequestSchema, (request) => more.queries.run(request));
      self.endpoint('catalog', QueryCatalogRequestSchema, () => more.queries.catalog());
    }
    const predict = more?.predict;
    if (predict) {
      self.endpoint('forecast', ForecastRequestSchema, (request) => predict.forecast(request));
      self.endpoint('predictions', PredictionsQuerySchema, (query) => predict.predictions(query));
      self.endpoint('alerts', AlertsQuerySchema, async (query) => predict.alerts(query));
    }
    return self;
  }

  /** A JSON endpoint: the request validated with `schema`, the answer sent as JSON (errors as 400 or 500). */
  endpoint<T>(op: ServerOp, schema: z.ZodMiniType<T>, handle: (request: T) => Promise<unknown>): void {
    this.service.addEndpoint(op, {
      subject: serverSubject(op),
      handler: (error, msg) => {
        if (!error) void this.answer(msg, schema, handle, op);
      },
    });
  }

  /** An endpoint that answers by itself (several messages, as a chunked profile). */
  rawEndpoint(op: ServerOp, handle: (msg: ServiceMsg) => void): void {
    this.service.addEndpoint(op, { subject: serverSubject(op), handler: (error, msg) => error || handle(msg) });
  }

  private async answer<T>(msg: ServiceMsg, schema: z.ZodMiniType<T>, handle: (request: T) => Promise<unknown>, op: ServerOp): Promise<void> {
    const request = readServiceRequest(msg, schema, op);
    if (!request) return;
    try {
      const answer = await handle(request.value);
      const bytes = new TextEncoder().encode(JSON.stringify(answer));
      const max = this.nc.info?.max_payload ?? Infinity;
      if (bytes.length > max) {
        safeRespond(() => msg.respondError(413, `the ${op} answer is ${bytes.length} bytes, more than this NATS server's max_payload (${max}); narrow the request`));
        return;
      }
      safeRespond(() => msg.respond(bytes));
    } catch (error) {
      this.log.warn(`sg-server ${op}: ${errorMessage(error)}`);
      safeRespond(() => msg.respondError(500, errorMessage(error)));
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [inbox, lease] of this.leases) {
      if (lease.expires < now) {
        lease.stop();
        this.leases.delete(inbox);
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    for (const lease of this.leases.values()) lease.stop();
    this.leases.clear();
    await this.service.stop().catch(() => {});
    void this.nc;
  }
}

/** A service request checked against its schema; undefined once it has been answered 400 (not JSON, or not the shape). */
export function readServiceRequest<T>(msg: ServiceMsg, schema: z.ZodMiniType<T>, op: string): { value: T } | undefined {
  let raw: unknown;
  try {
    raw = msg.data.length ? JSON.parse(new TextDecoder().decode(msg.data)) : {};
  } catch {
    safeRespond(() => msg.respondError(400, `the ${op} request is not JSON`));
    return undefined;
  }
  const parsed = check(schema, raw);
  if (!parsed.ok) {
    safeRespond(() => msg.respondError(400, `bad ${op} request: ${parsed.error}`));
    return undefined;
  }
  return { value: parsed.value };
}
