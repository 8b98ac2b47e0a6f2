/**
 * docs/nats-permissions.conf, as shipped, on a real nats-server: a pod publishes its telemetry and serves its
 * control subjects but can neither touch the JetStream API nor speak for another pod; the server creates the
 * streams and ingests; a viewer reads the analytics and the fleet but cannot publish telemetry.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { connect } from 'nats';
import { startAgent } from '../../src/agent';
import { createLogger } from '../../src/common/logger';
import { podHealth } from '../../src/common/podClient';
import { startNatsServer } from '../../src/launch/nats';
import { Backend } from '../../src/server/backend';
import { eventually, repoRoot, tempDir } from '../support/services';

const run = promisify(execFile);

describe('NATS permission sample (docs/nats-permissions.conf)', () => {
  it('lets each role do its job and nothing more', async () => {
    const env = { SG_POD_PASSWORD: 'pod-pw', SG_SERVER_PASSWORD: 'server-pw', SG_DEBUGGER_PASSWORD: 'debugger-pw', SG_VIEWER_PASSWORD: 'viewer-pw' };
    Object.assign(process.env, env);
    const nats = await startNatsServer({ extraArgs: ['-c', join(repoRoot, 'docs', 'nats-permissions.conf')] });
    const url = (user: string, password: string) => nats.url.replace('nats://', `nats://${user}:${password}@`);
    const logged: string[] = [];
    const backend = new Backend(createLogger((level, line) => logged.push(`${level} ${line}`), 'info'));
    try {
      // The pod starts before any stream exists: it needs no JetStream API, and its telemetry waits.
      const agent = await startAgent({ nats: { url: nats.url, user: 'gw-1', password: 'pod-pw' }, service: 'gateway', pod: 'gw-1', version: '1.0.0', heapIntervalBytes: 0 });
      try {
        await backend.configure({ nats: { url: url('server', 'server-pw') }, store: { kind: 'duckdb', path: join(tempDir(), 'perm.duckdb') } });
        await eventually('the server ingesting', () => backend.status().ingest?.state === 'running', 30_000).catch((e: Error) => {
          throw new Error(`${e.message}; the server said:\n${logged.join('\n')}`);
        });
        const id = agent.event('session.started', { tenant: 'acme', session: 'perm-1' });
        await eventually('the pod\'s event stored by the server', async () => {
          const rows = await backend.requireStore().query({ text: 'SELECT count(*) AS n FROM events WHERE id = ?', params: [id] });
          return Number(rows[0]?.n) === 1;
        }, 30_000);
        // With the streams in place a permitted publish would be stored: a refusal is the permissions at work.
        const asPod = await connect({ servers: nats.url, user: 'gw-1', pass: 'pod-pw' });
        try {
          const jsm = await asPod.jetstreamManager({ timeout: 3000 }).catch((e: Error) => e);
          assert.ok(jsm instanceof Error && /permission|timeout/i.test(jsm.message), `a pod may not use the JetStream API (${String(jsm)})`);
          await asPod.jetstream().publish('sg.tel.events.gateway.gw-1', new TextEncoder().encode('{}'), { timeout: 3000 });
          await assert.rejects(asPod.jetstream().publish('sg.tel.events.gateway.gw-2', new TextEncoder().encode('{}'), { timeout: 3000 }), /permission|timeout/i, 'a pod may not speak for another pod');
        } finally {
          await asPod.close();
        }
        await eventually('the server sees the pod', () => backend.pods.current.some((p) => p.info.pod === 'gw-1' && p.health !== undefined), 60_000);

        const viewer = await connect({ servers: nats.url, user: 'viewer', pass: 'viewer-pw' });
        try {
          assert.equal((await podHealth(viewer, 'gw-1')).pod, 'gw-1', 'a viewer may ask a pod for its health');
          await assert.rejects(viewer.jetstream().publish('sg.tel.events.gateway.gw-1', new TextEncoder().encode('{}'), { timeout: 3000 }), /permission|timeout/i, 'a viewer may not publish telemetry');
        } finally {
          await viewer.close();
        }
        const { stdout } = await run(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'analytics', 'summary', '--json', '--nats', url('viewer', 'viewer-pw')]);
        const summary = JSON.parse(stdout) as { totals: { activeSessions: number } };
        assert.equal(typeof summary.totals.activeSessions, 'number', 'a viewer reads the analytics through the sg-server service');
      } finally {
        await agent.stop();
      }
    } finally {
      await backend.dispose();
      await nats.stop();
    }
  });
});
