/**
 * "StreamGate: Open Log Analyzer": the log templates the server mined, with sparklines, trend and novelty,
 * filters by pod, level, time and trace, a template's lines and parameter values, and a jump to the logging
 * call site. The language server answers; this class routes and opens source lines.
 */
import * as vscode from 'vscode';
import type { LogTemplatesQuery } from '../protocol/logs';
import { LogsFromWebviewSchema, type LogsFromWebview, type LogsToWebview } from '../protocol/webview';
import type { ServerClient } from './client';
import { openSourceLine } from './sourceLocator';
import { WebviewPanelHost } from './webviewPanel';

export class LogAnalyzerPanel implements vscode.Disposable {
  private host: WebviewPanelHost<LogsToWebview, LogsFromWebview> | undefined;
  private query: LogTemplatesQuery = { sort: 'count' };
  /** Opens a trace in the trace viewer (set by Ctx). */
  openTrace: (traceId: string) => void = () => {};

  constructor(private readonly extensionUri: vscode.Uri, private readonly client: ServerClient, private readonly log: vscode.LogOutputChannel) {}

  show(filters: Pick<LogTemplatesQuery, 'traceId' | 'pod' | 'level' | 'service'> = {}): void {
    if (Object.keys(filters).length) this.query = { sort: this.query.sort ?? 'count', ...filters };
    if (this.host) {
      this.host.reveal();
      void this.host.post({ type: 'query', query: this.query });
      void this.run(this.query);
      return;
    }
    const host = new WebviewPanelHost<LogsToWebview, LogsFromWebview>(
      this.extensionUri,
      { viewType: 'streamgate.logs', title: 'StreamGate Logs', bundle: 'logs', icon: 'streamgate.svg', fromWebview: LogsFromWebviewSchema },
      this.log,
    );
    this.host = host;
    host.onDidDispose(() => (this.host = undefined));
    host.onMessage((message) => void this.onMessage(message));
  }

  private async onMessage(message: LogsFromWebview): Promise<void> {
    try {
      switch (message.type) {
        case 'ready':
          void this.host?.post({ type: 'query', query: this.query });
          await this.run(this.query);
          break;
        case 'query':
          await this.run(message.query);
          break;
        case 'template': {
          const detail = await this.client.logTemplate(message.query);
          void this.host?.post({ type: 'template', detail });
          break;
        }
        case 'openSite':
          await openSourceLine(message.site.file, message.site.line, message.site.column);
          break;
        case 'openTrace':
          this.openTrace(message.traceId);
          break;
      }
    } catch (error) {
      void this.host?.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  }

  private async run(query: LogTemplatesQuery): Promise<void> {
    this.query = query;
    const to = Date.now();
    const { from: _from, to: _to, ...rest } = query;
    // The range is relative ("last 15 minutes"): the webview sends a width as from/to, the host anchors it now.
    const width = query.from !== undefined && query.to !== undefined ? query.to - query.from : 15 * 60_000;
    const result = await this.client.logTemplates({ ...rest, from: to - width, to });
    void this.host?.post({ type: 'templates', query, result, receivedAt: Date.now() });
  }

  dispose(): void {
    this.host?.dispose();
  }
}
