/**
 * The predictions panel: for one service, history and forecast with 80 % and 95 % bands of load, error rate,
 * active sessions and cost; the model each series chose and its backtest accuracy, drift, the scaling advice and
 * the cost over the horizon; the alerts and the most anomalous live series. It renders what the language server
 * computed and sends back the service and horizon picked. Numbers are <data value> and times <time datetime>, so
 * what is on screen can be read exactly (by assistive technology and by tests); fleet text is set as text only.
 */
import { CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import { FORECAST_KINDS, type AlertEvent, type ForecastAnswer, type ForecastKind, type PredictionsData, type PredictionsQuery } from '../../src/protocol/predict';
import type { PredictionsFromWebview, PredictionsToWebview } from '../../src/protocol/webview';
import { h, icon } from '../shared/dom';
import { createMessenger } from '../shared/messenger';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Filler, Legend, Tooltip);

const messenger = createMessenger<PredictionsToWebview, PredictionsFromWebview>();
const app = document.getElementById('app')!;

const TITLES: Record<ForecastKind, string> = { load: 'Load (requests/s)', errors: 'Error rate (5xx share)', sessions: 'Active sessions', cost: 'Cost per hour' };
const HORIZONS: { label: string; ms: number }[] = [
  { label: '1 minute', ms: 60_000 },
  { label: '5 minutes', ms: 5 * 60_000 },
  { label: '15 minutes', ms: 15 * 60_000 },
  { label: '1 hour', ms: 3600_000 },
  { label: '6 hours', ms: 6 * 3600_000 },
  { label: '24 hours', ms: 24 * 3600_000 },
];

let query: PredictionsQuery = {};
let current: PredictionsData | undefined;

// --- formatting ----------------------------------------------------------------------------------------------

function fmt(kind: ForecastKind, v: number | null | undefined, currency = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (kind === 'errors') return `${(v * 100).toFixed(2)} %`;
  if (kind === 'cost') return `${money(v)}${currency ? ` ${currency}` : ''}`;
  const abs = Math.abs(v);
  if (abs >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
}

/** Money with two decimals, or three significant digits below one cent (a one-minute horizon costs fractions of it). */
function money(v: number): string {
  return Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(2) : v.toPrecision(3);
}

function value(raw: number | null | undefined, text: string): HTMLElement {
  const el = document.createElement('data');
  el.value = raw === null || raw === undefined ? '' : String(raw);
  el.textContent = text;
  return el;
}

function labelled(label: string, ...children: (Node | string)[]): HTMLElement {
  const span = h('span', { class: 'figure' }, ...children);
  span.setAttribute('aria-label', label);
  return span;
}

function clock(t: number, seconds = false): string {
  const d = new Date(t);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return seconds ? `${hm}:${String(d.getSeconds()).padStart(2, '0')}` : hm;
}

function timeEl(t: number, text = clock(t)): HTMLTimeElement {
  const el = document.createElement('time');
  el.dateTime = new Date(t).toISOString();
  el.textContent = text;
  return el;
}

function span(ms: number): string {
  if (ms >= 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms >= 3600_000 && ms % 3600_000 === 0) return `${ms / 3600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

// --- theme ------------------------------------------------------------------------------------------------------

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}
function applyTheme(): void {
  Chart.defaults.color = cssVar('--vscode-foreground', '#ccc');
  Chart.defaults.borderColor = cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.25)');
  Chart.defaults.font.family = cssVar('--vscode-font-family', 'sans-serif');
}
function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1]!, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// --- skeleton ---------------------------------------------------------------------------------------------------

const asOf = document.createElement('time');
const serviceSelect = document.createElement('select');
const horizonSelect = document.createElement('select');
const banner = h('div', { class: 'banner', role: 'status' });
const advice = h('section', { class: 'card advice' });
const costCard = h('section', { class: 'card cost' });
const alertsBox = h('section', { class: 'card alerts' });
const anomaliesBox = h('section', { class: 'card anomalies' });
const charts = new Map<ForecastKind, Chart>();
const captions = new Map<ForecastKind, HTMLElement>();

function send(): void {
  messenger.post({ type: 'query', query });
}

function control(text: string, el: HTMLElement): HTMLElement {
  return h('label', { class: 'control' }, h('span', { class: 'muted' }, text), el);
}

function chartCard(kind: ForecastKind): HTMLElement {
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${TITLES[kind]}: history and forecast with 80 % and 95 % bands`);
  const caption = h('div', { class: 'model' });
  captions.set(kind, caption);
  const card = h('figure', { class: 'card chart-card' }, h('figcaption', {}, TITLES[kind]), caption, h('div', { class: 'chart-box' }, canvas));
  card.setAttribute('aria-label', `${kind} forecast`);
  charts.set(
    kind,
    new Chart(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 10, filter: (item) => !/^(lo|hi)/.test(item.text) } } },
        // Axis labels with seconds when the chart spans less than a quarter of an hour (short horizons, the sandbox).
        scales: { x: { type: 'linear', ticks: { maxTicksLimit: 7, callback: (v) => clock(Number(v), chartSpan(kind) < 15 * 60_000) } }, y: { beginAtZero: true } },
      },
    }),
  );
  return card;
}

function chartSpan(kind: ForecastKind): number {
  const f = current?.forecasts[kind];
  const first = f?.history[0]?.[0];
  const last = f?.points[f.points.length - 1]?.t;
  return first !== undefined && last !== undefined ? last - first : Infinity;
}

function build(): void {
  applyTheme();
  for (const hz of HORIZONS) horizonSelect.append(new Option(hz.label, String(hz.ms)));
  horizonSelect.value = String(3600_000);
  serviceSelect.addEventListener('change', () => {
    query = { ...query, service: serviceSelect.value };
    send();
  });
  horizonSelect.addEventListener('change', () => {
    query = { ...query, horizonMs: Number(horizonSelect.value) };
    send();
  });
  const refresh = h('button', { class: 'secondary', title: 'Forecast again now' }, icon('refresh'), 'Refresh');
  refresh.addEventListener('click', () => messenger.post({ type: 'refresh' }));
  const header = h('div', { class: 'header' }, h('h1', {}, icon('graph-scatter'), 'StreamGate Predictions'), h('p', { class: 'subtitle' }, 'Forecasts as of ', asOf));
  const toolbar = h('div', { class: 'toolbar controls' }, control('Service', serviceSelect), control('Horizon', horizonSelect), refresh);
  banner.hidden = true;
  app.replaceChildren(header, toolbar, banner, h('div', { class: 'summary-row' }, advice, costCard), h('div', { class: 'charts' }, ...FORECAST_KINDS.map(chartCard)), h('div', { class: 'summary-row' }, alertsBox, anomaliesBox));
}

// --- rendering --------------------------------------------------------------------------------------------------

function updateChart(kind: ForecastKind, f: ForecastAnswer | undefined): void {
  const chart = charts.get(kind)!;
  if (!f) {
    chart.data.datasets = [];
    chart.update('none');
    return;
  }
  const blue = cssVar('--vscode-charts-blue', '#3794ff');
  const orange = cssVar('--vscode-charts-orange', '#d18616');
  const line = (label: string, data: { x: number; y: number | null }[], color: string, extra: Partial<ChartDataset<'line'>> = {}): ChartDataset<'line'> => ({
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    pointRadius: 0,
    borderWidth: 1.5,
    spanGaps: false,
    ...extra,
  });
  const band = (key: 'lo80' | 'hi80' | 'lo95' | 'hi95') => f.points.map((p) => ({ x: p.t, y: p[key] }));
  chart.data.datasets = [
    line('history', f.history.map(([x, y]) => ({ x, y })), blue),
    line(`forecast (${f.model})`, f.points.map((p) => ({ x: p.t, y: p.mean })), orange, { borderDash: [5, 3] }),
    line('hi95', band('hi95'), 'transparent', { fill: '+1', backgroundColor: withAlpha(orange, 0.12) }),
    line('lo95', band('lo95'), 'transparent'),
    line('hi80', band('hi80'), 'transparent', { fill: '+1', backgroundColor: withAlpha(orange, 0.25) }),
    line('lo80', band('lo80'), 'transparent'),
  ];
  chart.update('none');
}

function caption(kind: ForecastKind, f: ForecastAnswer | undefined, missing: string | undefined): void {
  const box = captions.get(kind)!;
  if (!f) {
    box.replaceChildren(h('span', { class: 'muted' }, missing ?? 'No forecast.'));
    return;
  }
  const last = f.points[f.points.length - 1];
  const backtest =
    f.backtest.smape === null
      ? h('span', { class: 'badge warn' }, 'no backtest: too little history')
      : h('span', {}, 'backtest sMAPE ', labelled(`${kind} backtest sMAPE`, value(f.backtest.smape, `${f.backtest.smape.toFixed(1)} %`)), ', MASE ', labelled(`${kind} backtest MASE`, value(f.backtest.mase, f.backtest.mase!.toFixed(2))));
  const drift = h('span', { class: `badge drift-${f.drift.state}`, title: f.drift.note }, `drift: ${f.drift.state}`, f.drift.liveSmape === null ? '' : ` (live ${f.drift.liveSmape.toFixed(1)} %)`);
  box.replaceChildren(
    h('div', {}, labelled(`${kind} model`, h('strong', {}, f.model)), f.members ? ` of ${f.members.join(', ')}` : '', ' · ', backtest, ' · ', drift),
    h('div', { class: 'muted small', title: f.reason }, f.reason),
    last ? h('div', { class: 'small' }, 'At ', timeEl(last.t), ': ', labelled(`${kind} forecast at the horizon`, value(last.mean, fmt(kind, last.mean, f.cost?.currency))), ` (80 %: ${fmt(kind, last.lo80)}–${fmt(kind, last.hi80)}, 95 %: ${fmt(kind, last.lo95)}–${fmt(kind, last.hi95)})`) : '',
    ...f.warnings.map((w) => h('div', { class: 'muted small' }, icon('info'), w)),
  );
}

function renderAdvice(data: PredictionsData): void {
  const load = data.forecasts.load;
  const s = load?.scaling;
  if (!s) {
    advice.replaceChildren(h('h2', {}, icon('server-process'), 'Scaling'), h('p', { class: 'muted' }, 'No load forecast for this service yet.'));
    return;
  }
  const iconName = s.action === 'scale-up' ? 'arrow-up' : s.action === 'scale-down' ? 'arrow-down' : 'check';
  advice.replaceChildren(
    h('h2', {}, icon('server-process'), 'Scaling advice'),
    h('p', { class: `advice-text action-${s.action}` }, icon(iconName), s.text),
    h(
      'p',
      { class: 'muted' },
      labelled('pods now', value(s.currentPods, String(s.currentPods))),
      ' pods now, ',
      labelled('pods needed', value(s.neededPods, String(s.neededPods))),
      ' needed at the forecast peak of ',
      labelled('forecast peak', value(s.peak, `${fmt('load', s.peak)} req/s`)),
      ' (upper 95 % bound) at ',
      timeEl(s.peakAt),
      `; capacity ${fmt('load', s.capacityPerPod)} req/s per pod.`,
      load.backtest.smape === null ? ' This forecast is a short-history fallback: take it as a rough guide.' : '',
    ),
  );
}

function renderCost(data: PredictionsData): void {
  const f = data.forecasts.cost;
  if (!f?.cost) {
    costCard.replaceChildren(h('h2', {}, icon('credit-card'), 'Cost'), h('p', { class: 'muted' }, data.missing.cost ?? 'No cost forecast yet.'));
    return;
  }
  const c = f.cost;
  costCard.replaceChildren(
    h('h2', {}, icon('credit-card'), `Cost over the next ${span(data.horizonMs)}`),
    h('p', { class: 'big' }, labelled('cost over the horizon', value(c.total, `${money(c.total)} ${c.currency}`))),
    h('p', { class: 'muted' }, `80 %: ${money(c.total80[0])}–${money(c.total80[1])}, 95 %: ${money(c.total95[0])}–${money(c.total95[1])} ${c.currency}, at ${c.pricePerPodHour} ${c.currency} per pod-hour and ${fmt('load', c.capacityPerPod)} req/s per pod.`),
  );
}

function alertRow(a: AlertEvent): HTMLElement {
  const row = h('li', { class: `alert alert-${a.state} sev-${a.severity}` }, icon(a.state === 'firing' ? (a.severity === 'critical' ? 'error' : a.severity === 'warning' ? 'warning' : 'info') : 'pass'), h('span', { class: 'sev' }, a.state === 'firing' ? a.severity : 'resolved'), ' ', timeEl(a.startsAt), ' ', a.summary);
  row.setAttribute('aria-label', `${a.state} ${a.severity} alert ${a.rule}`);
  return row;
}

function renderAlerts(data: PredictionsData): void {
  const mine = data.alerts.filter((a) => !data.service || a.service === data.service);
  alertsBox.replaceChildren(h('h2', {}, icon('bell'), `Alerts${data.service ? ` on ${data.service}` : ''}`), mine.length ? h('ul', { class: 'alert-list' }, ...mine.slice(0, 12).map(alertRow)) : h('p', { class: 'muted' }, 'No alerts firing, none resolved in the last hour.'));
}

function renderAnomalies(data: PredictionsData): void {
  const a = data.anomalies;
  const rows = a.top.slice(0, 6).map((e) => {
    const labels = Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(', ');
    return h('tr', {}, h('th', { attrs: { scope: 'row' } }, e.metric), h('td', { class: 'labels' }, labels), h('td', {}, value(e.score, e.score.toFixed(3))));
  });
  anomaliesBox.replaceChildren(
    h('h2', {}, icon('pulse'), 'Most unusual live series'),
    h('p', { class: 'muted' }, `${a.tracked} series watched by the anomaly detector (${a.warming} still learning), one value per ${span(a.stepMs)}${a.refused ? `; ${a.refused} over the cap` : ''}.`),
    rows.length ? h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, h('th', {}, 'Metric'), h('th', {}, 'Labels'), h('th', {}, 'Score'))), h('tbody', {}, ...rows)) : h('p', { class: 'muted' }, 'No scores yet: each series learns its normal for about 17 minutes first.'),
  );
}

function renderOptions(data: PredictionsData): void {
  const wanted = data.services.join('\u0000');
  if ([...serviceSelect.options].map((o) => o.value).join('\u0000') !== wanted) serviceSelect.replaceChildren(...data.services.map((s) => new Option(s, s)));
  if (data.service) serviceSelect.value = data.service;
  horizonSelect.value = String(data.horizonMs);
}

function render(data: PredictionsData): void {
  asOf.dateTime = new Date(data.at).toISOString();
  asOf.textContent = new Date(data.at).toLocaleTimeString();
  renderOptions(data);
  if (!data.service) showBanner('info', 'No service has served requests in the last 15 minutes: nothing to forecast yet.');
  for (const kind of FORECAST_KINDS) {
    updateChart(kind, data.forecasts[kind]);
    caption(kind, data.forecasts[kind], data.missing[kind]);
  }
  renderAdvice(data);
  renderCost(data);
  renderAlerts(data);
  renderAnomalies(data);
}

function showBanner(kind: 'error' | 'info', text: string): void {
  banner.hidden = false;
  banner.className = `banner banner-${kind}`;
  banner.replaceChildren(icon(kind === 'error' ? 'error' : 'info'), text);
}

messenger.onMessage((message) => {
  switch (message.type) {
    case 'query':
      query = message.query;
      if (query.horizonMs) horizonSelect.value = String(query.horizonMs);
      break;
    case 'data':
      current = message.data;
      banner.hidden = true;
      render(message.data);
      break;
    case 'error':
      showBanner('error', message.message);
      break;
  }
});

build();
messenger.post({ type: 'ready' });
new MutationObserver(() => {
  applyTheme();
  if (current) render(current);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });
