/**
 * The Fleet view. Empty (so the welcome content with "Connect to NATS…" shows) until NATS is connected; then
 * the connection and store, and the pods.
 */
import * as vscode from 'vscode';
import type { ServerStatus } from '../protocol/status';

type FleetNode = { kind: 'nats' | 'store'; label: string; description: string; tooltip: string; icon: string };

export class FleetViewProvider implements vscode.TreeDataProvider<FleetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FleetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private status: ServerStatus | undefined;

  update(status: ServerStatus | undefined): void {
    this.status = status;
    this.changed.fire(undefined);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(node: FleetNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    item.contextValue = node.kind;
    return item;
  }

  getChildren(node?: FleetNode): FleetNode[] {
    if (node) return [];
    const status = this.status;
    if (!status || status.nats.state !== 'connected') return [];
    const { nats, store } = status;
    return [
      {
        kind: 'nats',
        label: 'NATS',
        description: `${nats.url ?? ''}${nats.server ? ` · ${nats.server.version}${nats.server.jetstream ? ' · JetStream' : ''}` : ''}`,
        tooltip: `Connected to ${nats.url ?? 'NATS'} (${nats.server?.name ?? 'unknown server'})`,
        icon: 'radio-tower',
      },
      {
        kind: 'store',
        label: 'Store',
        description: `${store.kind} · ${store.state}`,
        tooltip: store.error ?? `${store.kind} ${store.version ?? ''} at ${store.location}`,
        icon: store.state === 'error' ? 'error' : 'database',
      },
    ];
  }

  dispose(): void {
    this.changed.dispose();
  }
}
