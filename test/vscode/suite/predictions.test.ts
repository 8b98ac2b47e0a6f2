/**
 * Predictions and alerts in a real VS Code, against the sandbox fleet: the predictions panel opened from the
 * palette shows the live fleet's forecasts (model, backtest, scaling advice, cost), and an incident injected
 * with `sg fleet incident` makes an alert appear as a notification and in the Alerts view.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { StreamGateApi } from '../../../src/extension/api';
import type { FleetReady } from '../../../src/protocol/cli';
import { activeApi, ON_SCREEN, runFromPalette, screen, screenshot, startSandboxFleet, useNatsUrl, waitFor } from '../support';

const repoRoot = join(__dirname, '..', '..', '..', '..');
const MODELS = /^(seasonal-naive|seasonal-naive-weekly|ets-damped|theta|pooled-linear|combination|naive|mean)$/;

describe('Predictions and alerts in VS Code', function () {
  let api: StreamGateApi;
  let restore: () => Promise<void>;
  let ready: FleetReady;

  before(async function () {
    this.timeout(300_000);
    api = await activeApi();
    await api.serverReady;
    restore = await useNatsUrl('');
    const started = await startSandboxFleet(api);
    assert.ok(started, 'the sandbox fleet started');
    ready = started;
    await waitFor('the server ingesting the fleet', async () => {
      const status = await api.status();
      return status.nats.url === ready.nats && status.nats.state === 'connected' && status.live?.state === 'live' && (status.ingest?.rows ?? 0) > 0;
    }, 90_000);
    // A one-minute horizon is forecast at 1-second steps: a few minutes of history are enough to backtest it.
    await waitFor('a backtested load forecast of gateway', async () => {
      const data = await api.predict.predictions({ service: 'gateway', horizonMs: 60_000 });
      return data.forecasts.load?.backtest.smape !== null && data.forecasts.load?.backtest.smape !== undefined;
    }, 240_000);
  });

  after(async function () {
    this.timeout(60_000);
    if (api.sandbox()) await vscode.commands.executeCommand('streamgate.stopSandboxFleet');
    await restore();
  });

  it(`opens the predictions panel from the palette and shows the live fleet's forecasts ${ON_SCREEN}`, async () => {
    await runFromPalette('StreamGate: Open Predictions');
    await vscode.commands.executeCommand('streamgate.openPredictions', { service: 'gateway', horizonMs: 60_000 });
    let seen: { text: string; values: { label: string; value: string }[] } = { text: '', values: [] };
    await waitFor('forecasts on screen', async () => {
      seen = await screen('predictions-panel', { kind: 'webview', title: 'StreamGate Predictions' });
      return /backtest sMAPE/.test(seen.text) && /Scaling advice/.test(seen.text);
    }, 60_000);
    const { text, values } = seen;
    for (const title of ['Load (requests/s)', 'Error rate (5xx share)', 'Active sessions', 'Cost per hour']) assert.ok(text.includes(title), `${title} is shown`);
    const label = (l: string) => values.find((v) => v.label === l)?.value;
    const smape = Number(label('load backtest sMAPE'));
    assert.ok(smape >= 0 && smape <= 200, `the load backtest sMAPE on screen: ${label('load backtest sMAPE')}`);
    assert.ok(Number(label('load backtest MASE')) >= 0);
    const model = /Load \(requests\/s\)\s+(\S+)/.exec(text)?.[1] ?? '';
    assert.match(model, MODELS, `the load model on screen: ${model}`);
    assert.match(text, /gateway/);
    assert.match(text, /(scale gateway to \d+ pods before \d\d:\d\d|gateway needs \d+ of its \d+ pods until \d\d:\d\d|gateway's \d+ pods? cover the forecast until \d\d:\d\d) — forecast p95 [\d.k]+ req\/s, capacity [\d.k]+ per pod/);
    assert.ok(Number(label('pods now')) >= 1, 'the gateway pods running now');
    assert.ok(Number(label('cost over the horizon')) > 0, 'a cost forecast');
    assert.ok(Number.isFinite(Number(label('load forecast at the horizon'))));
  });

  it(`shows an alert as a notification and in the Alerts view when an incident is injected ${ON_SCREEN}`, async function () {
    // Its own wait for the alert is 120 s: the test's limit must hold that and the screenshots after it.
    this.timeout(240_000);
    assert.equal(api.predict.alerts().filter((a) => a.rule === 'error-rate-high' && a.state === 'firing').length, 0, 'no error-rate alert before the incident');
    const cli = join(repoRoot, 'dist', 'cli.js');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'fleet', 'incident', 'error-burst', '--pod', 'gw-1', '--for', '120s', '--nats', ready.nats]);
    assert.match(stdout, /incident error-burst on gw-1/);
    await waitFor('the error-rate alert in the Alerts view', () => api.predict.alerts().some((a) => a.rule === 'error-rate-high' && a.state === 'firing'), 120_000).catch(async (error: Error) => {
      const list = (alerts: { rule: string; state: string }[]) => alerts.map((a) => `${a.rule}:${a.state}`).join(', ') || 'none';
      const server = await api.predict.predictions({}).then((p) => list(p.alerts), (e: Error) => `unanswered (${e.message})`);
      throw new Error(`${error.message} (the view lists ${list(api.predict.alerts())}; the server lists ${server})`);
    });
    const toast = await screenshot('alert-notification', { kind: 'workbench' });
    assert.match(toast, /StreamGate critical: error rate [\d.]+ % on gateway is above 2\.00 % for 20 s/);
    await vscode.commands.executeCommand('streamgate.alerts.focus');
    const sidebar = await screenshot('alerts-view', { kind: 'sidebar' });
    assert.match(sidebar, /error rate [\d.]+ % on gateway is above 2\.00 % for 20 s/);
    assert.match(sidebar, /critical · since/);
  });
});
