/**
 * Traces and logs in a real VS Code, against the sandbox fleet: the trace viewer opened from the palette shows
 * the slowest trace's waterfall with its critical path, a trace across pods shows every span, and the log
 * analyzer opened from the palette lists the pods' templates and jumps to a logging call site when clicked.
 */
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { StreamGateApi } from '../../../src/extension/api';
import { actInWebview, activeApi, ON_SCREEN, runFromPalette, screen, screenshot, startSandboxFleet, useNatsUrl, waitFor } from '../support';

const repoRoot = join(__dirname, '..', '..', '..', '..');

/** A fresh screenshot name each time: a name seen before would find its old done file. */
let shots = 0;
const shot = (name: string) => `${name}-${Date.now()}-${++shots}`;

describe('Traces and logs in VS Code', function () {
  let api: StreamGateApi;
  let restore: () => Promise<void>;

  before(async function () {
    this.timeout(240_000);
    api = await activeApi();
    await api.serverReady;
    restore = await useNatsUrl('');
    const ready = await startSandboxFleet(api);
    assert.ok(ready, 'the sandbox fleet started');
    const nats = ready.nats;
    await waitFor('the server ingesting the fleet', async () => {
      const status = await api.status();
      return status.nats.url === nats && status.nats.state === 'connected' && (status.ingest?.rows ?? 0) > 0;
    }, 90_000).catch(async (error: Error) => {
      const status = await api.status();
      throw new Error(`${error.message} (fleet on ${nats}; the server: nats ${JSON.stringify(status.nats)}, mode ${status.mode}, ingest ${JSON.stringify(status.ingest)})`);
    });
    // This fleet's own traces (the slowest of the last minutes may be an earlier suite's incidents, one span each).
    await waitFor('a trace with several spans', async () => (await api.traces.search({ sort: 'newest', limit: 200 })).traces.some((t) => t.spans > 2), 150_000);
  });

  after(async function () {
    this.timeout(60_000);
    if (api.sandbox()) await vscode.commands.executeCommand('streamgate.stopSandboxFleet');
    await restore();
  });

  it(`opens the slowest trace from the palette, with its waterfall and critical path ${ON_SCREEN}`, async () => {
    await runFromPalette('StreamGate: Open Trace Viewer');
    let seen: Awaited<ReturnType<typeof screen>> | undefined;
    let slowestId = '';
    await waitFor('the slowest trace in the waterfall', async () => {
      seen = await screen(shot('traces-slowest'), { kind: 'webview', title: 'StreamGate Traces' });
      const found = /([0-9a-f]{32})/.exec(seen.text);
      if (!found || !/critical path/.test(seen.text)) return false;
      slowestId = found[1]!;
      return true;
    }, 60_000);
    const view = await api.traces.view(slowestId);
    const text = seen!.text;
    assert.match(text, /StreamGate Traces/);
    assert.match(text, /Slowest/);
    assert.ok(text.includes(view.route || view.rootName), `the trace's route ${view.route} is shown`);
    assert.ok(text.includes(view.rows.label[0]!), 'the root span is a row of the waterfall');
    const shown = new Map(seen!.values.map((v) => [v.label, v.value]));
    assert.equal(shown.get('Spans'), String(view.spans));
    assert.equal(shown.get('Critical path'), String(view.criticalMs));
    assert.ok(view.criticalMs > 0);
    assert.match(text, /Self time per service/);
  });

  it(`shows every span of a trace that crossed pods, in start order ${ON_SCREEN}`, async () => {
    const found = await api.traces.search({ sort: 'newest', limit: 200 });
    let target: string | undefined;
    for (const t of found.traces.filter((t) => t.spans > 1 && t.spans < 20 && t.hasRoot)) {
      const view = await api.traces.view(t.traceId);
      if (view.rows.label.some((l) => l === 'fanout.deliver')) {
        target = t.traceId;
        break;
      }
    }
    assert.ok(target, 'a trace with a message fanned out to another pod');
    await vscode.commands.executeCommand('streamgate.openTraceViewer', { traceId: target });
    const view = await api.traces.view(target);
    await waitFor('the trace across pods', async () => {
      const { text } = await screen(shot('traces-across-pods'), { kind: 'webview', title: 'StreamGate Traces' });
      return text.includes(target) && view.rows.label.every((label) => text.includes(label.replace(/\n[\s\S]*/, '').slice(0, 40)));
    }, 60_000);
  });

  it(`opens the log analyzer from the palette and jumps to a logging call site ${ON_SCREEN}`, async () => {
    await waitFor('log templates with call sites', async () => (await api.logs.templates({})).templates.some((t) => t.site && t.template.startsWith('gateway')), 60_000);
    const templates = await api.logs.templates({});
    const listening = templates.templates.find((t) => t.site && t.template.startsWith('gateway'))!;
    await runFromPalette('StreamGate: Open Log Analyzer');
    const site = listening.site!;
    // The button shows the file's last two path parts and the line.
    const siteText = `${site.file.split('/').slice(-2).join('/')}:${site.line}`;
    await waitFor('the templates on screen', async () => {
      const { text } = await screen(shot('logs-analyzer'), { kind: 'webview', title: 'StreamGate Logs' });
      return text.includes(listening.template) && /Most lines/.test(text) && text.includes(siteText);
    }, 60_000);
    // As a user would, the workspace holds the service's source: the site (mapped by the pods' source map to
    // demo/gateway/…) opens there.
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    cpSync(join(repoRoot, 'demo', 'gateway'), join(folder, 'demo', 'gateway'), { recursive: true });
    const tail = site.file.split(/[\\/]/).slice(-3).join('/');
    await actInWebview(shot('logs-click-site'), 'StreamGate Logs', [{ kind: 'click', selector: `button[aria-label^="Go to call site ${site.file}:${site.line}"]` }]);
    await waitFor('the call site open in an editor', () => {
      const editor = vscode.window.activeTextEditor;
      return editor !== undefined && editor.document.uri.fsPath.replace(/\\/g, '/').endsWith(tail) && editor.selection.active.line === site.line - 1;
    }, 30_000);
    const editor = vscode.window.activeTextEditor!;
    // The line holds the logging call, in whichever file the pods' source map (or its absence) names.
    assert.match(editor.document.lineAt(site.line - 1).text, /telemetry\.log\(["']info["'], `gateway \$\{pod\} listening on/);
    const seen = await screenshot(shot('logs-call-site'), { kind: 'editor' });
    assert.match(seen, /listening\son/, 'the editor shows the call (Monaco renders spaces as no-break spaces)');
  });
});
