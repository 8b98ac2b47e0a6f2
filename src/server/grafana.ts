/**
 * A Grafana dashboard (JSON model, schemaVersion 39) of the panels our own dashboard shows, over the series
 * `sg server` exposes at /metrics: one row per tab, the same titles, units and queries (dashboardPanels.ts).
 */
import { DASHBOARD_TABS } from '../protocol/analytics';
import { PANELS, promqlOf } from '../protocol/dashboardPanels';
import type { AnalyticsMetrics } from '../protocol/settings';

const TAB_TITLES: Record<(typeof DASHBOARD_TABS)[number], string> = { overview: 'Overview', performance: 'Performance', users: 'User behaviour', business: 'Business' };

export function grafanaDashboard(metrics: AnalyticsMetrics, datasourceUid = '${DS_PROMETHEUS}'): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const tab of DASHBOARD_TABS) {
    const mine = PANELS.filter((p) => p.tab === tab);
    if (mine.length === 0) continue;
    panels.push({ id: id++, type: 'row', title: TAB_TITLES[tab], collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    mine.forEach((panel, i) => {
      panels.push({
        id: id++,
        type: 'timeseries',
        title: panel.title,
        datasource: { type: 'prometheus', uid: datasourceUid },
        gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: y + Math.floor(i / 2) * 8 },
        fieldConfig: { defaults: { unit: panel.unit, custom: { lineWidth: 1, fillOpacity: 10 } }, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: promqlOf(panel, metrics).map((expr, j) => ({
          refId: String.fromCharCode(65 + j),
          expr,
          legendFormat: panel.legend.includes('/') ? panel.legend.split(' / ')[j] ?? panel.legend : panel.legend,
          datasource: { type: 'prometheus', uid: datasourceUid },
        })),
      });
    });
    y += Math.ceil(mine.length / 2) * 8;
  }
  return {
    __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    title: 'StreamGate fleet',
    uid: 'streamgate-fleet',
    tags: ['streamgate'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    refresh: '5s',
    time: { from: 'now-1h', to: 'now' },
    templating: { list: [] },
    panels,
  };
}
