/**
 * The Alerts view and the alert notifications. The server pushes every alert that fires or resolves; the view
 * then asks for the whole list again (firing first, then resolved in the last hour), so it always shows what the
 * server has. A firing alert at or above `streamgate.alerts.notify` also pops up a notification.
 */
import * as vscode from 'vscode';
import { ALERT_SEVERITIES, type AlertEvent, type AlertSeverity } from '../protocol/predict';
import { SingleFlight } from '../common/singleFlight';
import type { ServerClient } from './client';

const ICONS: Record<AlertSeverity, [string, string]> = {
  critical: ['error', 'errorForeground'],
  warning: ['warning', 'editorWarning.foreground'],
  info: ['info', 'editorInfo.foreground'],
};

export class AlertsViewProvider implements vscode.TreeDataProvider<AlertEvent>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<AlertEvent | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private alerts: AlertEvent[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly loading = new SingleFlight<void>();
  /** The server process and its NATS state the view last loaded for: a status push that changes them reloads. */
  private loadedFor = '';
  /** Reloads asked for so far: one asked while another runs makes that one run again. */
  private reloadsAsked = 0;

  constructor(private readonly client: ServerClient, private readonly output: vscode.LogOutputChannel, private readonly minimumSeverity: () => AlertSeverity) {
    this.disposables.push(
      client.onAlert((event) => {
        if (event.state === 'firing') this.notify(event);
        void this.reload();
      }),
      client.onStatus((status) => {
        // Status pushes come several times a second while telemetry flows; only a new server or a new
        // connection can change the alerts without an alert event.
        const key = status ? `${status.pid} ${status.mode} ${status.nats.state} ${status.nats.url ?? ''}` : '';
        if (status && key !== this.loadedFor) void this.reload();
        this.loadedFor = key;
      }),
    );
  }

  /** The alerts the view shows now (for the extension's API). */
  get current(): AlertEvent[] {
    return this.alerts;
  }

  /**
   * Asks the server for the alerts. A reload asked for while one is running runs again after it: the running
   * one may have been answered before the alert that asked for this one fired.
   */
  reload(): Promise<void> {
    this.reloadsAsked++;
    return this.loading.run(async () => {
      let answered: number;
      do {
        answered = this.reloadsAsked;
        try {
          if (this.client.running) this.alerts = (await this.client.alerts({})).alerts;
        } catch (error) {
          this.output.warn(`alerts: ${error instanceof Error ? error.message : String(error)}`);
        }
      } while (this.reloadsAsked !== answered);
      this.changed.fire(undefined);
    });
  }

  private notify(event: AlertEvent): void {
    if (ALERT_SEVERITIES.indexOf(event.severity) < ALERT_SEVERITIES.indexOf(this.minimumSeverity())) return;
    const show = event.severity === 'critical' ? vscode.window.showErrorMessage : event.severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(`StreamGate ${event.severity}: ${event.summary}`, 'Open Runbook', 'Open Predictions').then((choice) => {
      if (choice === 'Open Runbook') void vscode.commands.executeCommand('streamgate.openRunbook', event.rule);
      else if (choice === 'Open Predictions') void vscode.commands.executeCommand('streamgate.openPredictions', { service: event.service });
    });
  }

  getTreeItem(alert: AlertEvent): vscode.TreeItem {
    const item = new vscode.TreeItem(alert.summary, vscode.TreeItemCollapsibleState.None);
    const [icon, color] = alert.state === 'firing' ? ICONS[alert.severity] : ['pass', 'testing.iconPassed'];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    const started = new Date(alert.startsAt).toLocaleTimeString();
    item.description = alert.state === 'firing' ? `${alert.severity} · since ${started}` : `resolved ${new Date(alert.resolvedAt ?? alert.startsAt).toLocaleTimeString()}`;
    item.tooltip = new vscode.MarkdownString(`**${alert.severity}** · ${alert.state} · rule \`${alert.rule}\` (${alert.type})\n\n${alert.summary}\n\nSince ${started}${alert.repeats ? `, still true at ${alert.repeats} later evaluations` : ''}.`);
    item.contextValue = `alert.${alert.state}`;
    item.id = alert.id;
    item.command = { command: 'streamgate.openRunbook', title: 'Open Runbook', arguments: [alert.rule] };
    return item;
  }

  getChildren(element?: AlertEvent): AlertEvent[] {
    return element ? [] : this.alerts;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.changed.dispose();
  }
}
