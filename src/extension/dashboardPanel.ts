/**
 * "StreamGate: Open Analytics Dashboard": the panel that shows the fleet's figures. The language server
 * computes them; this class only routes the webview's query to it (a live subscription, or one answer for a
 * fixed range) and the answers back, and tells the webview when the server was away.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { DashboardQuery, DashboardTab } from '../protocol/analytics';
import type { OpenDashboardArgs } from '../protocol/lsp';
import { DashboardFromWebviewSchema, type DashboardFromWebview, type DashboardToWebview } from '../protocol/webview';
import type { ServerClient } from './client';
import { WebviewPanelHost } from './webviewPanel';

const DEFAULT_QUERY: DashboardQuery = { live: true, rangeMs: 15 * 60_000, filters: {} };

export class DashboardPanel implements vscode.Disposable {
  private host: WebviewPanelHost<DashboardToWebview, DashboardFromWebview> | undefined;
  private query: DashboardQuery = DEFAULT_QUERY;
  private tab: DashboardTab = 'overview';
  /** The live subscription's id; pushes for other ids belong to an earlier query. */
  private subscription: string | undefined;
  private awayFrom: number | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly client: ServerClient, private readonly log: vscode.LogOutputChannel) {
    this.subscriptions.push(
      client.onLive(({ id, data, error }) => {
        if (id !== this.subscription) return;
        if (data) void this.host?.post({ type: 'data', data, receivedAt: Date.now() });
        else if (error) void this.host?.post({ type: 'error', message: error });
      }),
      client.onStatus((status) => this.onServer(status !== undefined)),
    );
  }

  show(args: OpenDashboardArgs = {}): void {
    if (args.filters || args.tab || args.metric) {
      const { metric: _previous, ...rest } = this.query;
      this.query = { ...rest, filters: { ...args.filters }, ...(args.metric ? { metric: args.metric } : {}) };
      this.tab = args.tab ?? (args.metric ? 'overview' : args.filters?.route ? 'performance' : this.tab);
    }
    if (this.host) {
      this.host.reveal();
      void this.host.post({ type: 'query', query: this.query, tab: this.tab });
      void this.run();
      return;
    }
    const host = new WebviewPanelHost<DashboardToWebview, DashboardFromWebview>(
      this.extensionUri,
      { viewType: 'streamgate.dashboard', title: 'StreamGate Analytics', bundle: 'dashboard', icon: 'streamgate.svg', fromWebview: DashboardFromWebviewSchema },
      this.log,
    );
    this.host = host;
    host.onDidDispose(() => {
      this.host = undefined;
      void this.stopLive();
    });
    host.onMessage((message) => {
      switch (message.type) {
        case 'ready':
          void host.post({ type: 'query', query: this.query, tab: this.tab });
          void this.run();
          break;
        case 'query':
          this.query = message.query;
          this.tab = message.tab;
          void this.run();
          break;
      }
    });
  }

  /** Asks the server for the current query: a live subscription, or one answer for a fixed range. */
  private async run(): Promise<void> {
    await this.stopLive();
    if (!this.host || !this.client.running) return;
    const query = this.query;
    try {
      if (query.live) {
        this.subscription = randomUUID();
        await this.client.subscribe(this.subscription, query);
      } else {
        const data = await this.client.dashboard(query);
        if (this.query === query) void this.host.post({ type: 'data', data, receivedAt: Date.now() });
      }
    } catch (error) {
      void this.host.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  }

  private async stopLive(): Promise<void> {
    const id = this.subscription;
    this.subscription = undefined;
    if (id) await this.client.unsubscribe(id).catch(() => {});
  }

  /** The server stopped (restart, crash) or is back: say so, and pick the view up again when it returns. */
  private onServer(running: boolean): void {
    if (!this.host) return;
    if (!running) {
      if (this.awayFrom === undefined) {
        this.awayFrom = Date.now();
        this.subscription = undefined;
        void this.host.post({ type: 'server', state: 'away', since: this.awayFrom });
      }
      return;
    }
    if (this.awayFrom !== undefined) {
      const awayFrom = this.awayFrom;
      this.awayFrom = undefined;
      void this.host.post({ type: 'server', state: 'back', since: Date.now(), awayFrom });
      void this.run();
    }
  }

  dispose(): void {
    void this.stopLive();
    this.host?.dispose();
    for (const d of this.subscriptions.splice(0)) d.dispose();
  }
}
