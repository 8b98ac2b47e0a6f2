/**
 * "StreamGate: Open Predictions": forecasts of load, errors, sessions and cost for one service, with the model,
 * its backtest, drift, scaling advice and the cost forecast. The language server computes everything; this class
 * asks for the webview's service and horizon every 15 s while the panel is open, and passes the answers on.
 */
import * as vscode from 'vscode';
import type { PredictionsQuery } from '../protocol/predict';
import { PredictionsFromWebviewSchema, type PredictionsFromWebview, type PredictionsToWebview } from '../protocol/webview';
import type { ServerClient } from './client';
import { WebviewPanelHost } from './webviewPanel';

const REFRESH_MS = 15_000;

export class PredictionsPanel implements vscode.Disposable {
  private host: WebviewPanelHost<PredictionsToWebview, PredictionsFromWebview> | undefined;
  private query: PredictionsQuery = {};
  private timer: NodeJS.Timeout | undefined;
  /** Answers to an older query are dropped. */
  private generation = 0;

  constructor(private readonly extensionUri: vscode.Uri, private readonly client: ServerClient, private readonly log: vscode.LogOutputChannel) {}

  show(query?: PredictionsQuery): void {
    if (query) this.query = { ...this.query, ...query };
    if (this.host) {
      this.host.reveal();
      void this.host.post({ type: 'query', query: this.query });
      void this.refresh();
      return;
    }
    const host = new WebviewPanelHost<PredictionsToWebview, PredictionsFromWebview>(
      this.extensionUri,
      { viewType: 'streamgate.predictions', title: 'StreamGate Predictions', bundle: 'predictions', icon: 'streamgate.svg', fromWebview: PredictionsFromWebviewSchema },
      this.log,
    );
    this.host = host;
    host.onDidDispose(() => {
      this.host = undefined;
      clearInterval(this.timer);
    });
    host.onMessage((message) => {
      switch (message.type) {
        case 'ready':
          void host.post({ type: 'query', query: this.query });
          void this.refresh();
          break;
        case 'query':
          this.query = message.query;
          void this.refresh();
          break;
        case 'refresh':
          void this.refresh();
          break;
      }
    });
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  private async refresh(): Promise<void> {
    const host = this.host;
    if (!host || !this.client.running) return;
    const generation = ++this.generation;
    try {
      const data = await this.client.predictions(this.query);
      if (generation === this.generation) void host.post({ type: 'data', data, receivedAt: Date.now() });
    } catch (error) {
      if (generation === this.generation) void host.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.host?.dispose();
  }
}
