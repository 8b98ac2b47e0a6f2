/** "StreamGate: Show Status": the server's version, uptime, NATS and store state, live. */
import * as vscode from 'vscode';
import { StatusFromWebviewSchema, type StatusFromWebview, type StatusToWebview } from '../protocol/webview';
import type { ServerClient } from './client';
import { WebviewPanelHost } from './webviewPanel';

export class StatusPanel implements vscode.Disposable {
  private host: WebviewPanelHost<StatusToWebview, StatusFromWebview> | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly client: ServerClient, private readonly log: vscode.LogOutputChannel) {
    this.subscriptions.push(client.onStatus(() => this.push()));
  }

  show(): void {
    if (this.host) {
      this.host.reveal();
      void this.refresh();
      return;
    }
    const host = new WebviewPanelHost<StatusToWebview, StatusFromWebview>(
      this.extensionUri,
      { viewType: 'streamgate.status', title: 'StreamGate Status', bundle: 'status', fromWebview: StatusFromWebviewSchema },
      this.log,
    );
    this.host = host;
    host.onDidDispose(() => (this.host = undefined));
    host.onMessage((message) => {
      switch (message.type) {
        case 'ready':
        case 'refresh':
          void this.refresh();
          break;
      }
    });
  }

  private async refresh(): Promise<void> {
    try {
      await this.client.status(); // publishes, which pushes to the panel
    } catch (error) {
      void this.host?.post({ type: 'unavailable', reason: error instanceof Error ? error.message : String(error) });
    }
  }

  private push(): void {
    const status = this.client.lastStatus;
    if (!this.host) return;
    void this.host.post(status ? { type: 'status', status, receivedAt: Date.now() } : { type: 'unavailable', reason: 'the language server is not running' });
  }

  dispose(): void {
    this.host?.dispose();
    for (const d of this.subscriptions.splice(0)) d.dispose();
  }
}
