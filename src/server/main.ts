/**
 * The language server process. Started by the extension over IPC (vscode-languageclient); `sg server` runs
 * the same Backend without LSP (see headless.ts). Besides the custom requests of src/protocol/lsp.ts it serves
 * hovers with live metric values and code lenses with live route figures.
 */
import {
  CodeLensRefreshRequest,
  createConnection,
  ErrorCodes,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type CodeLens,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { createLogger, errorMessage, type LogLevel } from '../common/logger';
import { VERSION } from '../common/version';
import { DashboardQuerySchema, SeriesQuerySchema, SummaryRequestSchema } from '../protocol/analytics';
import {
  AnalyticsSeriesRequest,
  AnalyticsSummaryRequest,
  ConfigureRequest,
  DashboardLiveNotification,
  DashboardRequest,
  DashboardSubscribeRequest,
  DashboardUnsubscribeNotification,
  LogTemplateRequest,
  LogTemplatesRequest,
  OPEN_DASHBOARD_COMMAND,
  PodProfileRequest,
  PodsChangedNotification,
  PodsRequest,
  StatusChangedNotification,
  StatusRequest,
  TraceSearchRequest,
  TraceSpanRequest,
  TraceViewRequest,
  type InitializationOptions,
} from '../protocol/lsp';
import * as z from 'zod/mini';
import { ProfileRequestSchema } from '../protocol/nats';
import { LogTemplateQuerySchema, LogTemplatesQuerySchema } from '../protocol/logs';
import { TraceGetRequestSchema, TraceSearchQuerySchema } from '../protocol/traces';
import { TraceViewCache } from './traces/viewCache';
import { check } from '../protocol/schema';
import { ServerSettingsSchema, type ServerSettings } from '../protocol/settings';
import { DEFAULT_ANALYTICS_METRICS } from './analytics/views';
import { Backend } from './backend';
import { compilePatterns, DEFAULT_METRIC_CALL_PATTERNS, findMetricSites, findRouteSites } from './lsp/codeSites';
import { metricHover, routeLens } from './lsp/insights';
import { registerPredictHandlers } from './predict/lsp';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const log = createLogger((level: LogLevel, line) => {
  const console = connection.console;
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else if (level === 'info') console.info(line);
  else console.log(line);
}, 'info');
const backend = new Backend(log, `streamgate-lsp-${process.pid}`);
const PodProfileParamsSchema = z.intersection(z.object({ pod: z.string().check(z.minLength(1)) }), ProfileRequestSchema);
let settings: ServerSettings | undefined;
let metricPatterns = compilePatterns(DEFAULT_METRIC_CALL_PATTERNS, (m) => log.warn(m));
let lensRefreshSupported = false;

async function applySettings(next: ServerSettings) {
  settings = next;
  metricPatterns = compilePatterns(next.metricCallPatterns ?? DEFAULT_METRIC_CALL_PATTERNS, (m) => log.warn(m));
  return backend.configure(next);
}

function invalid(what: string, error: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, `bad ${what}: ${error}`);
}

/** Runs an analytics request, turning a failure into an LSP error a person can read. */
async function answer<T>(what: string, run: () => Promise<T>): Promise<T | ResponseError<void>> {
  try {
    return await run();
  } catch (error) {
    return new ResponseError(ErrorCodes.InternalError, `${what}: ${errorMessage(error)}`);
  }
}

connection.onInitialize((params) => {
  const options = params.initializationOptions as Partial<InitializationOptions> | undefined;
  const parsed = check(ServerSettingsSchema, options?.settings);
  if (!parsed.ok) log.error(`bad initialization settings: ${parsed.error}`);
  else void applySettings(parsed.value);
  lensRefreshSupported = Boolean(params.capabilities.workspace?.codeLens?.refreshSupport);
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'StreamGate language server', version: VERSION },
  };
});

connection.onRequest(StatusRequest.type, () => backend.status());
connection.onRequest(PodProfileRequest.type, async (params) => {
  const parsed = check(PodProfileParamsSchema, params);
  if (!parsed.ok) return new ResponseError(ErrorCodes.InvalidParams, `bad profile request: ${parsed.error}`);
  const { pod, ...request } = parsed.value;
  try {
    const pprof = await backend.podProfile(pod, request);
    return { pprofBase64: pprof.toString('base64'), pod, type: request.type, ...(request.type === 'cpu' ? { seconds: request.seconds ?? 10 } : {}) };
  } catch (error) {
    return new ResponseError(ErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
  }
});

connection.onRequest(PodsRequest.type, async () => backend.withLive(await backend.pods.refresh()));
connection.onRequest(ConfigureRequest.type, async (next) => {
  const parsed = check(ServerSettingsSchema, next);
  if (!parsed.ok) return invalid('StreamGate settings', parsed.error);
  return applySettings(parsed.value);
});

connection.onRequest(AnalyticsSummaryRequest.type, async (request) => {
  const parsed = check(SummaryRequestSchema, request);
  if (!parsed.ok) return invalid('summary request', parsed.error);
  return answer('the summary', () => backend.api.summary(parsed.value));
});
connection.onRequest(AnalyticsSeriesRequest.type, async (query) => {
  const parsed = check(SeriesQuerySchema, query);
  if (!parsed.ok) return invalid('series query', parsed.error);
  return answer('the series', () => backend.api.series(parsed.value));
});
connection.onRequest(DashboardRequest.type, async (query) => {
  const parsed = check(DashboardQuerySchema, query);
  if (!parsed.ok) return invalid('dashboard query', parsed.error);
  return answer('the dashboard', () => backend.api.dashboard(parsed.value));
});

const traceViews = new TraceViewCache(() => backend.traces);
connection.onRequest(TraceSearchRequest.type, async (query) => {
  const parsed = check(TraceSearchQuerySchema, query);
  if (!parsed.ok) return invalid('trace search', parsed.error);
  return answer('the trace search', () => backend.traces.search(parsed.value));
});
connection.onRequest(TraceViewRequest.type, async (request) => {
  const parsed = check(TraceGetRequestSchema, request);
  if (!parsed.ok) return invalid('trace request', parsed.error);
  return answer('the trace', async () => (await traceViews.open(parsed.value.traceId)).view);
});
connection.onRequest(TraceSpanRequest.type, async ({ traceId, row }) => {
  const parsed = check(TraceGetRequestSchema, { traceId });
  if (!parsed.ok || !Number.isInteger(row)) return invalid('span request', parsed.ok ? 'row must be a whole number' : parsed.error);
  return answer('the span', async () => {
    const detail = (await traceViews.get(parsed.value.traceId)).detail(row);
    if (!detail) throw new Error(`trace ${traceId} has no row ${row}`);
    return detail;
  });
});
connection.onRequest(LogTemplatesRequest.type, async (query) => {
  const parsed = check(LogTemplatesQuerySchema, query);
  if (!parsed.ok) return invalid('log templates query', parsed.error);
  return answer('the log templates', () => backend.logs.templates(parsed.value));
});
connection.onRequest(LogTemplateRequest.type, async (query) => {
  const parsed = check(LogTemplateQuerySchema, query);
  if (!parsed.ok) return invalid('log template query', parsed.error);
  return answer('the log template', () => backend.logs.template(parsed.value));
});

const subscriptions = new Map<string, () => void>();
connection.onRequest(DashboardSubscribeRequest.type, ({ id, query }) => {
  const parsed = check(DashboardQuerySchema, query);
  if (!parsed.ok) return invalid('dashboard subscription', parsed.error);
  subscriptions.get(id)?.();
  subscriptions.set(
    id,
    backend.api.subscribe(
      parsed.value,
      (data) => void connection.sendNotification(DashboardLiveNotification.type, { id, data }),
      (error) => void connection.sendNotification(DashboardLiveNotification.type, { id, error: error.message }),
    ),
  );
  return undefined;
});
connection.onNotification(DashboardUnsubscribeNotification.type, ({ id }) => {
  subscriptions.get(id)?.();
  subscriptions.delete(id);
});

connection.onHover(async ({ textDocument, position }) => {
  const document = documents.get(textDocument.uri);
  if (!document || backend.status().nats.state !== 'connected') return null;
  const line = document.getText({ start: { line: position.line, character: 0 }, end: { line: position.line + 1, character: 0 } });
  const site = findMetricSites(line, metricPatterns).find((s) => position.character >= s.start && position.character <= s.end);
  if (!site) return null;
  try {
    const value = await metricHover(backend.api, site.name);
    if (!value) return { contents: { kind: 'markdown', value: `**${site.name}**: no data from the fleet in the last 15 minutes` } };
    return {
      contents: { kind: 'markdown', value },
      range: { start: { line: position.line, character: site.start }, end: { line: position.line, character: site.end } },
    };
  } catch (error) {
    return { contents: { kind: 'markdown', value: `**${site.name}**: live value unavailable (${errorMessage(error)})` } };
  }
});

let lensAskedAt = 0;
connection.onCodeLens(async ({ textDocument }): Promise<CodeLens[]> => {
  const document = documents.get(textDocument.uri);
  if (!document || backend.status().nats.state !== 'connected') return [];
  const sites = findRouteSites(document.getText());
  if (sites.length === 0) return [];
  lensAskedAt = Date.now();
  const metrics = { ...DEFAULT_ANALYTICS_METRICS, ...settings?.analytics?.metrics };
  return Promise.all(
    sites.map(async (site): Promise<CodeLens> => {
      const range = { start: { line: site.line, character: site.character }, end: { line: site.line, character: site.character } };
      try {
        const figures = await routeLens(backend.api, metrics, site.route);
        return { range, command: { title: figures.title, command: OPEN_DASHBOARD_COMMAND, arguments: [figures.args] } };
      } catch (error) {
        return { range, command: { title: `$(warning) ${site.route}: ${errorMessage(error)}`, command: '' } };
      }
    }),
  );
});

// Code lenses follow the live figures while the editor shows them (it asked in the last 15 s) and cost
// nothing otherwise: the refresh is only sent when lenses were recently asked for and new data arrived.
let pointsAtRefresh = 0;
const lensTimer = setInterval(() => {
  const points = backend.windows.stats.points;
  if (!lensRefreshSupported || Date.now() - lensAskedAt > 15_000 || points === pointsAtRefresh) return;
  pointsAtRefresh = points;
  void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => {});
}, 5000);
lensTimer.unref();

registerPredictHandlers(connection, backend.predict);
backend.on('status', (status) => void connection.sendNotification(StatusChangedNotification.type, status));
backend.on('pods', (pods) => void connection.sendNotification(PodsChangedNotification.type, pods));
connection.onShutdown(async () => {
  for (const stop of subscriptions.values()) stop();
  await backend.dispose();
});
connection.onExit(() => process.exit(0));
documents.listen(connection);
connection.listen();
