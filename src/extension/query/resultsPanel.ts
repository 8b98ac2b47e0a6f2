/**
 * "StreamGate: Run Query": the panel that shows a query's rows as a chart and a table. The language server runs
 * the query; this class sends it, re-runs it every few seconds while live refresh is on, and saves the rows as
 * CSV where the user says.
 */
import * as vscode from 'vscode';
import { toCsv } from '../../common/queryTable';
import { describeProblems, type QueryRequest, type QueryResult } from '../../protocol/query';
import { QueryFromWebviewSchema, type QueryFromWebview, type QueryToWebview } from '../../protocol/webview';
import type { ServerClient } from '../client';
import { WebviewPanelHost } from '../webviewPanel';

export const RESULTS_TITLE = 'StreamGate Query Results';

export interface ShownQuery {
  /** What the panel calls it: the file and line it came from. */
  title: string;
  request: QueryRequest;
}

export class QueryResultsPanel implements vscode.Disposable {
  private host: WebviewPanelHost<QueryToWebview, QueryFromWebview> | undefined;
  private shown: ShownQuery | undefined;
  private last: QueryResult | undefined;
  private live = false;
  private intervalMs = 5000;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly client: ServerClient, private readonly log: vscode.LogOutputChannel) {
    // Say when the server goes away and when it is back, not at every status it pushes.
    let away = false;
    this.subscriptions.push(
      client.onStatus((status) => {
        if (away === !status) return;
        away = !status;
        void this.host?.post({ type: 'server', state: away ? 'away' : 'back' });
        if (!away && this.live) void this.run();
      }),
    );
  }

  /** The rows on screen, for export. */
  get result(): QueryResult | undefined {
    return this.last;
  }

  async show(query: ShownQuery): Promise<QueryResult | undefined> {
    this.shown = query;
    if (!this.host) {
      const host = new WebviewPanelHost<QueryToWebview, QueryFromWebview>(this.extensionUri, { viewType: 'streamgate.queryResults', title: RESULTS_TITLE, bundle: 'query', icon: 'streamgate.svg', fromWebview: QueryFromWebviewSchema }, this.log);
      this.host = host;
      host.onDidDispose(() => {
        this.host = undefined;
        this.setLive(false);
      });
      host.onMessage((message) => void this.onMessage(message));
    } else this.host.reveal();
    return this.run();
  }

  private async onMessage(message: QueryFromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (this.last && this.shown) void this.post(this.last);
        break;
      case 'rerun':
        await this.run();
        break;
      case 'exportCsv':
        await vscode.commands.executeCommand('streamgate.exportQueryResults');
        break;
      case 'live':
        this.intervalMs = message.intervalMs;
        this.setLive(message.enabled);
        break;
    }
  }

  private setLive(enabled: boolean): void {
    this.live = enabled;
    clearInterval(this.timer);
    this.timer = undefined;
    if (enabled) {
      this.timer = setInterval(() => void this.run(), this.intervalMs);
      void this.run();
    }
  }

  /** Runs the shown query; `now` moves with each run, so ago() windows slide while live. */
  async run(): Promise<QueryResult | undefined> {
    const shown = this.shown;
    const host = this.host;
    if (!shown || !host || this.running) return this.last;
    this.running = true;
    const { title, request } = shown;
    // The panel may close while the query runs: post only to the one that asked, while it is open.
    const post = (message: QueryToWebview) => {
      if (this.host === host) void host.post(message);
    };
    post({ type: 'running', title, text: request.text.slice(0, 4000) });
    try {
      const answer = await this.client.query({ ...request, now: Date.now() });
      if (!answer.ok) {
        this.last = undefined;
        post({ type: 'error', title, text: request.text, message: describeProblems(request.text, answer.problems, answer.error), live: this.live, intervalMs: this.intervalMs });
        return undefined;
      }
      if (!('result' in answer)) return undefined;
      this.last = answer.result;
      await this.post(answer.result);
      return answer.result;
    } catch (error) {
      this.last = undefined;
      post({ type: 'error', title, text: request.text, message: error instanceof Error ? error.message : String(error), live: this.live, intervalMs: this.intervalMs });
      return undefined;
    } finally {
      this.running = false;
    }
  }

  private post(result: QueryResult): Thenable<boolean> | undefined {
    const shown = this.shown;
    if (!shown) return undefined;
    return this.host?.post({ type: 'result', title: shown.title, text: shown.request.text.slice(result.range.start, result.range.end), result, receivedAt: Date.now(), live: this.live, intervalMs: this.intervalMs });
  }

  /** Writes the rows on screen as CSV to `target`, or where the user picks. */
  async exportCsv(target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const result = this.last;
    if (!result) throw new Error('there are no query results to export: run a query first');
    const uri = target ?? (await vscode.window.showSaveDialog({ title: 'Export query results as CSV', filters: { CSV: ['csv'] }, saveLabel: 'Export' }));
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(toCsv(result)));
    void vscode.window.showInformationMessage(`Saved ${result.rows.length} rows to ${vscode.workspace.asRelativePath(uri)}`);
    return uri;
  }

  dispose(): void {
    this.setLive(false);
    this.host?.dispose();
    for (const d of this.subscriptions.splice(0)) d.dispose();
  }
}
