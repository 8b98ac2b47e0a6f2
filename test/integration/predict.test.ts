/**
 * Predictions and alerts against the sandbox fleet, a real NATS and a real DuckDB, through `sg server` and the `sg`
 * CLI as a user runs them: `sg predict` prints its --json contract from the fleet's history, bad requests get clear
 * errors, an injected error burst fires the error-rate alert (published on NATS, listed by `sg alerts list`, and
 * not before the incident), /metrics carries the alert state, and the exported rules pass `promtool check rules`.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { createLogger } from '../../src/common/logger';
import { requestPod } from '../../src/common/podClient';
import { Backend } from '../../src/server/backend';
import { startSandbox, type Sandbox } from '../../src/launch/sandbox';
import type { AlertEvent, AlertsAnswer, ForecastContract } from '../../src/protocol/predict';
import { eventually, repoRoot, sharedNats, tempDir, type Shared } from '../support/services';

const cli = join(repoRoot, 'dist', 'cli.js');
const run = promisify(execFile);

async function sg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('predictions and alerts on the sandbox fleet', () => {
  let nats: Shared;
  let nc: NatsConnection;
  let fleet: Sandbox | undefined;
  let server: ChildProcess | undefined;
  let serverUrl = '';
  const published: AlertEvent[] = [];
  /** An editor's language server in shared mode: its forecasts and alerts come from the sg server. */
  let shared: Backend | undefined;

  before(async () => {
    nats = await sharedNats();
    nc = await connect({ servers: nats.url });
    nc.subscribe('sg.alerts.>', { callback: (error, msg) => !error && published.push(JSON.parse(new TextDecoder().decode(msg.data)) as AlertEvent) });
    fleet = await startSandbox({
      pods: 2,
      natsUrl: nats.url,
      stateDir: tempDir('sg-predict-fleet-'),
      distDir: join(repoRoot, 'dist'),
      loadgenArgs: ['--day-minutes', '4', '--peak-sessions-per-second', '6', '--start-hour', '10'],
    });
    const child = spawn(process.execPath, [cli, 'server', '--nats', nats.url, '--store', `duckdb:${join(tempDir(), 'predict.duckdb')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    const line = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`sg server exited with ${code}`)));
    });
    serverUrl = /ready: (http:\/\/127\.0\.0\.1:\d+)\/status/.exec(line)![1]!;
    const editor = new Backend(createLogger(() => {}, 'error'));
    shared = editor;
    await editor.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDir(), 'editor.duckdb') }, mode: 'shared' });
    await eventually('the editor\'s server in shared mode', () => editor.status().mode === 'shared' && editor.status().sharedServer !== undefined, 30_000);
    // Two minutes of the fleet's history: enough to backtest a two-minute horizon at its 2-second steps.
    await eventually('two minutes of gateway requests', async () => {
      const r = await sg(['analytics', 'query', '--metric', 'gw_http_requests_total', '--where', 'service=gateway', '--since', '3m', '--step', '10s', '--nats', nats.url, '--json']);
      if (r.code !== 0) return false;
      const points = (JSON.parse(r.stdout) as { series: { points: [number, number | null][] }[] }).series[0]?.points ?? [];
      return points.filter(([, v]) => v !== null).length >= 13;
    }, 240_000);
  });

  after(async () => {
    await shared?.dispose();
    server?.kill('SIGTERM');
    await fleet?.stop();
    await nc.close();
    await nats.stop();
  });

  it('prints exactly the --json contract of sg predict load, with ordered bands', async () => {
    const r = await sg(['predict', 'load', '--service', 'gateway', '--horizon', '2m', '--nats', nats.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as ForecastContract;
    assert.deepEqual(Object.keys(out), ['series', 'model', 'backtest', 'points']);
    assert.deepEqual(Object.keys(out.backtest), ['smape', 'mase']);
    assert.equal(out.series, 'load gateway');
    assert.ok(out.points.length > 0);
    for (const p of out.points) {
      assert.deepEqual(Object.keys(p), ['t', 'mean', 'lo80', 'hi80', 'lo95', 'hi95']);
      assert.ok(p.lo95 <= p.lo80 && p.lo80 <= p.mean && p.mean <= p.hi80 && p.hi80 <= p.hi95, JSON.stringify(p));
    }
    assert.ok(out.points[0]!.t > Date.now() - 60_000, `the forecast starts at the end of the history, not at ${new Date(out.points[0]!.t).toISOString()} (${r.stderr})`);
    assert.match(r.stderr, /^load gateway: /, 'why the model was chosen goes to stderr');
  });

  it('forecasts in shared mode from the shared server\'s history', async () => {
    const answer = await shared!.predict.forecast({ kind: 'load', service: 'gateway', horizonMs: 120_000 });
    assert.ok(answer.history.some(([, v]) => v !== null && v > 0), 'the history came from the sg server');
    assert.ok(answer.points.length > 0);
    assert.equal(answer.service, 'gateway');
  });

  it('forecasts cost with scaling advice at the capacity asked for', async () => {
    const r = await sg(['predict', 'cost', '--service', 'gateway', '--horizon', '2m', '--capacity', '0.5', '--price', '2', '--nats', nats.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^cost gateway \(USD per hour\): /);
    assert.match(r.stdout, /scaling: scale gateway to \d+ pods before \d\d:\d\d — forecast p95 [\d.k]+ req\/s, capacity 0\.5 per pod/);
    assert.match(r.stdout, /cost over the horizon: [\d.]+ USD/);
  });

  it('refuses a bad kind, horizon or service with a clear message', async () => {
    const kind = await sg(['predict', 'weather', '--service', 'gateway', '--nats', nats.url]);
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /sg predict load\|errors\|sessions\|cost, not "weather"/);
    const horizon = await sg(['predict', 'load', '--service', 'gateway', '--horizon', '200h', '--nats', nats.url]);
    assert.equal(horizon.code, 2);
    assert.match(horizon.stderr, /horizonMs: the horizon is at most 7 days/);
    const short = await sg(['predict', 'load', '--service', 'gateway', '--horizon', '10s', '--nats', nats.url]);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /horizonMs: the horizon is at least 1 minute/);
    const service = await sg(['predict', 'load', '--nats', nats.url]);
    assert.equal(service.code, 2);
    assert.match(service.stderr, /--service NAME is required/);
    const unknown = await sg(['predict', 'load', '--service', 'nosuch', '--nats', nats.url, '--json']);
    assert.equal(unknown.code, 0, unknown.stderr);
    const none = JSON.parse(unknown.stdout) as ForecastContract;
    assert.deepEqual(none.backtest, { smape: null, mase: null });
    assert.match(unknown.stderr, /no usable values: forecasting 0/);
  });

  it('fires the error-rate alert when an error burst is injected, publishes it on NATS and lists it', async () => {
    const before = await sg(['alerts', 'list', '--nats', nats.url, '--json']);
    assert.equal(before.code, 0, before.stderr);
    assert.equal((JSON.parse(before.stdout) as AlertsAnswer).alerts.filter((a) => a.rule === 'error-rate-high').length, 0, 'no error-rate alert before the incident');
    const injectedAt = Date.now();
    await requestPod(nc, 'gw-2', 'incident', { type: 'error-burst', durationMs: 90_000 });
    await eventually('the error-rate alert on NATS', () => published.some((e) => e.rule === 'error-rate-high' && e.state === 'firing'), 120_000);
    const alert = published.find((e) => e.rule === 'error-rate-high')!;
    assert.equal(alert.service, 'gateway');
    assert.equal(alert.severity, 'critical');
    assert.ok(alert.startsAt >= injectedAt, 'fired after the incident started');
    assert.match(alert.summary, /^error rate [\d.]+ % on gateway is above 2\.00 % for 20 s$/);
    const listed = await sg(['alerts', 'list', '--nats', nats.url]);
    assert.match(listed.stdout, /FIRING +critical .* error rate [\d.]+ % on gateway is above 2\.00 % for 20 s {2}\[error-rate-high; docs\/runbooks\/error-rate-high\.md\]/);
    await eventually('the alert in the shared-mode server', () => shared!.predict.alerts().alerts.some((a) => a.rule === 'error-rate-high' && a.state === 'firing'), 30_000);
    const metrics = await (await fetch(`${serverUrl}/metrics`)).text();
    assert.match(metrics, /^streamgate_alerts_firing\{rule="error-rate-high",severity="critical",service="gateway"\} 1$/m);
    assert.match(metrics, /^# TYPE streamgate_anomaly_score gauge$/m);
  });

  it('exports rules that promtool accepts, and names a bad rules file', async () => {
    const dir = tempDir();
    const file = join(dir, 'rules.yml');
    const exported = await sg(['alerts', 'export', '--format', 'prometheus', '--out', file]);
    assert.equal(exported.code, 0, exported.stderr);
    const { stdout } = await run('promtool', ['check', 'rules', file]);
    assert.match(stdout, /SUCCESS: 13 rules found/);
    const bad = join(dir, 'overrides.json');
    writeFileSync(bad, JSON.stringify([{ id: 'no-such-rule', threshold: 1 }]));
    const refused = await sg(['alerts', 'export', '--format', 'prometheus', '--rules', bad]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, new RegExp(`--rules ${bad}: no built-in rule "no-such-rule"`));
    const format = await sg(['alerts', 'export', '--format', 'grafana']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format prometheus is the format there is, not "grafana"/);
  });
});
