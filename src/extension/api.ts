/** What `activate` returns: for other extensions and for our own integration tests. */
import type { AnalyticsSummary, DashboardData, DashboardQuery, SummaryRequest } from '../protocol/analytics';
import type { FleetReady } from '../protocol/cli';
import type { LogTemplatesQuery, LogTemplatesResult } from '../protocol/logs';
import type { PodStatus } from '../protocol/nats';
import type { AlertEvent, ForecastAnswer, ForecastRequest, PredictionsData, PredictionsQuery } from '../protocol/predict';
import type { TraceSearchQuery, TraceSearchResult, TraceView } from '../protocol/traces';
import type { ServerStatus } from '../protocol/status';

export interface StreamGateApi {
  /** Evaluating the bundle plus running `activate`, in milliseconds. */
  readonly activationMs: number;
  /** Resolves when the language server has answered its first status request. */
  readonly serverReady: Promise<void>;
  status(): Promise<ServerStatus>;
  statusBarText(): string;
  /** The pods the language server last saw. */
  pods(): PodStatus[];
  /** The fleet's figures, as the language server computes them for the dashboard. */
  analytics: {
    summary(request: SummaryRequest): Promise<AnalyticsSummary>;
    dashboard(query: DashboardQuery): Promise<DashboardData>;
  };
  /** Forecasts as the language server computes them, and the alerts the Alerts view shows. */
  predict: {
    forecast(request: ForecastRequest): Promise<ForecastAnswer>;
    predictions(query: PredictionsQuery): Promise<PredictionsData>;
    alerts(): AlertEvent[];
  };
  /** Traces as the language server finds and lays them out for the trace viewer. */
  traces: {
    search(query: TraceSearchQuery): Promise<TraceSearchResult>;
    view(traceId: string): Promise<TraceView>;
  };
  /** Log templates as the language server gives them to the log analyzer. */
  logs: {
    templates(query: LogTemplatesQuery): Promise<LogTemplatesResult>;
  };
  /** The sandbox fleet this window started, if any. */
  sandbox(): FleetReady | undefined;
}
