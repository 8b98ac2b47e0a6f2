/**
 * The dashboard's panels, defined once: the webview draws them from DashboardData (by `data`, a key of one
 * tab's charts), and `sg grafana dashboard` writes the same panels as Grafana JSON over the series the server
 * exposes at /metrics (by `promql`). Plain data and small functions only: the browser bundle imports it.
 */
import type { AnalyticsMetrics } from './settings';
import type { DashboardTab } from './analytics';

export type PanelUnit = 'reqps' | 'ms' | 'percentunit' | 'short' | 'percent' | 'Bps' | 'bytes' | 'ops';

export interface PanelDefinition {
  id: string;
  tab: DashboardTab;
  title: string;
  unit: PanelUnit;
  /** The chart in DashboardData[tab] this panel draws. */
  data: string;
  /** PromQL over /metrics for Grafana; `{{requests}}` and the other roles name the configured metrics. */
  promql: string[];
  legend: string;
}

export const PANELS: PanelDefinition[] = [
  { id: 'traffic', tab: 'overview', title: 'Traffic', unit: 'reqps', data: 'traffic', promql: ['sum by (service) (rate({{requests}}[1m]))'], legend: '{{service}}' },
  {
    id: 'latency',
    tab: 'overview',
    title: 'Latency percentiles',
    unit: 'ms',
    data: 'latency',
    promql: ['max({{latency}}{quantile="0.5"})', 'max({{latency}}{quantile="0.95"})', 'max({{latency}}{quantile="0.99"})'],
    legend: 'p50 / p95 / p99',
  },
  {
    id: 'errors',
    tab: 'overview',
    title: 'Error rate (5xx share)',
    unit: 'percentunit',
    data: 'errors',
    promql: ['sum(rate({{requests}}{code=~"5.."}[1m])) / sum(rate({{requests}}[1m]))'],
    legend: '5xx share',
  },
  { id: 'streams', tab: 'overview', title: 'Active streams', unit: 'short', data: 'streams', promql: ['sum by (service) ({{activeStreams}})'], legend: '{{service}}' },
  { id: 'latencyByRoute', tab: 'performance', title: 'p99 latency by route', unit: 'ms', data: 'latencyByRoute', promql: ['max by (route) ({{latency}}{quantile="0.99"})'], legend: '{{route}}' },
  { id: 'cpu', tab: 'performance', title: 'CPU by pod', unit: 'percent', data: 'cpu', promql: ['max by (pod) (process_cpu_percent)'], legend: '{{pod}}' },
  { id: 'eventLoop', tab: 'performance', title: 'Event-loop delay p99 by pod', unit: 'ms', data: 'eventLoop', promql: ['max by (pod) (nodejs_eventloop_delay_p99_ms)'], legend: '{{pod}}' },
  { id: 'activeSessions', tab: 'users', title: 'Active sessions', unit: 'short', data: 'activeSessions', promql: ['sum by (service) ({{activeSessions}})'], legend: '{{service}}' },
  { id: 'newSessions', tab: 'users', title: 'New sessions per second', unit: 'ops', data: 'newSessions', promql: ['sum(rate(sg_events_total{type="session.started"}[1m]))'], legend: 'new sessions/s' },
  { id: 'messages', tab: 'business', title: 'Messages per second by plan', unit: 'ops', data: 'messages', promql: ['sum by (plan) (rate({{messages}}[1m]))'], legend: '{{plan}}' },
  { id: 'bytes', tab: 'business', title: 'Bytes per second by plan', unit: 'Bps', data: 'bytes', promql: ['sum by (plan) (rate({{bytes}}[1m]))'], legend: '{{plan}}' },
];

/** A panel's PromQL with the configured metric names (made Prometheus-safe the way /metrics names them). */
export function promqlOf(panel: PanelDefinition, metrics: AnalyticsMetrics): string[] {
  return panel.promql.map((expr) => expr.replace(/\{\{(\w+)\}\}/g, (_, role: string) => String((metrics as unknown as Record<string, string | undefined>)[role] ?? role).replace(/[^a-zA-Z0-9_:]/g, '_')));
}
