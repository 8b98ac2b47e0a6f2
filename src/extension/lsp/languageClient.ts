/**
 * The language client proper (vscode-languageclient and the LSP protocol types). It is its own bundle,
 * dist/lspClient.js, loaded by ServerClient after activation: evaluating it costs ~80 ms, which would
 * otherwise be most of the extension's activation time.
 */
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { AnalyticsSummary, DashboardData, DashboardQuery, SeriesQuery, SeriesResult, SummaryRequest } from '../../protocol/analytics';
import type { AlertEvent, AlertsAnswer, AlertsQuery, ForecastAnswer, ForecastRequest, PredictionsData, PredictionsQuery } from '../../protocol/predict';
import {
  AlertNotification,
  AlertsRequest,
  AnalyticsSeriesRequest,
  AnalyticsSummaryRequest,
  ConfigureRequest,
  DashboardLiveNotification,
  DashboardRequest,
  DashboardSubscribeRequest,
  DashboardUnsubscribeNotification,
  ForecastRequestType,
  LogTemplateRequest,
  LogTemplatesRequest,
  OPEN_DASHBOARD_COMMAND,
  PodProfileRequest,
  PodsChangedNotification,
  ProfileRangeRequest,
  ProfileRecommendationsRequest,
  ProfileRegressionsRequest,
  ProfileSelectRequest,
  PodsRequest,
  PredictionsRequest,
  QueryRunRequest,
  RUN_QUERY_COMMAND,
  StatusChangedNotification,
  StatusRequest,
  TraceSearchRequest,
  TraceSpanRequest,
  TraceViewRequest,
  type InitializationOptions,
} from '../../protocol/lsp';
import type { LogTemplateDetail, LogTemplateQuery, LogTemplatesQuery, LogTemplatesResult } from '../../protocol/logs';
import type { SpanDetail, TraceSearchQuery, TraceSearchResult, TraceView } from '../../protocol/traces';
import type { PodStatus } from '../../protocol/nats';
import type { ProfileRangeRequest as ProfileRangeRequestParams, ProfileSelection, RecommendationsRequest, RecommendationsResult, RegressionsRequest, RegressionsResult } from '../../protocol/profiles';
import type { ServerSettings } from '../../protocol/settings';
import type { ServerStatus } from '../../protocol/status';
import type { QueryAnswer, QueryRequest } from '../../protocol/query';

export interface LspConnection {
  isRunning(): boolean;
  status(): Promise<ServerStatus>;
  configure(settings: ServerSettings): Promise<ServerStatus>;
  pods(): Promise<PodStatus[]>;
  podProfile(params: PodProfileRequest.Params): Promise<PodProfileRequest.Result>;
  profileSelect(selection: ProfileSelection): Promise<ProfileSelectRequest.Result>;
  profileRange(request: ProfileRangeRequestParams): Promise<ProfileRangeRequest.Result>;
  regressions(request: RegressionsRequest): Promise<RegressionsResult>;
  recommendations(request: RecommendationsRequest): Promise<RecommendationsResult>;
  summary(request: SummaryRequest): Promise<AnalyticsSummary>;
  series(query: SeriesQuery): Promise<SeriesResult>;
  dashboard(query: DashboardQuery): Promise<DashboardData>;
  subscribe(id: string, query: DashboardQuery): Promise<void>;
  unsubscribe(id: string): Promise<void>;
  forecast(request: ForecastRequest): Promise<ForecastAnswer>;
  predictions(query: PredictionsQuery): Promise<PredictionsData>;
  alerts(query: AlertsQuery): Promise<AlertsAnswer>;
  query(request: QueryRequest): Promise<QueryAnswer>;
  searchTraces(query: TraceSearchQuery): Promise<TraceSearchResult>;
  traceView(traceId: string): Promise<TraceView>;
  traceSpan(traceId: string, row: number): Promise<SpanDetail>;
  logTemplates(query: LogTemplatesQuery): Promise<LogTemplatesResult>;
  logTemplate(query: LogTemplateQuery): Promise<LogTemplateDetail>;
  stop(): Promise<void>;
}

export interface LspEvents {
  onStatus(status: ServerStatus): void;
  onPods(pods: PodStatus[]): void;
  onLive(id: string, update: { data?: DashboardData; error?: string }): void;
  onAlert(event: AlertEvent): void;
}

/** Files whose code the server reads for live values on hover and route code lenses. */
const DOCUMENTS = ['typescript', 'typescriptreact', 'javascript', 'javascriptreact', 'go'].map((language) => ({ scheme: 'file', language }));
/** How long a stopping server may take before the client gives up on it. */
const STOP_TIMEOUT_MS = 10_000;

/** SGQL wherever it is written: files, unsaved editors and notebook cells. */
const QUERY_DOCUMENTS = ['file', 'untitled', 'vscode-notebook-cell'].map((scheme) => ({ scheme, language: 'sgql' }));

export async function startLanguageClient(
  serverModule: string,
  output: vscode.LogOutputChannel,
  settings: () => ServerSettings,
  events: LspEvents,
): Promise<LspConnection> {
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--enable-source-maps'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [...DOCUMENTS, ...QUERY_DOCUMENTS],
    outputChannel: output,
    // Read at every start: when the client restarts a server that crashed, it gets today's settings, not those
    // of the first start.
    initializationOptions: (): InitializationOptions => ({ settings: settings() }),
    // Hovers link to the dashboard; only that command may run from the server's markdown.
    markdown: { isTrusted: { enabledCommands: [OPEN_DASHBOARD_COMMAND, RUN_QUERY_COMMAND] }, supportHtml: false },
  };
  const client = new LanguageClient('streamgate', 'StreamGate Language Server', serverOptions, clientOptions);
  client.onNotification(StatusChangedNotification.type, (status) => events.onStatus(status));
  client.onNotification(PodsChangedNotification.type, (pods) => events.onPods(pods));
  client.onNotification(DashboardLiveNotification.type, ({ id, ...update }) => events.onLive(id, update));
  client.onNotification(AlertNotification.type, (event) => events.onAlert(event));
  await client.start();
  return {
    isRunning: () => client.isRunning(),
    status: () => client.sendRequest(StatusRequest.type),
    configure: (next) => client.sendRequest(ConfigureRequest.type, next),
    pods: () => client.sendRequest(PodsRequest.type),
    podProfile: (params) => client.sendRequest(PodProfileRequest.type, params),
    profileSelect: (selection) => client.sendRequest(ProfileSelectRequest.type, selection),
    profileRange: (request) => client.sendRequest(ProfileRangeRequest.type, request),
    regressions: (request) => client.sendRequest(ProfileRegressionsRequest.type, request),
    recommendations: (request) => client.sendRequest(ProfileRecommendationsRequest.type, request),
    summary: (request) => client.sendRequest(AnalyticsSummaryRequest.type, request),
    series: (query) => client.sendRequest(AnalyticsSeriesRequest.type, query),
    dashboard: (query) => client.sendRequest(DashboardRequest.type, query),
    subscribe: (id, query) => client.sendRequest(DashboardSubscribeRequest.type, { id, query }),
    unsubscribe: (id) => client.sendNotification(DashboardUnsubscribeNotification.type, { id }),
    forecast: (request) => client.sendRequest(ForecastRequestType.type, request),
    predictions: (query) => client.sendRequest(PredictionsRequest.type, query),
    alerts: (query) => client.sendRequest(AlertsRequest.type, query),
    query: (request) => client.sendRequest(QueryRunRequest.type, request),
    searchTraces: (query) => client.sendRequest(TraceSearchRequest.type, query),
    traceView: (traceId) => client.sendRequest(TraceViewRequest.type, { traceId }),
    traceSpan: (traceId, row) => client.sendRequest(TraceSpanRequest.type, { traceId, row }),
    logTemplates: (query) => client.sendRequest(LogTemplatesRequest.type, query),
    logTemplate: (query) => client.sendRequest(LogTemplateRequest.type, query),
    // The server closes its store and hands unwritten telemetry back to JetStream on the way out: give it time
    // (the client's default is 2 s, after which the next server finds the DuckDB file still locked).
    stop: () => client.stop(STOP_TIMEOUT_MS),
  };
}
