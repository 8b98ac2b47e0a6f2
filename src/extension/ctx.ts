/**
 * Everything the extension holds while active, built once by `activate`. The language server has its own
 * lifetime inside it (restartable) so commands that need the server are enabled only while it runs.
 */
import * as vscode from 'vscode';
import type { ServerStatus } from '../protocol/status';
import type { StreamGateApi } from './api';
import { ServerClient } from './client';
import { CONTEXT_KEYS } from './commandIds';
import { Config } from './config';
import { registerDebugType } from './debug';
import { FleetViewProvider } from './fleetView';
import { HotCodeEditor } from './profiles/hotCodeEditor';
import { ProfileViews } from './profiles/profileViews';
import { RecommendationsView } from './profiles/recommendationsView';
import { SandboxFleet } from './sandbox';
import { DashboardPanel } from './dashboardPanel';
import { AlertsViewProvider } from './alertsView';
import { PredictionsPanel } from './predictionsPanel';
import { LogAnalyzerPanel } from './logAnalyzerPanel';
import { TraceViewerPanel } from './traceViewerPanel';
import { ConnectionStatusBar } from './statusBar';
import { StatusPanel } from './statusPanel';
import { QueryFeatures } from './query';

export class Ctx implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('StreamGate', { log: true });
  readonly config: Config;
  readonly client: ServerClient;
  readonly statusBar = new ConnectionStatusBar();
  readonly fleetView = new FleetViewProvider();
  readonly statusPanel: StatusPanel;
  readonly dashboard: DashboardPanel;
  readonly predictions: PredictionsPanel;
  readonly alerts: AlertsViewProvider;
  readonly traces: TraceViewerPanel;
  readonly logs: LogAnalyzerPanel;
  readonly sandbox: SandboxFleet;
  readonly queries: QueryFeatures;
  readonly recommendations: RecommendationsView;
  private readonly disposables: vscode.Disposable[] = [];
  private serverReady!: Promise<void>;
  private profileFeature: { views: ProfileViews; hotCode: HotCodeEditor } | undefined;

  constructor(readonly context: vscode.ExtensionContext) {
    this.config = new Config(context.globalStorageUri.fsPath);
    this.client = new ServerClient(context.asAbsolutePath('dist/server.js'), context.asAbsolutePath('dist/lspClient.js'), this.output);
    this.statusPanel = new StatusPanel(context.extensionUri, this.client, this.output);
    this.dashboard = new DashboardPanel(context.extensionUri, this.client, this.output);
    this.predictions = new PredictionsPanel(context.extensionUri, this.client, this.output);
    this.alerts = new AlertsViewProvider(this.client, this.output, () => this.config.alertNotifications);
    this.traces = new TraceViewerPanel(context.extensionUri, this.client, this.output);
    this.logs = new LogAnalyzerPanel(context.extensionUri, this.client, this.output);
    this.traces.openLogs = (traceId) => this.logs.show({ traceId });
    this.logs.openTrace = (traceId) => this.traces.show(traceId);
    this.sandbox = new SandboxFleet(context, this.config, this.output);
    this.queries = new QueryFeatures(context.extensionUri, this.client, this.output);
    this.recommendations = new RecommendationsView(this.client, { resolve: (file) => this.profiles.views.resolver.resolve(file) }, this.output);
  }

  /**
   * `commands` is the command table (handed in by main.ts, so this module does not depend on the commands
   * that depend on it); `elapsed` says how long activation has taken so far.
   */
  start(commands: (ctx: Ctx) => vscode.Disposable[], elapsed: () => number): StreamGateApi {
    this.disposables.push(
      this.output,
      this.statusBar,
      this.fleetView,
      this.statusPanel,
      this.dashboard,
      this.predictions,
      this.alerts,
      vscode.window.registerTreeDataProvider('streamgate.alerts', this.alerts),
      this.traces,
      this.logs,
      this.sandbox,
      this.queries,
      this.client,
      vscode.window.registerTreeDataProvider('streamgate.fleet', this.fleetView),
      this.recommendations,
      vscode.window.registerTreeDataProvider('streamgate.recommendations', this.recommendations),
      this.client.onStatus((status) => this.onStatus(status)),
      this.client.onPods((pods) => this.fleetView.updatePods(pods)),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (this.config.affectsServer(event) && this.client.running) {
          this.client.configure(this.config.serverSettings()).catch((error) => this.output.error(`reconfiguring the server: ${error}`));
        }
      }),
      ...commands(this),
      ...registerDebugType(this.context, this.config),
    );
    this.context.subscriptions.push(this);
    // The server (and the language client's code) start right after activation returns, not inside it.
    this.serverReady = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.startServer());
    this.serverReady.catch(() => {}); // reported by startServer; the API still exposes the failure
    const activationMs = elapsed();
    this.output.info(`StreamGate DevTools activated in ${activationMs.toFixed(1)} ms`);
    return {
      activationMs,
      serverReady: this.serverReady,
      status: () => this.client.status(),
      statusBarText: () => this.statusBar.text,
      pods: () => this.client.lastPods,
      analytics: {
        summary: (request) => this.client.summary(request),
        dashboard: (query) => this.client.dashboard(query),
      },
      traces: {
        search: (query) => this.client.searchTraces(query),
        view: (traceId) => this.client.traceView(traceId),
      },
      logs: {
        templates: (query) => this.client.logTemplates(query),
      },
      sandbox: () => this.sandbox.info,
      predict: {
        forecast: (request) => this.client.forecast(request),
        predictions: (query) => this.client.predictions(query),
        alerts: () => this.alerts.current,
      },
      profileFindings: () => this.recommendations.findings,
    };
  }

  /** Flamegraphs and hot code, made on first use (nothing of them runs at activation). */
  get profiles(): { views: ProfileViews; hotCode: HotCodeEditor } {
    if (!this.profileFeature) {
      const views = new ProfileViews(this.context.extensionUri, this.output);
      const hotCode = new HotCodeEditor(this.context.extensionUri, views);
      this.disposables.push(hotCode, views);
      this.profileFeature = { views, hotCode };
    }
    return this.profileFeature;
  }

  async restartServer(): Promise<void> {
    await this.client.stop();
    await this.startServer();
  }

  private async startServer(): Promise<void> {
    this.statusBar.render(undefined, 'starting');
    try {
      const settings = () => this.config.serverSettings();
      const sent = JSON.stringify(settings());
      await this.client.start(settings);
      // A change made while the server was starting found it not running yet and was not sent: send it now.
      if (JSON.stringify(settings()) !== sent) await this.client.configure(settings());
      await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.serverRunning, true);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.output.error(`the language server failed to start: ${message}`);
      this.statusBar.render(undefined, 'stopped');
      void vscode.window.showErrorMessage(`StreamGate language server failed to start: ${message}`, 'Show Logs').then((choice) => {
        if (choice) this.output.show();
      });
      throw error;
    }
  }

  private onStatus(status: ServerStatus | undefined): void {
    this.statusBar.render(status, this.client.running ? 'running' : 'stopped');
    this.fleetView.update(status);
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.connected, status?.nats.state === 'connected');
    if (!status) void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.serverRunning, false);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
