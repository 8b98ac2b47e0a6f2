/**
 * The query language in the editor, beyond what the language server gives every `sgql` document: running a
 * query into the results panel (code lens, Ctrl+Enter, the palette), its SQL, CSV export, and notebooks.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { RunQueryArgs } from '../../protocol/lsp';
import type { QueryResult } from '../../protocol/query';
import { describeProblems } from '../../protocol/query';
import type { ServerClient } from '../client';
import { NOTEBOOK_TYPE, QueryNotebookController, QueryNotebookSerializer } from './notebook';
import { QueryResultsPanel } from './resultsPanel';

export class QueryFeatures implements vscode.Disposable {
  readonly panel: QueryResultsPanel;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(extensionUri: vscode.Uri, private readonly client: ServerClient, log: vscode.LogOutputChannel) {
    this.panel = new QueryResultsPanel(extensionUri, client, log);
    this.disposables.push(
      this.panel,
      vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new QueryNotebookSerializer(), { transientOutputs: false }),
      new QueryNotebookController(client),
    );
  }

  /** The query at a place (a code lens's arguments) or at the cursor: its rows in the panel, or its SQL. */
  async run(args?: RunQueryArgs): Promise<QueryResult | undefined> {
    const { document, offset } = await this.target(args);
    const text = document.getText();
    if (args?.explain) {
      await this.explain(text, offset);
      return undefined;
    }
    const line = document.positionAt(offset).line + 1;
    const name = document.uri.scheme === 'vscode-notebook-cell' ? 'notebook cell' : basename(document.uri.path);
    return this.panel.show({ title: `${name}:${line}`, request: { text, at: offset } });
  }

  async explain(text: string, at?: number): Promise<void> {
    const answer = await this.client.query({ text, explain: true, ...(at !== undefined ? { at } : {}) });
    if (!answer.ok) throw new Error(describeProblems(text, answer.problems, answer.error));
    if (!('explain' in answer)) return;
    const e = answer.explain;
    const content = [
      `-- ${text.slice(e.range.start, e.range.end).replace(/\n/g, '\n-- ')}`,
      '',
      '-- DuckDB (values bound to ?):',
      `${e.duckdb.text};`,
      `-- values: ${JSON.stringify(e.duckdb.params)}`,
      '',
      '-- ClickHouse, as sent (18.16 has no query parameters: values are escaped literals):',
      `${e.clickhouse.rendered};`,
      '',
    ].join('\n');
    const doc = await vscode.workspace.openTextDocument({ language: 'sql', content });
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  async newNotebook(): Promise<void> {
    const data = new QueryNotebookSerializer().deserializeNotebook(new Uint8Array());
    data.cells.unshift(new vscode.NotebookCellData(vscode.NotebookCellKind.Markup, '# Fleet queries\nRun a cell with Ctrl+Enter; results are saved with the notebook.', 'markdown'));
    const notebook = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, data);
    await vscode.window.showNotebookDocument(notebook);
  }

  private async target(args?: RunQueryArgs): Promise<{ document: vscode.TextDocument; offset: number }> {
    if (args && typeof args.uri === 'string' && typeof args.offset === 'number') {
      const uri = vscode.Uri.parse(args.uri);
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString()) ?? (await vscode.workspace.openTextDocument(uri));
      return { document, offset: args.offset };
    }
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== 'sgql') throw new Error('open an .sgql file (or a notebook cell) and put the cursor in the query to run');
    return { document: editor.document, offset: editor.document.offsetAt(editor.selection.active) };
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
