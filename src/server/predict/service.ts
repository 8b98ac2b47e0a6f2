/**
 * Predictive analytics of the fleet, as one part of the Backend: forecasts (Forecaster), anomaly scores on every
 * live series (AnomalyMonitor) and alerts (AlertEngine), evaluated every 10 s on the live windows, published on
 * NATS as they fire and resolve, and answered over LSP, the sg-server service and /metrics.
 *
 * In shared mode this server has no live windows: forecasts come from the shared server's series queries, and
 * alerts are the ones the shared server publishes on NATS.
 */
import { EventEmitter } from 'node:events';
import type { NatsConnection, Subscription } from 'nats';
import { errorMessage, type Logger } from '../../common/logger';
import {
  ALERT_SUBJECT_PREFIX,
  alertSubject,
  DEFAULT_ALERT_RULES,
  FORECAST_KINDS,
  type AlertEvent,
  type AlertRule,
  type AlertsAnswer,
  type AlertsQuery,
  type ForecastAnswer,
  type ForecastKind,
  type ForecastRequest,
  type PredictionsData,
  type PredictionsQuery,
} from '../../protocol/predict';
import type { AnalyticsMetrics, ServerSettings } from '../../protocol/settings';
import type { ServerMode } from '../../protocol/status';
import type { AnalyticsApi } from '../analytics/api';
import { DEFAULT_ANALYTICS_METRICS } from '../analytics/views';
import type { LiveWindows } from '../live/windows';
import type { NatsLink } from '../natsLink';
import type { PodDirectory } from '../podDirectory';
import { metricName } from '../prometheus';
import { ALERT_STEP_MS, AlertEngine, applyOverrides, type ForecastBreach } from './alerts';
import { AnomalyMonitor } from './anomalies';
import { measureCapacity, podsFor } from './capacity';
import { DEFAULT_HORIZON_MS, Forecaster } from './forecaster';
import { servicesWithTraffic } from './history';
import { ANOMALY_SCORE_METRIC, FORECAST_BREACH_METRIC, POD_SILENT_METRIC } from './prometheusRules';
import { podLoad, podsReporting, readSignals, RestartTracker, type SignalValue } from './signals';

/** How often forecast rules look ahead. */
const FORECAST_EVERY_MS = 60_000;
/** Services shown and forecast: those with requests in the last this-many ms. */
const SERVICES_RANGE_MS = 15 * 60_000;

export interface PredictDeps {
  log: Logger;
  windows: LiveWindows;
  nats: NatsLink;
  pods: PodDirectory;
  api: () => AnalyticsApi;
  settings: () => ServerSettings | undefined;
  mode: () => ServerMode;
}

export class PredictService extends EventEmitter<{ alert: [AlertEvent] }> {
  readonly forecaster: Forecaster;
  readonly anomalies: AnomalyMonitor;
  readonly engine = new AlertEngine(DEFAULT_ALERT_RULES);
  /** Alerts the shared server published (shared mode), by id. */
  private readonly received = new Map<string, AlertEvent>();
  private readonly breaches = new Map<string, ForecastBreach[]>();
  private subscription: Subscription | undefined;
  private readonly timer: NodeJS.Timeout;
  private lastStep = 0;
  private lastForecastAt = 0;
  private lastSignals: SignalValue[] = [];
  private readonly restarts = new RestartTracker();
  private forecasting = false;

  constructor(private readonly deps: PredictDeps) {
    super();
    this.forecaster = new Forecaster({
      api: deps.api,
      metrics: () => this.metrics(),
      settings: () => deps.settings()?.predict,
      podsOf: (service) => this.podsOf(service),
      measuredCapacity: (service) => measureCapacity(podLoad(deps.windows, this.metrics(), service, Date.now())),
    });
    this.anomalies = new AnomalyMonitor(deps.windows);
    this.engine.on('alert', (event) => this.onAlert(event));
    deps.nats.on('connected', (nc) => this.listen(nc));
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  private metrics(): AnalyticsMetrics {
    return { ...DEFAULT_ANALYTICS_METRICS, ...this.deps.settings()?.analytics?.metrics };
  }

  rules(): AlertRule[] {
    return applyOverrides(DEFAULT_ALERT_RULES, this.deps.settings()?.predict?.alertRules);
  }

  /**
   * The service's running pods: those whose health answered the fleet's last poll, and those that sent telemetry
   * in the last 30 s. A poll made while the machine is saturated can go unanswered; the pods are still running.
   */
  private podsOf(service: string, now = Date.now()): number {
    const pods = new Set(this.deps.pods.current.filter((p) => p.info.service === service && p.health).map((p) => p.info.pod));
    for (const p of podsReporting(this.deps.windows, now - 30_000)) if (p.service === service) pods.add(p.pod);
    return pods.size;
  }

  /** Once per second: score and evaluate each 10-s step as soon as it has settled; forecast rules once a minute. */
  private tick(now = Date.now()): void {
    this.restarts.observe(this.deps.windows, now);
    const step = Math.floor((now - 2000) / ALERT_STEP_MS) * ALERT_STEP_MS - ALERT_STEP_MS;
    if (step <= this.lastStep) return;
    this.lastStep = step;
    try {
      this.engine.rules = this.rules();
      this.anomalies.tick(now);
      const signals = [...readSignals(this.deps.windows, this.metrics(), step, ALERT_STEP_MS), ...this.restarts.signals()];
      this.lastSignals = signals;
      this.engine.evaluate(step, signals);
      if (now - this.lastForecastAt >= FORECAST_EVERY_MS && !this.forecasting && signals.length) {
        this.lastForecastAt = now;
        const services = [...new Set(signals.filter((s) => !s.pod).map((s) => s.service))];
        this.forecasting = true;
        void this.forecastRules(services, now).finally(() => (this.forecasting = false));
      }
    } catch (error) {
      this.deps.log.warn(`alert evaluation: ${errorMessage(error)}`);
    }
  }

  /** Looks ahead for each forecast rule: the first step whose forecast crosses the line, if any, per service. */
  private async forecastRules(services: string[], now: number): Promise<void> {
    for (const rule of this.rules().filter((r) => r.enabled && r.type === 'forecast')) {
      const found: ForecastBreach[] = [];
      for (const service of services) {
        try {
          const kind: ForecastKind = rule.signal === 'errorRate' ? 'errors' : 'load';
          const f = await this.forecaster.forecast({ kind, service, horizonMs: rule.withinMs ?? DEFAULT_HORIZON_MS }, now);
          const breach = this.breachOf(rule, f);
          if (breach) found.push(breach);
        } catch (error) {
          this.deps.log.debug(`forecast rule ${rule.id} on ${service}: ${errorMessage(error)}`);
        }
      }
      this.breaches.set(rule.id, found);
      this.engine.evaluateForecast(rule, found, services, Date.now());
    }
  }

  /**
   * A crossing counts only from a model that was backtested (never from a short-history fallback) and while the
   * latest value is still on the safe side (past it, the threshold rules speak).
   */
  private breachOf(rule: AlertRule, f: ForecastAnswer): ForecastBreach | undefined {
    if (f.backtest.smape === null) return undefined;
    const latest = [...f.history].reverse().find(([, v]) => v !== null)?.[1];
    if (latest === undefined || latest === null) return undefined;
    if (rule.signal === 'errorRate') {
      if (latest > rule.threshold) return undefined;
      const at = f.points.find((p) => p.mean > rule.threshold);
      return at ? { service: f.service, value: at.mean, threshold: rule.threshold, expectedAt: at.t } : undefined;
    }
    const pods = this.podsOf(f.service);
    const capacity = this.forecaster.capacity(undefined, f.service).capacityPerPod;
    const limit = pods * capacity;
    if (pods === 0 || latest > limit) return undefined;
    const at = f.points.find((p) => p.mean > limit);
    if (!at) return undefined;
    const needed = podsFor(Math.max(...f.points.map((p) => p.hi95)), capacity);
    return { service: f.service, value: at.mean, threshold: limit, expectedAt: at.t, detail: `scale ${f.service} from ${pods} to ${needed} pods` };
  }

  private onAlert(event: AlertEvent): void {
    this.deps.log.info(`alert ${event.state}: [${event.severity}] ${event.summary}`);
    const nc = this.deps.nats.nc;
    if (nc && !nc.isClosed()) {
      try {
        nc.publish(alertSubject(event), new TextEncoder().encode(JSON.stringify(event)));
      } catch (error) {
        this.deps.log.warn(`publishing an alert: ${errorMessage(error)}`);
      }
    }
    this.emit('alert', event);
  }

  /** Hears the alerts other servers publish, for shared mode (an embedded server evaluates its own). */
  private listen(nc: NatsConnection): void {
    this.subscription?.unsubscribe();
    this.received.clear();
    const decoder = new TextDecoder();
    this.subscription = nc.subscribe(`${ALERT_SUBJECT_PREFIX}.>`, {
      callback: (error, msg) => {
        if (error || this.deps.mode() !== 'shared') return;
        try {
          const event = JSON.parse(decoder.decode(msg.data)) as AlertEvent;
          if (typeof event.id !== 'string' || typeof event.summary !== 'string') return;
          this.received.set(event.id, event);
          this.emit('alert', event);
        } catch {
          this.deps.log.debug(`ignored an unreadable alert on ${msg.subject}`);
        }
      },
    });
  }

  async forecast(request: ForecastRequest): Promise<ForecastAnswer> {
    return this.forecaster.forecast(request);
  }

  alerts(query: AlertsQuery = {}, now = Date.now()): AlertsAnswer {
    const since = now - (query.sinceMs ?? 3600_000);
    let alerts: AlertEvent[];
    if (this.deps.mode() === 'shared') {
      const all = [...this.received.values()].filter((e) => e.state === 'firing' || (e.resolvedAt ?? 0) >= since);
      alerts = [...all.filter((e) => e.state === 'firing'), ...all.filter((e) => e.state !== 'firing')];
    } else {
      alerts = this.engine.list(since);
    }
    return { at: now, rules: this.rules(), alerts };
  }

  async predictions(query: PredictionsQuery, now = Date.now()): Promise<PredictionsData> {
    const services = await servicesWithTraffic(this.deps.api(), this.metrics(), SERVICES_RANGE_MS, now);
    const service = query.service ?? services[0] ?? null;
    const horizonMs = query.horizonMs ?? DEFAULT_HORIZON_MS;
    const forecasts: PredictionsData['forecasts'] = {};
    const missing: PredictionsData['missing'] = {};
    if (service) {
      for (const kind of FORECAST_KINDS) {
        try {
          const f = await this.forecaster.forecast({ kind, service, horizonMs }, now);
          if (f.history.some(([, v]) => v !== null)) forecasts[kind] = f;
          else missing[kind] = `no ${kind === 'sessions' ? 'session' : 'request'} data for ${service} in the history`;
        } catch (error) {
          missing[kind] = errorMessage(error);
        }
      }
    }
    return {
      at: now,
      service,
      services: service && !services.includes(service) ? [...services, service] : services,
      horizonMs,
      forecasts,
      missing,
      alerts: this.alerts({}, now).alerts,
      anomalies: this.anomalies.summary(),
    };
  }

  /** Anomaly scores and forecast crossings in the Prometheus text format, for /metrics beside the fleet's series. */
  exposition(now = Date.now()): string {
    const lines: string[] = [];
    const rules = this.rules().filter((r) => r.enabled);
    const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    lines.push(`# HELP ${ANOMALY_SCORE_METRIC} Anomaly score (0–1) of an alert rule's signal, per service or pod.`, `# TYPE ${ANOMALY_SCORE_METRIC} gauge`);
    for (const { signal, subject, score } of this.engine.anomalyScores()) {
      const [service, pod] = subject.split('/');
      for (const rule of rules.filter((r) => r.type === 'anomaly' && r.signal === signal && (r.scope === 'pod') === (pod !== undefined))) {
        lines.push(`${ANOMALY_SCORE_METRIC}{rule="${label(rule.id)}",service="${label(service!)}"${pod ? `,pod="${label(pod)}"` : ''}} ${score}`);
      }
    }
    lines.push(`# HELP ${FORECAST_BREACH_METRIC} Seconds until the forecast crosses a forecast rule's line, per service.`, `# TYPE ${FORECAST_BREACH_METRIC} gauge`);
    for (const [rule, found] of this.breaches) {
      for (const b of found) lines.push(`${FORECAST_BREACH_METRIC}{rule="${label(rule)}",service="${label(b.service)}"} ${Math.max(0, Math.round((b.expectedAt - now) / 1000))}`);
    }
    lines.push(`# HELP ${POD_SILENT_METRIC} 1 when a pod that reported in the last 5 minutes sent no metrics in the last step.`, `# TYPE ${POD_SILENT_METRIC} gauge`);
    for (const s of this.lastSignals.filter((x) => x.signal === 'silent')) lines.push(`${POD_SILENT_METRIC}{service="${label(s.service)}",pod="${label(s.pod ?? '')}"} ${s.value}`);
    const firing = this.engine.list(now).filter((e) => e.state === 'firing');
    const name = metricName('streamgate_alerts_firing');
    lines.push(`# HELP ${name} Alerts firing now in the StreamGate server.`, `# TYPE ${name} gauge`);
    for (const e of firing) lines.push(`${name}{rule="${label(e.rule)}",severity="${e.severity}",service="${label(e.service)}"${e.pod ? `,pod="${label(e.pod)}"` : ''}} 1`);
    return `${lines.join('\n')}\n`;
  }

  dispose(): void {
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
    this.removeAllListeners();
  }
}
