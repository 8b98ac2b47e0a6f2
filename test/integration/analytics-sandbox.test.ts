/**
 * The analytics of the sandbox fleet as a team would run them: `sg server` over the fleet's real traffic tracks
 * at least 100 series, a real Prometheus scrapes its /metrics and answers for them, and every query of the
 * Grafana dashboard it generates is valid PromQL with data behind it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startPrometheus, type PrometheusServer } from '../../src/launch/prometheus';
import { startSandbox, type Sandbox } from '../../src/launch/sandbox';
import { PANELS, promqlOf } from '../../src/protocol/dashboardPanels';
import { DEFAULT_ANALYTICS_METRICS } from '../../src/server/analytics/views';
import { startHeadless, type HeadlessServer } from '../../src/server/headless';
import { eventually, repoRoot, tempDir } from '../support/services';

const run = promisify(execFile);

describe('analytics of the sandbox fleet', () => {
  let fleet: Sandbox;
  let server: HeadlessServer;
  let prometheus: PrometheusServer;

  before(async () => {
    fleet = await startSandbox({
      pods: 3,
      stateDir: tempDir('sg-analytics-fleet-'),
      distDir: join(repoRoot, 'dist'),
      loadgenArgs: ['--day-minutes', '4', '--start-hour', '19', '--peak-sessions-per-second', '8'],
    });
    server = await startHeadless({ nats: { url: fleet.natsUrl }, store: { kind: 'duckdb', path: join(tempDir(), 'sandbox.duckdb') } }, { logLevel: 'error' });
    prometheus = await startPrometheus([new URL(server.url).host]);
  });
  after(async () => {
    await prometheus.stop();
    await server.close();
    await fleet.stop();
  });

  it('tracks at least 100 distinct metric series from the fleet', async () => {
    const wanted = ['gw_http_requests_total', 'gw_http_request_duration_ms', 'gw_messages_total', 'gw_active_sessions', 'process_cpu_percent', 'sg_events_total'];
    const names = () => new Set([...server.backend.windows.all()].map((s) => s.name));
    await eventually('the gateway\'s and the derived series', () => wanted.every((name) => names().has(name)), 60_000);
    // The series appear as the day's traffic reaches each route, code and pod: wait for them, then count.
    await eventually('at least 100 series', () => server.backend.windows.size >= 100, 90_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${server.backend.windows.size} series`);
    });
    assert.ok(server.backend.windows.size >= 100, `${server.backend.windows.size} series`);
  });

  it('is scraped by a real Prometheus, which answers with the same series', async () => {
    await eventually('the target up in Prometheus', async () => {
      const targets = (await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string }[] } };
      return targets.data.activeTargets.some((t) => t.health === 'up');
    }, 60_000);
    await eventually('request counters in Prometheus', async () => {
      const answer = await prometheus.query('sum by (pod) (gw_http_requests_total)');
      return answer.status === 'success' && (answer.data?.result.length ?? 0) === 3;
    }, 60_000);
    const exposition = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(exposition, /^# TYPE gw_http_requests_total counter$/m);
    assert.match(exposition, /^gw_http_request_duration_ms\{[^}]*quantile="0\.99"[^}]*\} [\d.e+]+$/m);
    const answer = await prometheus.query('gw_http_requests_total');
    const fromPrometheus = new Set(answer.data!.result.map((r) => `${r.metric.pod} ${r.metric.route} ${r.metric.code}`));
    const ours = new Set([...exposition.matchAll(/^gw_http_requests_total\{([^}]*)\}/gm)].map((m) => {
      const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      return `${labels.pod} ${labels.route} ${labels.code}`;
    }));
    for (const key of fromPrometheus) assert.ok(ours.has(key), `Prometheus's series ${key} is one of ours`);
  });

  it('writes a Grafana dashboard whose every query is valid PromQL with data from this fleet', async () => {
    const out = join(tempDir(), 'grafana.json');
    await run(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'grafana', 'dashboard', '--out', out]);
    const dashboard = JSON.parse(readFileSync(out, 'utf8')) as { panels: { type: string; title: string; targets?: { expr: string }[] }[] };
    const panels = dashboard.panels.filter((p) => p.type === 'timeseries');
    assert.deepEqual(panels.map((p) => p.title), PANELS.map((p) => p.title), 'the same panels as the editor dashboard');
    const expressions = PANELS.flatMap((p) => promqlOf(p, DEFAULT_ANALYTICS_METRICS));
    assert.deepEqual(panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), expressions);
    // rate() over [1m] needs a few scrapes; every expression must then parse and most must have data.
    await eventually('rates in Prometheus', async () => ((await prometheus.query(expressions[0]!)).data?.result.length ?? 0) > 0, 60_000);
    const empty: string[] = [];
    for (const expr of expressions) {
      const answer = await prometheus.query(expr);
      assert.equal(answer.status, 'success', `${expr}: ${answer.error ?? ''}`);
      if ((answer.data?.result.length ?? 0) === 0) empty.push(expr);
    }
    // Only series the sandbox may not have had yet in a minute (5xx share without any 5xx) may be empty.
    assert.ok(empty.every((e) => /code=~"5\.\."/.test(e)), `queries without data: ${empty.join(', ')}`);
  });
});
