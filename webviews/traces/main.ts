/**
 * The trace viewer: a search list (slowest, errors, by route), the waterfall of the chosen trace with the
 * critical path highlighted, a second trace beside it for comparison, the selected span's details, and the
 * trace's statistics. The host assembles and lays out; this page draws and sends back what the user asks.
 */
import type { OperationStats, SpanDetail, TraceSearchQuery, TraceSearchResult, TraceView } from '../../src/protocol/traces';
import type { TraceSlot, TracesFromWebview, TracesToWebview } from '../../src/protocol/webview';
import { h, icon } from '../shared/dom';
import { createMessenger } from '../shared/messenger';
import { formatMs, serviceColour, Waterfall } from './waterfall';

const messenger = createMessenger<TracesToWebview, TracesFromWebview>();
const app = document.getElementById('app')!;

type ListTab = 'slowest' | 'errors' | 'routes';
let listTab: ListTab = 'slowest';
let query: TraceSearchQuery = { sort: 'slowest', limit: 100 };
let result: TraceSearchResult | undefined;

function value(raw: number, text: string): HTMLElement {
  const el = document.createElement('data');
  el.value = String(raw);
  el.textContent = text;
  return el;
}

// --- layout --------------------------------------------------------------------------------------------------

const errorBanner = h('div', { class: 'banner banner-error', role: 'alert' });
errorBanner.hidden = true;
const listTabs = h('div', { class: 'tabs', role: 'tablist' });
const routeFilter = h('input', { attrs: { type: 'search', placeholder: 'route', 'aria-label': 'Route filter' } });
const serviceFilter = h('input', { attrs: { type: 'search', placeholder: 'service', 'aria-label': 'Service filter' } });
const minDuration = h('input', { attrs: { type: 'number', min: '0', placeholder: 'min ms', 'aria-label': 'Minimum duration in ms' } });
const list = h('div', { class: 'trace-list', attrs: { 'aria-label': 'Traces' } });
const panes = h('div', { class: 'panes' });
const details = h('section', { class: 'details card', attrs: { 'aria-label': 'Details' } });

app.append(
  h('header', { class: 'header' }, h('h1', {}, icon('type-hierarchy-sub'), 'StreamGate Traces'), errorBanner),
  h(
    'div',
    { class: 'layout' },
    h('aside', { class: 'search card' }, listTabs, h('div', { class: 'filters' }, routeFilter, serviceFilter, minDuration), list),
    h('div', { class: 'main' }, panes, details),
  ),
);

for (const input of [routeFilter, serviceFilter, minDuration]) input.addEventListener('change', () => search());

function search(): void {
  const min = Number(minDuration.value);
  query = {
    sort: listTab === 'errors' ? 'newest' : 'slowest',
    limit: 100,
    ...(listTab === 'errors' ? { errorsOnly: true } : {}),
    ...(routeFilter.value.trim() ? { route: routeFilter.value.trim() } : {}),
    ...(serviceFilter.value.trim() ? { service: serviceFilter.value.trim() } : {}),
    ...(minDuration.value && Number.isFinite(min) ? { minDurationMs: min } : {}),
  };
  messenger.post({ type: 'search', query });
}

function renderTabs(): void {
  const tabs: [ListTab, string][] = [
    ['slowest', 'Slowest'],
    ['errors', 'Errors'],
    ['routes', 'By route'],
  ];
  listTabs.replaceChildren(
    ...tabs.map(([id, label]) => {
      const b = h('button', { class: 'tab', role: 'tab', attrs: { 'aria-selected': String(listTab === id) } }, label);
      b.addEventListener('click', () => {
        listTab = id;
        renderTabs();
        if (id === 'routes') renderList();
        else search();
      });
      return b;
    }),
  );
}

// --- the search list ----------------------------------------------------------------------------------------

function renderList(): void {
  if (!result) return;
  if (listTab === 'routes') {
    const rows = result.routes.map((r) => {
      const tr = h('tr', { class: 'clickable', title: `Slowest traces of ${r.route}` }, h('td', {}, r.route), h('td', {}, value(r.traces, String(r.traces))), h('td', {}, value(r.errors, String(r.errors))), h('td', {}, value(r.avgMs, formatMs(r.avgMs))), h('td', {}, value(r.maxMs, formatMs(r.maxMs))));
      tr.addEventListener('click', () => {
        routeFilter.value = r.route;
        listTab = 'slowest';
        renderTabs();
        search();
      });
      return tr;
    });
    list.replaceChildren(
      rows.length
        ? h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ...['Route', 'Traces', 'Errors', 'Mean', 'Max'].map((c) => h('th', {}, c)))), h('tbody', {}, ...rows))
        : h('p', { class: 'muted' }, 'No traces with a root span in the last 15 minutes.'),
    );
    return;
  }
  if (!result.traces.length) {
    list.replaceChildren(h('p', { class: 'muted' }, listTab === 'errors' ? 'No traces with errors in the last 15 minutes.' : 'No traces in the last 15 minutes.'));
    return;
  }
  list.replaceChildren(
    ...result.traces.map((t) => {
      const open = h('button', { class: 'trace-item', attrs: { 'aria-current': String(t.traceId === slots[0].traceId) } },
        h('span', { class: 'trace-duration' }, value(t.durationMs, formatMs(t.durationMs))),
        h('span', { class: 'trace-route' }, t.route || t.rootName || '(no root span)'),
        h('span', { class: 'trace-meta muted' }, `${t.spans} spans${t.errors ? ` · ${t.errors} errors` : ''} · ${new Date(t.start).toLocaleTimeString()}`),
      );
      if (t.errors) open.classList.add('has-errors');
      open.addEventListener('click', () => messenger.post({ type: 'open', traceId: t.traceId, slot: 0 }));
      const compare = h('button', { class: 'link compare', title: 'Open beside the current trace' }, icon('split-horizontal'));
      compare.setAttribute('aria-label', `Compare ${t.traceId}`);
      compare.addEventListener('click', () => messenger.post({ type: 'open', traceId: t.traceId, slot: 1 }));
      return h('div', { class: 'trace-row' }, open, compare);
    }),
  );
}

// --- the trace panes ----------------------------------------------------------------------------------------

interface Slot {
  traceId: string | undefined;
  view: TraceView | undefined;
  element: HTMLElement;
  header: HTMLElement;
  waterfall: Waterfall;
}

function makeSlot(slot: TraceSlot): Slot {
  const state: Slot = {
    traceId: undefined,
    view: undefined,
    element: h('section', { class: 'pane card', attrs: { 'aria-label': slot === 0 ? 'Trace' : 'Compared trace' } }),
    header: h('div', { class: 'pane-header' }),
    waterfall: new Waterfall({
      select: (row) => state.traceId && messenger.post({ type: 'select', traceId: state.traceId, slot, row }),
      openSource: (row) => state.traceId && messenger.post({ type: 'openSource', traceId: state.traceId, slot, row }),
    }),
  };
  state.element.append(state.header, state.waterfall.element);
  state.element.hidden = true;
  return state;
}

const slots: [Slot, Slot] = [makeSlot(0), makeSlot(1)];
panes.append(slots[0].element, slots[1].element);

function showTrace(slot: TraceSlot, view: TraceView): void {
  const s = slots[slot];
  s.traceId = view.traceId;
  s.view = view;
  s.element.hidden = false;
  panes.classList.toggle('two', !slots[1].element.hidden);
  // Colours through the CSSOM: the CSP allows no inline style attributes.
  const legend = h(
    'div',
    { class: 'legend' },
    ...view.services.map((service, i) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = serviceColour(i);
      return h('span', { class: 'legend-item' }, swatch, service);
    }),
  );
  const buttons = h('div', { class: 'pane-buttons' });
  const add = (label: string, iconName: string, run: () => void) => {
    const b = h('button', { class: 'secondary', title: label }, icon(iconName), label);
    b.addEventListener('click', run);
    buttons.append(b);
  };
  add('Critical path', 'flame', () => s.waterfall.revealCritical());
  add('Collapse all', 'collapse-all', () => s.waterfall.collapseAll());
  add('Expand all', 'expand-all', () => s.waterfall.expandAll());
  add('Logs', 'list-filter', () => messenger.post({ type: 'openLogs', traceId: view.traceId }));
  if (slot === 1) add('Close', 'close', () => messenger.post({ type: 'close', slot: 1 }));
  s.header.replaceChildren(
    ...([
    h('h2', {}, view.route || view.rootName || '(no root span)'),
    h(
      'div',
      { class: 'facts', attrs: { 'aria-label': 'Trace figures' } },
      h('span', { attrs: { 'aria-label': 'Duration' } }, value(view.durationMs, formatMs(view.durationMs))),
      h('span', { attrs: { 'aria-label': 'Spans' } }, value(view.spans, `${view.spans} spans`)),
      h('span', { attrs: { 'aria-label': 'Errors' } }, value(view.errors, `${view.errors} errors`)),
      h('span', { class: 'critical-fact', attrs: { 'aria-label': 'Critical path' } }, 'critical path ', value(view.criticalMs, formatMs(view.criticalMs))),
      h('span', { class: 'muted' }, view.traceId),
      h('time', { attrs: { datetime: new Date(view.start).toISOString() } }, new Date(view.start).toLocaleString()),
    ),
    view.problems ? h('div', { class: 'banner banner-warn' }, icon('warning'), view.problems) : null,
    legend,
    buttons,
    ] as (HTMLElement | null)[]).filter((e): e is HTMLElement => e !== null),
  );
  s.waterfall.show(view);
  if (slot === 0) {
    renderStats(view);
    renderList();
  }
}

// --- details and statistics ---------------------------------------------------------------------------------

let detailTab: 'span' | 'stats' = 'stats';
let lastDetail: { slot: TraceSlot; traceId: string; detail: SpanDetail } | undefined;

function detailTabs(): HTMLElement {
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  for (const [id, label] of [
    ['span', 'Span'],
    ['stats', 'Trace statistics'],
  ] as const) {
    const b = h('button', { class: 'tab', role: 'tab', attrs: { 'aria-selected': String(detailTab === id) } }, label);
    b.addEventListener('click', () => {
      detailTab = id;
      if (id === 'stats' && slots[0].view) renderStats(slots[0].view);
      else if (lastDetail) renderDetail(lastDetail.slot, lastDetail.traceId, lastDetail.detail);
    });
    tabs.append(b);
  }
  return tabs;
}

function renderDetail(slot: TraceSlot, traceId: string, d: SpanDetail): void {
  lastDetail = { slot, traceId, detail: d };
  detailTab = 'span';
  const kv = h('dl', { class: 'kv' });
  for (const [k, v] of d.facts) kv.append(h('dt', {}, k), h('dd', {}, v));
  const sections: (HTMLElement | null)[] = [];
  if (d.flags.length) sections.push(h('div', { class: 'banner banner-warn' }, icon('warning'), d.flags.join(', ')));
  if (d.source) {
    const go = h('button', {}, icon('go-to-file'), 'file' in d.source ? `Go to ${d.source.file.split('/').slice(-2).join('/')}:${d.source.line}` : `Go to the handler of ${d.source.route}`);
    go.addEventListener('click', () => messenger.post({ type: 'openSource', traceId, slot, row: d.row }));
    sections.push(h('div', { class: 'toolbar' }, go));
  }
  if (d.attributes.length) {
    sections.push(
      h('h3', {}, `Attributes (${d.attributes.length})`),
      h('table', { class: 'grid attrs' }, h('tbody', {}, ...d.attributes.map((a) => h('tr', {}, h('td', {}, a.key), h('td', { class: 'attr-value' }, a.value))))),
    );
  }
  if (d.events.length) sections.push(h('h3', {}, `Events (${d.events.length})`), h('ul', {}, ...d.events.map((e) => h('li', {}, `${formatMs(e.at)} ${e.name}${e.attributes.length ? ` — ${e.attributes.map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`))));
  if (d.links.length) sections.push(h('h3', {}, `Links (${d.links.length})`), h('ul', {}, ...d.links.map((l) => h('li', {}, `${l.traceId} / ${l.spanId}${l.attributes.length ? ` — ${l.attributes.map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`))));
  if (d.logs.length) sections.push(h('h3', {}, `Logs (${d.logs.length})`), h('ul', { class: 'logs' }, ...d.logs.map((l) => h('li', { class: `level-${l.level}` }, `${formatMs(l.at)} ${l.level} ${l.msg}`))));
  details.replaceChildren(detailTabs(), h('h2', {}, d.title), kv, ...sections.filter((e): e is HTMLElement => e !== null));
}

function statsTable(caption: string, rows: OperationStats[], withOperation: boolean): HTMLElement {
  const head = ['Service', ...(withOperation ? ['Operation'] : []), 'Count', 'Self time', 'Total', 'On critical path', 'Max', 'Errors'];
  return h(
    'div',
    { class: 'table-wrap' },
    h('h3', {}, caption),
    h(
      'table',
      { class: 'grid', attrs: { 'aria-label': caption } },
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))),
      h(
        'tbody',
        {},
        ...rows.slice(0, 200).map((r) =>
          h(
            'tr',
            {},
            h('td', {}, r.service),
            withOperation ? h('td', { class: 'op' }, r.operation) : null,
            h('td', {}, value(r.count, String(r.count))),
            h('td', {}, value(r.selfMs, formatMs(r.selfMs))),
            h('td', {}, value(r.totalMs, formatMs(r.totalMs))),
            h('td', {}, value(r.criticalMs, formatMs(r.criticalMs))),
            h('td', {}, value(r.maxMs, formatMs(r.maxMs))),
            h('td', {}, value(r.errors, String(r.errors))),
          ),
        ),
      ),
    ),
  );
}

function renderStats(view: TraceView): void {
  if (detailTab !== 'stats') return;
  details.replaceChildren(detailTabs(), statsTable('Self time per service', view.stats.byService, false), statsTable('Self time per operation', view.stats.byOperation, true));
}

// --- messages -----------------------------------------------------------------------------------------------

messenger.onMessage((message) => {
  switch (message.type) {
    case 'search':
      errorBanner.hidden = true;
      query = message.query;
      result = message.result;
      renderList();
      break;
    case 'trace':
      errorBanner.hidden = true;
      showTrace(message.slot, message.view);
      break;
    case 'detail':
      renderDetail(message.slot, message.traceId, message.detail);
      break;
    case 'closed':
      slots[message.slot].element.hidden = true;
      slots[message.slot].traceId = undefined;
      panes.classList.toggle('two', false);
      break;
    case 'error':
      errorBanner.replaceChildren(icon('error'), message.message);
      errorBanner.hidden = false;
      break;
  }
});

renderTabs();
list.append(h('p', { class: 'muted' }, 'Looking for traces…'));
details.append(h('p', { class: 'muted' }, 'Select a span to see its details.'));
void query;
messenger.post({ type: 'ready' });
