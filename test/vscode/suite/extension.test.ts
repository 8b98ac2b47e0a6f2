/**
 * The extension in a real VS Code: activation, commands, the server round trip, views, the status webview,
 * the debug type and the sandbox fleet. Every test sets up the state it needs (streamgate.nats.url above all)
 * and puts it back, so each one passes or fails on its own, in any order.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { StreamGateApi } from '../../../src/extension/api';
import type { FleetReady } from '../../../src/protocol/cli';
import { activeApi, EXTENSION_ID, harnessNatsUrl, ON_SCREEN, resultsDir, screenshot, useNatsUrl, waitFor } from '../support';

const packageJson = () => vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { version: string; contributes: { commands: { command: string; category: string }[] } };

describe('StreamGate DevTools in VS Code', () => {
  let api: StreamGateApi;
  /** Undo steps a test registered; run after it whatever its outcome. */
  const undo: (() => Promise<void>)[] = [];

  before(async () => {
    api = await activeApi();
    await api.serverReady;
  });
  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  async function connected(url = harnessNatsUrl()): Promise<void> {
    undo.push(await useNatsUrl(url));
    await waitFor(`NATS ${url} connected`, async () => {
      const { nats } = await api.status();
      return nats.state === 'connected' && nats.url === url;
    });
  }

  async function disconnected(): Promise<void> {
    undo.push(await useNatsUrl(''));
    await waitFor('NATS not configured', async () => (await api.status()).nats.state === 'not-configured');
  }

  it('activates and records how long it took', () => {
    assert.ok(api.activationMs > 0);
    const dir = resultsDir();
    if (dir) writeFileSync(join(dir, 'activation.json'), JSON.stringify({ activationMs: api.activationMs, vscode: vscode.version }));
  });

  it('registers every command it contributes, under the StreamGate category', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = packageJson().contributes.commands;
    assert.ok(contributed.length >= 8);
    for (const { command, category } of contributed) {
      assert.ok(registered.has(command), `${command} is contributed but not registered`);
      assert.equal(category, 'StreamGate');
    }
  });

  it('starts the language server as its own process, with the DuckDB store', async () => {
    const status = await api.status();
    assert.equal(status.version, packageJson().version);
    assert.ok(status.pid > 0 && status.pid !== process.pid, 'the server is its own process');
    await waitFor('the DuckDB store', async () => (await api.status()).store.state === 'ready');
    assert.equal((await api.status()).store.kind, 'duckdb');
  });

  it(`shows the welcome view with Connect and Start sandbox while no NATS is configured ${ON_SCREEN}`, async () => {
    await disconnected();
    assert.match(api.statusBarText(), /not connected/);
    await vscode.commands.executeCommand('workbench.view.extension.streamgate');
    const text = await screenshot('fleet-view-welcome', { kind: 'sidebar' });
    assert.match(text, /Connect to NATS/);
    assert.match(text, /Start sandbox fleet/);
  });

  it('connects when streamgate.nats.url is set, and the status bar follows', async () => {
    await disconnected();
    await connected();
    const status = await api.status();
    assert.equal(status.nats.server?.jetstream, true);
    await waitFor('the status bar to show the connection', () => api.statusBarText() === '$(radio-tower) StreamGate');
  });

  it(`shows the connection and the store in the Fleet view ${ON_SCREEN}`, async () => {
    await connected();
    await vscode.commands.executeCommand('workbench.view.extension.streamgate');
    // The view redraws on the server's next status: read the screen until it has (or the wait says what it showed).
    let text = '';
    await waitFor('the connected Fleet view on screen', async () => {
      text = await screenshot('fleet-view', { kind: 'sidebar' });
      return /duckdb · ready/.test(text) && !/Connect to NATS…/.test(text);
    }, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; the sidebar showed:\n${text}`);
    });
    assert.match(text, /NATS/);
    assert.match(text, /duckdb · ready/);
    assert.doesNotMatch(text, /Connect to NATS…/, 'the welcome view is gone once connected');
  });

  it(`shows the status panel with the live state ${ON_SCREEN}`, async () => {
    await connected();
    await vscode.commands.executeCommand('streamgate.showStatus');
    const seen = await screenshot('status-panel', { kind: 'webview', title: 'StreamGate Status' });
    assert.match(seen, new RegExp(`Language server ${packageJson().version.replace(/\./g, '\\.')}`));
    assert.match(seen, /NATS\s*connected/);
    assert.match(seen, /JetStream\s*enabled/);
    assert.match(seen, /duckdb/);
    // The whole window as a user sees it: the Fleet view beside the status panel, the status bar below.
    await vscode.commands.executeCommand('workbench.view.extension.streamgate');
    await vscode.commands.executeCommand('streamgate.showStatus');
    const window = await screenshot('workbench-status', { kind: 'workbench' });
    assert.match(window, /StreamGate Status/);
  });

  it('starts a streamgate debug session that attaches over NATS and stops', async () => {
    await connected();
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
    assert.equal(session.configuration.nats, harnessNatsUrl());
    const threads = (await session.customRequest('threads')) as { threads: unknown[] };
    assert.ok(Array.isArray(threads.threads));
    const ended = new Promise<void>((resolve) => vscode.debug.onDidTerminateDebugSession((s) => s.id === session.id && resolve()));
    await vscode.debug.stopDebugging(session);
    await ended;
  });

  it(`starts the sandbox fleet and lists its pods with their health in the Fleet view ${ON_SCREEN}`, async () => {
    undo.push(await useNatsUrl(''));
    const ready = await vscode.commands.executeCommand<FleetReady | undefined>('streamgate.startSandboxFleet');
    assert.ok(ready, 'the sandbox fleet started');
    undo.push(async () => {
      if (api.sandbox()) await vscode.commands.executeCommand('streamgate.stopSandboxFleet');
    });
    assert.equal(ready.pods.filter((p) => p.service === 'gateway').length, 3);
    assert.equal(vscode.workspace.getConfiguration('streamgate').get('nats.url'), ready.nats, 'the sandbox points the extension at its NATS');
    await waitFor('NATS connected to the fleet', async () => {
      const { nats } = await api.status();
      return nats.url === ready.nats && nats.state === 'connected';
    }, 30_000);
    await waitFor(
      'three gateway pods with telemetry',
      () => api.pods().filter((p) => p.info.service === 'gateway' && p.health && p.health.lastPublishAt > 0).length === 3,
      60_000,
    );
    for (const pod of api.pods().filter((p) => p.info.service === 'gateway')) {
      assert.equal(pod.info.version, '1.4.2');
      assert.ok(pod.info.labels.region, `${pod.info.pod} has a region label`);
      assert.ok((pod.health?.rssBytes ?? 0) > 10 * 1024 * 1024, `${pod.info.pod} reports its memory (${pod.health?.rssBytes})`);
    }
    // Refresh asks the fleet again rather than redrawing what the server had.
    const asked = Date.now();
    await vscode.commands.executeCommand('streamgate.refreshFleet');
    const refreshed = api.pods().filter((p) => p.info.service === 'gateway');
    assert.equal(refreshed.length, 3);
    for (const pod of refreshed) assert.ok(pod.seenAt >= asked, `${pod.info.pod} was asked again (seen ${asked - pod.seenAt} ms before Refresh)`);
    await vscode.commands.executeCommand('workbench.view.extension.streamgate');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    const text = await screenshot('fleet-pods', { kind: 'sidebar' });
    for (const pod of ['gw-1', 'gw-2', 'gw-3']) assert.match(text, new RegExp(pod));
    assert.match(text, /gateway/);
    assert.match(text, /telemetry \d+s ago/);
    await vscode.commands.executeCommand('streamgate.showStatus');
    await screenshot('workbench-fleet', { kind: 'workbench' });
    await vscode.commands.executeCommand('streamgate.stopSandboxFleet');
    assert.equal(api.sandbox(), undefined);
    await waitFor('the pods to leave the Fleet view', () => api.pods().length === 0, 30_000);
  });
});
