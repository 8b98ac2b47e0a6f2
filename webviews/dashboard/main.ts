/**
 * The analytics dashboard. It renders what the language server computed (DashboardData) and sends back what the
 * user asks for (range, filters, tab); it computes nothing. Charts are created once and updated in place, so
 * live updates do not flicker. Every number is also a <data value> element and the time of the figures a
 * <time datetime>, so what is on screen can be read exactly, by assistive technology and by tests.
 */
import { BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import { formatBytes } from '../../src/common/format';
import { DASHBOARD_TABS, SESSION_LENGTH_BOUNDS, type ChartSeries, type DashboardData, type DashboardQuery, type DashboardTab } from '../../src/protocol/analytics';
import { PANELS, type PanelDefinition } from '../../src/protocol/dashboardPanels';
import type { DashboardFromWebview, DashboardToWebview } from '../../src/protocol/webview';
import { h, icon } from '../shared/dom';
import { createMessenger } from '../shared/messenger';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, BarController, BarElement, Filler, Legend, Tooltip);

const messenger = createMessenger<DashboardToWebview, DashboardFromWebview>();
const app = document.getElementById('app')!;

const TAB_TITLES: Record<DashboardTab, string> = { overview: 'Overview', performance: 'Performance', users: 'User behaviour', business: 'Business' };
const RANGES: { label: string; live: boolean; rangeMs: number }[] = [
  { label: 'Live · last 15 minutes', live: true, rangeMs: 15 * 60_000 },
  { label: 'Live · last 5 minutes', live: true, rangeMs: 5 * 60_000 },
  { label: 'Last 15 minutes', live: false, rangeMs: 15 * 60_000 },
  { label: 'Last hour', live: false, rangeMs: 3600_000 },
  { label: 'Last 24 hours', live: false, rangeMs: 24 * 3600_000 },
];

let query: DashboardQuery = { live: true, rangeMs: 15 * 60_000, filters: {} };
let tab: DashboardTab = 'overview';
let current: { data: DashboardData; receivedAt: number } | undefined;

// --- formatting ------------------------------------------------------------------------------------------------

function num(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(abs >= 100 ? 0 : digits);
}
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${num(v, v < 10 ? 2 : 1)} ms`);
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(2)} %`);
const bytes = (v: number | null | undefined) => (v === null || v === undefined ? '—' : formatBytes(v));

/** A number on screen: formatted for people, exact in `value`. */
function value(raw: number | null | undefined, text: string): HTMLElement {
  const el = document.createElement('data');
  el.value = raw === null || raw === undefined ? '' : String(raw);
  el.textContent = text;
  return el;
}

function timeLabel(t: number, span: number): string {
  const d = new Date(t);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (span <= 3600_000) return `${hm}:${String(d.getSeconds()).padStart(2, '0')}`;
  return span > 12 * 3600_000 ? `${d.toLocaleDateString(undefined, { weekday: 'short' })} ${hm}` : hm;
}

// --- theme -----------------------------------------------------------------------------------------------------

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}
function palette(): string[] {
  return [
    cssVar('--vscode-charts-blue', '#3794ff'),
    cssVar('--vscode-charts-orange', '#d18616'),
    cssVar('--vscode-charts-green', '#89d185'),
    cssVar('--vscode-charts-purple', '#b180d7'),
    cssVar('--vscode-charts-red', '#f14c4c'),
    cssVar('--vscode-charts-yellow', '#cca700'),
  ];
}
function applyTheme(): void {
  Chart.defaults.color = cssVar('--vscode-foreground', '#ccc');
  Chart.defaults.borderColor = cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.25)');
  Chart.defaults.font.family = cssVar('--vscode-font-family', 'sans-serif');
}

// --- the page skeleton, built once ------------------------------------------------------------------------------

const charts = new Map<string, Chart>();
const asOf = document.createElement('time');
const freshness = h('span', { class: 'muted' });
const sourceBadge = h('span', { class: 'badge' });
const banner = h('div', { class: 'banner', role: 'status' });
const kpis = h('div', { class: 'kpis', role: 'group' });
const kpiCaption = h('p', { class: 'muted kpi-caption' });
const tables: Record<string, HTMLTableSectionElement> = {};
const funnelBox = h('div', { class: 'funnel' });
const metricBox = h('section', { class: 'card metric-card' });
const selects: Record<'service' | 'pod' | 'route' | 'tenant', HTMLSelectElement> = {
  service: document.createElement('select'),
  pod: document.createElement('select'),
  route: document.createElement('select'),
  tenant: document.createElement('select'),
};
const rangeSelect = document.createElement('select');
const customFrom = document.createElement('input');
const customTo = document.createElement('input');
const tabButtons = new Map<DashboardTab, HTMLButtonElement>();
const tabPanels = new Map<DashboardTab, HTMLElement>();

function send(): void {
  messenger.post({ type: 'query', query, tab });
}

function labelled(text: string, control: HTMLElement): HTMLElement {
  const label = h('label', { class: 'control' }, h('span', { class: 'muted' }, text));
  label.append(control);
  return label;
}

function controls(): HTMLElement {
  for (const [i, r] of RANGES.entries()) rangeSelect.append(new Option(r.label, String(i)));
  rangeSelect.append(new Option('Custom…', 'custom'));
  customFrom.type = customTo.type = 'datetime-local';
  const apply = h('button', { class: 'secondary', title: 'Show the custom range' }, 'Apply');
  const custom = h('span', { class: 'custom-range' }, labelled('From', customFrom), labelled('To', customTo), apply);
  custom.hidden = true;
  rangeSelect.addEventListener('change', () => {
    if (rangeSelect.value === 'custom') {
      custom.hidden = false;
      const to = Date.now();
      customTo.value = localInput(to);
      customFrom.value = localInput(to - 3600_000);
      customFrom.focus();
      return;
    }
    custom.hidden = true;
    const r = RANGES[Number(rangeSelect.value)]!;
    const { to: _to, ...rest } = query;
    query = { ...rest, live: r.live, rangeMs: r.rangeMs };
    send();
  });
  apply.addEventListener('click', () => {
    const from = new Date(customFrom.value).getTime();
    const to = new Date(customTo.value).getTime();
    if (!(to > from)) {
      showBanner('error', 'The custom range must end after it starts.');
      return;
    }
    query = { ...query, live: false, to, rangeMs: Math.max(60_000, to - from) };
    send();
  });
  const filters = h('span', { class: 'filters' });
  for (const key of ['service', 'pod', 'route', 'tenant'] as const) {
    selects[key].addEventListener('change', () => {
      const filtersNow = { ...query.filters };
      if (selects[key].value) filtersNow[key] = selects[key].value;
      else delete filtersNow[key];
      query = { ...query, filters: filtersNow };
      send();
    });
    filters.append(labelled(key[0]!.toUpperCase() + key.slice(1), selects[key]));
  }
  const clear = h('button', { class: 'secondary', title: 'Show the whole fleet' }, icon('clear-all'), 'Clear filters');
  clear.addEventListener('click', () => {
    const { metric: _metric, ...rest } = query;
    query = { ...rest, filters: {} };
    send();
  });
  return h('div', { class: 'toolbar controls' }, labelled('Range', rangeSelect), custom, filters, clear);
}

function localInput(t: number): string {
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function tabs(): HTMLElement {
  const list = h('div', { class: 'tabs', role: 'tablist' });
  list.setAttribute('aria-label', 'Dashboard sections');
  for (const t of DASHBOARD_TABS) {
    const button = h('button', { class: 'tab', role: 'tab' }, TAB_TITLES[t]);
    button.id = `tab-${t}`;
    button.setAttribute('aria-controls', `panel-${t}`);
    button.addEventListener('click', () => selectTab(t, true));
    button.addEventListener('keydown', (event) => {
      const i = DASHBOARD_TABS.indexOf(t);
      const next = event.key === 'ArrowRight' ? (i + 1) % DASHBOARD_TABS.length : event.key === 'ArrowLeft' ? (i + DASHBOARD_TABS.length - 1) % DASHBOARD_TABS.length : -1;
      if (next < 0) return;
      event.preventDefault();
      selectTab(DASHBOARD_TABS[next]!, true);
      tabButtons.get(DASHBOARD_TABS[next]!)!.focus();
    });
    tabButtons.set(t, button);
    list.append(button);
  }
  return list;
}

function selectTab(t: DashboardTab, tell: boolean): void {
  tab = t;
  for (const [name, button] of tabButtons) {
    const selected = name === t;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    tabPanels.get(name)!.hidden = !selected;
  }
  if (tell) send();
  if (current) render(current.data);
}

function chartCard(panel: Pick<PanelDefinition, 'id' | 'title'>, kind: 'line' | 'bar' = 'line'): HTMLElement {
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', panel.title);
  const summary = h('p', { class: 'sr-only' });
  summary.id = `summary-${panel.id}`;
  canvas.setAttribute('aria-describedby', summary.id);
  const card = h('figure', { class: 'card chart-card' }, h('figcaption', {}, panel.title), h('div', { class: 'chart-box' }, canvas), summary);
  const chart = new Chart(canvas, {
    type: kind,
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { display: kind === 'line', position: 'bottom', labels: { boxWidth: 10 } } },
      scales:
        kind === 'line'
          ? { x: { type: 'linear', bounds: 'data', ticks: { maxTicksLimit: 6, callback: (v) => timeLabel(Number(v), current ? current.data.to - current.data.from : 0) } }, y: { beginAtZero: true } }
          : { y: { beginAtZero: true } },
    },
  });
  charts.set(panel.id, chart);
  return card;
}

function table(id: string, head: string[]): HTMLElement {
  const thead = h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { attrs: { scope: 'col' } }, c))));
  const tbody = document.createElement('tbody');
  tables[id] = tbody;
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid' }, thead, tbody));
}

function panelsOf(t: DashboardTab): HTMLElement[] {
  return PANELS.filter((p) => p.tab === t).map((p) => chartCard(p));
}

function build(): void {
  applyTheme();
  const header = h('div', { class: 'header' }, h('h1', {}, icon('graph-line'), 'StreamGate Analytics'), h('p', { class: 'subtitle status-line' }, sourceBadge, ' figures as of ', asOf, ' ', freshness));
  const body = h('div', { class: 'tab-panels' });
  for (const t of DASHBOARD_TABS) {
    const panel = h('section', { class: 'tab-panel', role: 'tabpanel' });
    panel.id = `panel-${t}`;
    panel.setAttribute('aria-labelledby', `tab-${t}`);
    tabPanels.set(t, panel);
    body.append(panel);
  }
  tabPanels.get('overview')!.append(
    kpiCaption,
    kpis,
    metricBox,
    h('div', { class: 'charts' }, ...panelsOf('overview')),
    h('h2', {}, icon('server-environment'), 'Pods'),
    table('pods', ['Pod', 'Service', 'Req/s', 'p50', 'p99', '5xx', 'CPU', 'Memory', 'Loop p99', '']),
  );
  tabPanels.get('performance')!.append(h('h2', {}, icon('symbol-method'), 'Routes'), table('routes', ['Route', 'Req/s', 'p50', 'p95', 'p99', '5xx', '']), h('div', { class: 'charts' }, ...panelsOf('performance')));
  tabPanels.get('users')!.append(
    h('div', { class: 'charts' }, ...panelsOf('users'), chartCard({ id: 'sessionLengths', title: 'Session length (sessions ended in the range)' }, 'bar')),
    h('h2', {}, icon('filter'), 'Funnel: connect → subscribe → publish'),
    funnelBox,
    h('h2', {}, icon('history'), 'Retention per tenant'),
    h('p', { class: 'muted' }, 'Clients seen in the first half of the range, and the share of them that came back in the second half.'),
    table('retention', ['Tenant', 'Clients', 'Returning', 'Retention']),
  );
  tabPanels.get('business')!.append(
    h('div', { class: 'charts' }, ...panelsOf('business')),
    h('h2', {}, icon('organization'), 'Tenants'),
    table('tenants', ['Tenant', 'Plan', 'Msg/s', 'Messages', 'Bytes', 'Sessions', '']),
    h('h2', {}, icon('credit-card'), 'Plans'),
    table('plans', ['Plan', 'Tenants', 'Messages', 'Bytes']),
  );
  metricBox.hidden = true;
  app.replaceChildren(header, controls(), banner, tabs(), body);
  banner.hidden = true;
  selectTab(tab, false);
}

// --- rendering ---------------------------------------------------------------------------------------------------

function updateLine(id: string, series: ChartSeries[]): void {
  const chart = charts.get(id);
  if (!chart) return;
  const colors = palette();
  const datasets: ChartDataset<'line'>[] = series.map((s, i) => {
    const existing = chart.data.datasets.find((d) => d.label === s.name) as ChartDataset<'line'> | undefined;
    const color = colors[i % colors.length]!;
    const data = s.points.map(([x, y]) => ({ x, y }));
    if (existing) {
      existing.data = data;
      return existing;
    }
    // Points are drawn small so a lone step between gaps still shows; gaps are not bridged (no data is not zero).
    return { label: s.name, data, borderColor: color, backgroundColor: color, pointRadius: 1.5, borderWidth: 1.5, spanGaps: false, tension: 0.2 };
  });
  chart.data.datasets = datasets;
  const x = chart.options.scales?.x;
  if (x && current) {
    x.min = current.data.from;
    x.max = current.data.to;
  }
  chart.update('none');
  const summary = document.getElementById(`summary-${id}`);
  if (summary) {
    summary.textContent = series.length
      ? series.map((s) => `${s.name}: latest ${num(lastPoint(s))}`).join('; ')
      : 'No data in this range.';
  }
}

function lastPoint(s: ChartSeries): number | null {
  for (let i = s.points.length - 1; i >= 0; i--) if (s.points[i]![1] !== null) return s.points[i]![1];
  return null;
}

function updateBar(id: string, labels: string[], values: number[], name: string): void {
  const chart = charts.get(id);
  if (!chart) return;
  chart.data.labels = labels;
  const color = palette()[0]!;
  const existing = chart.data.datasets[0];
  if (existing) existing.data = values;
  else chart.data.datasets = [{ label: name, data: values, backgroundColor: color, borderColor: color }];
  chart.update('none');
}

function kpi(label: string, raw: number | null, text: string, icon_: string): HTMLElement {
  const card = h('div', { class: 'kpi card' }, h('div', { class: 'kpi-label muted' }, icon(icon_), label));
  card.setAttribute('aria-label', label);
  card.append(h('div', { class: 'kpi-value' }, value(raw, text)));
  return card;
}

function filterButton(label: string, filters: DashboardQuery['filters']): HTMLElement {
  const button = h('button', { class: 'link', title: `Show only ${label}` }, icon('filter'));
  button.setAttribute('aria-label', `Filter the dashboard to ${label}`);
  button.addEventListener('click', () => {
    query = { ...query, filters: { ...query.filters, ...filters } };
    send();
  });
  return button;
}

function row(cells: (HTMLElement | string)[]): HTMLTableRowElement {
  return h('tr', {}, ...cells.map((c, i) => (i === 0 ? h('th', { attrs: { scope: 'row' } }, c) : h('td', {}, c))));
}

function fill(id: string, rows: HTMLTableRowElement[], empty: string, columns: number): void {
  const body = tables[id];
  if (!body) return;
  if (rows.length === 0) {
    const cell = h('td', { class: 'muted' }, empty);
    cell.colSpan = columns;
    body.replaceChildren(h('tr', {}, cell));
  } else {
    body.replaceChildren(...rows);
  }
}

function render(data: DashboardData): void {
  asOf.dateTime = new Date(data.at).toISOString();
  asOf.textContent = new Date(data.at).toLocaleTimeString();
  sourceBadge.textContent = data.source === 'live' ? 'live windows' : 'store';
  sourceBadge.className = `badge ${data.source === 'live' ? 'state-ok' : 'muted'}`;
  const t = data.totals;
  kpis.setAttribute('aria-label', data.query.live ? 'The last minute' : 'The whole range');
  kpis.replaceChildren(
    kpi('Requests per second', t.rps, num(t.rps), 'pulse'),
    kpi('Latency p50', t.p50, ms(t.p50), 'watch'),
    kpi('Latency p95', t.p95, ms(t.p95), 'watch'),
    kpi('Latency p99', t.p99, ms(t.p99), 'watch'),
    kpi('Error rate', t.errorRate, pct(t.errorRate), 'error'),
    kpi('Active sessions', t.activeSessions, num(t.activeSessions, 0), 'account'),
    kpi('Active streams', t.activeStreams, num(t.activeStreams, 0), 'broadcast'),
  );
  for (const panel of PANELS) updateLine(panel.id, (data[panel.tab] as unknown as Record<string, ChartSeries[]>)[panel.data] ?? []);
  renderMetric(data);
  fill(
    'pods',
    data.overview.pods.map((p) =>
      row([p.pod, p.service, value(p.rps, num(p.rps)), value(p.p50, ms(p.p50)), value(p.p99, ms(p.p99)), value(p.errorRate, pct(p.errorRate)), value(p.cpuPercent, p.cpuPercent === null ? '—' : `${num(p.cpuPercent)} %`), value(p.rssBytes, bytes(p.rssBytes)), value(p.eventLoopP99Ms, ms(p.eventLoopP99Ms)), filterButton(p.pod, { pod: p.pod })]),
    ),
    'No requests from any pod in this range.',
    10,
  );
  fill(
    'routes',
    data.performance.routes.map((r) => row([r.route, value(r.rps, num(r.rps)), value(r.p50, ms(r.p50)), value(r.p95, ms(r.p95)), value(r.p99, ms(r.p99)), value(r.errorRate, pct(r.errorRate)), filterButton(r.route, { route: r.route })])),
    'No requests in this range.',
    7,
  );
  const bounds = data.users.sessionLengths.map(([bound], i) => (bound === null ? `> ${SESSION_LENGTH_BOUNDS[SESSION_LENGTH_BOUNDS.length - 1]! / 1000} s` : `≤ ${bound / 1000} s${i === 0 ? '' : ''}`));
  updateBar('sessionLengths', bounds, data.users.sessionLengths.map(([, n]) => n), 'sessions');
  renderFunnel(data);
  fill(
    'retention',
    data.users.retention.map((r) => row([r.tenant, value(r.clients, String(r.clients)), value(r.returning, String(r.returning)), value(r.retention, r.retention === null ? '—' : pct(r.retention))])),
    'No session starts with a client in this range.',
    4,
  );
  fill(
    'tenants',
    data.business.tenants.map((b) => row([b.tenant, b.plan, value(b.messagesPerSecond, num(b.messagesPerSecond)), value(b.messages, num(b.messages, 0)), value(b.bytes, bytes(b.bytes)), value(b.sessions, num(b.sessions, 0)), filterButton(b.tenant, { tenant: b.tenant })])),
    'No messages in this range.',
    7,
  );
  fill('plans', data.business.plans.map((p) => row([p.plan, value(p.tenants, String(p.tenants)), value(p.messages, num(p.messages, 0)), value(p.bytes, bytes(p.bytes))])), 'No messages in this range.', 4);
  renderOptions(data);
  tick();
}

function renderMetric(data: DashboardData): void {
  if (!data.metric) {
    metricBox.hidden = true;
    return;
  }
  metricBox.hidden = false;
  if (!charts.has('metric')) metricBox.append(chartCard({ id: 'metric', title: `${data.metric.name} (${data.metric.stat}) by pod` }));
  const caption = metricBox.querySelector('figcaption');
  if (caption) caption.textContent = `${data.metric.name} · ${data.metric.kind} · ${data.metric.stat} by pod`;
  updateLine('metric', data.metric.series);
}

function renderFunnel(data: DashboardData): void {
  const f = data.users.funnel;
  const steps: [string, number][] = [
    ['Connect', f.connect],
    ['Subscribe', f.subscribe],
    ['Publish', f.publish],
  ];
  const max = Math.max(1, f.connect);
  funnelBox.replaceChildren(
    ...steps.map(([label, n], i) => {
      const bar = h('div', { class: 'funnel-bar' });
      bar.style.width = `${Math.max(2, (n / max) * 100)}%`;
      const share = i === 0 ? '' : ` · ${f.connect ? ((n / f.connect) * 100).toFixed(1) : '—'} % of connects`;
      const step = h('div', { class: 'funnel-step' }, h('span', { class: 'funnel-label' }, label), h('div', { class: 'funnel-track' }, bar), h('span', {}, value(n, num(n, 0)), share));
      step.setAttribute('aria-label', `${label}: ${n} sessions${share}`);
      return step;
    }),
  );
}

function renderOptions(data: DashboardData): void {
  for (const key of ['service', 'pod', 'route', 'tenant'] as const) {
    const select = selects[key];
    const chosen = query.filters[key] ?? '';
    const options = [...new Set([...data.options[`${key}s` as 'services'], ...(chosen ? [chosen] : [])])];
    const wanted = ['', ...options].join('\u0000');
    const have = [...select.options].map((o) => o.value).join('\u0000');
    if (wanted !== have) select.replaceChildren(new Option(`All`, ''), ...options.map((o) => new Option(o, o)));
    select.value = chosen;
  }
  const rangeIndex = RANGES.findIndex((r) => r.live === query.live && r.rangeMs === query.rangeMs && (query.live || query.to === undefined));
  rangeSelect.value = rangeIndex >= 0 ? String(rangeIndex) : 'custom';
}

function tick(): void {
  if (!current) return;
  const age = (Date.now() - current.receivedAt) / 1000;
  freshness.textContent = query.live ? `· updated ${age < 1.5 ? 'just now' : `${Math.round(age)} s ago`}` : `· ${timeLabel(current.data.from, current.data.to - current.data.from)} – ${timeLabel(current.data.to, current.data.to - current.data.from)}`;
}

function showBanner(kind: 'error' | 'warn' | 'info', text: string): void {
  banner.hidden = false;
  banner.className = `banner banner-${kind}`;
  banner.replaceChildren(icon(kind === 'error' ? 'error' : kind === 'warn' ? 'warning' : 'info'), text);
}

messenger.onMessage((message) => {
  switch (message.type) {
    case 'query':
      query = message.query;
      selectTab(message.tab, false);
      if (current) renderOptions(current.data);
      break;
    case 'data':
      current = { data: message.data, receivedAt: message.receivedAt };
      kpiCaption.textContent = message.data.query.live ? 'Headline figures: the last minute' : 'Headline figures: the whole range';
      if (!banner.classList.contains('banner-warn') && !banner.classList.contains('banner-info')) banner.hidden = true;
      render(message.data);
      break;
    case 'server':
      if (message.state === 'away') showBanner('warn', `The language server stopped at ${new Date(message.since).toLocaleTimeString()}; the figures below are frozen until it is back.`);
      else
        showBanner(
          'info',
          `The language server was away from ${new Date(message.awayFrom ?? message.since).toLocaleTimeString()} to ${new Date(message.since).toLocaleTimeString()}; the gap is filled from the stream and the store.`,
        );
      break;
    case 'error':
      showBanner('error', message.message);
      break;
  }
});

build();
messenger.post({ type: 'ready' });
setInterval(tick, 1000);
new MutationObserver(() => {
  applyTheme();
  for (const chart of charts.values()) chart.update('none');
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });
