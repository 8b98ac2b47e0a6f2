/**
 * The DuckDB store folds its write-ahead log into the database file itself, as a statement after a write (off the
 * JavaScript thread), instead of letting DuckDB do it inside a commit: the log never grows far past 16 MB, and no
 * row is lost or doubled on the way, including across a reopen.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createStore } from '../../src/server/store';
import type { Row } from '../../src/server/store/rows';
import { tempDir } from '../support/services';

function events(batch: number, n: number): Row[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    ts: now - i,
    id: `b${batch}.e${i}.${'x'.repeat(40)}`,
    service: 'gateway',
    pod: `gw-${i % 8}`,
    type: 'session.started',
    tenant: `t${i % 16}`,
    session: `s-${batch}-${i}-${Math.random().toString(36).slice(2)}`,
    stream: '',
    trace_id: '',
    attrs: JSON.stringify({ client: `c${i % 500}`, plan: 'team' }),
    msg_id: `m${batch}.${Math.floor(i / 100)}`,
  }));
}

describe('DuckDB store', () => {
  it('checkpoints after the write that takes its log past 16 MB, losing and doubling nothing', async () => {
    const path = join(tempDir(), 'ckpt.duckdb');
    const walBytes = () => {
      try {
        return statSync(`${path}.wal`).size;
      } catch {
        return 0;
      }
    };
    const store = createStore({ kind: 'duckdb', path });
    await store.open();
    const sizes: number[] = [];
    let written = 0;
    for (let batch = 0; batch < 6; batch++) {
      const rows = events(batch, 40_000);
      await store.write({ events: rows });
      written += rows.length;
      sizes.push(walBytes());
    }
    // A log that grew past 16 MB is folded before the next write: it shrinks at least once and never reaches twice that.
    assert.ok(sizes.some((size, i) => i > 0 && size < sizes[i - 1]!), `the log was folded: ${sizes.join(', ')}`);
    assert.ok(Math.max(...sizes) < 32 * 1024 * 1024, `the log stays under 32 MB: ${sizes.join(', ')}`);
    assert.ok(Math.max(...sizes) > 16 * 1024 * 1024, `the writes took the log past 16 MB at least once: ${sizes.join(', ')}`);
    const count = async () => Number((await store.query({ text: 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM events', params: [] }))[0]?.n);
    assert.equal(await count(), written);
    await store.close();
    const again = createStore({ kind: 'duckdb', path });
    await again.open();
    const [row] = await again.query({ text: 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM events', params: [] });
    assert.deepEqual([Number(row?.n), Number(row?.d)], [written, written], 'every row once, after reopening');
    await again.close();
  });
});
