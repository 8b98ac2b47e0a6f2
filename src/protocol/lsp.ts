/**
 * Custom LSP messages between the extension (client) and the language server. Each message is a namespace
 * with its method name and a typed message type, so both sides share one definition.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { ServerStatus } from './status';
import type { PodStatus } from './nats';
import type { ServerSettings } from './settings';

/** What the client sends as `initializationOptions`. */
export interface InitializationOptions {
  settings: ServerSettings;
}

export namespace StatusRequest {
  export const method = 'streamgate/status';
  export const type = new RequestType0<ServerStatus, void>(method);
}

/** Pushed by the server whenever NATS or the store changes state. */
export namespace StatusChangedNotification {
  export const method = 'streamgate/statusChanged';
  export const type = new NotificationType<ServerStatus>(method);
}

/** Replaces the server's settings (reconnecting to NATS or reopening the store where they changed). */
export namespace ConfigureRequest {
  export const method = 'streamgate/configure';
  export const type = new RequestType<ServerSettings, ServerStatus, void>(method);
}

/** The live pods, asked of the fleet now (Refresh). */
export namespace PodsRequest {
  export const method = 'streamgate/pods';
  export const type = new RequestType0<PodStatus[], void>(method);
}

/** Pushed when the set of pods or their health changes. */
export namespace PodsChangedNotification {
  export const method = 'streamgate/podsChanged';
  export const type = new NotificationType<PodStatus[]>(method);
}

/** A CPU or heap profile from a live pod, taken by the server over NATS (gzipped pprof, base64). */
export namespace PodProfileRequest {
  export const method = 'streamgate/podProfile';
  export interface Params {
    pod: string;
    type: 'cpu' | 'heap';
    seconds?: number;
  }
  export interface Result {
    pprofBase64: string;
    pod: string;
    type: 'cpu' | 'heap';
    seconds?: number;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

// --- Analytics (src/protocol/analytics.ts has the shapes) ---------------------------------------------------

export namespace AnalyticsSummaryRequest {
  export const method = 'streamgate/analytics/summary';
  export const type = new RequestType<import('./analytics').SummaryRequest, import('./analytics').AnalyticsSummary, void>(method);
}

export namespace AnalyticsSeriesRequest {
  export const method = 'streamgate/analytics/series';
  export const type = new RequestType<import('./analytics').SeriesQuery, import('./analytics').SeriesResult, void>(method);
}

export namespace DashboardRequest {
  export const method = 'streamgate/analytics/dashboard';
  export const type = new RequestType<import('./analytics').DashboardQuery, import('./analytics').DashboardData, void>(method);
}

/** Starts pushing a view (DashboardLiveNotification with the same id) at most once a second; replaces one of the same id. */
export namespace DashboardSubscribeRequest {
  export const method = 'streamgate/analytics/subscribe';
  export const type = new RequestType<{ id: string; query: import('./analytics').DashboardQuery }, void, void>(method);
}

export namespace DashboardUnsubscribeNotification {
  export const method = 'streamgate/analytics/unsubscribe';
  export const type = new NotificationType<{ id: string }>(method);
}

export namespace DashboardLiveNotification {
  export const method = 'streamgate/analytics/live';
  export const type = new NotificationType<{ id: string; data?: import('./analytics').DashboardData; error?: string }>(method);
}

/** Asks the client to open the dashboard (a link in a hover or code lens does it through a command instead). */
export const OPEN_DASHBOARD_COMMAND = 'streamgate.openDashboard';

/** The arguments of OPEN_DASHBOARD_COMMAND: which filters to open it with, and the metric to show. */
export interface OpenDashboardArgs {
  filters?: import('./analytics').DashboardQuery['filters'];
  metric?: string;
  tab?: import('./analytics').DashboardTab;
}

// --- Predictions and alerts (src/protocol/predict.ts has the shapes) ---------------------------------------------

export namespace ForecastRequestType {
  export const method = 'streamgate/predict/forecast';
  export const type = new RequestType<import('./predict').ForecastRequest, import('./predict').ForecastAnswer, void>(method);
}

/** Everything the predictions panel shows for one service and horizon. */
export namespace PredictionsRequest {
  export const method = 'streamgate/predict/view';
  export const type = new RequestType<import('./predict').PredictionsQuery, import('./predict').PredictionsData, void>(method);
}

export namespace AlertsRequest {
  export const method = 'streamgate/alerts/list';
  export const type = new RequestType<import('./predict').AlertsQuery, import('./predict').AlertsAnswer, void>(method);
}

/** Pushed when an alert fires or resolves (the Alerts view and notifications). */
export namespace AlertNotification {
  export const method = 'streamgate/alerts/changed';
  export const type = new NotificationType<import('./predict').AlertEvent>(method);
}

// --- Traces and logs (src/protocol/traces.ts and logs.ts have the shapes) ----------------------------------

export namespace TraceSearchRequest {
  export const method = 'streamgate/traces/search';
  export const type = new RequestType<import('./traces').TraceSearchQuery, import('./traces').TraceSearchResult, void>(method);
}

/** A trace as the viewer's rows; the server keeps the assembled trace for the span requests that follow. */
export namespace TraceViewRequest {
  export const method = 'streamgate/traces/view';
  export const type = new RequestType<import('./traces').TraceGetRequest, import('./traces').TraceView, void>(method);
}

export namespace TraceSpanRequest {
  export const method = 'streamgate/traces/span';
  export const type = new RequestType<{ traceId: string; row: number }, import('./traces').SpanDetail, void>(method);
}

export namespace LogTemplatesRequest {
  export const method = 'streamgate/logs/templates';
  export const type = new RequestType<import('./logs').LogTemplatesQuery, import('./logs').LogTemplatesResult, void>(method);
}

export namespace LogTemplateRequest {
  export const method = 'streamgate/logs/template';
  export const type = new RequestType<import('./logs').LogTemplateQuery, import('./logs').LogTemplateDetail, void>(method);
}
