/**
 * "StreamGate: Open Trace Viewer": the search list (slowest, errors, by route), a waterfall of the chosen trace,
 * and a second trace of the same route beside it. The language server assembles traces and builds the rows;
 * this class routes the webview's requests to it and opens source lines.
 */
import * as vscode from 'vscode';
import type { TraceSearchQuery } from '../protocol/traces';
import { TracesFromWebviewSchema, type TraceSlot, type TracesFromWebview, type TracesToWebview } from '../protocol/webview';
import type { ServerClient } from './client';
import { openRouteHandler, openSourceLine } from './sourceLocator';
import { WebviewPanelHost } from './webviewPanel';

const DEFAULT_QUERY: TraceSearchQuery = { sort: 'slowest', limit: 100 };

export class TraceViewerPanel implements vscode.Disposable {
  private host: WebviewPanelHost<TracesToWebview, TracesFromWebview> | undefined;
  private query: TraceSearchQuery = DEFAULT_QUERY;
  private pendingOpen: string | undefined;
  /** Opens the log analyzer for a trace (set by Ctx, which holds both panels). */
  openLogs: (traceId: string) => void = () => {};

  constructor(private readonly extensionUri: vscode.Uri, private readonly client: ServerClient, private readonly log: vscode.LogOutputChannel) {}

  /** Shows the panel; with a trace id opens that trace, else the slowest trace of the last 15 minutes. */
  show(traceId?: string): void {
    this.pendingOpen = traceId;
    if (this.host) {
      this.host.reveal();
      void this.search(this.query, traceId ?? null);
      return;
    }
    const host = new WebviewPanelHost<TracesToWebview, TracesFromWebview>(
      this.extensionUri,
      { viewType: 'streamgate.traces', title: 'StreamGate Traces', bundle: 'traces', icon: 'streamgate.svg', fromWebview: TracesFromWebviewSchema },
      this.log,
    );
    this.host = host;
    host.onDidDispose(() => (this.host = undefined));
    host.onMessage((message) => void this.onMessage(message));
  }

  private async onMessage(message: TracesFromWebview): Promise<void> {
    try {
      switch (message.type) {
        case 'ready':
          await this.search(this.query, this.pendingOpen ?? null);
          break;
        case 'search':
          await this.search(message.query, undefined);
          break;
        case 'open':
          await this.open(message.traceId, message.slot);
          break;
        case 'close':
          void this.host?.post({ type: 'closed', slot: message.slot });
          break;
        case 'select': {
          const detail = await this.client.traceSpan(message.traceId, message.row);
          void this.host?.post({ type: 'detail', slot: message.slot, traceId: message.traceId, detail });
          break;
        }
        case 'openSource': {
          const detail = await this.client.traceSpan(message.traceId, message.row);
          if (!detail.source) throw new Error(`the span "${detail.title}" has no code.filepath attribute and no route`);
          if ('file' in detail.source) await openSourceLine(detail.source.file, detail.source.line);
          else await openRouteHandler(detail.source.route);
          break;
        }
        case 'openLogs':
          this.openLogs(message.traceId);
          break;
      }
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      void this.host?.post({ type: 'error', message: text });
    }
  }

  /**
   * Runs a search and shows it; `open` is a trace to open after it, null for the first (slowest) one found,
   * undefined for none.
   */
  private async search(query: TraceSearchQuery, open: string | null | undefined): Promise<void> {
    this.query = query;
    const to = Date.now();
    const result = await this.client.searchTraces({ ...query, from: query.from ?? to - 15 * 60_000, to: query.to ?? to });
    void this.host?.post({ type: 'search', query, result });
    const first = open === null ? result.traces[0]?.traceId : open;
    if (first) await this.open(first, 0);
  }

  private async open(traceId: string, slot: TraceSlot): Promise<void> {
    const view = await this.client.traceView(traceId);
    void this.host?.post({ type: 'trace', slot, view });
  }

  dispose(): void {
    this.host?.dispose();
  }
}
