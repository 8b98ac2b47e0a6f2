/**
 * Profiles in a real VS Code: the flamegraph opens from its command, search and click-to-source work in the
 * webview (driven through the browser, as a user would), the diff renders overlaid and side by side, code
 * lenses and gutter heat appear on the gateway's functions, and a live pod's profile opens.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { StreamGateApi } from '../../../src/extension/api';
import type { OpenedProfile } from '../../../src/extension/profiles/profileCommands';
import { readProfileFile } from '../../../src/server/profiles/decode';
import { buildFlameTree } from '../../../src/server/profiles/flame';
import { mergeProfiles } from '../../../src/server/profiles/merge';
import { actInWebview, activeApi, ON_SCREEN, runFromPalette, screenshot, startSandboxFleet, useNatsUrl, waitFor } from '../support';

const repo = join(__dirname, '..', '..', '..', '..');
const goDir = join(repo, 'test', 'fixtures', 'profiles', 'go');
const cpu = [1, 2, 3].map((n) => join(goDir, `cpu-${n}.pb.gz`));
const gatewayProfile = join(repo, 'test', 'fixtures', 'profiles', 'node', 'gateway-cpu.pb.gz');

describe('Profiles in VS Code', () => {
  let api: StreamGateApi;
  let workspace: string;

  before(async () => {
    api = await activeApi();
    await api.serverReady;
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error('the harness opens a workspace folder');
    workspace = folder.uri.fsPath;
    // The sources the profiles name, as a user's checkout would have them (profiles carry another machine's paths).
    mkdirSync(join(workspace, 'gohot'), { recursive: true });
    cpSync(join(repo, 'test', 'fixtures', 'profiles', 'gohot', 'main.go'), join(workspace, 'gohot', 'main.go'));
    mkdirSync(join(workspace, 'demo', 'gateway'), { recursive: true });
    // The gateway's sources as they were when its fixture profile was taken.
    const gatewaySources = join(repo, 'test', 'fixtures', 'profiles', 'node', 'gateway-src');
    for (const f of readdirSync(gatewaySources)) cpSync(join(gatewaySources, f), join(workspace, 'demo', 'gateway', f.replace(/\.txt$/, '')));
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('contributes its profile commands to the palette under StreamGate', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of ['streamgate.openProfile', 'streamgate.compareProfiles', 'streamgate.profilePod', 'streamgate.toggleHotCode']) assert.ok(registered.has(id), id);
  });

  it(`opens three profiles merged in the flamegraph, searches, and opens the source of a clicked frame ${ON_SCREEN}`, async () => {
    const opened = await vscode.commands.executeCommand<OpenedProfile>('streamgate.openProfile', cpu.map((f) => vscode.Uri.file(f)));
    assert.ok(opened, 'the command opened the profiles');
    assert.deepEqual(opened.problems, []);
    const shown = await screenshot('flamegraph', { kind: 'webview', title: opened.title });
    assert.match(shown, /3 profiles merged/);
    assert.match(shown, /Top functions/);
    assert.match(shown, /main\.clamp/);

    // Search: the match share is that of the frames matching, each sample counted once.
    const merged = mergeProfiles(cpu.map((f) => readProfileFile(f)));
    const tree = buildFlameTree(merged, { rootName: opened.title.replace('Flamegraph: ', '') });
    let share = 0;
    let count = 0;
    let covered = 0;
    for (let i = 1; i < tree.total.length; i++) {
      if (/sha256/i.test(tree.names[tree.name[i]!]!) || /sha256/i.test(tree.files[tree.file[i]!]!)) {
        count++;
        if (i >= covered) {
          share += tree.total[i]!;
          covered = tree.subtreeEnd[i]!;
        }
      }
    }
    const searched = await actInWebview('flamegraph-search-typed', opened.title, [{ kind: 'fill', selector: 'input.search', text: 'sha256' }]);
    const expected = `${count} frames match · ${((share / tree.total[0]!) * 100).toFixed(2)}% of cpu`;
    assert.ok(searched.includes(expected), `the webview says "${expected}"`);
    await screenshot('flamegraph-search', { kind: 'webview', title: opened.title });

    // Click the first frame under the root (main.cpuLoop, the heaviest), then Open source.
    const cpuLoop = Array.from(tree.depth).findIndex((d, i) => d === 1 && tree.names[tree.name[i]!] === 'main.cpuLoop');
    assert.equal(cpuLoop, 1, 'main.cpuLoop is the heaviest child of the root, laid out first');
    const details = await actInWebview('flamegraph-click', opened.title, [
      { kind: 'fill', selector: 'input.search', text: '' },
      { kind: 'click', selector: 'canvas.flame-canvas', position: { x: 40, y: 18 + 9 } },
    ]);
    assert.match(details, /main\.cpuLoop/);
    // The keyboard: down to the heaviest callee, Enter zooms (the breadcrumbs follow), Esc zooms back out.
    const child = tree.names[tree.name[cpuLoop + 1]!]!;
    const zoomedIn = await actInWebview('flamegraph-keys-in', opened.title, [
      { kind: 'press', selector: 'canvas.flame-canvas', key: 'ArrowDown' },
      { kind: 'press', selector: 'canvas.flame-canvas', key: 'Enter' },
    ]);
    assert.match(zoomedIn, new RegExp(`all\\s*›\\s*main\\.cpuLoop\\s*›\\s*${child.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'breadcrumbs to the zoomed frame');
    const zoomedOut = await actInWebview('flamegraph-keys-out', opened.title, [{ kind: 'press', selector: 'canvas.flame-canvas', key: 'Escape' }]);
    assert.doesNotMatch(zoomedOut, new RegExp(`main\\.cpuLoop\\s*›\\s*${child.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await actInWebview('flamegraph-keys-home', opened.title, [{ kind: 'press', selector: 'canvas.flame-canvas', key: 'Home' }, { kind: 'click', selector: 'canvas.flame-canvas', position: { x: 40, y: 18 + 9 } }]);
    await actInWebview('flamegraph-open-source', opened.title, [{ kind: 'click', selector: 'button[title^="Open the file"]' }]);
    await waitFor('the source to open', () => vscode.window.activeTextEditor?.document.uri.fsPath === join(workspace, 'gohot', 'main.go'));
    const editor = vscode.window.activeTextEditor!;
    assert.equal(editor.selection.active.line + 1, tree.line[cpuLoop], 'at the line with most samples in main.cpuLoop');
    assert.match(editor.document.lineAt(editor.selection.active.line).text, /sink = |time\.Sleep/);
  });

  it(`shows a diff overlaid with absolute colouring, and side by side ${ON_SCREEN}`, async () => {
    const opened = await vscode.commands.executeCommand<OpenedProfile>('streamgate.compareProfiles', vscode.Uri.file(cpu[0]!), vscode.Uri.file(cpu[1]!));
    assert.ok(opened);
    const overlay = await screenshot('flamegraph-diff', { kind: 'webview', title: opened.title });
    assert.match(overlay, /Δ total/);
    assert.match(overlay, /a frame that did not change stays grey/);
    const side = await actInWebview('flamegraph-diff-layout', opened.title, [{ kind: 'select', selector: 'select[aria-label="Diff layout"]', value: 'side-by-side' }]);
    assert.match(side, /Base\s+Current/);
    await screenshot('flamegraph-diff-side-by-side', { kind: 'webview', title: opened.title });
  });

  it(`shows code lenses, gutter heat and a hover on the gateway's functions ${ON_SCREEN}`, async () => {
    const opened = await vscode.commands.executeCommand<OpenedProfile>('streamgate.openProfile', vscode.Uri.file(gatewayProfile));
    assert.ok(opened);
    const server = vscode.Uri.file(join(workspace, 'demo', 'gateway', 'server.ts'));
    const document = await vscode.workspace.openTextDocument(server);
    await vscode.window.showTextDocument(document);
    // Turned on from the command palette, as a person would (with the source in front of them).
    await runFromPalette('StreamGate: Toggle Hot Code in Editor');
    let ours: vscode.CodeLens[] = [];
    await waitFor('code lenses on server.ts', async () => {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', server);
      ours = lenses.filter((l) => l.command?.title.includes('CPU: self'));
      return ours.length > 0;
    });
    assert.ok(ours.length >= 2, `${ours.length} CPU lenses on server.ts`);
    const streamOf = ours.find((l) => l.command?.arguments?.[0] === 'streamOf');
    assert.ok(streamOf, 'a lens on streamOf');
    assert.match(document.lineAt(streamOf.range.start.line).text, /function streamOf/);
    // Scroll to the hottest lens, as a user looking at it would.
    const hottest = ours.sort((a, b) => Number(/total ([\d.]+)%/.exec(b.command!.title)?.[1]) - Number(/total ([\d.]+)%/.exec(a.command!.title)?.[1]))[0]!;
    const editor = await vscode.window.showTextDocument(document, { selection: new vscode.Range(hottest.range.start, hottest.range.start) });
    editor.revealRange(hottest.range, vscode.TextEditorRevealType.AtTop);
    const window = await screenshot('hot-code-lenses', { kind: 'workbench' });
    assert.match(window, /CPU: self [\d.]+% · total [\d.]+%/);
    // A hover on a sampled line.
    const sampledLine = await firstSampledLine(server, document);
    assert.ok(sampledLine, 'a line of server.ts has samples');
    assert.match(sampledLine.hover, /StreamGate profile/);
    assert.match(sampledLine.hover, /self .* total .*samples/);
    const shown = await vscode.window.showTextDocument(document, { selection: new vscode.Range(sampledLine.line, 0, sampledLine.line, 0) });
    shown.revealRange(new vscode.Range(sampledLine.line, 0, sampledLine.line, 0), vscode.TextEditorRevealType.InCenter);
    await screenshot('hot-code-gutter', { kind: 'workbench' });
    // One command turns it all off.
    assert.equal(await vscode.commands.executeCommand('streamgate.toggleHotCode'), false);
    const after = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', server);
    assert.equal(after.filter((l) => l.command?.title.includes('CPU: self')).length, 0);
  });

  it(`profiles a live pod of the sandbox and opens its flamegraph ${ON_SCREEN}`, async () => {
    const restore = await useNatsUrl('');
    try {
      const ready = await startSandboxFleet(api);
      assert.ok(ready, 'the sandbox fleet started');
      await waitFor('a gateway pod', () => api.pods().some((p) => p.info.pod === 'gw-1'), 60_000);
      const opened = await vscode.commands.executeCommand<OpenedProfile>('streamgate.profilePod', { pod: 'gw-1', type: 'cpu', seconds: 3 });
      assert.ok(opened);
      assert.ok(opened.samples > 0, `${opened.samples} samples`);
      const shown = await screenshot('flamegraph-live-pod', { kind: 'webview', title: opened.title });
      assert.match(shown, /pod gw-1, CPU for 3 s/);
    } finally {
      if (api.sandbox()) await vscode.commands.executeCommand('streamgate.stopSandboxFleet');
      await restore();
    }
  });
});

/** The first line of a document whose hover is ours, with the hover's text. */
async function firstSampledLine(uri: vscode.Uri, document: vscode.TextDocument): Promise<{ line: number; hover: string } | undefined> {
  for (let line = 0; line < document.lineCount; line++) {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line, Math.min(4, document.lineAt(line).text.length)));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    if (text.includes('StreamGate profile')) return { line, hover: text };
  }
  return undefined;
}
