/**
 * An editor's language server in shared mode: it finds a team's `sg server` through the sg-server service,
 * serves its views from it (the same figures), and ingests nothing itself; in auto mode it is embedded while no
 * server answers and shared once one does.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startAgent } from '../../src/agent';
import { createLogger } from '../../src/common/logger';
import { ensureStreamsAt } from '../../src/common/streams';
import { Backend } from '../../src/server/backend';
import { eventually, ownNats, tempDir } from '../support/services';

const quiet = () => new Backend(createLogger(() => {}, 'error'));

describe('shared mode', () => {
  it('serves the views from a shared server and ingests nothing itself', async () => {
    const nats = await ownNats();
    await ensureStreamsAt(nats.url);
    const editorAuto = quiet();
    const team = quiet();
    const editorShared = quiet();
    const agent = await startAgent({ nats: nats.url, service: 'gateway', pod: 'gw-s', version: '1.0.0', heapIntervalBytes: 0, metricsIntervalMs: 200 });
    try {
      // Alone on the NATS, an editor in auto mode is embedded: it ingests into its own store.
      await editorAuto.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDir(), 'auto.duckdb') }, mode: 'auto' });
      await eventually('the auto editor embedded and ingesting', () => editorAuto.status().mode === 'embedded' && editorAuto.status().ingest?.state === 'running', 30_000);
      await editorAuto.dispose();

      await team.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDir(), 'team.duckdb') }, mode: 'embedded' });
      await eventually('the team server ingesting', () => team.status().ingest?.state === 'running', 30_000);
      await editorShared.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDir(), 'editor.duckdb') }, mode: 'auto' });
      await eventually('the editor in shared mode', () => editorShared.status().mode === 'shared' && editorShared.status().sharedServer !== undefined, 30_000);
      const status = editorShared.status();
      assert.equal(status.ingest, undefined, 'a shared-mode editor ingests nothing');
      assert.equal(status.live, undefined, 'and keeps no live windows');
      assert.equal(status.sharedServer?.ingest, true);

      for (let i = 0; i < 50; i++) agent.counter('gw_http_requests_total', { route: 'GET /x', code: '200' }).inc();
      assert.equal(await agent.flush(), true);
      const now = Date.now();
      const query = { metric: 'gw_http_requests_total', from: now - 60_000, to: now + 1000, stepMs: 61_000 };
      await eventually('the requests counted by the team server', async () => (await team.api.series(query)).series[0]?.total === 50, 30_000);
      const viaEditor = await editorShared.api.series(query);
      assert.equal(viaEditor.series[0]?.total, 50, 'the editor shows the team server\'s figures');
      assert.equal(editorShared.windows.size, 0, 'the editor holds no series of its own');
    } finally {
      await agent.stop();
      await editorShared.dispose();
      await team.dispose();
      await editorAuto.dispose();
      await nats.stop();
    }
  });
});
