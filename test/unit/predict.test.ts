/**
 * The product side of the predictions, on series with known answers: season detection and the forecast grid,
 * pods, cost and the scaling advice, drift, the alert rules (threshold, anomaly, forecast) with de-duplication,
 * hysteresis, cool-down and severity, the Prometheus export, and the Forecaster end to end over real live windows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ALERT_RULES, type AlertEvent, type AlertRule, type ForecastPoint } from '../../src/protocol/predict';
import { LocalAnalytics } from '../../src/server/analytics/api';
import { Analytics, DEFAULT_ANALYTICS_METRICS } from '../../src/server/analytics/views';
import { LiveClients } from '../../src/server/live/clients';
import { LiveWindows } from '../../src/server/live/windows';
import { AlertEngine, ALERT_STEP_MS, ALERT_WARMUP, applyOverrides } from '../../src/server/predict/alerts';
import { AnomalyMonitor } from '../../src/server/predict/anomalies';
import { clockTime, costPoints, costSummary, measureCapacity, podsFor, scalingAdvice, TARGET_CPU_PERCENT } from '../../src/server/predict/capacity';
import { DriftTracker, MIN_PAIRS } from '../../src/server/predict/drift';
import { Forecaster } from '../../src/server/predict/forecaster';
import { alertName, prometheusRules, ruleExpr } from '../../src/server/predict/prometheusRules';
import { podLoad, readSignals, RestartTracker, type SignalValue } from '../../src/server/predict/signals';
import { detectSeason, forecastGrid, MIN_EVENTS_PER_STEP, minStepFor } from '../../src/server/predict/timing';
import { forecast as forecastSeries } from '../../src/server/ml/forecast';

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

function point(t: number, mean: number, spread = 0): ForecastPoint {
  return { t, mean, lo80: mean - spread, hi80: mean + spread, lo95: mean - 2 * spread, hi95: mean + 2 * spread };
}

describe('season detection and the forecast grid', () => {
  it('finds a 20-minute cycle in 5-second steps, a day in 15-minute steps, and none in noise', () => {
    const random = rng(3);
    const cycle = Array.from({ length: 1200 }, (_, t) => 50 + 30 * Math.sin((2 * Math.PI * t) / 240) + 5 * random());
    assert.equal(detectSeason(cycle, 5000), 20 * 60_000);
    // The sandbox's two daily peaks (11 h and 20 h) at 15-minute steps over 5 days: the day, not the 9 hours between peaks.
    const bump = (h: number, c: number, w: number) => Math.exp(-((h - c) ** 2) / (2 * w * w));
    const daily = Array.from({ length: 96 * 5 }, (_, t) => {
      const h = (t % 96) / 4;
      return 10 + 90 * Math.max(0.85 * bump(h, 11, 2.8), bump(h, 20, 2.2)) + 3 * random();
    });
    assert.equal(detectSeason(daily, 15 * 60_000), 86_400_000);
    const noise = Array.from({ length: 1000 }, () => random());
    assert.equal(detectSeason(noise, 5000), undefined);
  });

  it('picks a step that makes both the season and the horizon whole numbers of steps', () => {
    assert.deepEqual(forecastGrid(86_400_000, 3600_000), { stepMs: 300_000, season: 288, horizonSteps: 12, historyMs: 21 * 86_400_000 });
    const sandbox = forecastGrid(24 * 60_000, 3600_000);
    assert.equal(sandbox.stepMs * sandbox.season, 24 * 60_000);
    assert.ok(sandbox.horizonSteps <= 120, `${sandbox.horizonSteps} steps`);
    // A day ahead of a 24-minute season: at most 120 steps that still cover the whole horizon.
    const long = forecastGrid(24 * 60_000, 24 * 3600_000);
    assert.ok(long.horizonSteps <= 120 && long.horizonSteps * long.stepMs >= 24 * 3600_000, JSON.stringify(long));
    const none = forecastGrid(undefined, 3600_000);
    assert.equal(none.season, 0);
    assert.equal(none.horizonSteps * none.stepMs, 3600_000);
  });
});

describe('pods, cost and scaling advice', () => {
  it('needs ⌈load ÷ capacity⌉ pods, at least one, and prices them per pod-hour', () => {
    assert.equal(podsFor(0, 100), 1);
    assert.equal(podsFor(100, 100), 1);
    assert.equal(podsFor(100.5, 100), 2);
    const cost = costPoints([point(0, 250, 50)], { capacityPerPod: 100, pricePerPodHour: 0.5, currency: 'EUR' });
    assert.deepEqual(cost[0], { t: 0, mean: 1.5, lo80: 1.0, hi80: 1.5, lo95: 1.0, hi95: 2.0 });
    // Two 30-minute steps at 1.5 per hour: 1.5 over the hour.
    const summary = costSummary([cost[0], { ...cost[0], t: 1800_000 }], 1800_000, { capacityPerPod: 100, pricePerPodHour: 0.5, currency: 'EUR' });
    assert.equal(summary.total, 1.5);
    assert.deepEqual(summary.total95, [1.0, 2.0]);
    assert.equal(summary.currency, 'EUR');
  });

  it('says to scale up before the first step that needs more pods, with the peak and the capacity', () => {
    const start = new Date(2026, 0, 5, 13, 0).getTime();
    const load = [point(start, 4000, 500), point(start + 30 * 60_000, 8000, 1000), point(start + 60 * 60_000, 10_000, 1000)];
    const advice = scalingAdvice('gateway', load, 3, 2500);
    assert.equal(advice.action, 'scale-up');
    assert.equal(advice.neededPods, 5);
    assert.equal(advice.before, start + 30 * 60_000);
    assert.equal(advice.text, `scale gateway to 5 pods before ${clockTime(start + 30 * 60_000)} — forecast p95 12k req/s, capacity 2.5k per pod`);
    assert.equal(scalingAdvice('gateway', load, 5, 2500).action, 'hold');
    const quiet = scalingAdvice('gateway', [point(start, 100, 10)], 3, 2500);
    assert.equal(quiet.action, 'scale-down');
    assert.match(quiet.text, /^gateway needs 1 of its 3 pods until/);
  });
});

describe('capacity measured on the fleet', () => {
  it('is the median over pods of requests/s per busy core, at the target CPU, and nothing from idle pods', () => {
    // 100 req/s at 20 % of a core → 350 at 70 %; 90 at 30 % → 210; 50 at 10 % → 350: median 350.
    assert.equal(measureCapacity([{ rps: 100, cpuPercent: 20 }, { rps: 90, cpuPercent: 30 }, { rps: 50, cpuPercent: 10 }]), 350);
    assert.equal(measureCapacity([{ rps: 100, cpuPercent: 20 }, { rps: 90, cpuPercent: 30 }]), 280);
    assert.equal(measureCapacity([{ rps: 5, cpuPercent: 1 }, { rps: 0, cpuPercent: 40 }]), undefined, 'a pod at 1 % of a core, or serving nothing, tells nothing');
    assert.equal(measureCapacity([]), undefined);
  });

  it('reads each pod\'s requests and CPU of the last minutes from the live windows', () => {
    const now = Date.now();
    const windows = new LiveWindows();
    for (let s = 240; s >= 1; s--) {
      const ts = Math.floor(now / 1000) * 1000 - s * 1000;
      for (const [pod, rps, cpu] of [['gw-1', 120, 30], ['gw-2', 60, 20]] as const) {
        windows.add({ ts, name: DEFAULT_ANALYTICS_METRICS.requests, kind: 'counter', labels: { service: 'gateway', pod, route: 'POST /m', code: '202' }, value: rps, total: 0 }, now);
        windows.add({ ts, name: 'process_cpu_percent', kind: 'gauge', labels: { service: 'gateway', pod }, value: cpu, total: 0 }, now);
      }
      windows.add({ ts, name: 'process_cpu_percent', kind: 'gauge', labels: { service: 'billing', pod: 'b-1' }, value: 90, total: 0 }, now);
    }
    const load = podLoad(windows, DEFAULT_ANALYTICS_METRICS, 'gateway', now).sort((a, b) => a.pod.localeCompare(b.pod));
    assert.deepEqual(load.map((p) => p.pod), ['gw-1', 'gw-2'], 'the service\'s pods only');
    // 240 s of requests over the 5-minute window.
    assert.ok(Math.abs(load[0]!.rps - (120 * 240) / 300) < 1e-9, `${load[0]!.rps}`);
    assert.equal(load[0]!.cpuPercent, 30);
    assert.equal(measureCapacity(load), (((120 * 240) / 300 / 30) * TARGET_CPU_PERCENT + ((60 * 240) / 300 / 20) * TARGET_CPU_PERCENT) / 2);
  });

  it('is used when neither the request nor the settings name a capacity, and the advice says it was measured', () => {
    const windows = new LiveWindows();
    const api = new LocalAnalytics(new Analytics(windows, new LiveClients(), () => undefined, () => DEFAULT_ANALYTICS_METRICS), windows);
    const settings: { capacityPerPod?: number } = {};
    const forecaster = new Forecaster({ api: () => api, metrics: () => DEFAULT_ANALYTICS_METRICS, settings: () => settings, podsOf: () => 2, measuredCapacity: (service) => (service === 'gateway' ? 420 : undefined) });
    assert.deepEqual([forecaster.capacity(undefined, 'gateway').capacityPerPod, forecaster.capacity(undefined, 'gateway').capacitySource], [420, 'measured']);
    assert.deepEqual([forecaster.capacity(undefined, 'billing').capacityPerPod, forecaster.capacity(undefined, 'billing').capacitySource], [100, 'default']);
    assert.deepEqual([forecaster.capacity({ capacityPerPod: 5 }, 'gateway').capacityPerPod, forecaster.capacity({ capacityPerPod: 5 }, 'gateway').capacitySource], [5, 'request']);
    settings.capacityPerPod = 250;
    assert.deepEqual([forecaster.capacity(undefined, 'gateway').capacityPerPod, forecaster.capacity(undefined, 'gateway').capacitySource], [250, 'setting']);
    const start = new Date(2026, 0, 5, 13, 0).getTime();
    const advice = scalingAdvice('gateway', [point(start, 400, 100)], 2, 420, 'measured');
    assert.equal(advice.capacitySource, 'measured');
    assert.match(advice.text, /capacity 420 per pod \(measured: 70 % of a core at the fleet's CPU per request\)$/);
    assert.match(scalingAdvice('gateway', [point(start, 400, 100)], 2, 100, 'default').text, /capacity 100 per pod \(the default: set streamgate\.predict\.capacityPerPod\)$/);
  });
});

describe('drift', () => {
  it('stays unknown until enough points happened, then judges the live error against the backtest', () => {
    const good = new DriftTracker();
    const points = Array.from({ length: 10 }, (_, k) => point(k * 1000, 100));
    good.issue(0, points, 5);
    good.observe(new Map(points.slice(0, MIN_PAIRS - 1).map((p) => [p.t, 102])), (MIN_PAIRS - 1) * 1000);
    assert.equal(good.status().state, 'unknown');
    good.observe(new Map(points.map((p) => [p.t, 102])), 10_000);
    assert.equal(good.status().state, 'ok');
    assert.ok(Math.abs(good.status().liveSmape! - 1.98) < 0.01);

    const bad = new DriftTracker();
    bad.issue(0, points, 5);
    bad.observe(new Map(points.map((p) => [p.t, 150])), 10_000);
    assert.equal(bad.status().state, 'degraded');
    assert.equal(bad.degraded, true);
    bad.refitted(20_000);
    assert.equal(bad.status().state, 'unknown');
    assert.equal(bad.status().refits, 1);
    assert.match(bad.status().note, /Refitted 1 time after live error degraded/);
  });
});

describe('alert rules', () => {
  const rule = (id: string) => DEFAULT_ALERT_RULES.find((r) => r.id === id)!;
  const errorRate = (service: string, value: number): SignalValue => ({ service, signal: 'errorRate', value });

  it('fires a threshold rule once after its duration, counts repeats, resolves after two clear steps and then cools down', () => {
    const engine = new AlertEngine([rule('error-rate-high')]);
    const events: AlertEvent[] = [];
    engine.on('alert', (e) => events.push(e));
    let t = 0;
    const step = (values: SignalValue[]) => engine.evaluate((t += ALERT_STEP_MS), values);
    step([errorRate('gateway', 0.01), errorRate('billing', 0.3)]);
    step([errorRate('gateway', 0.05), errorRate('billing', 0.0)]);
    assert.equal(events.length, 0, 'one step above 2 % is not yet 20 s');
    step([errorRate('gateway', 0.05)]);
    step([errorRate('gateway', 0.06)]);
    assert.equal(events.length, 1);
    const fired = events[0]!;
    assert.equal(fired.state, 'firing');
    assert.equal(fired.severity, 'critical');
    assert.equal(fired.service, 'gateway');
    assert.equal(fired.runbook, 'docs/runbooks/error-rate-high.md');
    assert.match(fired.summary, /^error rate 6\.00 % on gateway is above 2\.00 % for 20 s$/);
    for (let i = 0; i < 5; i++) step([errorRate('gateway', 0.08)]);
    assert.equal(events.length, 1, 'still firing: de-duplicated');
    assert.equal(engine.list(0)[0]!.repeats, 5);
    step([errorRate('gateway', 0.0)]);
    assert.equal(events.length, 1, 'one clear step does not resolve it');
    step([errorRate('gateway', 0.0)]);
    assert.equal(events.length, 2);
    assert.equal(events[1]!.state, 'resolved');
    for (let i = 0; i < 5; i++) step([errorRate('gateway', 0.5)]);
    assert.equal(events.length, 2, 'quiet during the cool-down');
    const cooldownSteps = rule('error-rate-high').cooldownMs / ALERT_STEP_MS;
    for (let i = 0; i < cooldownSteps; i++) step([errorRate('gateway', 0.5)]);
    assert.equal(events.length, 3, 'fires again after the cool-down');
    assert.equal(events[2]!.state, 'firing');
  });

  it('fires an anomaly rule on a level shift of a pod\'s latency, and not on the quiet pod beside it', () => {
    const engine = new AlertEngine([rule('latency-anomaly')]);
    const events: AlertEvent[] = [];
    engine.on('alert', (e) => events.push(e));
    const random = rng(11);
    const p99 = (pod: string, value: number): SignalValue => ({ service: 'gateway', pod, signal: 'p99', value });
    const steps = ALERT_WARMUP + 300;
    for (let i = 0; i < steps; i++) {
      const shifted = i >= ALERT_WARMUP + 200 && i < ALERT_WARMUP + 215;
      engine.evaluate(i * ALERT_STEP_MS, [p99('gw-1', 20 + 4 * random() + (shifted ? 400 : 0)), p99('gw-2', 20 + 4 * random())]);
    }
    const firing = events.filter((e) => e.state === 'firing');
    assert.equal(firing.length, 1, JSON.stringify(firing.map((e) => [e.pod, e.summary, e.startsAt])));
    assert.equal(firing[0]!.pod, 'gw-1');
    assert.ok(firing[0]!.startsAt >= (ALERT_WARMUP + 200) * ALERT_STEP_MS && firing[0]!.startsAt <= (ALERT_WARMUP + 206) * ALERT_STEP_MS, `fired at step ${firing[0]!.startsAt / ALERT_STEP_MS}`);
    assert.match(firing[0]!.summary, /p99 latency \d+ ms on gw-1 \(gateway\) is unusual \(anomaly score 0\.9[5-9]\d\)/);
  });

  it('finds a pod whose CPU per request rose against its peers, through a day whose traffic moves every pod\'s CPU 10×', () => {
    // From the live windows: three pods share the traffic of a compressed day (72 steps of 10 s), each burning 1 %
    // of a core idle plus 0.2 % per request/s; from step 130 on (in the morning's rising traffic) gw-3 spends 3× per
    // request for 9 steps (a hot spot). Pod CPU itself swings ~5× with the day; its cost against its peers does not.
    const rules = [rule('pod-cpu-cost-anomaly'), rule('pod-cpu-anomaly')];
    const engine = new AlertEngine(rules);
    const events: AlertEvent[] = [];
    engine.on('alert', (e) => events.push(e));
    const random = rng(5);
    const windows = new LiveWindows();
    const start = Math.floor(Date.now() / 10_000) * 10_000 - 400 * ALERT_STEP_MS;
    const hotFrom = ALERT_WARMUP + 130;
    const costs: number[] = [];
    for (let i = 0; i < ALERT_WARMUP + 200; i++) {
      const from = start + i * ALERT_STEP_MS;
      const day = (i % 72) / 72;
      const traffic = 2 + 28 * Math.max(0, Math.sin(Math.PI * day)) ** 2;
      for (const pod of ['gw-1', 'gw-2', 'gw-3']) {
        const rps = traffic * (0.9 + 0.2 * random());
        const perRequest = pod === 'gw-3' && i >= hotFrom && i < hotFrom + 9 ? 0.6 : 0.2;
        const cpu = 1 + perRequest * rps + 0.3 * random();
        windows.add({ ts: from + 5000, name: DEFAULT_ANALYTICS_METRICS.requests, kind: 'counter', labels: { service: 'gateway', pod, route: 'POST /m', code: '202' }, value: rps * 10, total: 0 }, from + 5000);
        windows.add({ ts: from + 5000, name: 'process_cpu_percent', kind: 'gauge', labels: { service: 'gateway', pod }, value: cpu, total: 0 }, from + 5000);
      }
      const signals = readSignals(windows, DEFAULT_ANALYTICS_METRICS, from, ALERT_STEP_MS);
      const cost = signals.find((s) => s.signal === 'cpuCost' && s.pod === 'gw-3');
      assert.ok(cost, `step ${i}: gw-3 has a CPU cost signal`);
      costs.push(cost.value);
      engine.evaluate(from, signals);
    }
    assert.ok(costs.slice(ALERT_WARMUP, hotFrom).every((c) => c > 0.7 && c < 1.4), 'about 1 while gw-3 is healthy');
    assert.ok(costs.slice(hotFrom + 1, hotFrom + 9).every((c) => c > 1.8), `above 1.8 in the hot spot: ${costs.slice(hotFrom, hotFrom + 9).map((c) => c.toFixed(2)).join(' ')}`);
    const firing = events.filter((e) => e.state === 'firing');
    const said = JSON.stringify(firing.map((e) => [e.rule, e.pod, (e.startsAt - start) / ALERT_STEP_MS - hotFrom]));
    assert.ok(firing.every((e) => e.pod === 'gw-3'), `nothing fired on the healthy pods through the days' traffic: ${said}`);
    const cost = firing.filter((e) => e.rule === 'pod-cpu-cost-anomaly');
    assert.equal(cost.length, 1, said);
    assert.ok(cost[0]!.startsAt >= start + hotFrom * ALERT_STEP_MS && cost[0]!.startsAt <= start + (hotFrom + 6) * ALERT_STEP_MS, said);
    assert.match(cost[0]!.summary, /CPU per request against the service's pods \d\.\d\d× the median pod's on gw-3 \(gateway\) is unusual/);
  });

  it('has no CPU cost for a pod below 1 request/s, nor for a service with one pod serving', () => {
    const windows = new LiveWindows();
    const from = Math.floor(Date.now() / 10_000) * 10_000 - 20_000;
    const add = (service: string, pod: string, rps: number, cpu: number) => {
      windows.add({ ts: from + 5000, name: DEFAULT_ANALYTICS_METRICS.requests, kind: 'counter', labels: { service, pod, route: 'GET /x', code: '200' }, value: rps * 10, total: 0 }, from + 5000);
      windows.add({ ts: from + 5000, name: 'process_cpu_percent', kind: 'gauge', labels: { service, pod }, value: cpu, total: 0 }, from + 5000);
    };
    add('gateway', 'gw-1', 10, 5);
    add('gateway', 'gw-2', 20, 5);
    add('gateway', 'gw-3', 0.5, 5);
    add('billing', 'b-1', 50, 30);
    const costs = readSignals(windows, DEFAULT_ANALYTICS_METRICS, from, ALERT_STEP_MS).filter((s) => s.signal === 'cpuCost');
    assert.deepEqual(costs.map((s) => [s.pod, Number(s.value.toFixed(3))]).sort(), [['gw-1', 1.333], ['gw-2', 0.667]]);
  });

  it('alerts once on a level that stays shifted, and resolves when the level has become the new normal', () => {
    const engine = new AlertEngine([rule('pod-memory-anomaly')]);
    const events: AlertEvent[] = [];
    engine.on('alert', (e) => events.push(e));
    const random = rng(8);
    const mib = 1024 ** 2;
    const shiftAt = ALERT_WARMUP + 150;
    for (let i = 0; i < ALERT_WARMUP + 400; i++) {
      const rss = (pod: string, extra: number): SignalValue => ({ service: 'gateway', pod, signal: 'rss', value: (80 + 2 * random() + extra) * mib });
      // gw-2 leaks 60 MiB and never gives it back.
      engine.evaluate(i * ALERT_STEP_MS, [rss('gw-1', 0), rss('gw-2', i >= shiftAt ? 60 : 0), rss('gw-3', 0)]);
    }
    assert.deepEqual(events.map((e) => [e.state, e.pod]), [['firing', 'gw-2'], ['resolved', 'gw-2']]);
    assert.ok(events[0]!.startsAt <= (shiftAt + 6) * ALERT_STEP_MS, `fired at step ${events[0]!.startsAt / ALERT_STEP_MS}`);
    assert.ok(events[1]!.resolvedAt! <= (shiftAt + 35) * ALERT_STEP_MS, `resolved at step ${events[1]!.resolvedAt! / ALERT_STEP_MS}: 5 minutes later the level is the new normal`);
  });

  it('does not call a pod unusual when every pod of its service moved with it', () => {
    const engine = new AlertEngine([rule('latency-anomaly')]);
    const events: AlertEvent[] = [];
    engine.on('alert', (e) => events.push(e));
    const random = rng(5);
    for (let i = 0; i < ALERT_WARMUP + 260; i++) {
      const shift = i >= ALERT_WARMUP + 200 && i < ALERT_WARMUP + 215 ? 400 : 0;
      engine.evaluate(
        i * ALERT_STEP_MS,
        ['gw-1', 'gw-2', 'gw-3'].map((pod): SignalValue => ({ service: 'gateway', pod, signal: 'p99', value: 20 + 4 * random() + shift })),
      );
    }
    assert.deepEqual(events, []);
  });

  it('fires a forecast rule with the expected crossing time, and resolves when the forecast no longer crosses', () => {
    const forecastRule = rule('error-rate-forecast');
    const engine = new AlertEngine([forecastRule]);
    const events: AlertEvent[] = [];
    engine.on('alert', (e) => events.push(e));
    const now = 1_000_000;
    engine.evaluateForecast(forecastRule, [{ service: 'gateway', value: 0.025, threshold: 0.02, expectedAt: now + 25 * 60_000 }], ['gateway', 'billing'], now);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.summary, 'error rate on gateway will cross 2.00 % in about 25 minutes (forecast 2.50 %)');
    assert.equal(events[0]!.expectedAt, now + 25 * 60_000);
    engine.evaluateForecast(forecastRule, [], ['gateway', 'billing'], now + 60_000);
    engine.evaluateForecast(forecastRule, [], ['gateway', 'billing'], now + 120_000);
    assert.deepEqual(events.map((e) => e.state), ['firing', 'resolved']);
  });

  it('applies settings to the built-in rules by id', () => {
    const rules = applyOverrides(DEFAULT_ALERT_RULES, [{ id: 'error-rate-high', threshold: 0.05, severity: 'warning' }, { id: 'traffic-anomaly', enabled: false }]);
    assert.equal(rules.find((r) => r.id === 'error-rate-high')!.threshold, 0.05);
    assert.equal(rules.find((r) => r.id === 'error-rate-high')!.severity, 'warning');
    assert.equal(rules.find((r) => r.id === 'traffic-anomaly')!.enabled, false);
    assert.equal(rules.find((r) => r.id === 'latency-p99-high')!.threshold, 500);
  });
});

describe('Prometheus export', () => {
  it('writes every enabled rule with its PromQL, duration, severity and runbook', () => {
    const rules: AlertRule[] = applyOverrides(DEFAULT_ALERT_RULES, [{ id: 'traffic-anomaly', enabled: false }]);
    const yaml = prometheusRules(rules, DEFAULT_ANALYTICS_METRICS);
    assert.equal((yaml.match(/^ {6}- alert: /gm) ?? []).length, rules.length - 1);
    assert.doesNotMatch(yaml, /StreamGateTrafficAnomaly/);
    assert.equal(alertName('error-rate-high'), 'StreamGateErrorRateHigh');
    assert.equal(ruleExpr(rules[0]!, DEFAULT_ANALYTICS_METRICS), 'sum by (service) (rate(gw_http_requests_total{code=~"5.."}[1m])) / sum by (service) (rate(gw_http_requests_total[1m])) > 0.02');
    assert.match(yaml, /- alert: StreamGateErrorRateHigh\n {8}expr: ".*"\n {8}for: 20s\n {8}labels:\n {10}severity: critical\n/);
    assert.match(yaml, /runbook_url: "docs\/runbooks\/latency-anomaly\.md"/);
    assert.match(yaml, /streamgate_forecast_breach_seconds\{rule=\\"error-rate-forecast\\"\}\) < 1800/);
  });
});

/** A counter's per-second increments and a gauge, as a pod's telemetry would put them in the live windows. */
function fillWindows(windows: LiveWindows, now: number, seconds: number, rate: (t: number) => number, sessions: (t: number) => number): void {
  let total = 0;
  for (let s = seconds; s >= 1; s--) {
    const ts = Math.floor(now / 1000) * 1000 - s * 1000;
    const n = rate(ts);
    total += n;
    const labels = { service: 'gateway', pod: 'gw-1', route: 'GET /x', code: '200' };
    windows.add({ ts, name: DEFAULT_ANALYTICS_METRICS.requests, kind: 'counter', labels, value: n, total }, now);
    windows.add({ ts, name: DEFAULT_ANALYTICS_METRICS.activeSessions, kind: 'gauge', labels: { service: 'gateway', pod: 'gw-1' }, value: sessions(ts), total: 0 }, now);
  }
}

describe('Forecaster over the live windows', () => {
  it('forecasts a periodic load almost exactly, backtests it, and falls back with a reason on short history', async () => {
    const now = Date.now();
    const windows = new LiveWindows();
    // A 60-second cycle of 20–80 requests per second, 14 minutes of it, no store: the live windows alone.
    fillWindows(windows, now, 14 * 60, (ts) => Math.round(50 + 30 * Math.sin((2 * Math.PI * ts) / 60_000)), () => 7);
    const api = new LocalAnalytics(new Analytics(windows, new LiveClients(), () => undefined, () => DEFAULT_ANALYTICS_METRICS), windows);
    const forecaster = new Forecaster({ api: () => api, metrics: () => DEFAULT_ANALYTICS_METRICS, settings: () => ({ seasonMs: 60_000, capacityPerPod: 40, pricePerPodHour: 1 }), podsOf: () => 1 });

    const load = await forecaster.forecast({ kind: 'load', service: 'gateway', horizonMs: 60_000 }, now);
    assert.equal(load.seasonSource, 'setting');
    assert.equal(load.stepMs * load.points.length, 60_000);
    assert.ok(load.backtest.smape !== null && load.backtest.smape < 5, `backtest sMAPE ${load.backtest.smape}`);
    assert.match(load.warnings[0]!, /the store is not ready: the history is the live windows' last 15 minutes only/);
    for (const p of load.points) {
      const truth = Math.round(50 + 30 * Math.sin((2 * Math.PI * p.t) / 60_000));
      assert.ok(Math.abs(p.mean - truth) <= 1.5, `at ${p.t}: ${p.mean} vs ${truth}`);
      assert.ok(p.lo95 <= p.lo80 && p.lo80 <= p.mean + 1e-9 && p.mean <= p.hi80 + 1e-9 && p.hi80 <= p.hi95);
    }
    assert.ok(load.scaling);
    assert.equal(load.scaling.action, 'scale-up', 'peaks of 80 req/s need 2 pods of 40');
    assert.equal(load.scaling.neededPods, 2);

    const cost = await forecaster.forecast({ kind: 'cost', service: 'gateway', horizonMs: 60_000 }, now);
    assert.ok(cost.points.every((p) => p.mean === 1 || p.mean === 2), JSON.stringify(cost.points.map((p) => p.mean)));
    assert.ok(cost.cost && cost.cost.total > 0 && cost.cost.total <= 2 / 60 + 1e-9);
    assert.equal(cost.unit, 'USD per hour');

    const sessions = await forecaster.forecast({ kind: 'sessions', service: 'gateway', horizonMs: 60_000 }, now);
    assert.equal(sessions.model, 'naive');
    assert.match(sessions.reason, /^constant series: forecasting the constant/);
    assert.ok(sessions.points.every((p) => p.mean === 7));

    const fresh = new LiveWindows();
    fillWindows(fresh, now, 20, () => 10, (ts) => (ts / 1000) % 5);
    const freshApi = new LocalAnalytics(new Analytics(fresh, new LiveClients(), () => undefined, () => DEFAULT_ANALYTICS_METRICS), fresh);
    const short = await new Forecaster({ api: () => freshApi, metrics: () => DEFAULT_ANALYTICS_METRICS, settings: () => ({ seasonMs: 60_000 }), podsOf: () => 1 }).forecast({ kind: 'sessions', service: 'gateway', horizonMs: 60_000 }, now);
    assert.deepEqual(short.backtest, { smape: null, mase: null });
    assert.match(short.reason, /^only \d+ points: too few to backtest any model \(\d+ are needed\), so the last value is carried forward/);
  });
});

describe('signals and anomaly scores from the live windows', () => {
  it('reads error rate and rps per service and pod, and scores every live series once warm', () => {
    const now = Math.floor(Date.now() / 10_000) * 10_000;
    const windows = new LiveWindows();
    const add = (pod: string, code: string, n: number, ts: number) =>
      windows.add({ ts, name: DEFAULT_ANALYTICS_METRICS.requests, kind: 'counter', labels: { service: 'gateway', pod, route: 'GET /x', code }, value: n, total: n }, now);
    for (let s = 0; s < 10; s++) {
      add('gw-1', '200', 9, now - 10_000 + s * 1000);
      add('gw-1', '500', 1, now - 10_000 + s * 1000);
      add('gw-2', '200', 10, now - 10_000 + s * 1000);
    }
    const signals = readSignals(windows, DEFAULT_ANALYTICS_METRICS, now - 10_000, 10_000);
    const get = (signal: string, pod?: string) => signals.find((s) => s.signal === signal && s.pod === pod)?.value;
    assert.equal(get('errorRate', 'gw-1'), 0.1);
    assert.equal(get('errorRate', 'gw-2'), 0);
    assert.equal(get('errorRate'), 0.05);
    assert.equal(get('rps'), 20);
    assert.equal(get('rps', 'gw-1'), 10);

    const monitor = new AnomalyMonitor(windows);
    monitor.tick(now + 2500);
    const summary = monitor.summary();
    assert.equal(summary.tracked, 3, 'one detector per live series');
    assert.equal(summary.warming, 3);
    assert.deepEqual(summary.top, []);
  });
});

describe('restarts', () => {
  it('counts a pod\'s restarts from its agent\'s counter falling back, and not the pod that keeps counting', () => {
    const windows = new LiveWindows();
    const tracker = new RestartTracker();
    const publish = (pod: string, total: number, ts: number) =>
      windows.add({ ts, name: 'sg_agent_published_total', kind: 'counter', labels: { service: 'gateway', pod, kind: 'metrics' }, value: 1, total }, ts);
    const start = Date.now();
    const totals: Record<string, number[]> = { 'gw-1': [50, 51, 2, 3, 1, 2], 'gw-2': [80, 81, 82, 83, 84, 85] };
    for (let i = 0; i < 6; i++) {
      for (const [pod, list] of Object.entries(totals)) publish(pod, list[i]!, start + i * 1000);
      tracker.observe(windows, start + i * 1000);
    }
    const restarts = new Map(tracker.signals().map((s) => [s.pod, s.value]));
    assert.equal(restarts.get('gw-1'), 2);
    assert.equal(restarts.get('gw-2'), 0);
  });
});

describe('the combination candidate and the count-based grid', () => {
  it('backtests the mean of the best candidates as one more candidate; off by default', () => {
    const random = rng(21);
    // A seasonal series with noise: single models disagree on it.
    const y = Float64Array.from({ length: 24 * 12 }, (_, t) => 100 + 40 * Math.sin((2 * Math.PI * t) / 24) + 25 * (random() - 0.5));
    const single = forecastSeries(y, { horizon: 6, season: 24 });
    const combined = forecastSeries(y, { horizon: 6, season: 24, combine: 3 });
    assert.ok(!single.candidates.some((c) => c.model === 'combination'), 'off by default');
    const entry = combined.candidates.find((c) => c.model === 'combination');
    assert.ok(entry, 'the combination was backtested');
    // Its errors are the mean of its members' errors, so its MASE is at most the mean of theirs (triangle inequality).
    const members = combined.candidates.filter((c) => c.model !== 'combination');
    assert.equal(members.length, 3, JSON.stringify(combined.candidates));
    assert.ok(entry.mase <= members.reduce((a, c) => a + c.mase, 0) / 3 + 1e-12, JSON.stringify(combined.candidates));
    if (combined.model === 'combination') assert.equal(combined.members?.length, 3);
    else assert.equal(combined.model, single.model, 'when the combination does not win, the choice is the one without it');
  });

  it('keeps the combination unless a single candidate beats it by the preference factor', () => {
    // The choice: the lowest (sMAPE / seasonal naive's + MASE / seasonal naive's), the combination's times the factor.
    const value = (c: { model: string; smape: number; mase: number }, ref: { smape: number; mase: number }, p: number) =>
      (c.smape / ref.smape + c.mase / ref.mase) * (c.model === 'combination' ? p : 1);
    let flipped = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const random = rng(seed);
      const y = Float64Array.from({ length: 24 * 12 }, (_, t) => 100 + 40 * Math.sin((2 * Math.PI * t) / 24) + 25 * (random() - 0.5));
      const plain = forecastSeries(y, { horizon: 6, season: 24, combine: 3 });
      const preferring = forecastSeries(y, { horizon: 6, season: 24, combine: 3, combinationPreference: 0.8 });
      const ref = preferring.candidates.find((c) => c.model === 'seasonal-naive')!;
      const best = preferring.candidates.reduce((a, c) => (value(c, ref, 0.8) < value(a, ref, 0.8) ? c : a));
      assert.equal(preferring.model, best.model, `seed ${seed}: ${JSON.stringify(preferring.candidates)}`);
      if (plain.model !== 'combination' && preferring.model === 'combination') flipped++;
      assert.ok(!(plain.model === 'combination' && preferring.model !== 'combination'), 'preferring it never loses the combination');
    }
    assert.ok(flipped > 0, 'in 40 noisy series the factor changed no choice');
  });

  it('makes steps long enough to hold 500 requests at the service\'s rate', () => {
    assert.equal(MIN_EVENTS_PER_STEP, 500);
    assert.equal(minStepFor(50), 10_000);
    assert.equal(minStepFor(undefined), 0);
    // A 12-minute day at 50 req/s: 10-second steps (72 per season), not 2.5-second ones.
    const grid = forecastGrid(12 * 60_000, 30_000, minStepFor(50));
    assert.equal(grid.stepMs, 10_000);
    assert.equal(grid.season, 72);
    assert.equal(grid.horizonSteps, 3);
    // A busy fleet keeps the fine grid.
    assert.equal(forecastGrid(86_400_000, 3600_000, minStepFor(5000)).stepMs, 300_000);
  });
});
