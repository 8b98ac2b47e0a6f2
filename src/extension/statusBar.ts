/** The status bar item: NATS and store state at a glance; a click opens the status panel. */
import * as vscode from 'vscode';
import type { ServerStatus } from '../protocol/status';

export class ConnectionStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('streamgate.connection', vscode.StatusBarAlignment.Left, 50);

  constructor() {
    this.item.name = 'StreamGate Connection';
    this.item.command = 'streamgate.showStatus';
    this.render(undefined, 'starting');
    this.item.show();
  }

  render(status: ServerStatus | undefined, serverState: 'starting' | 'running' | 'stopped' = 'running'): void {
    const item = this.item;
    item.backgroundColor = undefined;
    if (!status) {
      item.text = serverState === 'starting' ? '$(loading~spin) StreamGate' : '$(circle-slash) StreamGate: server stopped';
      item.tooltip = serverState === 'starting' ? 'StreamGate language server is starting' : 'StreamGate language server is not running';
      return;
    }
    const { nats, store } = status;
    switch (nats.state) {
      case 'connected':
        item.text = '$(radio-tower) StreamGate';
        break;
      case 'connecting':
      case 'reconnecting':
        item.text = `$(sync~spin) StreamGate: ${nats.state}`;
        break;
      case 'not-configured':
        item.text = '$(plug) StreamGate: not connected';
        break;
      case 'disconnected':
        item.text = '$(debug-disconnect) StreamGate: disconnected';
        break;
      case 'error':
        item.text = '$(error) StreamGate: NATS unreachable';
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
    }
    if (store.state === 'error') item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**StreamGate** ${status.version}\n\n`);
    tooltip.appendText(`NATS: ${nats.state}${nats.url ? ` (${nats.url})` : ''}${nats.error ? ` — ${nats.error}` : ''}\n`);
    tooltip.appendText(`Store: ${store.kind} ${store.state}${store.error ? ` — ${store.error}` : ''}\n`);
    item.tooltip = tooltip;
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}
