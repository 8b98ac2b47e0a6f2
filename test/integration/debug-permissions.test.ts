/**
 * The product's NATS permission sample (docs/nats-permissions.conf) on a real nats-server with users, for
 * debugging: the pod serves its debug subjects, a debugger user sets breakpoints and reads the audit trail, and a
 * viewer is refused, in words.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { connect } from 'nats';
import { startAgent } from '../../src/agent';
import { natsConnectionOptions } from '../../src/common/natsOptions';
import { listPods, requestDebug } from '../../src/common/podClient';
import { ensureStreamsAt } from '../../src/common/streams';
import { startNatsServer } from '../../src/launch/nats';
import { markerLine } from '../fixtures/debugTarget';
import { attach, lineOf, startClient } from '../support/debug';
import { repoRoot } from '../support/services';

const run = promisify(execFile);
const SAMPLE = join(repoRoot, 'docs', 'nats-permissions.conf');
const FIXTURE = join(repoRoot, 'test', 'fixtures', 'debugTarget.ts');

describe('NATS permissions for debugging (docs/nats-permissions.conf)', () => {
  it('lets the debugger role set breakpoints and read the audit trail, and refuses a viewer, saying why', async () => {
    Object.assign(process.env, { SG_POD_PASSWORD: 'pod-pw', SG_SERVER_PASSWORD: 'server-pw', SG_DEBUGGER_PASSWORD: 'debugger-pw', SG_VIEWER_PASSWORD: 'viewer-pw' });
    const server = await startNatsServer({ extraArgs: ['-c', SAMPLE] });
    const url = (user: string, password: string) => server.url.replace('nats://', `nats://${user}:${password}@`);
    // The server role owns the streams, the audit trail's among them; the pod needs no JetStream API.
    await ensureStreamsAt(url('server', 'server-pw'));
    const agent = await startAgent({ nats: { url: server.url, user: 'gw-1', password: 'pod-pw' }, service: 'gateway', pod: 'gw-1', version: '1.0.0', heapIntervalBytes: 0 });
    const debuggerClient = await startClient();
    const viewerClient = await startClient();
    try {
      await attach(debuggerClient, { nats: server.url, natsOptions: { user: 'debugger', password: 'debugger-pw' }, selector: { service: 'gateway' } });
      // This test process is the pod, and it has loaded debugTarget.ts (markerLine comes from it).
      assert.equal(typeof markerLine, 'function');
      const line = lineOf(FIXTURE, '// BREAK:handleOrder');
      const allowed = await debuggerClient.setBreakpointsRequest({ source: { path: FIXTURE }, breakpoints: [{ line }] });
      assert.equal(allowed.body.breakpoints[0]!.message, 'installed on 1/1 pods', 'the debugger reached the pod');

      await attach(viewerClient, { nats: server.url, natsOptions: { user: 'viewer', password: 'viewer-pw' }, selector: { service: 'gateway' } });
      const { body } = await viewerClient.threadsRequest();
      assert.deepEqual(body.threads.map((t) => t.name), ['gateway/gw-1 (1.0.0)'], 'a viewer sees the fleet');
      const refused = await viewerClient.setBreakpointsRequest({ source: { path: FIXTURE }, breakpoints: [{ line }] });
      assert.equal(refused.body.breakpoints[0]!.verified, false);
      assert.match(refused.body.breakpoints[0]!.message ?? '', /gw-1: NATS refused this user permission to publish to sg\.dbg\.gw-1\.sync: debugging needs the debugger role/);

      // The same from a bare client: the refusal is NATS's, not the adapter's politeness.
      const nc = await connect(natsConnectionOptions({ url: server.url, user: 'viewer', password: 'viewer-pw' }, 'viewer'));
      try {
        assert.deepEqual((await listPods(nc)).map((p) => p.pod), ['gw-1']);
        await assert.rejects(requestDebug(nc, 'gw-1', 'sync', { session: 'viewer-session', identity: 'viewer', breakpoints: [] }, 3000), /NATS refused this user permission to publish to sg\.dbg\.gw-1\.sync/);
      } finally {
        await nc.close();
      }

      // The pod kept the debugger's action in SG_AUDIT, and the debugger role may read it.
      const { stdout } = await run(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'debug', 'audit', '--json', '--since', '10m', '--nats', url('debugger', 'debugger-pw')], { cwd: repoRoot });
      const events = JSON.parse(stdout) as { pod: string; action: string; who: string }[];
      assert.ok(events.some((e) => e.pod === 'gw-1' && e.who === 'debugger'), `the debugger's breakpoint is in the audit trail: ${stdout}`);
    } finally {
      await viewerClient.stop();
      await debuggerClient.stop();
      await agent.stop();
      await server.stop();
    }
  });
});
