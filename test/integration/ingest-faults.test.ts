/**
 * Faults with real processes, and the rows afterwards equal exactly what the pods sent — no more, no less:
 * the server killed with SIGKILL mid-ingest and started again, NATS killed and restarted mid-ingest, ClickHouse
 * stopped mid-ingest (ingest pauses without acknowledging and resumes), and two ingesting servers sharing one
 * ClickHouse with one of them killed, beside a third that only answers queries.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect } from 'nats';
import { startAgent, type Agent } from '../../src/agent';
import { createLogger } from '../../src/common/logger';
import { ensureStreamsAt } from '../../src/common/streams';
import { startClickHouse } from '../../src/launch/clickhouse';
import { freePort, spawnService, type ServiceProcess } from '../../src/launch/process';
import { INGEST_CONSUMER, TELEMETRY_STREAM } from '../../src/protocol/nats';
import type { StoreSettings } from '../../src/protocol/settings';
import { Backend } from '../../src/server/backend';
import { RemoteAnalytics } from '../../src/server/sharedClient';
import { createStore } from '../../src/server/store';
import { eventually, ownNats, repoRoot, tempDir } from '../support/services';

const cli = join(repoRoot, 'dist', 'cli.js');

/** A pod that sends business events at a steady pace until stopped; every id it was handed is known. */
function producer(agent: Agent): { stop(): Promise<string[]> } {
  const ids: string[] = [];
  const timer = setInterval(() => {
    for (let i = 0; i < 25; i++) ids.push(agent.event('stream.opened', { tenant: 'acme', stream: `s${ids.length}` }));
  }, 40);
  return {
    async stop() {
      clearInterval(timer);
      assert.equal(await agent.flush(60_000), true, 'the pod delivered everything to JetStream');
      return ids;
    },
  };
}

/** Waits until the shared durable consumer has nothing left to deliver or acknowledge. */
async function ingestDrained(natsUrl: string, timeoutMs = 60_000): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    await eventually(
      'the ingest consumer to drain',
      async () => {
        const info = await jsm.consumers.info(TELEMETRY_STREAM, INGEST_CONSUMER);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      timeoutMs,
    );
  } finally {
    await nc.close();
  }
}

/** The event ids in the store, counted after every server has let go of it. */
async function storedEventIds(store: StoreSettings): Promise<{ rows: number; distinct: Set<string> }> {
  const s = createStore(store);
  await s.open();
  try {
    const rows = await s.query({ text: `SELECT id FROM events WHERE type = ?`, params: ['stream.opened'] });
    return { rows: rows.length, distinct: new Set(rows.map((r) => String(r.id))) };
  } finally {
    await s.close();
  }
}

function startServer(natsUrl: string, store: string, extra: string[] = []): ServiceProcess {
  const service = spawnService('sg-server', process.execPath, [cli, 'server', '--nats', natsUrl, '--store', store, ...extra], { logFile: join(tempDir(), 'server.log') });
  return service;
}

async function serverIngesting(natsUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    await eventually('a server ingesting', async () => {
      const jsm = await nc.jetstreamManager();
      try {
        await jsm.consumers.info(TELEMETRY_STREAM, INGEST_CONSUMER);
        return true;
      } catch {
        return false;
      }
    }, 30_000);
  } finally {
    await nc.close();
  }
}

function assertExactlyOnce(sent: string[], stored: { rows: number; distinct: Set<string> }): void {
  assert.ok(sent.length > 500, `enough traffic to cross the fault (${sent.length} events)`);
  assert.equal(stored.rows, sent.length, `rows stored (${stored.rows}) equal events sent (${sent.length})`);
  assert.equal(stored.distinct.size, sent.length, 'no event stored twice');
  for (const id of sent) assert.ok(stored.distinct.has(id), `event ${id} is in the store`);
}

describe('ingest faults', () => {
  it('loses and doubles nothing when the server is killed with SIGKILL mid-ingest and restarted (DuckDB)', async () => {
    const nats = await ownNats();
    await ensureStreamsAt(nats.url);
    const path = join(tempDir(), 'killed.duckdb');
    let server = startServer(nats.url, `duckdb:${path}`);
    const agent = await startAgent({ nats: nats.url, service: 'fault', pod: 'k1', version: '1.0.0', heapIntervalBytes: 0 });
    try {
      await serverIngesting(nats.url);
      const load = producer(agent);
      await new Promise((r) => setTimeout(r, 2000));
      server.signal('SIGKILL');
      await server.exited;
      await new Promise((r) => setTimeout(r, 1000));
      server = startServer(nats.url, `duckdb:${path}`);
      await new Promise((r) => setTimeout(r, 2000));
      const sent = await load.stop();
      await ingestDrained(nats.url);
      await server.stop();
      assertExactlyOnce(sent, await storedEventIds({ kind: 'duckdb', path }));
    } finally {
      await agent.stop();
      await server.stop();
      await nats.stop();
    }
  });

  it('loses and doubles nothing across a NATS kill -9 and restart mid-ingest (DuckDB)', async () => {
    const nats = await ownNats();
    await ensureStreamsAt(nats.url);
    const path = join(tempDir(), 'nats-restart.duckdb');
    const backend = new Backend(createLogger(() => {}, 'error'));
    await backend.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path } });
    const agent = await startAgent({ nats: nats.url, service: 'fault', pod: 'n1', version: '1.0.0', heapIntervalBytes: 0 });
    try {
      await eventually('ingest running', () => backend.status().ingest?.state === 'running', 30_000);
      const load = producer(agent);
      await new Promise((r) => setTimeout(r, 1500));
      await nats.restart({ downMs: 2000 });
      await new Promise((r) => setTimeout(r, 2000));
      const sent = await load.stop();
      await ingestDrained(nats.url);
      await backend.dispose();
      assertExactlyOnce(sent, await storedEventIds({ kind: 'duckdb', path }));
    } finally {
      await agent.stop();
      await backend.dispose();
      await nats.stop();
    }
  });

  it('pauses without acknowledging while ClickHouse is down, resumes when it is back, and loses and doubles nothing', async () => {
    const nats = await ownNats();
    await ensureStreamsAt(nats.url);
    const dir = tempDir('sg-ch-fault-');
    const httpPort = await freePort();
    let clickhouse = await startClickHouse({ dir, httpPort });
    const store: StoreSettings = { kind: 'clickhouse', url: clickhouse.url, database: 'fault' };
    const backend = new Backend(createLogger(() => {}, 'error'));
    await backend.configure({ nats: { url: nats.url }, store });
    const agent = await startAgent({ nats: nats.url, service: 'fault', pod: 'c1', version: '1.0.0', heapIntervalBytes: 0 });
    try {
      await eventually('ingest running', () => backend.status().ingest?.state === 'running', 30_000);
      const load = producer(agent);
      await new Promise((r) => setTimeout(r, 1500));
      await clickhouse.stop();
      await eventually('ingest paused on the store', () => backend.status().ingest?.state === 'paused' && /store|ECONNREFUSED|connect/i.test(backend.status().ingest?.reason ?? ''), 30_000);
      const sent = await load.stop();
      const nc = await connect({ servers: nats.url });
      const pending = await (await nc.jetstreamManager()).consumers.info(TELEMETRY_STREAM, INGEST_CONSUMER);
      await nc.close();
      assert.ok(pending.num_pending + pending.num_ack_pending > 0, 'what could not be written was not acknowledged');
      clickhouse = await startClickHouse({ dir, httpPort });
      await eventually('ingest running again', () => backend.status().ingest?.state === 'running', 60_000);
      await ingestDrained(nats.url);
      await backend.dispose();
      assertExactlyOnce(sent, await storedEventIds(store));
    } finally {
      await agent.stop();
      await backend.dispose();
      await clickhouse.stop();
      await nats.stop();
    }
  });

  it('shares the ingest between two servers on one ClickHouse, one killed mid-way, while a third only answers queries', async () => {
    const nats = await ownNats();
    await ensureStreamsAt(nats.url);
    const clickhouse = await startClickHouse();
    const spec = `clickhouse:${clickhouse.url}#shared`;
    const first = startServer(nats.url, spec);
    const second = startServer(nats.url, spec);
    const reader = startServer(nats.url, spec, ['--no-ingest']);
    const agent = await startAgent({ nats: nats.url, service: 'fault', pod: 's1', version: '1.0.0', heapIntervalBytes: 0, metricsIntervalMs: 500 });
    try {
      await serverIngesting(nats.url);
      const load = producer(agent);
      await new Promise((r) => setTimeout(r, 2000));
      first.signal('SIGKILL');
      await first.exited;
      await new Promise((r) => setTimeout(r, 2000));
      const sent = await load.stop();
      await ingestDrained(nats.url);
      // Any server of the group answers; the reader never wrote a row but sees them all.
      const nc = await connect({ servers: nats.url });
      try {
        const now = Date.now();
        const answers = await Promise.all(
          Array.from({ length: 6 }, () => new RemoteAnalytics(nc).series({ metric: 'sg_events_total', from: now - 30 * 60_000, to: now + 1000, stepMs: 60_000, where: { type: 'stream.opened' } })),
        );
        for (const answer of answers) assert.equal(answer.series[0]?.total, sent.length, `${answer.source}: the group counts every event once`);
      } finally {
        await nc.close();
      }
      await second.stop();
      await reader.stop();
      assertExactlyOnce(sent, await storedEventIds({ kind: 'clickhouse', url: clickhouse.url, database: 'shared' }));
    } finally {
      await agent.stop();
      for (const s of [first, second, reader]) await s.stop();
      await clickhouse.stop();
      await nats.stop();
    }
  });
});
