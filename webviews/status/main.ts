/** The status panel: renders what the extension sends; computes nothing but durations. */
import type { NatsState, ServerStatus, StoreState } from '../../src/protocol/status';
import type { StatusFromWebview, StatusToWebview } from '../../src/protocol/webview';
import { formatDuration } from '../../src/common/format';
import { h, icon } from '../shared/dom';
import { createMessenger } from '../shared/messenger';

const messenger = createMessenger<StatusToWebview, StatusFromWebview>();
const app = document.getElementById('app')!;
let current: { status: ServerStatus; receivedAt: number } | undefined;

const NATS_LOOK: Record<NatsState, [string, string, string]> = {
  connected: ['pass-filled', 'state-ok', 'connected'],
  connecting: ['sync', 'state-warn', 'connecting'],
  reconnecting: ['sync', 'state-warn', 'reconnecting'],
  'not-configured': ['circle-slash', 'muted', 'not configured'],
  disconnected: ['debug-disconnect', 'state-warn', 'disconnected'],
  error: ['error', 'state-error', 'unreachable'],
};
const STORE_LOOK: Record<StoreState, [string, string, string]> = {
  ready: ['pass-filled', 'state-ok', 'ready'],
  opening: ['sync', 'state-warn', 'opening'],
  error: ['error', 'state-error', 'error'],
  closed: ['circle-slash', 'muted', 'closed'],
};

function stateBadge([iconName, cls, label]: [string, string, string]): HTMLElement {
  return h('span', { class: `badge ${cls}`, data: { state: label } }, icon(iconName), label);
}

function kv(rows: [string, string | undefined][]): HTMLElement {
  const dl = h('dl', { class: 'kv' });
  for (const [key, value] of rows) {
    if (value === undefined || value === '') continue;
    dl.append(h('dt', {}, key), h('dd', {}, value));
  }
  return dl;
}

const INGEST_LOOK: Record<NonNullable<ServerStatus['ingest']>['state'], [string, string, string]> = {
  running: ['pass-filled', 'state-ok', 'ingesting'],
  starting: ['sync', 'state-warn', 'starting'],
  paused: ['debug-pause', 'state-warn', 'paused'],
  stopped: ['circle-slash', 'muted', 'stopped'],
};

/** Where the figures come from: this server (ingest and live windows) or a shared one. */
function analyticsCard(status: ServerStatus): HTMLElement {
  if (status.mode === 'shared') {
    const shared = status.sharedServer;
    return h(
      'section',
      { class: 'card', data: { card: 'analytics' } },
      h('h2', {}, icon('graph-line'), 'Analytics ', stateBadge(shared ? ['link', 'state-ok', 'shared server'] : ['warning', 'state-warn', 'no shared server'])),
      kv([
        ['Mode', 'shared: views come from a team server; nothing is ingested here'],
        ['Server', shared ? `sg-server ${shared.version} (${shared.id})` : 'none answers on this NATS yet'],
        ['Its store', shared?.store],
        ['It ingests', shared ? (shared.ingest ? 'yes' : 'no (query only)') : undefined],
      ]),
    );
  }
  const ingest = status.ingest;
  const live = status.live;
  return h(
    'section',
    { class: 'card', data: { card: 'analytics' } },
    h('h2', {}, icon('graph-line'), 'Analytics ', stateBadge(ingest ? INGEST_LOOK[ingest.state] : ['circle-slash', 'muted', 'not ingesting'])),
    kv([
      ['Mode', 'embedded: this server ingests into its own store'],
      ['Ingest', ingest ? `${ingest.messages.toLocaleString()} messages, ${ingest.rows.toLocaleString()} rows${ingest.lastWriteAt ? `, last write ${new Date(ingest.lastWriteAt).toLocaleTimeString()}` : ''}` : undefined],
      ['Refused', ingest ? `${ingest.deadLettered} dead-lettered, ${ingest.duplicates} duplicates skipped` : undefined],
      ['Live windows', live ? `${live.state} · ${live.series.toLocaleString()} series · ${live.points.toLocaleString()} points` : undefined],
    ]),
    ingest?.reason ? h('div', { class: 'error-text' }, ingest.reason) : null,
  );
}

function render(): void {
  app.replaceChildren();
  app.append(h('h1', {}, icon('radio-tower'), 'StreamGate'));
  if (!current) {
    app.append(h('p', { class: 'subtitle' }, 'Waiting for the language server…'));
    return;
  }
  const { status, receivedAt } = current;
  const uptime = status.uptimeMs + (Date.now() - receivedAt);
  app.append(h('p', { class: 'subtitle' }, `Language server ${status.version} · pid ${status.pid} · up ${formatDuration(uptime)}`));
  const nats = status.nats;
  const store = status.store;
  app.append(
    h(
      'div',
      { class: 'cards' },
      h(
        'section',
        { class: 'card', data: { card: 'nats' } },
        h('h2', {}, icon('radio-tower'), 'NATS ', stateBadge(NATS_LOOK[nats.state])),
        kv([
          ['URL', nats.url ?? 'not set — run “StreamGate: Connect to NATS…”'],
          ['Server', nats.server ? `${nats.server.name} ${nats.server.version}` : undefined],
          ['JetStream', nats.server ? (nats.server.jetstream ? 'enabled' : 'disabled') : undefined],
          ['Since', new Date(nats.since).toLocaleTimeString()],
        ]),
        nats.error ? h('div', { class: 'error-text' }, nats.error) : null,
      ),
      h(
        'section',
        { class: 'card', data: { card: 'store' } },
        h('h2', {}, icon('database'), 'Store ', stateBadge(STORE_LOOK[store.state])),
        kv([
          ['Engine', `${store.kind}${store.version ? ` ${store.version}` : ''}`],
          ['Location', store.location],
          ['Since', new Date(store.since).toLocaleTimeString()],
        ]),
        store.error ? h('div', { class: 'error-text' }, store.error) : null,
      ),
      analyticsCard(status),
    ),
  );
  const refresh = h('button', { class: 'secondary', title: 'Ask the server again' }, icon('refresh'), 'Refresh');
  refresh.addEventListener('click', () => messenger.post({ type: 'refresh' }));
  app.append(h('div', { class: 'toolbar' }, refresh));
}

messenger.onMessage((message) => {
  switch (message.type) {
    case 'status':
      current = { status: message.status, receivedAt: message.receivedAt };
      render();
      break;
    case 'unavailable':
      current = undefined;
      app.replaceChildren(h('h1', {}, icon('radio-tower'), 'StreamGate'), h('p', { class: 'error-text' }, `Status unavailable: ${message.reason}`));
      break;
  }
});

render();
messenger.post({ type: 'ready' });
// Uptime ticks without asking the server.
setInterval(() => current && render(), 5000);
