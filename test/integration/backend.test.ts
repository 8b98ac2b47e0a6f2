/** The backend against real NATS and DuckDB: states, reconnects after a NATS kill, clear errors. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger, type LogLevel } from '../../src/common/logger';
import { Backend } from '../../src/server/backend';
import type { ServerStatus } from '../../src/protocol/status';
import { eventually, ownNats, tempDir } from '../support/services';

function quietBackend(): { backend: Backend; lines: string[] } {
  const lines: string[] = [];
  const backend = new Backend(createLogger((level: LogLevel, line) => lines.push(`${level} ${line}`), 'debug'));
  return { backend, lines };
}

describe('backend', () => {
  it('connects to NATS, opens DuckDB, and survives a NATS kill and restart', async () => {
    const nats = await ownNats();
    const { backend } = quietBackend();
    const seen: ServerStatus['nats']['state'][] = [];
    backend.on('status', (s) => seen.push(s.nats.state));
    try {
      const status = await backend.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDir(), 'a.duckdb') } });
      assert.equal(status.store.state, 'ready');
      await eventually('NATS connected', () => backend.status().nats.state === 'connected');
      assert.equal(backend.status().nats.server?.jetstream, true);

      await nats.restart({ downMs: 1000 });
      await eventually('NATS reconnected', () => backend.status().nats.state === 'connected' && seen.includes('reconnecting'));
      assert.ok(seen.indexOf('reconnecting') > seen.indexOf('connected'), `states seen: ${seen.join(' → ')}`);
    } finally {
      await backend.dispose();
      await nats.stop();
    }
  });

  it('reports an unreachable NATS in words and keeps trying', async () => {
    const { backend } = quietBackend();
    try {
      await backend.configure({ nats: { url: 'nats://127.0.0.1:1' }, store: { kind: 'duckdb', path: ':memory:' } });
      await eventually('NATS error state', () => backend.status().nats.state === 'error');
      assert.match(backend.status().nats.error ?? '', /no NATS server answers at nats:\/\/127\.0\.0\.1:1/);
    } finally {
      await backend.dispose();
    }
  });

  it('reports a store that cannot open without failing the rest', async () => {
    const { backend } = quietBackend();
    try {
      const status = await backend.configure({ nats: null, store: { kind: 'clickhouse', url: 'http://127.0.0.1:1', database: 'x' } });
      assert.equal(status.store.state, 'error');
      assert.match(status.store.error ?? '', /not reachable/);
      assert.equal(status.nats.state, 'not-configured');
      assert.throws(() => backend.requireStore(), /the store is not ready \(error: ClickHouse/);
    } finally {
      await backend.dispose();
    }
  });

  it('switches stores and NATS servers when reconfigured', async () => {
    const nats = await ownNats();
    const { backend } = quietBackend();
    try {
      await backend.configure({ nats: null, store: { kind: 'duckdb', path: join(tempDir(), 'one.duckdb') } });
      const second = join(tempDir(), 'two.duckdb');
      const status = await backend.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path: second } });
      assert.equal(status.store.location, second);
      assert.equal(status.store.state, 'ready');
      await eventually('NATS connected', () => backend.status().nats.state === 'connected');
    } finally {
      await backend.dispose();
      await nats.stop();
    }
  });

  it('ends on the newest NATS setting when two reconfigurations overlap, the first closing a dead connection', async () => {
    const first = await ownNats();
    const second = await ownNats();
    const { backend } = quietBackend();
    try {
      await backend.configure({ nats: { url: first.url }, store: { kind: 'duckdb', path: ':memory:' } });
      await eventually('NATS connected', () => backend.status().nats.state === 'connected');
      // The fleet went away: the connection waits to reconnect, as the extension's does when a sandbox stops.
      await first.stop();
      await eventually('NATS reconnecting', () => backend.status().nats.state === 'reconnecting');
      // The extension clears the URL, then points at a new fleet before the first change has finished.
      const cleared = backend.configure({ nats: null, store: { kind: 'duckdb', path: ':memory:' } });
      const pointed = backend.configure({ nats: { url: second.url }, store: { kind: 'duckdb', path: ':memory:' } });
      await Promise.all([cleared, pointed]);
      await eventually('NATS connected to the new server', () => backend.status().nats.state === 'connected' && backend.status().nats.url === second.url);
      // Both changes have finished: nothing late may overwrite the newest.
      await cleared;
      assert.equal(backend.status().nats.state, 'connected');
      assert.equal(backend.status().nats.url, second.url);
    } finally {
      await backend.dispose();
      await second.stop();
    }
  });
});
