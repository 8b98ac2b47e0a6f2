/** `sg debug` as a real process against real gateway pods: the --json contract, logpoints, the audit trail. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { TENANTS } from '../../demo/gateway/tenants';
import type { Sandbox } from '../../src/launch/sandbox';
import type { SnapshotJson } from '../../src/protocol/dap';
import { GATEWAY_SOURCE, gatewayFleet, lineOf, traffic } from '../support/debug';
import { repoRoot, sharedNats, type Shared } from '../support/services';

const run = promisify(execFile);
const CLI = join(repoRoot, 'dist', 'cli.js');
const LINE = lineOf(GATEWAY_SOURCE, 'const signature = incidents.isActive');

describe('sg debug', () => {
  let nats: Shared;
  let fleet: Sandbox;
  before(async () => {
    nats = await sharedNats();
    fleet = await gatewayFleet(nats.url, 2);
  });
  after(async () => {
    await fleet.stop();
    await nats.stop();
  });

  async function sg(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const load = fleet.pods.map((p) => traffic(p.port, TENANTS[1]));
    try {
      return await run(process.execPath, [CLI, 'debug', ...args, '--nats', nats.url], { cwd: repoRoot, timeout: 90_000 });
    } finally {
      await Promise.all(load.map((l) => l.stop()));
    }
  }

  it('snapshot --json prints exactly { pod, service, breakpoint, at, frames, watches, leftOut }', async () => {
    // 50 ms for the capture: this test is about the JSON, and a loaded machine can take more than the default 5 ms
    // of CPU for the first evaluation of a watch (the budget itself is tested in test/adapter/debug-faults).
    const { stdout } = await sg(['snapshot', `demo/gateway/server.ts:${LINE}`, '--json', '--watch', 'tenant.id', '--watch', 'raw.length > 0', '--capture-ms', '50', '--selector', 'service=gateway', '--timeout', '60']);
    const json = JSON.parse(stdout) as SnapshotJson;
    assert.deepEqual(Object.keys(json).sort(), ['at', 'breakpoint', 'frames', 'leftOut', 'pod', 'service', 'watches']);
    // What the limits cut, each naming its limit; the gateway's objects are deeper than the default 3 levels.
    for (const reason of json.leftOut) assert.match(reason, /\((maxDepth|maxProperties|maxStringLength|maxSnapshotBytes)\)$/);
    assert.ok(json.leftOut.some((reason) => reason.endsWith('(maxDepth)')), JSON.stringify(json.leftOut));
    assert.match(json.pod, /^gw-[12]$/);
    assert.equal(json.service, 'gateway');
    assert.deepEqual(json.breakpoint, { file: 'demo/gateway/server.ts', line: LINE });
    assert.ok(!Number.isNaN(Date.parse(json.at)));
    const top = json.frames[0]!;
    assert.deepEqual(Object.keys(top).sort(), ['file', 'function', 'line', 'locals']);
    assert.deepEqual([top.function, top.file, top.line], ['publish', 'demo/gateway/server.ts', LINE]);
    assert.equal((top.locals.tenant as { id: string }).id, TENANTS[1]!.id);
    assert.equal((top.locals.tenant as { apiKey: string }).apiKey, '[redacted]');
    assert.deepEqual(json.watches, { 'tenant.id': TENANTS[1]!.id, 'raw.length > 0': true });
    for (const tenant of TENANTS) assert.ok(!stdout.includes(tenant.apiKey));
  });

  it('logpoint streams lines as JSON until --count', async () => {
    const { stdout } = await sg(['logpoint', `demo/gateway/server.ts:${LINE}`, 'tenant {tenant.id} on {stream}', '--count', '2', '--json']);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { pod: string; service: string; at: string; text: string });
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.deepEqual(Object.keys(line).sort(), ['at', 'pod', 'service', 'text']);
      assert.equal(line.text, `tenant ${TENANTS[1]!.id} on traffic`.replace('traffic', 'orders'));
    }
  });

  it('a refused condition fails at once with the reason; audit prints who did what', async () => {
    await assert.rejects(sg(['snapshot', `demo/gateway/server.ts:${LINE}`, '--condition', 'tenant.id = "x"', '--timeout', '10']), (error: { stderr: string; code: number }) => {
      assert.match(error.stderr, /the breakpoint was rejected: condition assigns to tenant\.id: conditions and watches may only read/);
      assert.equal(error.code, 1);
      return true;
    });
    const { stdout } = await run(process.execPath, [CLI, 'debug', 'audit', '--since', '10m', '--json', '--nats', nats.url], { cwd: repoRoot });
    const events = JSON.parse(stdout) as { action: string; who: string; pod: string; breakpoint?: { line: number } }[];
    assert.ok(events.some((e) => e.action === 'set' && e.breakpoint?.line === LINE));
    assert.ok(events.some((e) => e.action === 'remove' && e.breakpoint?.line === LINE), 'sg debug removes its breakpoint when it is done');
  });
});
