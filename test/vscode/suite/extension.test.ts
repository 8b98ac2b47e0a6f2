/** The extension in a real VS Code: activation, commands, the server round trip, views and the status webview. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { StreamGateApi } from '../../../src/extension/api';
import type { FleetReady } from '../../../src/protocol/cli';
import { activeApi, EXTENSION_ID, resultsDir, screenshot, waitFor } from '../support';

const natsUrl = process.env.SG_TEST_NATS_URL;

describe('StreamGate DevTools in VS Code', () => {
  let api: StreamGateApi;

  before(async () => {
    api = await activeApi();
  });

  it('activates and records how long it took', () => {
    assert.ok(api.activationMs > 0);
    const dir = resultsDir();
    if (dir) writeFileSync(join(dir, 'activation.json'), JSON.stringify({ activationMs: api.activationMs, vscode: vscode.version }));
  });

  it('registers every command it contributes, under the StreamGate category', async () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string; category: string }[] } };
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = pkg.contributes.commands;
    assert.ok(contributed.length >= 8);
    for (const { command, category } of contributed) {
      assert.ok(registered.has(command), `${command} is contributed but not registered`);
      assert.equal(category, 'StreamGate');
    }
  });

  it('starts the language server and answers the status request', async () => {
    await api.serverReady;
    const status = await api.status();
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { version: string };
    assert.equal(status.version, pkg.version);
    assert.ok(status.pid > 0 && status.pid !== process.pid, 'the server is its own process');
    await waitFor('the DuckDB store', async () => (await api.status()).store.state === 'ready');
    assert.equal((await api.status()).store.kind, 'duckdb');
  });

  it('shows the welcome view with Connect and Start sandbox until NATS is connected', async () => {
    assert.equal((await api.status()).nats.state, 'not-configured');
    assert.match(api.statusBarText(), /not connected/);
    await vscode.commands.executeCommand('workbench.view.extension.streamgate');
    const text = await screenshot('fleet-view-welcome', { kind: 'sidebar' });
    if (text !== undefined) {
      assert.match(text, /Connect to NATS/);
      assert.match(text, /Start sandbox fleet/);
    }
  });

  it('connects when streamgate.nats.url is set, and the status bar and Fleet view follow', async function () {
    if (!natsUrl) this.skip();
    await vscode.workspace.getConfiguration('streamgate').update('nats.url', natsUrl, vscode.ConfigurationTarget.Global);
    await waitFor('NATS connected', async () => (await api.status()).nats.state === 'connected');
    const status = await api.status();
    assert.equal(status.nats.url, natsUrl);
    assert.equal(status.nats.server?.jetstream, true);
    await waitFor('the status bar to show the connection', () => api.statusBarText() === '$(radio-tower) StreamGate');
    await vscode.commands.executeCommand('workbench.view.extension.streamgate');
    const text = await screenshot('fleet-view', { kind: 'sidebar' });
    if (text !== undefined) {
      assert.match(text, /NATS/);
      assert.match(text, /duckdb · ready/);
    }
  });

  it('shows the status panel with the live state', async () => {
    await vscode.commands.executeCommand('streamgate.showStatus');
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { version: string };
    await waitFor('the status webview to render the server state', () => /connected/.test(api.statusPanelText() ?? ''));
    const rendered = api.statusPanelText() ?? '';
    assert.match(rendered, new RegExp(`Language server ${pkg.version.replace(/\./g, '\\.')}`));
    assert.match(rendered, /JetStream\s*enabled/);
    const seen = await screenshot('status-panel', { kind: 'webview', title: 'StreamGate Status' });
    if (seen !== undefined) {
      assert.match(seen, /NATS/);
      assert.match(seen, /connected/);
      assert.match(seen, /duckdb/);
    }
    // The whole window as a user sees it: the Fleet view beside the status panel, the status bar below.
    await vscode.commands.executeCommand('workbench.view.extension.streamgate');
    await vscode.commands.executeCommand('streamgate.showStatus');
    const window = await screenshot('workbench-status', { kind: 'workbench' });
    if (window !== undefined) assert.match(window, /StreamGate/);
  });

  it('starts a streamgate debug session that attaches over NATS and stops', async function () {
    if (!natsUrl) this.skip();
    const started = new Promise<vscode.DebugSession>((resolve) => {
      const sub = vscode.debug.onDidStartDebugSession((s) => {
        sub.dispose();
        resolve(s);
      });
    });
    const ok = await vscode.debug.startDebugging(undefined, { type: 'streamgate', request: 'attach', name: 'Attach to StreamGate fleet' });
    assert.equal(ok, true, 'startDebugging succeeded (nats filled in from settings)');
    const session = await started;
    assert.equal(session.type, 'streamgate');
    assert.equal(session.configuration.nats, natsUrl);
    const threads = (await session.customRequest('threads')) as { threads: unknown[] };
    assert.ok(Array.isArray(threads.threads));
    const ended = new Promise<void>((resolve) => vscode.debug.onDidTerminateDebugSession((s) => s.id === session.id && resolve()));
    await vscode.debug.stopDebugging(session);
    await ended;
  });

  it('starts the sandbox fleet and lists its pods with their health in the Fleet view', async () => {
    const ready = (await vscode.commands.executeCommand('streamgate.startSandboxFleet')) as FleetReady | undefined;
    assert.ok(ready, 'the sandbox fleet started');
    assert.equal(ready.pods.filter((p) => p.service === 'gateway').length, 3);
    assert.equal((await api.status()).nats.url === ready.nats || vscode.workspace.getConfiguration('streamgate').get('nats.url') === ready.nats, true);
    await waitFor('NATS connected to the fleet', async () => (await api.status()).nats.url === ready.nats && (await api.status()).nats.state === 'connected', 30_000);
    await waitFor(
      'three healthy gateway pods with telemetry',
      () => api.pods().filter((p) => p.info.service === 'gateway' && p.health && p.health.lastPublishAt > 0).length === 3,
      60_000,
    );
    for (const pod of api.pods().filter((p) => p.info.service === 'gateway')) {
      assert.equal(pod.info.version, '1.4.2');
      assert.ok(pod.info.labels.region, `${pod.info.pod} has a region label`);
      assert.ok((pod.health?.rssBytes ?? 0) > 10 * 1024 * 1024, `${pod.info.pod} reports its memory`);
    }
    await vscode.commands.executeCommand('workbench.view.extension.streamgate');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    const text = await screenshot('fleet-pods', { kind: 'sidebar' });
    if (text !== undefined) {
      for (const pod of ['gw-1', 'gw-2', 'gw-3']) assert.match(text, new RegExp(pod));
      assert.match(text, /gateway/);
      assert.match(text, /telemetry \d+s ago/);
    }
    await vscode.commands.executeCommand('streamgate.showStatus');
    await screenshot('workbench-fleet', { kind: 'workbench' });
    await vscode.commands.executeCommand('streamgate.stopSandboxFleet');
    assert.equal(api.sandbox(), undefined);
    await waitFor('the pods to leave the Fleet view', () => api.pods().length === 0, 30_000);
  });
});
