/**
 * Traces and logs of the sandbox fleet as a team sees them: `sg server` over the gateway pods' real telemetry
 * assembles their traces (requests, and messages fanned out to other pods over NATS with W3C trace context),
 * mines their log lines into templates with the call site of each logging statement (through the bundle's
 * source map), and `sg traces` / `sg logs templates` print them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/launch/sandbox';
import type { LogTemplatesResult } from '../../src/protocol/logs';
import type { TraceSearchResult } from '../../src/protocol/traces';
import { startHeadless, type HeadlessServer } from '../../src/server/headless';
import { eventually, repoRoot, tempDir } from '../support/services';

const run = promisify(execFile);
const sg = (...args: string[]) => run(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], { maxBuffer: 64 * 1024 * 1024 });

describe('traces and logs of the sandbox fleet', () => {
  let fleet: Sandbox;
  let server: HeadlessServer;

  before(async () => {
    fleet = await startSandbox({
      pods: 3,
      stateDir: tempDir('sg-traces-fleet-'),
      distDir: join(repoRoot, 'dist'),
      loadgenArgs: ['--day-minutes', '4', '--start-hour', '19', '--peak-sessions-per-second', '8'],
    });
    server = await startHeadless({ nats: { url: fleet.natsUrl }, store: { kind: 'duckdb', path: join(tempDir(), 'sandbox.duckdb') }, mode: 'embedded' }, { logLevel: 'error' });
  });
  after(async () => {
    await server.close();
    await fleet.stop();
  });

  it('assembles the gateway\'s traces, across pods, with no span left without its parent', async () => {
    let crossPod: string | undefined;
    await eventually('a trace that reaches more than one pod', async () => {
      const found = await server.backend.traces.search({ service: 'gateway', sort: 'newest', limit: 200 });
      for (const t of found.traces.filter((t) => t.spans > 1 && t.hasRoot)) {
        const trace = await server.backend.traces.get(t.traceId);
        if (new Set(trace.spans.map((s) => s.pod)).size > 1 && trace.problems.missingParents === 0) {
          crossPod = t.traceId;
          return true;
        }
      }
      return false;
    }, 120_000);
    const trace = await server.backend.traces.get(crossPod!);
    const root = trace.spans[0]!;
    assert.equal(root.parentSpanId, '');
    assert.equal(root.kind, 2, 'the root is the request\'s server span');
    assert.match(root.name, /^(GET|POST|DELETE|PUT) /);
    assert.ok(trace.spans.some((s) => s.name === 'fanout.deliver' && s.pod !== root.pod), 'a message delivered on another pod is in the trace');
    for (const span of trace.spans.slice(1)) assert.ok(span.parent >= 0 && trace.spans[span.parent]!.spanId === span.parentSpanId, `${span.name} hangs under its parent`);
    assert.ok(trace.criticalPath.length > 0);
    assert.ok(trace.stats.byService.some((s) => s.service === 'gateway'));

    const { stdout } = await sg('traces', 'search', '--service', 'gateway', '--since', '10m', '--json', '--nats', fleet.natsUrl);
    const listed = JSON.parse(stdout) as TraceSearchResult;
    assert.ok(listed.traces.length > 0);
    assert.ok(listed.routes.length > 0, 'traces per route');
    const slowest = listed.traces[0]!;
    assert.ok(listed.traces.every((t) => t.durationMs <= slowest.durationMs), 'slowest first');
    const shown = await sg('traces', 'show', slowest.traceId, '--nats', fleet.natsUrl);
    assert.match(shown.stdout, new RegExp(`^trace ${slowest.traceId} · `));
    assert.match(shown.stdout, /critical path/);
  });

  it('mines the pods\' log lines into templates with their call sites, and shows an error burst', async () => {
    await sg('fleet', 'incident', 'error-burst', '--pod', 'gw-2', '--for', '20s', '--nats', fleet.natsUrl);
    const source = readFileSync(join(repoRoot, 'demo', 'gateway', 'server.ts'), 'utf8').split('\n');
    const failedLine = source.findIndex((l) => l.includes("telemetry.log('error', `request failed: ${message}`")) + 1;
    assert.ok(failedLine > 0, 'the gateway logs failed requests');
    let result: LogTemplatesResult | undefined;
    await eventually('the failed-request template with its call site', async () => {
      const { stdout } = await sg('logs', 'templates', '--since', '10m', '--json', '--nats', fleet.natsUrl);
      result = JSON.parse(stdout) as LogTemplatesResult;
      return result.templates.some((t) => t.template.startsWith('request failed') && t.site !== undefined);
    }, 90_000);
    const failed = result!.templates.find((t) => t.template.startsWith('request failed'))!;
    assert.ok(failed.site!.file.endsWith(join('demo', 'gateway', 'server.ts')), failed.site!.file);
    assert.equal(failed.site!.line, failedLine);
    assert.ok(failed.pods.includes('gw-2'));
    assert.ok((failed.levels.error ?? 0) > 0);
    assert.ok(failed.sparkline.some((n) => n > 0));
    const injected = result!.templates.find((t) => t.template.startsWith('incident error-burst injected'));
    assert.ok(injected, 'the incident\'s own log line');
    assert.equal(injected.levels.warn, 1);
    const mainSource = readFileSync(join(repoRoot, 'demo', 'gateway', 'main.ts'), 'utf8').split('\n');
    assert.equal(injected.site?.line, mainSource.findIndex((l) => l.includes('telemetry.log(\'warn\', `incident ${parsed.value.type} injected')) + 1);
    // The lines of the template, with their values.
    const detail = await server.backend.logs.template({ templateId: failed.id });
    assert.ok(detail.lines.length > 0);
    assert.ok(detail.lines.every((l) => l.msg.startsWith('request failed')));
    assert.ok(detail.lines.every((l) => l.pod === 'gw-2'));
    // A filter that matches nothing.
    const { stdout } = await sg('logs', 'templates', '--since', '10m', '--pod', 'no-such-pod', '--json', '--nats', fleet.natsUrl);
    assert.equal((JSON.parse(stdout) as LogTemplatesResult).templates.length, 0);
    const text = await sg('logs', 'templates', '--since', '10m', '--nats', fleet.natsUrl);
    assert.match(text.stdout, /request failed: /);
    assert.match(text.stdout, /server\.ts:\d+/);
  });
});
