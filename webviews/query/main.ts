/** The query results panel: the query, a toolbar (run again, live refresh, export CSV), the chart and the table. */
import type { QueryFromWebview, QueryToWebview } from '../../src/protocol/webview';
import { h, icon } from '../shared/dom';
import { createMessenger } from '../shared/messenger';
import { createResultView } from './view';

const messenger = createMessenger<QueryToWebview, QueryFromWebview>();
const title = h('h1', {}, icon('database'), 'Query');
const queryText = h('pre', { class: 'sgql-query' });
const status = h('span', { class: 'sgql-muted', role: 'status' });
const error = h('div', { class: 'sgql-error', role: 'alert' });
const rerun = h('button', { title: 'Run the query again' }, icon('play'), ' Run again');
const exportCsv = h('button', { title: 'Save every row as CSV' }, icon('export'), ' Export CSV');
const liveBox = document.createElement('input');
liveBox.type = 'checkbox';
const interval = document.createElement('select');
for (const [label, ms] of [['every 5 s', 5000], ['every 15 s', 15_000], ['every 1 min', 60_000]] as const) interval.append(new Option(label, String(ms)));
const view = createResultView();
error.hidden = true;
view.element.hidden = true;
const toolbar = h('div', { class: 'sgql-toolbar' }, rerun, exportCsv, h('label', {}, liveBox, 'Live refresh'), interval, status);
document.getElementById('app')!.append(h('div', { class: 'header' }, title), queryText, toolbar, error, view.element);

const sendLive = () => messenger.post({ type: 'live', enabled: liveBox.checked, intervalMs: Number(interval.value) });
rerun.addEventListener('click', () => messenger.post({ type: 'rerun' }));
exportCsv.addEventListener('click', () => messenger.post({ type: 'exportCsv' }));
liveBox.addEventListener('change', sendLive);
interval.addEventListener('change', sendLive);

function show(titleText: string, text: string, live: boolean, intervalMs: number): void {
  title.replaceChildren(icon('database'), ` ${titleText}`);
  queryText.textContent = text;
  liveBox.checked = live;
  if ([...interval.options].some((o) => o.value === String(intervalMs))) interval.value = String(intervalMs);
}

messenger.onMessage((message) => {
  switch (message.type) {
    case 'running':
      title.replaceChildren(icon('database'), ` ${message.title}`);
      queryText.textContent = message.text;
      status.textContent = 'running…';
      break;
    case 'result': {
      show(message.title, message.text, message.live, message.intervalMs);
      error.hidden = true;
      view.element.hidden = false;
      view.update(message.result);
      const at = new Date(message.receivedAt).toISOString().slice(11, 19);
      status.textContent = `${message.live ? 'live · ' : ''}ran at ${at} UTC`;
      exportCsv.disabled = message.result.rows.length === 0;
      break;
    }
    case 'error':
      show(message.title, message.text, message.live, message.intervalMs);
      error.textContent = message.message;
      error.hidden = false;
      status.textContent = '';
      break;
    case 'server':
      status.textContent = message.state === 'away' ? 'the language server is restarting…' : 'the language server is back';
      break;
  }
});
messenger.post({ type: 'ready' });
