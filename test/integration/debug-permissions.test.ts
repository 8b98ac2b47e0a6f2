/**
 * The documented NATS permission sample (docs/samples/nats-debug-permissions.conf) on a real nats-server with
 * users: pods serve, a debugger user sets breakpoints, and another user is refused, in words.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect } from 'nats';
import { startAgent } from '../../src/agent';
import { natsConnectionOptions } from '../../src/common/natsOptions';
import { listPods, requestDebug } from '../../src/common/podClient';
import { startNatsServer } from '../../src/launch/nats';
import { markerLine } from '../fixtures/debugTarget';
import { attach, lineOf, startClient } from '../support/debug';
import { repoRoot } from '../support/services';

const SAMPLE = join(repoRoot, 'docs', 'samples', 'nats-debug-permissions.conf');
const FIXTURE = join(repoRoot, 'test', 'fixtures', 'debugTarget.ts');

describe('NATS permissions for debugging', () => {
  it('the sample lets the debugger role set breakpoints and refuses everyone else, saying why', async () => {
    const server = await startNatsServer({ extraArgs: ['-c', SAMPLE] });
    const agent = await startAgent({ nats: { url: server.url, user: 'pod', password: 'change-me-pod' }, service: 'perm', pod: 'perm-1', version: '1.0.0' });
    const debuggerClient = await startClient();
    const viewerClient = await startClient();
    try {
      await attach(debuggerClient, { nats: server.url, natsOptions: { user: 'debugger', password: 'change-me-debugger' }, selector: { service: 'perm' } });
      // This test process is the pod, and it has loaded debugTarget.ts (markerLine comes from it).
      assert.equal(typeof markerLine, 'function');
      const line = lineOf(FIXTURE, '// BREAK:handleOrder');
      const allowed = await debuggerClient.setBreakpointsRequest({ source: { path: FIXTURE }, breakpoints: [{ line }] });
      assert.equal(allowed.body.breakpoints[0]!.message, 'installed on 1/1 pods', 'the debugger reached the pod');

      await attach(viewerClient, { nats: server.url, natsOptions: { user: 'viewer', password: 'change-me-viewer' }, selector: { service: 'perm' } });
      const { body } = await viewerClient.threadsRequest();
      assert.deepEqual(body.threads.map((t) => t.name), ['perm/perm-1 (1.0.0)'], 'a viewer sees the fleet');
      const refused = await viewerClient.setBreakpointsRequest({ source: { path: FIXTURE }, breakpoints: [{ line }] });
      assert.equal(refused.body.breakpoints[0]!.verified, false);
      assert.match(refused.body.breakpoints[0]!.message ?? '', /perm-1: NATS refused this user permission to publish to sg\.dbg\.perm-1\.sync: debugging needs the debugger role/);

      // The same from a bare client: the refusal is NATS's, not the adapter's politeness.
      const nc = await connect(natsConnectionOptions({ url: server.url, user: 'viewer', password: 'change-me-viewer' }, 'viewer'));
      try {
        assert.deepEqual((await listPods(nc)).map((p) => p.pod), ['perm-1']);
        await assert.rejects(requestDebug(nc, 'perm-1', 'sync', { session: 'viewer-session', identity: 'viewer', breakpoints: [] }, 3000), /NATS refused this user permission to publish to sg\.dbg\.perm-1\.sync/);
      } finally {
        await nc.close();
      }
    } finally {
      await viewerClient.stop();
      await debuggerClient.stop();
      await agent.stop();
      await server.stop();
    }
  });
});
