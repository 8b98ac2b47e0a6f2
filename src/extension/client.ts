/**
 * The extension's handle on the language server: its last status as an event, and typed requests. The
 * language client itself lives in dist/lspClient.js and is loaded on start (see lsp/languageClient.ts).
 */
import * as vscode from 'vscode';
import type { PodProfileRequest } from '../protocol/lsp';
import type { ProfileRangeRequest, ProfileRangeSummary, ProfileSelection, RecommendationsRequest, RecommendationsResult, RegressionsRequest, RegressionsResult, SelectionSummary } from '../protocol/profiles';
import type { AnalyticsSummary, DashboardData, DashboardQuery, SeriesQuery, SeriesResult, SummaryRequest } from '../protocol/analytics';
import type { LogTemplateDetail, LogTemplateQuery, LogTemplatesQuery, LogTemplatesResult } from '../protocol/logs';
import type { PodStatus } from '../protocol/nats';
import type { AlertEvent, AlertsAnswer, AlertsQuery, ForecastAnswer, ForecastRequest, PredictionsData, PredictionsQuery } from '../protocol/predict';
import type { SpanDetail, TraceSearchQuery, TraceSearchResult, TraceView } from '../protocol/traces';
import type { ServerSettings } from '../protocol/settings';
import type { ServerStatus } from '../protocol/status';
import type { QueryAnswer, QueryRequest } from '../protocol/query';
import type { LspConnection, startLanguageClient } from './lsp/languageClient';

export class ServerClient implements vscode.Disposable {
  private connection: LspConnection | undefined;
  private readonly statusEmitter = new vscode.EventEmitter<ServerStatus | undefined>();
  /** Fires with every status the server pushes, and with undefined when the server stops. */
  readonly onStatus = this.statusEmitter.event;
  private last: ServerStatus | undefined;
  private readonly podsEmitter = new vscode.EventEmitter<PodStatus[]>();
  /** Fires with the whole fleet whenever the server's poll sees a change. */
  readonly onPods = this.podsEmitter.event;
  private lastPodList: PodStatus[] = [];
  private readonly liveEmitter = new vscode.EventEmitter<{ id: string; data?: DashboardData; error?: string }>();
  /** Pushes of live dashboard subscriptions, by subscription id. */
  readonly onLive = this.liveEmitter.event;
  private readonly alertEmitter = new vscode.EventEmitter<AlertEvent>();
  /** Fires when an alert fires or resolves on the server. */
  readonly onAlert = this.alertEmitter.event;

  constructor(private readonly serverModule: string, private readonly lspClientModule: string, private readonly output: vscode.LogOutputChannel) {}

  get lastStatus(): ServerStatus | undefined {
    return this.last;
  }

  get lastPods(): PodStatus[] {
    return this.lastPodList;
  }

  get running(): boolean {
    return this.connection?.isRunning() ?? false;
  }

  /** `settings` is read at each start of the server process (the client restarts one that crashed). */
  async start(settings: () => ServerSettings): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lsp = require(this.lspClientModule) as { startLanguageClient: typeof startLanguageClient };
    this.connection = await lsp.startLanguageClient(this.serverModule, this.output, settings, {
      onStatus: (status) => this.publish(status),
      onPods: (pods) => this.publishPods(pods),
      onLive: (id, update) => this.liveEmitter.fire({ id, ...update }),
      onAlert: (event) => this.alertEmitter.fire(event),
    });
    this.publish(await this.connection.status());
  }

  async stop(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.stop().catch(() => {});
    this.publish(undefined);
    this.publishPods([]);
  }

  async status(): Promise<ServerStatus> {
    const status = await this.require().status();
    this.publish(status);
    return status;
  }

  async configure(settings: ServerSettings): Promise<ServerStatus> {
    const status = await this.require().configure(settings);
    this.publish(status);
    return status;
  }

  async pods(): Promise<PodStatus[]> {
    const pods = await this.require().pods();
    this.publishPods(pods);
    return pods;
  }

  /** A CPU or heap profile from a live pod, taken by the server (gzipped pprof). */
  async podProfile(params: PodProfileRequest.Params): Promise<Buffer> {
    const result = await this.require().podProfile(params);
    return Buffer.from(result.pprofBase64, 'base64');
  }

  /** The fleet's stored profiles of a selection, merged by the server (gzipped pprof; undefined when none matched). */
  async profileSelect(selection: ProfileSelection): Promise<{ pprof: Buffer | undefined; summary: SelectionSummary }> {
    const result = await this.require().profileSelect(selection);
    return { pprof: result.pprofBase64 ? Buffer.from(result.pprofBase64, 'base64') : undefined, summary: result.summary };
  }

  /** The CPU samples a pod took in a time range (a slow span's), from the stored timelines. */
  async profileRange(request: ProfileRangeRequest): Promise<{ pprof: Buffer | undefined; summary: ProfileRangeSummary }> {
    const result = await this.require().profileRange(request);
    return { pprof: result.pprofBase64 ? Buffer.from(result.pprofBase64, 'base64') : undefined, summary: result.summary };
  }

  regressions(request: RegressionsRequest): Promise<RegressionsResult> {
    return this.require().regressions(request);
  }

  recommendations(request: RecommendationsRequest): Promise<RecommendationsResult> {
    return this.require().recommendations(request);
  }

  summary(request: SummaryRequest): Promise<AnalyticsSummary> {
    return this.require().summary(request);
  }

  series(query: SeriesQuery): Promise<SeriesResult> {
    return this.require().series(query);
  }

  dashboard(query: DashboardQuery): Promise<DashboardData> {
    return this.require().dashboard(query);
  }

  /** Live pushes for `query` arrive on onLive with this id until unsubscribe (or the server stops). */
  subscribe(id: string, query: DashboardQuery): Promise<void> {
    return this.require().subscribe(id, query);
  }

  /** Runs (or explains) an SGQL query on the server's store. */
  query(request: QueryRequest): Promise<QueryAnswer> {
    return this.require().query(request);
  }

  searchTraces(query: TraceSearchQuery): Promise<TraceSearchResult> {
    return this.require().searchTraces(query);
  }

  traceView(traceId: string): Promise<TraceView> {
    return this.require().traceView(traceId);
  }

  traceSpan(traceId: string, row: number): Promise<SpanDetail> {
    return this.require().traceSpan(traceId, row);
  }

  logTemplates(query: LogTemplatesQuery): Promise<LogTemplatesResult> {
    return this.require().logTemplates(query);
  }

  logTemplate(query: LogTemplateQuery): Promise<LogTemplateDetail> {
    return this.require().logTemplate(query);
  }

  async unsubscribe(id: string): Promise<void> {
    if (this.connection?.isRunning()) await this.connection.unsubscribe(id);
  }

  forecast(request: ForecastRequest): Promise<ForecastAnswer> {
    return this.require().forecast(request);
  }

  predictions(query: PredictionsQuery): Promise<PredictionsData> {
    return this.require().predictions(query);
  }

  alerts(query: AlertsQuery = {}): Promise<AlertsAnswer> {
    return this.require().alerts(query);
  }

  dispose(): void {
    void this.stop();
    this.alertEmitter.dispose();
    this.statusEmitter.dispose();
    this.podsEmitter.dispose();
    this.liveEmitter.dispose();
  }

  private require(): LspConnection {
    if (!this.connection?.isRunning()) throw new Error('the StreamGate language server is not running (StreamGate: Restart Language Server)');
    return this.connection;
  }

  private publishPods(pods: PodStatus[]): void {
    this.lastPodList = pods;
    this.podsEmitter.fire(pods);
  }

  private publish(status: ServerStatus | undefined): void {
    this.last = status;
    this.statusEmitter.fire(status);
  }
}
