/**
 * A shared `sg server`, reached over NATS: what an editor's language server in shared mode serves its views
 * from, and what `sg analytics` asks. Finds servers through the sg-server micro service.
 */
import { createInbox, RequestStrategy, type Msg, type NatsConnection } from 'nats';
import type { AnalyticsSummary, DashboardData, DashboardQuery, SeriesQuery, SeriesResult, SummaryRequest } from '../protocol/analytics';
import { SERVER_SERVICE, serverSubject, type ServerMetadata, type ServerOp, type SubscribeRequest } from '../protocol/nats';
import type { AlertsAnswer, AlertsQuery, ForecastAnswer, ForecastRequest, PredictionsData, PredictionsQuery } from '../protocol/predict';
import type { LogTemplateDetail, LogTemplateQuery, LogTemplatesQuery, LogTemplatesResult } from '../protocol/logs';
import type { AssembledTrace, TraceSearchQuery, TraceSearchResult } from '../protocol/traces';
import type { AnalyticsApi } from './analytics/api';
import type { LogsApi } from './logs/templateQueries';
import type { TracesApi } from './traces/api';

export interface SharedServerInfo {
  id: string;
  version: string;
  metadata: Partial<ServerMetadata>;
}

/** Every sg-server answering on this NATS (empty when none). */
export async function findServers(nc: NatsConnection, maxWaitMs = 750): Promise<SharedServerInfo[]> {
  const client = nc.services.client({ maxWait: maxWaitMs, strategy: RequestStrategy.Timer });
  const out: SharedServerInfo[] = [];
  try {
    for await (const info of await client.info(SERVER_SERVICE)) out.push({ id: info.id, version: info.version, metadata: info.metadata ?? {} });
  } catch (error) {
    if (!/no responders|503/i.test(String((error as Error).message))) throw error;
  }
  return out;
}

/** An error a server answered with (bad request, failed query), or why none answered. */
export class ServerRequestError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

const LEASE_MS = 30_000;

/** One request to whichever sg-server answers first; its error answer or the absence of any as ServerRequestError. */
export async function requestServer<T>(nc: NatsConnection, op: ServerOp, body: unknown, timeoutMs = 15_000): Promise<T> {
  let msg: Msg;
  try {
    msg = await nc.request(serverSubject(op), new TextEncoder().encode(JSON.stringify(body)), { timeout: timeoutMs });
  } catch (error) {
    const text = String((error as Error).message);
    if (/no responders|503/i.test(text)) throw new ServerRequestError(`no StreamGate server answers on this NATS (start one with sg server, or open the extension against it)`, 503);
    if (/timeout/i.test(text)) throw new ServerRequestError(`the StreamGate server did not answer ${op} within ${timeoutMs} ms`, 504);
    throw error;
  }
  const failure = msg.headers?.get('Nats-Service-Error');
  if (failure) throw new ServerRequestError(failure, Number(msg.headers?.get('Nats-Service-Error-Code') ?? 500));
  return JSON.parse(new TextDecoder().decode(msg.data)) as T;
}

/** Traces from a shared server. */
export class RemoteTraces implements TracesApi {
  constructor(private readonly nc: NatsConnection, private readonly timeoutMs = 30_000) {}

  search(query: TraceSearchQuery): Promise<TraceSearchResult> {
    return requestServer(this.nc, 'traces', query, this.timeoutMs);
  }

  get(traceId: string): Promise<AssembledTrace> {
    return requestServer(this.nc, 'trace', { traceId }, this.timeoutMs);
  }
}

/** Log templates from a shared server. */
export class RemoteLogs implements LogsApi {
  constructor(private readonly nc: NatsConnection, private readonly timeoutMs = 30_000) {}

  templates(query: LogTemplatesQuery): Promise<LogTemplatesResult> {
    return requestServer(this.nc, 'logTemplates', query, this.timeoutMs);
  }

  template(query: LogTemplateQuery): Promise<LogTemplateDetail> {
    return requestServer(this.nc, 'logTemplate', query, this.timeoutMs);
  }
}

export class RemoteAnalytics implements AnalyticsApi {
  constructor(private readonly nc: NatsConnection, private readonly timeoutMs = 15_000) {}

  private request<T>(op: ServerOp, body: unknown): Promise<T> {
    return requestServer<T>(this.nc, op, body, this.timeoutMs);
  }

  summary(request: SummaryRequest): Promise<AnalyticsSummary> {
    return this.request('summary', request);
  }

  series(query: SeriesQuery): Promise<SeriesResult> {
    return this.request('series', query);
  }

  dashboard(query: DashboardQuery): Promise<DashboardData> {
    return this.request('view', query);
  }

  subscribe(query: DashboardQuery, push: (data: DashboardData) => void, onError: (error: Error) => void): () => void {
    const inbox = createInbox();
    const decoder = new TextDecoder();
    const sub = this.nc.subscribe(inbox, {
      callback: (error, msg) => {
        if (error) return onError(error);
        try {
          const body = JSON.parse(decoder.decode(msg.data)) as { data?: DashboardData; error?: string };
          if (body.data) push(body.data);
          else if (body.error) onError(new Error(body.error));
        } catch (e) {
          onError(e instanceof Error ? e : new Error(String(e)));
        }
      },
    });
    const request: SubscribeRequest = { query, inbox, leaseMs: LEASE_MS };
    const renew = () => this.request('subscribe', request).catch((e: unknown) => onError(e instanceof Error ? e : new Error(String(e))));
    void renew();
    const timer = setInterval(() => void renew(), LEASE_MS / 3);
    timer.unref();
    return () => {
      clearInterval(timer);
      sub.unsubscribe();
      void this.request('unsubscribe', { inbox }).catch(() => {});
    };
  }
}

/** Forecasts and alerts of a StreamGate server over NATS: what `sg predict` and `sg alerts` ask. */
export class RemotePredict {
  constructor(private readonly nc: NatsConnection, private readonly timeoutMs = 60_000) {}

  forecast(request: ForecastRequest): Promise<ForecastAnswer> {
    return requestServer(this.nc, 'forecast', request, this.timeoutMs);
  }

  predictions(query: PredictionsQuery): Promise<PredictionsData> {
    return requestServer(this.nc, 'predictions', query, this.timeoutMs);
  }

  alerts(query: AlertsQuery): Promise<AlertsAnswer> {
    return requestServer(this.nc, 'alerts', query, this.timeoutMs);
  }
}
