/**
 * The debug adapter (dist/adapter.js as a process, driven by DebugClient) against real gateway pods of the
 * sandbox fleet on a real NATS: selectors, snapshots as stopped events, stack/scopes/variables, redaction,
 * watches, the REPL, logpoints, conditions, hit conditions, queues, two sessions, exception snapshots.
 * The fleet runs without the load generator: every hit comes from the test's own requests.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { connect, type NatsConnection } from 'nats';
import { TENANTS } from '../../demo/gateway/tenants';
import { requestPod } from '../../src/common/podClient';
import type { Sandbox } from '../../src/launch/sandbox';
import type { SnapshotJson } from '../../src/protocol/dap';
import { allVariableText, attach, threadOf, breakpointMessage, GATEWAY_SOURCE, gatewayFleet, lineOf, outputText, post, record, startClient, traffic } from '../support/debug';
import { eventually, sharedNats, tempDir, type Shared } from '../support/services';

const SIGNATURE_LINE = lineOf(GATEWAY_SOURCE, 'const signature = incidents.isActive');
const ROUTE_LINE = lineOf(GATEWAY_SOURCE, 'const route = routeOf(');
const EU_WEST = { service: 'gateway', labels: { region: 'eu-west' } };

describe('debug adapter against gateway pods', () => {
  let nats: Shared;
  let fleet: Sandbox;
  let nc: NatsConnection;
  const clients: DebugClient[] = [];
  const port = (pod: string): number => fleet.pods.find((p) => p.pod === pod)!.port;

  before(async () => {
    nats = await sharedNats();
    fleet = await gatewayFleet(nats.url);
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc.close();
    await fleet.stop();
    await nats.stop();
  });
  afterEach(async () => {
    for (const dc of clients.splice(0)) {
      await dc.disconnectRequest().catch(() => undefined);
      await dc.stop();
    }
  });

  async function client(args: Record<string, unknown> = {}): Promise<DebugClient> {
    const dc = await startClient();
    clients.push(dc);
    await attach(dc, { nats: nats.url, selector: EU_WEST, ...args });
    return dc;
  }

  async function snapshotOn(dc: DebugClient, pod: string, send: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
    const stopped = dc.waitForEvent('stopped', 30_000) as Promise<DebugProtocol.StoppedEvent>;
    await send();
    const event = await stopped;
    const { body } = await dc.threadsRequest();
    assert.match(body.threads.find((t) => t.id === threadOf(event))!.name, new RegExp(`gateway/${pod} \\(1\\.4\\.2\\)`));
    return event;
  }

  it('a selector really selects: threads are the eu-west pods, never us-east gw-3, and breakpoints install on 2/2', async () => {
    const dc = await client();
    const { body } = await dc.threadsRequest();
    assert.deepEqual(body.threads.map((t) => t.name).sort(), ['gateway/gw-1 (1.4.2)', 'gateway/gw-2 (1.4.2)']);
    const set = await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE }] });
    assert.deepEqual(set.body.breakpoints.map((b) => [b.verified, b.message]), [[true, 'installed on 2/2 pods']]);
    // gw-3 got nothing: a request there produces no snapshot, one to gw-1 does.
    const stopped = record<DebugProtocol.StoppedEvent>(dc, 'stopped');
    await post(port('gw-3'), 3);
    await snapshotOn(dc, 'gw-1', () => post(port('gw-1'), 1));
    assert.equal(stopped.length, 1, 'only the matching pod took a snapshot');
  });

  it('a snapshot is a stopped event on its pod\'s thread; stack, scopes and variables serve it while the pod keeps serving', async () => {
    // The time budget is raised because this test reads deep into the first snapshot on a shared 2-core machine.
    const dc = await client({ captureLimits: { maxCaptureMs: 50 } });
    await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE }] });
    const stopped = await snapshotOn(dc, 'gw-2', () => post(port('gw-2'), 1, { tenant: TENANTS[1]! }));
    assert.equal(stopped.body.reason, 'breakpoint');
    assert.match(stopped.body.description ?? '', /Snapshot on gw-2 at server\.ts:\d+; the pod kept running/);
    assert.equal(stopped.body.allThreadsStopped, false);
    assert.deepEqual(await post(port('gw-2'), 1), [202], 'the pod answers while its snapshot is shown');
    const { body: stack } = await dc.stackTraceRequest({ threadId: threadOf(stopped) });
    const top = stack.stackFrames[0]!;
    assert.equal(top.name, 'publish');
    assert.equal(top.source?.path, GATEWAY_SOURCE);
    assert.equal(top.line, SIGNATURE_LINE);
    const { body: scopes } = await dc.scopesRequest({ frameId: top.id });
    assert.equal(scopes.scopes[0]!.name, 'Locals');
    const { body: locals } = await dc.variablesRequest({ variablesReference: scopes.scopes[0]!.variablesReference });
    const tenant = locals.variables.find((v) => v.name === 'tenant')!;
    assert.equal(tenant.type, 'Object');
    const { body: tenantProps } = await dc.variablesRequest({ variablesReference: tenant.variablesReference });
    assert.equal(tenantProps.variables.find((v) => v.name === 'id')?.value, JSON.stringify(TENANTS[1]!.id));
    assert.equal(tenantProps.variables.find((v) => v.name === 'apiKey')?.value, '[redacted]');
    assert.match(locals.variables.find((v) => v.name === 'stream')!.value, /"orders"/);
  });

  it('no snapshot ever carries a tenant API key, in variables, JSON or watches', async () => {
    const dc = await client({ captureLimits: { maxDepth: 6, maxProperties: 50, maxSnapshotBytes: 256 * 1024, maxCaptureMs: 100 } });
    await dc.customRequest('streamgate.setWatches', { expressions: ['tenant', 'req.rawHeaders', 'req.url', 'this.auth'] });
    await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE }] });
    const stopped = await snapshotOn(dc, 'gw-1', () => post(port('gw-1'), 1, { tenant: TENANTS[2]! }));
    const { body: stack } = await dc.stackTraceRequest({ threadId: threadOf(stopped) });
    let text = '';
    for (const frame of stack.stackFrames) {
      const { body: scopes } = await dc.scopesRequest({ frameId: frame.id });
      for (const scope of scopes.scopes) text += await allVariableText(dc, scope.variablesReference);
    }
    const json = (await dc.customRequest('streamgate.snapshot', { threadId: threadOf(stopped) })).body as SnapshotJson;
    text += JSON.stringify(json);
    assert.match(text, /apiKey=\[redacted\]/);
    assert.ok(text.length > 2000, 'the snapshot held a lot');
    for (const tenant of TENANTS) assert.ok(!text.includes(tenant.apiKey), `${tenant.id}'s API key is in the snapshot`);
    assert.ok(!/sk_live_/.test(text));
  });

  it('a watch not captured is added to the breakpoint and the next snapshot captures it', async () => {
    const dc = await client({ captureLimits: { maxCaptureMs: 50 } });
    await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE }] });
    const first = await snapshotOn(dc, 'gw-1', () => post(port('gw-1'), 1));
    const frame = (await dc.stackTraceRequest({ threadId: threadOf(first) })).body.stackFrames[0]!;
    const captured = await dc.evaluateRequest({ expression: 'tenant.id', frameId: frame.id, context: 'watch' });
    assert.equal(captured.body.result, JSON.stringify(TENANTS[0]!.id), 'a captured path is answered from the snapshot');
    const missing = await dc.evaluateRequest({ expression: 'raw.length > 0', frameId: frame.id, context: 'watch' });
    assert.match(missing.body.result, /not captured in this snapshot: added as a watch of server\.ts:\d+, so its next snapshot captures it/);
    const refused = await dc.evaluateRequest({ expression: 'counter++', frameId: frame.id, context: 'watch' });
    assert.match(refused.body.result, /cannot be watched: the expression changes counter/);
    await dc.continueRequest({ threadId: threadOf(first) });
    const second = await snapshotOn(dc, 'gw-1', () => post(port('gw-1'), 1));
    const next = (await dc.stackTraceRequest({ threadId: threadOf(second) })).body.stackFrames[0]!;
    const now = await dc.evaluateRequest({ expression: 'raw.length > 0', frameId: next.id, context: 'watch' });
    assert.equal(now.body.result, 'true');
    const scopes = (await dc.scopesRequest({ frameId: next.id })).body.scopes.map((s) => s.name);
    assert.ok(scopes.includes('Watches (captured)'), scopes.join());
  });

  it('the REPL evaluates live on the pod, side-effect free, and refuses what could write', async () => {
    const dc = await client();
    const pid = fleet.pods.find((p) => p.pod === 'gw-1')!.process.pid;
    await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE }] });
    const stopped = await snapshotOn(dc, 'gw-1', () => post(port('gw-1'), 1));
    const frame = (await dc.stackTraceRequest({ threadId: threadOf(stopped) })).body.stackFrames[0]!;
    const live = await dc.evaluateRequest({ expression: 'process.pid', frameId: frame.id, context: 'repl' });
    assert.equal(live.body.result, String(pid));
    const both = await dc.evaluateRequest({ expression: 'process.pid > 0', context: 'repl' });
    assert.match(both.body.result, /^gw-1: true {2}\| {2}gw-2: true$/, 'without a frame, every pod answers');
    await assert.rejects(dc.evaluateRequest({ expression: 'globalThis.hacked = 1', context: 'repl' }), /Not evaluated: the expression assigns to globalThis\.hacked/);
    const sideEffect = await dc.evaluateRequest({ expression: 'Object.keys(process.memoryUsage)', frameId: frame.id, context: 'repl' });
    assert.match(sideEffect.body.result, /Array\(|threw/);
  });

  it('logpoints arrive as output lines prefixed with the pod, with their {expressions} filled in', async () => {
    const dc = await client();
    const output = record<DebugProtocol.OutputEvent>(dc, 'output');
    const set = await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE, logMessage: 'tenant {tenant.id} sent {raw.length} bytes on {stream}' }] });
    assert.equal(set.body.breakpoints[0]!.message, 'installed on 2/2 pods');
    await post(port('gw-2'), 2, { tenant: TENANTS[3]! });
    await eventually('two logpoint lines', () => output.filter((o) => o.body.category === 'stdout').length >= 2);
    const lines = output.filter((o) => o.body.category === 'stdout');
    for (const line of lines) {
      assert.match(line.body.output, /^\[gw-2\] tenant umbrella sent \d+ bytes on orders\n$/);
      assert.equal(line.body.source?.path, GATEWAY_SOURCE);
    }
  });

  it('conditions run on the pod: only a matching hit becomes a snapshot; hit conditions count hits', async () => {
    const dc = await client({ captureLimits: { maxCaptureMs: 50 } });
    await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE, condition: `tenant.id === "${TENANTS[4]!.id}"` }] });
    const stopped = record<DebugProtocol.StoppedEvent>(dc, 'stopped');
    const first = await snapshotOn(dc, 'gw-1', async () => {
      await post(port('gw-1'), 3, { tenant: TENANTS[0]! });
      await post(port('gw-1'), 1, { tenant: TENANTS[4]! });
    });
    const frame = (await dc.stackTraceRequest({ threadId: threadOf(first) })).body.stackFrames[0]!;
    assert.equal((await dc.evaluateRequest({ expression: 'tenant.id', frameId: frame.id, context: 'watch' })).body.result, JSON.stringify(TENANTS[4]!.id));
    assert.equal(stopped.length, 1, 'the three non-matching requests took no snapshot');
    await dc.continueRequest({ threadId: threadOf(first) });

    await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE, hitCondition: '== 3' }] });
    const third = await snapshotOn(dc, 'gw-2', () => post(port('gw-2'), 5, { body: (i) => ({ n: i }) }));
    const hit = (await dc.stackTraceRequest({ threadId: threadOf(third) })).body.stackFrames[0]!;
    assert.equal((await dc.evaluateRequest({ expression: 'body.n', frameId: hit.id, context: 'watch' })).body.result, '2', 'the third hit (n = 2)');

    // A condition that throws counts as false, and the breakpoint says so (gw-1: the session selects eu-west only).
    const throwing = await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE, condition: 'tenant.missing.deeper === 1' }] });
    const said = breakpointMessage(dc, throwing.body.breakpoints[0]!.id!, /condition threw TypeError: Cannot read properties of undefined \(reading 'deeper'\) on gw-1; hits where it throws count as false/);
    const before = stopped.length;
    await post(port('gw-1'), 3);
    await said;
    assert.equal(stopped.length, before, 'no snapshot from a condition that threw');
  });

  it('bad breakpoints never reach a pod and say why; a file no pod runs is pending', async () => {
    const dc = await client();
    const set = await dc.setBreakpointsRequest({
      source: { path: GATEWAY_SOURCE },
      breakpoints: [{ line: SIGNATURE_LINE, condition: 'tenant.id ==' }, { line: SIGNATURE_LINE + 1, condition: 'audit.flush()' }, { line: ROUTE_LINE, condition: 'count = 1' }, { line: ROUTE_LINE + 1, hitCondition: 'sometimes' }],
    });
    assert.deepEqual(
      set.body.breakpoints.map((b) => [b.verified, b.message?.replace(/\(only reads.*$/, '')]),
      [
        [false, 'rejected: condition does not parse: Unexpected token (1:12)'],
        [false, 'rejected: condition calls audit.flush(), a function with possible side effects or unbounded cost '],
        [false, 'rejected: condition assigns to count: conditions and watches may only read'],
        [false, 'rejected: hit condition "sometimes" is not a hit condition: use >= 10, > 3, == 5, < 4, % 100 == 0 or a number'],
      ],
    );
    const elsewhere = await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE.replace(/gateway\/server\.ts$/, 'loadgen/model.ts') }, breakpoints: [{ line: 10 }] });
    assert.deepEqual(elsewhere.body.breakpoints.map((b) => [b.verified, b.message]), [[false, 'pending: no pod runs this file (model.ts)']]);
  });

  it('Continue shows the next queued snapshot of that pod; stepping and pausing are refused in words', async () => {
    const dc = await client({ snapshotsPerMinute: 100 });
    await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE }] });
    const first = await snapshotOn(dc, 'gw-2', () => post(port('gw-2'), 3));
    await eventually('two more snapshots queued', async () => /2 more snapshots waiting/.test((await dc.threadsRequest()).body.threads.find((t) => t.id === threadOf(first))!.name));
    await assert.rejects(dc.nextRequest({ threadId: threadOf(first) }), /Stepping is not supported on a live pod: StreamGate takes snapshots and never pauses or changes a pod/);
    await assert.rejects(dc.pauseRequest({ threadId: threadOf(first) }), /Pausing is not supported on a live pod/);
    const next = dc.waitForEvent('stopped', 10_000) as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: threadOf(first) });
    assert.equal(threadOf(await next), threadOf(first));
  });

  it('two sessions each see only their own breakpoints and snapshots; ending one leaves the other\'s', async () => {
    const alice = await client({ identity: 'alice' });
    const bob = await client({ identity: 'bob' });
    await alice.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: SIGNATURE_LINE }] });
    await bob.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: ROUTE_LINE }] });
    const aliceStops = record<DebugProtocol.StoppedEvent>(alice, 'stopped');
    const bobStops = record<DebugProtocol.StoppedEvent>(bob, 'stopped');
    await post(port('gw-1'), 1);
    await eventually('both sessions got their snapshot', () => aliceStops.length > 0 && bobStops.length > 0);
    const aliceTop = (await alice.stackTraceRequest({ threadId: threadOf(aliceStops[0]!) })).body.stackFrames[0]!;
    const bobTop = (await bob.stackTraceRequest({ threadId: threadOf(bobStops[0]!) })).body.stackFrames[0]!;
    assert.deepEqual([aliceTop.name, aliceTop.line], ['publish', SIGNATURE_LINE]);
    assert.deepEqual([bobTop.name, bobTop.line], ['handle', ROUTE_LINE]);
    await bob.disconnectRequest();
    clients.splice(clients.indexOf(bob), 1);
    await bob.stop();
    await alice.continueRequest({ threadId: threadOf(aliceStops[0]!) });
    const again = await snapshotOn(alice, 'gw-1', () => post(port('gw-1'), 1));
    assert.equal((await alice.stackTraceRequest({ threadId: threadOf(again) })).body.stackFrames[0]!.line, SIGNATURE_LINE, 'alice\'s breakpoint is still there');
    const audit = (await alice.customRequest('streamgate.audit', { sinceMs: 120_000 })).body as { events: { action: string; who: string; breakpoint?: { line: number } }[] };
    assert.ok(audit.events.some((e) => e.action === 'remove' && e.who === 'bob' && e.breakpoint?.line === ROUTE_LINE), 'bob\'s breakpoint was removed, by bob');
    assert.ok(!audit.events.some((e) => e.action === 'remove' && e.who === 'alice'), 'alice\'s were not');
  });

  it('exception snapshots: a caught error on a live pod arrives as a stopped event with the exception', async () => {
    const dc = await client({ snapshotsPerMinute: 100 });
    await dc.setExceptionBreakpointsRequest({ filters: ['all'] });
    await requestPod(nc, 'gw-2', 'incident', { type: 'error-burst', durationMs: 3000 });
    const stopped = dc.waitForEvent('stopped', 30_000) as Promise<DebugProtocol.StoppedEvent>;
    const load = traffic(port('gw-2'));
    try {
      const event = await stopped;
      assert.equal(event.body.reason, 'exception');
      assert.match(event.body.description ?? '', /Exception snapshot \(HttpError: internal error \(injected error burst\)\) on gw-2/);
      const top = (await dc.stackTraceRequest({ threadId: threadOf(event) })).body.stackFrames[0]!;
      const scopes = (await dc.scopesRequest({ frameId: top.id })).body.scopes;
      assert.ok(scopes.some((s) => s.name.startsWith('Exception')), scopes.map((s) => s.name).join());
    } finally {
      await load.stop();
      await dc.setExceptionBreakpointsRequest({ filters: [] });
    }
  });

  it('version skew: a pod running another version of the file than the workspace is named', async () => {
    const workspace = tempDir('sg-skew-');
    mkdirSync(join(workspace, 'demo', 'gateway'), { recursive: true });
    const local = join(workspace, 'demo', 'gateway', 'server.ts');
    writeFileSync(local, `${readFileSync(GATEWAY_SOURCE, 'utf8')}\n// edited in the workspace, not deployed\n`);
    const dc = await client({ localRoot: workspace });
    const output = record<DebugProtocol.OutputEvent>(dc, 'output');
    const set = await dc.setBreakpointsRequest({ source: { path: local }, breakpoints: [{ line: SIGNATURE_LINE }] });
    assert.match(set.body.breakpoints[0]!.message ?? '', /^installed on 2\/2 pods; gw-1, gw-2 run a different version of server\.ts than the workspace$/);
    await eventually('the warning', () => /Warning: gw-1 \(version 1\.4\.2\) runs a different version of demo\/gateway\/server\.ts than the workspace/.test(outputText(output)));
  });

  it('breakpoint state follows the fleet: a breakpoint that expires says so', async () => {
    const dc = await client({ breakpointTtlMinutes: 0.05 });
    const set = await dc.setBreakpointsRequest({ source: { path: GATEWAY_SOURCE }, breakpoints: [{ line: ROUTE_LINE }] });
    assert.equal(set.body.breakpoints[0]!.message, 'installed on 2/2 pods');
    await breakpointMessage(dc, set.body.breakpoints[0]!.id!, /^expired on gw-1, gw-2: expired at/);
  });
});
