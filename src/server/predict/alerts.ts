/**
 * Alert rules over the live fleet (src/protocol/predict.ts defines them): threshold, anomaly and forecast-breach
 * rules, evaluated every step on the signals of each service and pod.
 *
 * - De-duplication: one alert per rule and subject while it fires; later evaluations count as repeats.
 * - Hysteresis: an alert resolves after its condition has been false for two steps in a row.
 * - Cool-down: after it resolves, the same rule and subject stay quiet for the rule's cool-down.
 * - Severity: the rule's (info, warning, critical).
 * Anomaly rules have their own OnlineDetector per signal and subject (src/server/ml/anomaly.ts), and a robust band
 * around the signal's slow baseline (mean ± 4 mean absolute deviations, at least ±5 % of the mean; the baseline
 * does not learn while the signal is outside it). A rule fires when the signal has been outside its band on the bad
 * side (above it for errors, latency, CPU and memory; either side for load) for `forMs`, and the detector scored at
 * least the rule's threshold at some step in that time: the detector says "rare", the band says "still off".
 */
import { EventEmitter } from 'node:events';
import { runbookPath, type AlertEvent, type AlertRule, type AlertRuleOverride, type AlertSignal } from '../../protocol/predict';
import { OnlineDetector } from '../ml/anomaly';
import { median } from '../ml/metrics';
import { formatSignal, SIGNAL_LABELS, subjectKey, subjectText, type SignalValue, type Subject } from './signals';

export const ALERT_STEP_MS = 10_000;
/** Steps of warm-up for the alert detectors (about 17 minutes at 10 s). */
export const ALERT_WARMUP = 100;
const RESOLVE_AFTER_STEPS = 2;
/** The baseline's learning rate per step (a time constant of about 8 minutes at 10 s). */
const BASELINE_RATE = 0.02;
/** The band: this many mean absolute deviations, and at least this share of the baseline. */
const BAND_DEVIATIONS = 4;
const BAND_FLOOR = 0.05;
/**
 * A pod is unusual only if it also stands out from its service's other pods (above this many times their median,
 * with at least 2 pods reporting): on shared machines one pod's incident slows its neighbours a little, and the
 * fleet-wide case is the service-level rules' to catch. Chosen on a validation run of the sandbox (docs/predictions.md).
 */
const PEER_FACTOR = 1.25;
/**
 * A level held outside the band this long (5 minutes at 10 s) becomes the new normal: the baseline jumps to it.
 * Memory that a leak took is often not given back, and a pod rescaled stays at its new load.
 */
const NEW_NORMAL_STEPS = 30;
const KEEP_EVENTS = 500;

export function applyOverrides(rules: AlertRule[], overrides: AlertRuleOverride[] | undefined): AlertRule[] {
  if (!overrides?.length) return rules;
  return rules.map((rule) => {
    const o = overrides.find((x) => x.id === rule.id);
    if (!o) return rule;
    const { id: _id, ...changes } = o;
    return { ...rule, ...Object.fromEntries((Object.entries(changes) as [string, unknown][]).filter(([, v]) => v !== undefined)) };
  });
}

interface RuleState {
  pendingSince?: number;
  falseSteps: number;
  active?: AlertEvent;
  quietUntil: number;
}

interface DetectorState {
  detector: OnlineDetector;
  /** Slow mean and mean absolute deviation of the signal while inside its band. */
  mean: number | undefined;
  deviation: number;
  steps: number;
  score: number;
  /** Scores of the last steps, newest last, with their times. */
  recent: { at: number; score: number }[];
  /** Consecutive steps outside the band. */
  outsideSteps: number;
}

/** A forecast crossing, found by the forecast evaluation for one rule and service. */
export interface ForecastBreach {
  service: string;
  /** The forecast value at the crossing, and when. */
  value: number;
  threshold: number;
  expectedAt: number;
  /** Extra words for the summary ("scale to 5 pods"). */
  detail?: string;
}

export class AlertEngine extends EventEmitter<{ alert: [AlertEvent] }> {
  private readonly states = new Map<string, RuleState>();
  private readonly detectors = new Map<string, DetectorState>();
  private readonly events: AlertEvent[] = [];

  constructor(public rules: AlertRule[]) {
    super();
  }

  /** Evaluates threshold and anomaly rules on one step's signals (step start `at`). */
  evaluate(at: number, signals: SignalValue[]): void {
    const scores = this.scoreAnomalies(at, signals);
    const now = at + ALERT_STEP_MS;
    for (const rule of this.rules) {
      if (!rule.enabled || rule.type === 'forecast') continue;
      const seen = new Set<string>();
      for (const s of signals) {
        if (s.signal !== rule.signal || (rule.scope === 'pod') !== (s.pod !== undefined)) continue;
        const key = subjectKey(s);
        seen.add(key);
        if (rule.type === 'threshold') {
          this.step(rule, s, s.value > rule.threshold, now, s.value);
        } else {
          const d = scores.get(`${rule.signal}|${key}`);
          if (!d) continue;
          const state = this.state(rule, s);
          // The detector must find it rare at its onset (within the rule's duration of leaving the band): a late
          // blip on a level that has been off for minutes is not a new anomaly.
          const onset = (state.pendingSince ?? now) - ALERT_STEP_MS;
          const peak = Math.max(0, ...d.recent.filter((r) => r.at >= onset && r.at <= onset + rule.forMs + 2 * ALERT_STEP_MS).map((r) => r.score));
          this.step(rule, s, d.outside, now, s.value, peak, undefined, () => peak >= rule.threshold);
        }
      }
      // A subject that stopped reporting (a pod gone) resolves its alerts.
      for (const [key, state] of this.states) {
        if (!key.startsWith(`${rule.id}|`) || !state.active || seen.has(key.slice(rule.id.length + 1))) continue;
        this.step(rule, state.active, false, now, state.active.value);
      }
    }
  }

  /** Forecast rules: the latest breaches found (one per service at most); services without one resolve. */
  evaluateForecast(rule: AlertRule, breaches: ForecastBreach[], services: string[], now: number): void {
    if (!rule.enabled) return;
    for (const service of services) {
      const breach = breaches.find((b) => b.service === service);
      this.step(rule, { service }, breach !== undefined, now, breach?.value ?? 0, undefined, breach);
    }
  }

  private scoreAnomalies(at: number, signals: SignalValue[]): Map<string, DetectorState & { outside: boolean }> {
    const wanted = new Set(this.rules.filter((r) => r.enabled && r.type === 'anomaly').map((r) => `${r.signal}|${r.scope}`));
    const out = new Map<string, DetectorState & { outside: boolean }>();
    const peers = new Map<string, number[]>();
    for (const s of signals) {
      if (!s.pod) continue;
      const list = peers.get(`${s.signal}|${s.service}`) ?? [];
      list.push(s.value);
      peers.set(`${s.signal}|${s.service}`, list);
    }
    const standsOut = (s: SignalValue) => {
      const values = peers.get(`${s.signal}|${s.service}`) ?? [];
      if (!s.pod || values.length < 2) return true;
      return s.value > PEER_FACTOR * median(values);
    };
    for (const s of signals) {
      if (!wanted.has(`${s.signal}|${s.pod ? 'pod' : 'service'}`)) continue;
      const key = `${s.signal}|${subjectKey(s)}`;
      let d = this.detectors.get(key);
      if (!d) this.detectors.set(key, (d = { detector: new OnlineDetector({ warmup: ALERT_WARMUP }), mean: undefined, deviation: 0, steps: 0, score: 0, recent: [], outsideSteps: 0 }));
      d.score = d.detector.update(at, s.value);
      d.recent.push({ at: at + ALERT_STEP_MS, score: d.score });
      if (d.recent.length > 12) d.recent.shift();
      const mean = d.mean ?? s.value;
      const width = Math.max(BAND_DEVIATIONS * d.deviation, BAND_FLOOR * Math.abs(mean));
      const above = s.value > mean + width;
      const below = s.value < mean - width;
      const outside = d.steps >= ALERT_WARMUP && (above || (s.signal === 'rps' && below)) && standsOut(s);
      // The baseline learns only inside the band (or while warming up), so an incident does not become the norm;
      // a level held outside it for NEW_NORMAL_STEPS does.
      d.outsideSteps = above || below ? d.outsideSteps + 1 : 0;
      if (!(above || below) || d.steps < ALERT_WARMUP) {
        d.mean = mean + BASELINE_RATE * (s.value - mean);
        d.deviation += BASELINE_RATE * (Math.abs(s.value - mean) - d.deviation);
      } else if (d.outsideSteps >= NEW_NORMAL_STEPS) {
        d.mean = s.value;
        d.outsideSteps = 0;
      }
      d.steps++;
      out.set(key, Object.assign(d, { outside }));
    }
    return out;
  }

  /** The latest anomaly score per signal and subject, for /metrics and the views. */
  anomalyScores(): { signal: AlertSignal; subject: string; score: number }[] {
    return [...this.detectors.entries()].map(([key, d]) => {
      const [signal, subject] = key.split('|') as [AlertSignal, string];
      return { signal, subject, score: d.score };
    });
  }

  private state(rule: AlertRule, subject: Subject): RuleState {
    const key = `${rule.id}|${subjectKey(subject)}`;
    let state = this.states.get(key);
    if (!state) this.states.set(key, (state = { falseSteps: 0, quietUntil: 0 }));
    return state;
  }

  /** One evaluation of a rule for a subject; `ready` is a further condition for firing (anomaly rules: the detector agreed). */
  private step(rule: AlertRule, subject: Subject, holds: boolean, now: number, value: number, score?: number, breach?: ForecastBreach, ready: () => boolean = () => true): void {
    const state = this.state(rule, subject);
    if (state.active) {
      if (holds) {
        state.falseSteps = 0;
        state.active.repeats++;
        state.active.value = score ?? value;
        if (breach) state.active.expectedAt = breach.expectedAt;
        return;
      }
      if (++state.falseSteps < RESOLVE_AFTER_STEPS) return;
      const resolved: AlertEvent = { ...state.active, state: 'resolved', resolvedAt: now };
      state.active = undefined;
      state.pendingSince = undefined;
      state.falseSteps = 0;
      state.quietUntil = now + rule.cooldownMs;
      this.record(resolved);
      return;
    }
    if (!holds) {
      state.pendingSince = undefined;
      return;
    }
    state.pendingSince ??= now;
    if (now - state.pendingSince < rule.forMs || now < state.quietUntil || !ready()) return;
    const event: AlertEvent = {
      id: `${rule.id}:${subjectKey(subject)}:${now}`,
      rule: rule.id,
      type: rule.type,
      severity: rule.severity,
      state: 'firing',
      service: subject.service,
      ...(subject.pod ? { pod: subject.pod } : {}),
      signal: rule.signal,
      value: score ?? value,
      threshold: breach?.threshold ?? rule.threshold,
      summary: summary(rule, subject, value, score, breach, now),
      startsAt: now,
      ...(breach ? { expectedAt: breach.expectedAt } : {}),
      repeats: 0,
      runbook: runbookPath(rule.id),
    };
    state.active = event;
    state.falseSteps = 0;
    this.record(event);
  }

  private record(event: AlertEvent): void {
    this.events.push(event);
    if (this.events.length > KEEP_EVENTS) this.events.splice(0, this.events.length - KEEP_EVENTS);
    this.emit('alert', event);
  }

  /** Firing alerts first (most severe, then newest), then resolved ones since `since`. */
  list(since: number): AlertEvent[] {
    const firing = [...this.states.values()].flatMap((s) => (s.active ? [s.active] : []));
    const order = { critical: 0, warning: 1, info: 2 };
    firing.sort((a, b) => order[a.severity] - order[b.severity] || b.startsAt - a.startsAt);
    const resolved = this.events.filter((e) => e.state === 'resolved' && (e.resolvedAt ?? 0) >= since).reverse();
    return [...firing, ...resolved];
  }
}

function summary(rule: AlertRule, subject: Subject, value: number, score: number | undefined, breach: ForecastBreach | undefined, now: number): string {
  const label = SIGNAL_LABELS[rule.signal];
  const where = subjectText(subject);
  if (rule.signal === 'restarts') return `${where} restarted ${value} times in 2 minutes`;
  if (rule.signal === 'silent') return `${where} sent no metrics for ${Math.round(rule.forMs / 1000)} s (it reported in the last 5 minutes)`;
  if (rule.type === 'threshold') return `${label} ${formatSignal(rule.signal, value)} on ${where} is above ${formatSignal(rule.signal, rule.threshold)} for ${Math.round(rule.forMs / 1000)} s`;
  if (rule.type === 'anomaly') return `${label} ${formatSignal(rule.signal, value)} on ${where} is unusual (anomaly score ${(score ?? 0).toFixed(3)})`;
  const minutes = Math.max(1, Math.round(((breach?.expectedAt ?? now) - now) / 60_000));
  const crossing = `${label} on ${where} will cross ${formatSignal(rule.signal, breach?.threshold ?? rule.threshold)} in about ${minutes} minute${minutes === 1 ? '' : 's'} (forecast ${formatSignal(rule.signal, breach?.value ?? value)})`;
  return breach?.detail ? `${crossing}: ${breach.detail}` : crossing;
}
