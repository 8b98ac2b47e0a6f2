/**
 * Continuous profiling in a real VS Code: the language server profiles the sandbox fleet it started (every 6 s
 * here), and with the cpu-hotspot incident on, the Recommendations view lists the regression, a warning sits on
 * the function in the editor, fleet-wide code lenses cover the selected range, and the fleet flamegraph's label
 * filter narrows it to one pod.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { connect } from 'nats';
import type { StreamGateApi } from '../../../src/extension/api';
import type { OpenedProfile } from '../../../src/extension/profiles/profileCommands';
import { requestPod } from '../../../src/common/podClient';
import { actInWebview, activeApi, ON_SCREEN, screenshot, startSandboxFleet, useNatsUrl, waitFor } from '../support';

const repo = join(__dirname, '..', '..', '..', '..');

describe('Fleet profiles in VS Code', () => {
  let api: StreamGateApi;
  let workspace: string;

  before(async () => {
    api = await activeApi();
    await api.serverReady;
    workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    // The gateway's source as the sandbox runs it, so findings land on its lines.
    mkdirSync(join(workspace, 'demo', 'gateway'), { recursive: true });
    copyFileSync(join(repo, 'demo', 'gateway', 'signature.ts'), join(workspace, 'demo', 'gateway', 'signature.ts'));
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it(`shows a CPU regression in the Recommendations view, on the function and in fleet-wide lenses ${ON_SCREEN}`, async function () {
    // Its own waits add up to four minutes (profiles stored, two more rounds): mocha's 120 s would end the test
    // while its body runs on, and its clean-up would then stop the next suite's fleet.
    this.timeout(420_000);
    const restore = await useNatsUrl('');
    let hotCodeOn = false;
    const profiling = vscode.workspace.getConfiguration('streamgate.profiling');
    await profiling.update('intervalSeconds', 6, vscode.ConfigurationTarget.Workspace);
    await profiling.update('cpuSeconds', 3, vscode.ConfigurationTarget.Workspace);
    try {
      const ready = await startSandboxFleet(api);
      assert.ok(ready, 'the sandbox fleet started');
      await waitFor('the language server profiling the fleet', async () => ((await api.status()).profiling?.stored ?? 0) >= 12, 120_000);
      // Quiet first: nothing claims a regression.
      const quiet = await vscode.commands.executeCommand<ReturnType<StreamGateApi['profileFindings']>>('streamgate.refreshRecommendations', { rangeMs: 12_000 });
      assert.deepEqual(quiet.regressions, [], JSON.stringify(quiet.regressions));

      const nc = await connect({ servers: ready.nats });
      let start: number;
      try {
        start = ((await requestPod(nc, 'gw-1', 'incident', { type: 'cpu-hotspot', durationMs: 180_000 })) as { start: number }).start;
      } finally {
        await nc.close();
      }
      const storedAt = (await api.status()).profiling!.stored;
      // Two rounds of every pod after the incident started (four targets, a CPU and a heap profile each, plus the Go pod's).
      await waitFor('two more rounds', async () => ((await api.status()).profiling?.stored ?? 0) >= storedAt + 16, 120_000);
      const rangeMs = Math.max(12_000, Date.now() - start);
      const found = await vscode.commands.executeCommand<ReturnType<StreamGateApi['profileFindings']>>('streamgate.refreshRecommendations', { rangeMs });
      const regression = found.regressions.find((r) => r.function === 'contentSignatureSlow');
      assert.ok(regression, `regressions: ${JSON.stringify(found.regressions)}`);
      assert.ok(regression.currentPercent > regression.baselinePercent);

      await vscode.commands.executeCommand('streamgate.recommendations.focus');
      const sidebar = await screenshot('recommendations-view', { kind: 'sidebar' });
      assert.match(sidebar, /Regressions/);
      assert.match(sidebar, /contentSignatureSlow/);

      // The warning on the function, in the workspace's copy of signature.ts.
      const signature = vscode.Uri.file(join(workspace, 'demo', 'gateway', 'signature.ts'));
      await waitFor('a diagnostic on signature.ts', () => vscode.languages.getDiagnostics(signature).some((d) => d.source === 'StreamGate profiles' && /contentSignatureSlow/.test(d.message)));
      const diagnostic = vscode.languages.getDiagnostics(signature).find((d) => /contentSignatureSlow/.test(d.message))!;
      assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Warning);
      const document = await vscode.workspace.openTextDocument(signature);
      const fnLine = Array.from({ length: document.lineCount }, (_, i) => document.lineAt(i).text).findIndex((t) => /function contentSignatureSlow/.test(t));
      assert.ok(fnLine >= 0 && diagnostic.range.start.line >= fnLine, `the warning is inside contentSignatureSlow (line ${diagnostic.range.start.line + 1}, function at ${fnLine + 1})`);

      // Fleet-wide hot code over the selected range: the lens says whose figures they are.
      const opened = await vscode.commands.executeCommand<OpenedProfile | undefined>('streamgate.showFleetHotCode', { type: 'cpu', rangeMs: 5 * 60_000, where: '' });
      assert.ok(opened, 'the fleet profile opened');
      hotCodeOn = true;
      assert.ok(opened.samples > 0);
      const editor = await vscode.window.showTextDocument(document, { selection: new vscode.Range(fnLine, 0, fnLine, 0) });
      editor.revealRange(new vscode.Range(fnLine, 0, fnLine, 0), vscode.TextEditorRevealType.AtTop);
      let lens: vscode.CodeLens | undefined;
      await waitFor('a fleet lens on contentSignatureSlow', async () => {
        const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', signature);
        lens = lenses.find((l) => l.range.start.line === fnLine && /CPU: self/.test(l.command?.title ?? ''));
        return lens !== undefined;
      });
      assert.match(lens!.command!.title, /CPU: self [\d.]+% · total [\d.]+% · fleet, last 5 minutes/);
      const window = await screenshot('fleet-hot-code', { kind: 'workbench' });
      assert.match(window, /fleet, last 5 minutes/);

      // The flamegraph of the selection, brought to the front (the editor above took its place): its label filter
      // narrows it to one pod.
      const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t, index) => ({ t, index, group: g }))).find(({ t }) => t.label === opened.title);
      assert.ok(tab, `a tab titled ${opened.title}`);
      await vscode.commands.executeCommand(`workbench.action.focus${['First', 'Second', 'Third'][tab.group.viewColumn - 1] ?? 'First'}EditorGroup`);
      await vscode.commands.executeCommand('workbench.action.openEditorAtIndex', tab.index);
      const narrowed = await actInWebview('fleet-flamegraph-filter', opened.title, [
        { kind: 'fill', selector: 'input.where', text: 'pod=gw-2' },
        { kind: 'press', selector: 'input.where', key: 'Enter' },
      ]);
      await waitFor('the narrowed selection', async () => /1 pod\(s\) \(gw-2\)/.test(await screenshot('fleet-flamegraph', { kind: 'webview', title: opened.title })), 30_000);
      void narrowed;
    } finally {
      // Hot code goes off again whatever happened above: the next suite starts with it off.
      if (hotCodeOn) await vscode.commands.executeCommand('streamgate.toggleHotCode');
      if (api.sandbox()) await vscode.commands.executeCommand('streamgate.stopSandboxFleet');
      await profiling.update('intervalSeconds', undefined, vscode.ConfigurationTarget.Workspace);
      await profiling.update('cpuSeconds', undefined, vscode.ConfigurationTarget.Workspace);
      await restore();
    }
  });
});
