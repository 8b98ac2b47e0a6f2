/**
 * The query language in a real VS Code, against the sandbox fleet: a .sgql file gets completion from the live
 * store and diagnostics with suggestions, Run Query shows the rows and a chart in the results panel (the same
 * rows the server returned), the rows export as CSV, metric names hover with their live value, and a notebook
 * cell runs through the language server and keeps its output when saved.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { StreamGateApi } from '../../../src/extension/api';
import type { QueryResult } from '../../../src/protocol/query';
import { activeApi, ON_SCREEN, runFromPalette, screen, screenshot, startSandboxFleet, useNatsUrl, waitFor } from '../support';

const RESULT_MIME = 'application/vnd.streamgate.query-result+json';

function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the harness opens a workspace folder');
  return vscode.Uri.joinPath(folder.uri, name);
}

async function writeFile(uri: vscode.Uri, text: string): Promise<void> {
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
}

async function openSgql(name: string, text: string): Promise<vscode.TextEditor> {
  const uri = workspaceFile(name);
  await writeFile(uri, text);
  const document = await vscode.workspace.openTextDocument(uri);
  assert.equal(document.languageId, 'sgql', '.sgql files open as SGQL');
  return vscode.window.showTextDocument(document);
}

/** A past minute of the fleet: its rows are all in the store once the test runs, so answers do not move. */
function pastMinute(): { from: string; to: string } {
  const end = Math.floor((Date.now() - 20_000) / 10_000) * 10_000;
  return { from: new Date(end - 60_000).toISOString(), to: new Date(end).toISOString() };
}

describe('The query language in VS Code', function () {
  let api: StreamGateApi;
  let restore: () => Promise<void>;
  /** When the fleet started: queries over a past minute wait until that minute is wholly after it. */
  let fleetStartedAt = 0;

  before(async function () {
    this.timeout(180_000);
    api = await activeApi();
    await api.serverReady;
    restore = await useNatsUrl('');
    fleetStartedAt = Date.now();
    const ready = await startSandboxFleet(api);
    assert.ok(ready, 'the sandbox fleet started');
    await waitFor('the server ingesting the fleet', async () => {
      const status = await api.status();
      return status.nats.url === ready.nats && status.nats.state === 'connected' && (status.ingest?.rows ?? 0) > 2000;
    }, 120_000);
  });

  after(async function () {
    this.timeout(60_000);
    if (api.sandbox()) await vscode.commands.executeCommand('streamgate.stopSandboxFleet');
    await restore();
  });

  it(`completes metric names from the live store and columns in scope ${ON_SCREEN}`, async () => {
    const editor = await openSgql('completion.sgql', 'metrics\n| where name == ""\n| summarize count() by bin(ts, 1m)\n');
    const inString = new vscode.Position(1, 17);
    let labels: string[] = [];
    await waitFor('metric names in completion', async () => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', editor.document.uri, inString);
      labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
      return labels.includes('gw_http_requests_total');
    }, 60_000);
    assert.ok(labels.includes('gw_http_request_duration_ms'));
    assert.ok(!labels.includes('duration_ms'), 'inside a metric name string only metric names are offered');
    const columns = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', editor.document.uri, new vscode.Position(2, 12));
    const columnLabels = columns.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(columnLabels.includes('p99') && columnLabels.includes('sketch'), `aggregates and the metrics columns in summarize: ${columnLabels.join(', ')}`);
    editor.selection = new vscode.Selection(inString, inString);
    await vscode.commands.executeCommand('editor.action.triggerSuggest');
    await waitFor('the suggest widget', async () => /gw_http_requests_total/.test(await screenshot('sgql-completion-probe', { kind: 'workbench' })), 20_000);
    const seen = await screenshot('sgql-completion', { kind: 'workbench' });
    assert.match(seen, /gw_http_requests_total/);
    assert.match(seen, /gw_http_request_duration_ms/);
    await vscode.commands.executeCommand('hideSuggestWidget');
  });

  it(`marks a misspelt column as you type, with the suggestion ${ON_SCREEN}`, async () => {
    const editor = await openSgql('diagnostic.sgql', 'spans\n| where ts > ago(5m)\n| summarize p99(duraton_ms) by bin(ts, 1m)\n');
    let diagnostics: vscode.Diagnostic[] = [];
    await waitFor('a diagnostic', () => (diagnostics = vscode.languages.getDiagnostics(editor.document.uri)).length > 0, 20_000);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.message, 'unknown column duraton_ms: did you mean duration_ms?');
    assert.equal(diagnostics[0]!.severity, vscode.DiagnosticSeverity.Error);
    assert.deepEqual([diagnostics[0]!.range.start.line, diagnostics[0]!.range.start.character, diagnostics[0]!.range.end.character], [2, 16, 26]);
    // The suggestion is a quick fix; applying it clears the diagnostic, which follows the text.
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', editor.document.uri, diagnostics[0]!.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.title === 'Change to duration_ms');
    assert.ok(fix?.edit, `a quick fix: ${actions.map((a) => a.title).join(', ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.match(editor.document.lineAt(2).text, /p99\(duration_ms\)/);
    await waitFor('no diagnostics after the fix', () => vscode.languages.getDiagnostics(editor.document.uri).length === 0, 20_000);
    await editor.edit((e) => e.replace(new vscode.Range(2, 16, 2, 27), 'duraton_ms'));
    await waitFor('the diagnostic again', () => vscode.languages.getDiagnostics(editor.document.uri).length === 1, 20_000);
    editor.selection = new vscode.Selection(2, 18, 2, 18);
    await vscode.commands.executeCommand('editor.action.showHover');
    const seen = await screenshot('sgql-diagnostic', { kind: 'workbench' });
    assert.match(seen, /unknown column duraton_ms: did you mean duration_ms\?/);
  });

  it(`runs the query under the cursor and shows its rows and chart ${ON_SCREEN}`, async () => {
    // A minute that ended 20 s ago and started after the fleet did: all its spans are in.
    await waitFor('a whole minute of the fleet behind us', () => Date.now() > fleetStartedAt + 95_000, 120_000);
    const { from, to } = pastMinute();
    const text = `// requests of one past minute, by 10 seconds\nspans\n| where kind == 2 and ts between (datetime("${from}") .. datetime("${to}"))\n| summarize requests = count(), p99_ms = p99(duration_ms) by bin(ts, 10s)\n| sort by ts asc\n| chart line\n`;
    const editor = await openSgql('run.sgql', text);
    const at = text.indexOf('summarize');
    editor.selection = new vscode.Selection(editor.document.positionAt(at), editor.document.positionAt(at));
    await runFromPalette('StreamGate: Run Query');
    const first = await screen('sgql-results-palette', { kind: 'webview', title: 'StreamGate Query Results' });
    assert.match(first.text, /run\.sgql:4/, 'titled with the file and the line of the cursor');
    // The panel shows exactly what the server answered: run it again through the command and compare.
    const result = await vscode.commands.executeCommand<QueryResult>('streamgate.runQuery', { uri: editor.document.uri.toString(), offset: at });
    assert.ok(result, 'the command returns the result it shows');
    assert.deepEqual(result.columns.map((c) => c.name), ['ts', 'requests', 'p99_ms']);
    assert.ok(result.rows.length >= 4, `requests in at least four of the six 10-second bins (${result.rows.length})`);
    assert.ok(result.rows.every((r) => (r[1] as number) > 0));
    let shown = first;
    await waitFor('the panel showing the result', async () => {
      shown = await screen('sgql-results', { kind: 'webview', title: 'StreamGate Query Results' });
      return shown.values.filter((v) => v.label === 'requests').length === result.rows.length;
    }, 20_000);
    assert.match(shown.text, /line chart of requests, p99_ms by ts/);
    assert.match(shown.text, /\bts\s+requests\s+p99_ms\b/);
    assert.match(shown.text, new RegExp(`${result.rows.length} rows? · DuckDB · [\\d.]+ ms`));
    assert.deepEqual(shown.values.filter((v) => v.label === 'ts').map((v) => Date.parse(v.value)), result.rows.map((r) => r[0]));
    assert.deepEqual(shown.values.filter((v) => v.label === 'requests').map((v) => Number(v.value)), result.rows.map((r) => r[1]));
    assert.deepEqual(shown.values.filter((v) => v.label === 'p99_ms').map((v) => Number(v.value)), result.rows.map((r) => r[2]));
  });

  it('exports the rows on screen as CSV', async () => {
    const target = workspaceFile('export.csv');
    const saved = await vscode.commands.executeCommand<vscode.Uri>('streamgate.exportQueryResults', target);
    assert.equal(saved.toString(), target.toString());
    const lines = readFileSync(target.fsPath, 'utf8').trimEnd().split('\r\n');
    assert.equal(lines[0], 'ts,requests,p99_ms');
    assert.ok(lines.length >= 5);
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d0\.000Z,\d+,[\d.]+$/);
  });

  it('shows a metric name\'s live value on hover, as in code', async () => {
    const editor = await openSgql('hover.sgql', 'metrics\n| where name == "gw_http_requests_total"\n| summarize sum(value) by bin(ts, 1m)\n');
    const position = new vscode.Position(1, 22);
    let text = '';
    await waitFor('a live hover', async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, position);
      text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      return /Rate \*\*[\d.]+\/s\*\*/.test(text);
    }, 30_000);
    assert.match(text, /\*\*gw_http_requests_total\*\* · counter · live from the fleet/);
  });

  it(`runs a notebook cell through the language server and saves its output ${ON_SCREEN}`, async () => {
    const uri = workspaceFile('fleet.sgnb');
    const notebookFile = {
      version: 1,
      cells: [
        { kind: 'markdown', value: '# Requests by route\nThe last five minutes of the sandbox fleet.' },
        { kind: 'sgql', value: 'spans\n| where ts > ago(5m) and kind == 2\n| summarize requests = count() by route\n| sort by requests desc\n| chart bar' },
      ],
    };
    await writeFile(uri, JSON.stringify(notebookFile));
    const notebook = await vscode.workspace.openNotebookDocument(uri);
    assert.equal(notebook.notebookType, 'streamgate-sgnb');
    await vscode.window.showNotebookDocument(notebook);
    await vscode.commands.executeCommand('notebook.selectKernel', { id: 'streamgate-sgnb-controller', extension: 'streamgate.streamgate-devtools' });
    await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 1, end: 2 }], document: uri });
    let result: QueryResult | undefined;
    await waitFor('the cell\'s output', () => {
      const item = notebook.cellAt(1).outputs.flatMap((o) => o.items).find((i) => i.mime === RESULT_MIME);
      if (item) result = JSON.parse(new TextDecoder().decode(item.data)) as QueryResult;
      return result !== undefined;
    }, 30_000);
    assert.ok(result);
    assert.deepEqual(result.columns.map((c) => c.name), ['route', 'requests']);
    assert.ok(result.rows.length >= 3, `requests on at least three routes (${result.rows.length})`);
    assert.equal(notebook.cellAt(1).executionSummary?.success, true);
    const seen = await screen('sgql-notebook', { kind: 'frame', selector: '.sgql-result' });
    assert.match(seen.text, /bar chart of requests by route/);
    for (const row of result.rows.slice(0, 3)) assert.ok(seen.text.includes(String(row[0])), `the output lists ${row[0]}`);
    assert.deepEqual(seen.values.filter((v) => v.label === 'requests').map((v) => Number(v.value)), result.rows.map((r) => r[1]));
    await notebook.save();
    // The file is written by the save or by auto-save, a moment after the output marks the notebook changed: the
    // test waits for the output to be in the file.
    type SavedNotebook = { cells: { kind: string; outputs?: { result?: QueryResult }[] }[] };
    let saved: SavedNotebook | undefined;
    await waitFor('the output saved in the notebook file', () => {
      try {
        saved = JSON.parse(readFileSync(uri.fsPath, 'utf8')) as SavedNotebook;
      } catch {
        return false; // read while being written
      }
      return saved.cells[1]?.outputs?.[0]?.result !== undefined;
    }, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}: the output is saved with the notebook (dirty: ${notebook.isDirty})`);
    });
    if (!saved) throw new Error('the notebook file was read');
    assert.deepEqual(saved.cells.map((c) => c.kind), ['markdown', 'sgql']);
    assert.deepEqual(saved.cells[1]!.outputs?.[0]?.result?.rows, result.rows, 'the output is saved with the notebook');
  });
});
