/** Typed access to the `streamgate.*` settings, and the ServerSettings they produce. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AlertRuleOverride, AlertSeverity } from '../protocol/predict';
import { DUCKDB_MEMORY_LIMIT_MB, type AnalyticsMetrics, type PprofTarget, type PredictSettings, type ServerModeSetting, type ServerSettings } from '../protocol/settings';

export const SECTION = 'streamgate';

export class Config {
  constructor(private readonly defaultDataDir: string) {}

  private get cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  get natsUrl(): string {
    return this.cfg.get<string>('nats.url', '').trim();
  }

  get dataDirectory(): string {
    const configured = this.cfg.get<string>('dataDirectory', '').trim();
    return configured || this.defaultDataDir;
  }

  get adapterTransport(): 'inline' | 'process' {
    return this.cfg.get<'inline' | 'process'>('debug.adapterTransport', 'inline');
  }

  get alertNotifications(): AlertSeverity {
    return this.cfg.get<AlertSeverity>('alerts.notify', 'warning');
  }

  private predictSettings(): PredictSettings | undefined {
    const cfg = this.cfg;
    const positive = (key: string) => {
      const v = cfg.get<number>(key, 0);
      return v > 0 ? v : undefined;
    };
    const seasonMinutes = positive('predict.seasonMinutes');
    const price = cfg.get<number>('predict.pricePerPodHour', -1);
    const rules = cfg.get<AlertRuleOverride[]>('alerts.rules', []);
    const out: PredictSettings = {
      ...(positive('predict.capacityPerPod') ? { capacityPerPod: positive('predict.capacityPerPod') } : {}),
      ...(price >= 0 ? { pricePerPodHour: price } : {}),
      ...(cfg.get<string>('predict.currency', '').trim() ? { currency: cfg.get<string>('predict.currency', '').trim() } : {}),
      ...(seasonMinutes ? { seasonMs: Math.round(seasonMinutes * 60_000) } : {}),
      ...(rules.length ? { alertRules: rules } : {}),
    };
    return Object.keys(out).length ? out : undefined;
  }

  serverSettings(): ServerSettings {
    const cfg = this.cfg;
    const optional = (key: string) => cfg.get<string>(key, '').trim() || undefined;
    const tls = {
      caFile: optional('nats.tls.caFile'),
      certFile: optional('nats.tls.certFile'),
      keyFile: optional('nats.tls.keyFile'),
    };
    const nats = this.natsUrl
      ? {
          url: this.natsUrl,
          credentialsFile: optional('nats.credentialsFile'),
          tls: tls.caFile || tls.certFile || tls.keyFile ? tls : undefined,
        }
      : null;
    const store: ServerSettings['store'] =
      cfg.get<string>('store.kind', 'duckdb') === 'clickhouse'
        ? { kind: 'clickhouse', url: cfg.get<string>('clickhouse.url', 'http://127.0.0.1:8123'), database: cfg.get<string>('clickhouse.database', 'streamgate') }
        : { kind: 'duckdb', path: path.join(this.dataDirectory, 'streamgate.duckdb'), memoryLimitMb: cfg.get<number>('store.memoryLimitMB', DUCKDB_MEMORY_LIMIT_MB) };
    const retentionDays = cfg.get<number>('store.retentionDays', 0);
    const metrics = cfg.get<Partial<AnalyticsMetrics>>('analytics.metrics', {});
    const patterns = cfg.get<string[]>('analytics.metricCallPatterns', []);
    const predict = this.predictSettings();
    const profiling = {
      enabled: cfg.get<boolean>('profiling.enabled', true),
      intervalSeconds: cfg.get<number>('profiling.intervalSeconds', 60),
      cpuSeconds: cfg.get<number>('profiling.cpuSeconds', 10),
      targets: cfg.get<PprofTarget[]>('profiling.targets', []),
      retentionDays: cfg.get<number>('profiling.retentionDays', 7),
    };
    return {
      nats,
      store,
      mode: cfg.get<ServerModeSetting>('server.mode', 'auto'),
      ...(retentionDays > 0 ? { retentionDays } : {}),
      ...(Object.keys(metrics).length ? { analytics: { metrics } } : {}),
      ...(patterns.length ? { metricCallPatterns: patterns } : {}),
      ...(predict ? { predict } : {}),
      profiling,
    };
  }

  /** Sets the URL where it is in effect: the workspace when a folder is open, else the user settings. An empty URL removes it. */
  async setNatsUrl(url: string): Promise<void> {
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await this.cfg.update('nats.url', url || undefined, target);
  }

  affectsServer(event: vscode.ConfigurationChangeEvent): boolean {
    return ['nats', 'store', 'clickhouse', 'dataDirectory', 'server', 'analytics', 'predict', 'alerts.rules', 'profiling'].some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
  }
}
