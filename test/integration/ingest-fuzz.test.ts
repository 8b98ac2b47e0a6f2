/**
 * The whole ingest under fuzzed traffic on real NATS and DuckDB: valid messages, the same messages again (with
 * and without the Nats-Msg-Id header), and broken ones, interleaved. Every valid item is stored exactly once,
 * every broken message is dead-lettered, none stops the server.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { connect, headers } from 'nats';
import { createLogger } from '../../src/common/logger';
import { ensureStreamsAt } from '../../src/common/streams';
import { DEAD_LETTER_STREAM, INGEST_CONSUMER, TELEMETRY_STREAM } from '../../src/protocol/nats';
import { Backend } from '../../src/server/backend';
import { eventually, ownNats, tempDir } from '../support/services';
import { brokenMessage, eventBatch, logBatch, validMessage } from '../support/telemetryArbitraries';

describe('ingest under fuzzed traffic', () => {
  it('stores every valid item once, dead-letters every broken message, and keeps running', async () => {
    const nats = await ownNats();
    await ensureStreamsAt(nats.url);
    const backend = new Backend(createLogger(() => {}, 'error'));
    await backend.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path: join(tempDir(), 'fuzz.duckdb') } });
    const nc = await connect({ servers: nats.url });
    try {
      await eventually('ingest running', () => backend.status().ingest?.state === 'running', 30_000);
      const seed = 20261127;
      const valid = [...fc.sample(eventBatch, { numRuns: 60, seed }), ...fc.sample(logBatch, { numRuns: 40, seed }), ...fc.sample(validMessage, { numRuns: 40, seed: seed + 1 })];
      const broken = fc.sample(brokenMessage, { numRuns: 80, seed });
      const js = nc.jetstream();
      const enc = new TextEncoder();
      let i = 0;
      for (const m of valid) {
        const data = enc.encode(JSON.stringify(m.body));
        await js.publish(m.subject, data, { msgID: m.body.id });
        // A retry within the duplicate window (JetStream drops it), and a copy without the header (the ingest must).
        if (i % 3 === 0) await js.publish(m.subject, data, { msgID: m.body.id });
        if (i % 4 === 0) await js.publish(m.subject, data, { headers: headers() });
        const b = broken[i % broken.length]!;
        if (i < broken.length) await js.publish(b.subject, typeof b.data === 'string' ? enc.encode(b.data) : new Uint8Array(b.data));
        i++;
      }
      for (; i < broken.length; i++) {
        const b = broken[i]!;
        await js.publish(b.subject, typeof b.data === 'string' ? enc.encode(b.data) : new Uint8Array(b.data));
      }
      const events = valid.flatMap((m) => ((m.body as { events?: { id: string }[] }).events ?? []).map((e) => e.id));
      const logs = valid.flatMap((m) => ((m.body as { logs?: { id: string }[] }).logs ?? []).map((l) => l.id));
      // Everything published has been delivered and acknowledged: what the store holds now is final.
      const jsm = await nc.jetstreamManager();
      await eventually(
        'the ingest consumer drained',
        async () => {
          const info = await jsm.consumers.info(TELEMETRY_STREAM, INGEST_CONSUMER);
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        60_000,
      );
      assert.equal(backend.status().ingest?.deadLettered, broken.length, 'every broken message dead-lettered');
      const store = backend.requireStore();
      const count = async (table: string) => Number((await store.query({ text: `SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${table}`, params: [] }))[0]?.n);
      assert.equal(await count('events'), events.length, 'every event once');
      assert.equal(await count('logs'), logs.length, 'every log record once');
      const dlq = await jsm.streams.info(DEAD_LETTER_STREAM);
      assert.equal(dlq.state.messages, broken.length, 'every broken message in the dead-letter stream');
      assert.equal(backend.status().ingest?.state, 'running', 'ingest carries on');
      assert.ok((backend.status().ingest?.duplicates ?? 0) > 0, 'copies without the header were recognised');
    } finally {
      await nc.close();
      await backend.dispose();
      await nats.stop();
    }
  });
});
