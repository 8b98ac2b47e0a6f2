/**
 * The log analyzer: the templates the server mined, sorted by count, trend or novelty, each with a sparkline of
 * its lines per minute; filters by pod, level, time and trace; a template's lines and parameter values; a jump
 * to the logging call site. The host queries; this page draws (text as text, sparklines as SVG elements).
 */
import { formatSite, TEMPLATE_SORTS, type LogTemplateDetail, type LogTemplateRow, type LogTemplatesQuery, type LogTemplatesResult, type TemplateSort } from '../../src/protocol/logs';
import { LOG_LEVELS, type LogSite } from '../../src/protocol/nats';
import type { LogsFromWebview, LogsToWebview } from '../../src/protocol/webview';
import { h, icon } from '../shared/dom';
import { createMessenger } from '../shared/messenger';

const messenger = createMessenger<LogsToWebview, LogsFromWebview>();
const app = document.getElementById('app')!;

const RANGES: [string, number][] = [
  ['Last 15 minutes', 15 * 60_000],
  ['Last hour', 3600_000],
  ['Last 6 hours', 6 * 3600_000],
  ['Last 24 hours', 24 * 3600_000],
];
const SORT_LABELS: Record<TemplateSort, string> = { count: 'Most lines', trend: 'Rising fastest', novelty: 'Newest' };

let query: LogTemplatesQuery = { sort: 'count' };
let current: LogTemplatesResult | undefined;
let selected: number | undefined;

function value(raw: number, text: string): HTMLElement {
  const el = document.createElement('data');
  el.value = String(raw);
  el.textContent = text;
  return el;
}

function select(label: string, options: [string, string][], current: string, onChange: (v: string) => void): HTMLElement {
  const el = h('select', { attrs: { 'aria-label': label } }, ...options.map(([v, text]) => h('option', { attrs: { value: v } }, text)));
  el.value = current;
  el.addEventListener('change', () => onChange(el.value));
  return h('label', { class: 'control' }, h('span', { class: 'muted' }, label), el);
}

const status = h('div', { class: 'status-line muted' });
const errorBanner = h('div', { class: 'banner banner-error', role: 'alert' });
errorBanner.hidden = true;
const controls = h('div', { class: 'controls' });
const table = h('div', { class: 'table-wrap' });
const detail = h('section', { class: 'card detail', attrs: { 'aria-label': 'Template' } });
detail.hidden = true;
app.append(h('header', {}, h('h1', {}, icon('list-filter'), 'StreamGate Logs'), status, errorBanner), controls, table, detail);

function send(next: LogTemplatesQuery): void {
  query = next;
  messenger.post({ type: 'query', query });
}

function renderControls(): void {
  const width = query.from !== undefined && query.to !== undefined ? query.to - query.from : 15 * 60_000;
  const pods = new Set(current?.templates.flatMap((t) => t.pods) ?? []);
  if (query.pod) pods.add(query.pod);
  const traceInput = h('input', { attrs: { type: 'search', placeholder: 'trace id', 'aria-label': 'Trace', value: query.traceId ?? '', size: '34' } });
  traceInput.addEventListener('change', () => {
    const text = traceInput.value.trim();
    const { traceId: _t, ...rest } = query;
    if (!text) send(rest);
    else if (/^[0-9a-fA-F]{32}$/.test(text)) send({ ...rest, traceId: text });
    else showError(`"${text}" is not a trace id (32 hex digits)`);
  });
  controls.replaceChildren(
    select('Range', RANGES.map(([label, ms]) => [String(ms), label]), String(width), (v) => send({ ...query, from: 0, to: Number(v) })),
    select('Sort', TEMPLATE_SORTS.map((s) => [s, SORT_LABELS[s]]), query.sort ?? 'count', (v) => send({ ...query, sort: v as TemplateSort })),
    select('Pod', [['', 'All pods'], ...[...pods].sort().map((p): [string, string] => [p, p])], query.pod ?? '', (v) => {
      const { pod: _p, ...rest } = query;
      send(v ? { ...rest, pod: v } : rest);
    }),
    select('Level', [['', 'All levels'], ...LOG_LEVELS.map((l): [string, string] => [l, l])], query.level ?? '', (v) => {
      const { level: _l, ...rest } = query;
      send(v ? { ...rest, level: v as (typeof LOG_LEVELS)[number] } : rest);
    }),
    h('label', { class: 'control' }, h('span', { class: 'muted' }, 'Trace'), traceInput),
  );
}

/** A sparkline as SVG elements (no markup strings). */
function sparkline(values: readonly number[]): SVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const width = 120;
  const height = 22;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('aria-hidden', 'true');
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 3)).toFixed(1)}`).join(' ');
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', points);
  svg.append(line);
  return svg;
}

function siteButton(site: LogSite): HTMLElement {
  const b = h('button', { class: 'link', title: `Open ${site.file}:${site.line}` }, icon('go-to-file'), `${site.file.split('/').slice(-2).join('/')}:${site.line}`);
  b.setAttribute('aria-label', `Go to call site ${formatSite(site)}`);
  b.addEventListener('click', (event) => {
    event.stopPropagation();
    messenger.post({ type: 'openSite', site });
  });
  return b;
}

function trendText(t: LogTemplateRow): string {
  if (t.trend === null) return 'new in range';
  if (t.trend >= 1.5) return `↑ ×${t.trend.toFixed(1)}`;
  if (t.trend <= 0.67) return `↓ ×${t.trend.toFixed(2)}`;
  return `→ ×${t.trend.toFixed(2)}`;
}

function renderTable(): void {
  const r = current;
  if (!r) return;
  status.replaceChildren(
    value(r.lines, `${r.lines} lines`),
    ` in ${r.templates.length} templates, `,
    h('time', { attrs: { datetime: new Date(r.from).toISOString() } }, new Date(r.from).toLocaleTimeString()),
    ' – ',
    h('time', { attrs: { datetime: new Date(r.to).toISOString() } }, new Date(r.to).toLocaleTimeString()),
    r.damage.binary + r.damage.invalidUtf8 + r.damage.truncated ? ` · repaired before mining: ${r.damage.binary} binary, ${r.damage.invalidUtf8} invalid UTF-8, ${r.damage.truncated} cut to 16 KiB` : '',
  );
  if (!r.templates.length) {
    table.replaceChildren(h('p', { class: 'muted' }, 'No log lines in the range with these filters.'));
    return;
  }
  const head = h('thead', {}, h('tr', {}, ...['Lines', 'Per minute', 'Trend', 'First seen', 'Levels', 'Template', 'Call site'].map((c) => h('th', {}, c))));
  const rows = r.templates.map((t) => {
    const anomalies = t.anomalies.map((a) => h('span', { class: `badge anomaly-${a.kind}`, title: new Date(a.minute).toLocaleTimeString() }, a.kind));
    const tr = h(
      'tr',
      { class: 'clickable', attrs: { 'aria-selected': String(t.id === selected), 'aria-label': `Template ${t.id}` } },
      h('td', { class: 'num' }, value(t.count, String(t.count))),
      h('td', {}, sparkline(t.sparkline)),
      h('td', { class: 'num' }, t.trend === null ? 'new in range' : value(t.trend, trendText(t))),
      h('td', {}, h('time', { attrs: { datetime: new Date(t.firstSeen).toISOString() } }, new Date(t.firstSeen).toLocaleString())),
      h('td', {}, Object.entries(t.levels).map(([l, n]) => `${l} ${n}`).join(' · ')),
      h('td', { class: 'template' }, h('code', {}, t.template), ...anomalies),
      h('td', {}, t.site ? siteButton(t.site) : h('span', { class: 'muted' }, '—')),
    );
    tr.addEventListener('click', () => {
      selected = t.id;
      renderTable();
      messenger.post({ type: 'template', query: { templateId: t.id, ...(query.pod ? { pod: query.pod } : {}), ...(query.level ? { level: query.level } : {}), ...(query.traceId ? { traceId: query.traceId } : {}), from: r.from, to: r.to } });
    });
    return tr;
  });
  table.replaceChildren(h('table', { class: 'grid', attrs: { 'aria-label': 'Log templates' } }, head, h('tbody', {}, ...rows)));
}

function renderDetail(d: LogTemplateDetail): void {
  detail.hidden = false;
  const params = d.params.map((p) =>
    h(
      'div',
      { class: 'param' },
      h('h3', {}, `<*> #${p.position + 1}`, h('span', { class: 'muted' }, ` ${p.distinct} distinct`)),
      h('ul', {}, ...p.values.map((v) => h('li', {}, h('code', {}, v.value), h('span', { class: 'muted' }, ` × ${v.count}`)))),
    ),
  );
  const lines = d.lines.map((l) => {
    const trace = l.traceId ? h('button', { class: 'link', title: 'Open the trace' }, icon('type-hierarchy-sub'), l.traceId.slice(0, 8)) : h('span', { class: 'muted' }, '—');
    if (l.traceId) trace.addEventListener('click', () => messenger.post({ type: 'openTrace', traceId: l.traceId }));
    return h(
      'tr',
      {},
      h('td', {}, h('time', { attrs: { datetime: new Date(l.ts).toISOString() } }, new Date(l.ts).toLocaleTimeString())),
      h('td', {}, l.pod),
      h('td', { class: `level-${l.level}` }, l.level),
      h('td', {}, trace),
      h('td', { class: 'template' }, l.msg || l.params.join(' ')),
    );
  });
  detail.replaceChildren(
    h('h2', {}, `Template ${d.id}`, h('span', { class: 'muted' }, ` version ${d.version}`)),
    h('p', {}, h('code', { class: 'template-text' }, d.template)),
    d.site ? h('div', { class: 'toolbar' }, siteButton(d.site)) : h('p', { class: 'muted' }, 'The pods did not say where this line is logged.'),
    d.versions.length > 1 ? h('details', {}, h('summary', {}, `${d.versions.length} versions`), h('ol', {}, ...d.versions.map((v) => h('li', {}, h('code', {}, v.template))))) : h('span', {}),
    h('h3', {}, 'Parameter values'),
    params.length ? h('div', { class: 'params' }, ...params) : h('p', { class: 'muted' }, 'This template has no parameters.'),
    h('h3', {}, `Lines (${d.lines.length}, latest first)`),
    h('table', { class: 'grid lines', attrs: { 'aria-label': 'Lines' } }, h('thead', {}, h('tr', {}, ...['Time', 'Pod', 'Level', 'Trace', 'Line'].map((c) => h('th', {}, c)))), h('tbody', {}, ...lines)),
  );
}

function showError(text: string): void {
  errorBanner.replaceChildren(icon('error'), text);
  errorBanner.hidden = false;
}

messenger.onMessage((message) => {
  switch (message.type) {
    case 'query':
      query = message.query;
      renderControls();
      break;
    case 'templates':
      errorBanner.hidden = true;
      current = message.result;
      query = message.query;
      renderControls();
      renderTable();
      break;
    case 'template':
      renderDetail(message.detail);
      break;
    case 'error':
      showError(message.message);
      break;
  }
});

renderControls();
table.append(h('p', { class: 'muted' }, 'Mining the fleet\'s logs…'));
messenger.post({ type: 'ready' });
