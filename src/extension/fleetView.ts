/**
 * The Fleet view. Empty (so the welcome content with "Connect to NATS…" shows) until NATS is connected;
 * then the connection, the store, and the live pods grouped by service with their health.
 */
import * as vscode from 'vscode';
import { formatBytes, formatDuration } from '../common/format';
import type { PodStatus } from '../protocol/nats';
import type { ServerStatus } from '../protocol/status';

/** Telemetry older than this marks a Node pod as stale. */
const STALE_MS = 10_000;

type FleetNode =
  | { kind: 'nats' | 'store'; label: string; description: string; tooltip: string; icon: string; color?: string }
  | { kind: 'service'; service: string; pods: PodStatus[] }
  | { kind: 'pod'; pod: PodStatus };

export type PodHealthState = 'healthy' | 'stale' | 'unreachable';

export function podHealthState(pod: PodStatus, now = Date.now()): PodHealthState {
  if (!pod.health) return 'unreachable';
  if (pod.info.runtime === 'node' && (!pod.health.lastPublishAt || now - pod.health.lastPublishAt > STALE_MS)) return 'stale';
  return 'healthy';
}

export class FleetViewProvider implements vscode.TreeDataProvider<FleetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FleetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private status: ServerStatus | undefined;
  private pods: PodStatus[] = [];

  update(status: ServerStatus | undefined): void {
    this.status = status;
    this.changed.fire(undefined);
  }

  updatePods(pods: PodStatus[]): void {
    this.pods = pods;
    this.changed.fire(undefined);
  }

  getTreeItem(node: FleetNode): vscode.TreeItem {
    switch (node.kind) {
      case 'nats':
      case 'store': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon(node.icon, node.color ? new vscode.ThemeColor(node.color) : undefined);
        item.contextValue = node.kind;
        return item;
      }
      case 'service': {
        const unhealthy = node.pods.filter((p) => podHealthState(p) !== 'healthy').length;
        const item = new vscode.TreeItem(node.service, vscode.TreeItemCollapsibleState.Expanded);
        item.description = `${node.pods.length} pod${node.pods.length === 1 ? '' : 's'}${unhealthy ? ` · ${unhealthy} unhealthy` : ''}`;
        item.iconPath = new vscode.ThemeIcon('server-environment');
        item.contextValue = 'service';
        item.id = `service:${node.service}`;
        return item;
      }
      case 'pod':
        return podItem(node.pod);
    }
  }

  getChildren(node?: FleetNode): FleetNode[] {
    if (node?.kind === 'service') return node.pods.map((pod) => ({ kind: 'pod', pod }));
    if (node) return [];
    const status = this.status;
    if (!status || status.nats.state !== 'connected') return [];
    const { nats, store } = status;
    const services = new Map<string, PodStatus[]>();
    for (const pod of this.pods) {
      const list = services.get(pod.info.service) ?? [];
      list.push(pod);
      services.set(pod.info.service, list);
    }
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
        ...(store.state === 'error' ? { color: 'errorForeground' } : {}),
      },
      ...[...services.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([service, pods]): FleetNode => ({ kind: 'service', service, pods })),
    ];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function podItem(pod: PodStatus): vscode.TreeItem {
  const { info, health } = pod;
  const state = podHealthState(pod);
  const item = new vscode.TreeItem(info.pod, vscode.TreeItemCollapsibleState.None);
  item.id = `pod:${info.pod}`;
  item.contextValue = `pod.${info.runtime}`;
  const now = Date.now();
  // Health first: the view is narrow and the end of the line is what gets cut.
  const parts: (string | undefined)[] = [];
  if (pod.live) parts.push(liveText(pod.live));
  if (health) {
    parts.push(`CPU ${health.cpuPercent.toFixed(0)}%`, formatBytes(health.rssBytes));
    if (info.runtime === 'node') parts.push(health.lastPublishAt ? `telemetry ${formatDuration(now - health.lastPublishAt)} ago` : 'no telemetry yet');
  } else {
    parts.push('unreachable');
  }
  parts.push(info.labels.zone ?? info.labels.region, `v${info.version}`);
  item.description = parts.filter(Boolean).join(' · ');
  const icon = { healthy: ['vm-running', 'testing.iconPassed'], stale: ['warning', 'problemsWarningIcon.foreground'], unreachable: ['error', 'errorForeground'] }[state];
  item.iconPath = new vscode.ThemeIcon(icon[0]!, new vscode.ThemeColor(icon[1]!));
  const tooltip = new vscode.MarkdownString(undefined, true);
  // Pod names and versions come from whoever registered on NATS: escaped like every other field.
  tooltip.appendMarkdown(`**${escapeMarkdown(info.pod)}** · ${escapeMarkdown(info.service)} ${escapeMarkdown(info.version)} · ${info.runtime} · $(${icon[0]}) ${state}\n\n`);
  const rows: [string, string][] = [
    ...(pod.live ? ([['Requests (last minute)', liveText(pod.live)]] as [string, string][]) : []),
    ['Labels', Object.entries(info.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '—'],
    ['Started', new Date(info.startedAt).toLocaleString()],
    ['Agent', info.agentVersion],
  ];
  if (health) {
    rows.push(
      ['CPU', `${health.cpuPercent.toFixed(1)} %`],
      ['Memory', `${formatBytes(health.rssBytes)} RSS, ${formatBytes(health.heapUsedBytes)} heap`],
      ['Event loop p99', health.eventLoopDelayP99Ms === undefined ? 'not measured' : `${health.eventLoopDelayP99Ms.toFixed(1)} ms`],
      ['Telemetry', health.lastPublishAt ? `${formatDuration(now - health.lastPublishAt)} ago; ${health.buffered} buffered; ${Object.values(health.dropped).reduce((a, b) => a + b, 0)} dropped` : 'none yet'],
    );
    if (health.lastPublishError) rows.push(['Telemetry dropped', health.lastPublishError]);
  } else if (pod.healthError) {
    rows.push(['Health', pod.healthError]);
  }
  tooltip.appendMarkdown(rows.map(([k, v]) => `| ${k} | ${escapeMarkdown(v)} |`).join('\n').replace(/^/, '| | |\n|---|---|\n'));
  item.tooltip = tooltip;
  return item;
}

/** A pod's live request figures, as the server computed them over the last minute. */
function liveText(live: NonNullable<PodStatus['live']>): string {
  const p99 = live.p99 === null ? '—' : `${live.p99 < 10 ? live.p99.toFixed(1) : Math.round(live.p99)} ms`;
  return `${live.rps < 10 ? live.rps.toFixed(1) : Math.round(live.rps)} req/s · p99 ${p99} · ${(live.errorRate * 100).toFixed(1)} % 5xx`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[|\\`*_{}[\]<>$]/g, (c) => `\\${c}`);
}
