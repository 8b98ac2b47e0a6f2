/**
 * The template miner in the product: log lines become log_lines and log_counts rows beside their logs rows,
 * finished minutes raise template-rate anomalies on the typed event API, the miner's state survives a
 * restart through the store, and the analyzer's queries read it all back. Uses DuckDB in memory (embedded).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/common/logger';
import type { LogTemplateAnomaly } from '../../src/protocol/logs';
import { PROTOCOL_VERSION, type LogBatch, type LogRecord } from '../../src/protocol/nats';
import { LogTemplateEvents, LogTemplateIndex } from '../../src/server/logs/templateIndex';
import { LocalLogs } from '../../src/server/logs/templateQueries';
import { DuckDbStore } from '../../src/server/store/duckdb';
import { emptyBatch, rowsOf, type RowBatch } from '../../src/server/store/rows';
import { TABLES } from '../../src/server/store/schema';

const log = createLogger(() => {}, 'error', 'test');
const MINUTE = 60_000;
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 40 * MINUTE;
let seq = 0;

function message(pod: string, logs: LogRecord[]): LogBatch {
  seq++;
  return { v: PROTOCOL_VERSION, id: `m${seq}`, service: 'gateway', pod, ts: logs[0]?.ts ?? T0, seq, kind: 'logs', logs };
}

function line(ts: number, msg: string, extra: Partial<LogRecord> = {}): LogRecord {
  return { id: `l${seq}.${Math.random().toString(36).slice(2)}`, ts, level: 'info', msg, ...extra };
}

async function ingest(store: DuckDbStore, index: LogTemplateIndex, m: LogBatch): Promise<RowBatch> {
  const rows = emptyBatch();
  const tables = rowsOf(m, []);
  index.enrich(m, tables);
  for (const t of TABLES) rows[t].push(...(tables[t] ?? []));
  await store.write(rows);
  index.written(rows);
  return rows;
}

describe('log templates in the product', () => {
  it('mines each line into log_lines and per-minute log_counts rows', async () => {
    const store = new DuckDbStore(':memory:');
    await store.open();
    const index = await LogTemplateIndex.open(store, new LogTemplateEvents(), log);
    const site = { file: '/srv/demo/gateway/server.ts', line: 129 };
    const rows = await ingest(store, index, message('gw-1', [line(T0 + 1000, 'request failed: timeout after 30 ms', { site, level: 'error', traceId: 'ab'.repeat(16) }), line(T0 + 2000, 'request failed: timeout after 45 ms', { site, level: 'error' }), line(T0 + MINUTE + 5, 'gateway gw-1 listening on 127.0.0.1:8080')]));
    assert.equal(rows.log_lines.length, 3);
    assert.equal(rows.log_lines[0]!.template_id, rows.log_lines[1]!.template_id);
    assert.notEqual(rows.log_lines[0]!.template_id, rows.log_lines[2]!.template_id);
    assert.deepEqual(rows.log_lines[1]!.params, ['45']);
    assert.equal(rows.log_lines[0]!.site, '/srv/demo/gateway/server.ts:129');
    assert.equal(rows.log_lines[0]!.trace_id, 'ab'.repeat(16));
    assert.deepEqual(
      rows.log_counts.map((r) => [r.ts, r.level, r.count]),
      [
        [T0, 'error', 2],
        [T0 + MINUTE, 'info', 1],
      ],
    );
    const logs = new LocalLogs(() => store, () => index, new LogTemplateEvents(), log);
    const result = await logs.templates({ from: T0 - MINUTE, to: T0 + 3 * MINUTE });
    assert.equal(result.lines, 3);
    const failed = result.templates.find((t) => t.template.startsWith('request failed'))!;
    assert.equal(failed.count, 2);
    assert.deepEqual(failed.levels, { error: 2 });
    assert.deepEqual(failed.pods, ['gw-1']);
    assert.deepEqual(failed.site, site);
    assert.equal(failed.firstSeen, T0);
    assert.equal(failed.sparkline.reduce((a, b) => a + b, 0), 2);
    // Filtered by trace: only the line that carries it.
    const byTrace = await logs.templates({ from: T0 - MINUTE, to: T0 + 3 * MINUTE, traceId: 'AB'.repeat(16) });
    assert.deepEqual(byTrace.templates.map((t) => [t.id, t.count]), [[failed.id, 1]]);
    const detail = await logs.template({ templateId: failed.id, from: T0 - MINUTE, to: T0 + 3 * MINUTE });
    assert.deepEqual(detail.lines.map((l) => l.msg), ['request failed: timeout after 45 ms', 'request failed: timeout after 30 ms']);
    assert.deepEqual(detail.params[0]!.values.map((v) => v.value).sort(), ['30', '45']);
    assert.deepEqual(detail.site, site);
    await assert.rejects(logs.template({ templateId: 99_999 }), /no log template 99999/);
    await index.close();
    await store.close();
  });

  it('publishes new, jump and vanished templates on the event API as minutes finish', async () => {
    const store = new DuckDbStore(':memory:');
    await store.open();
    const events = new LogTemplateEvents();
    const heard: LogTemplateAnomaly[] = [];
    const unsubscribe = events.onAnomaly((a) => heard.push(a));
    events.onAnomaly(() => {
      throw new Error('a broken subscriber');
    });
    const index = await LogTemplateIndex.open(store, events, log);
    for (let minute = 0; minute < 30; minute++) {
      const at = T0 + minute * MINUTE;
      const lines: LogRecord[] = [];
      const steady = minute === 20 ? 200 : 10;
      for (let i = 0; i < steady; i++) lines.push(line(at + i, `session ${i} subscribed to stream s${i}`));
      if (minute < 15) for (let i = 0; i < 10; i++) lines.push(line(at + i, `cache warmed ${i} entries`));
      if (minute === 25) lines.push(line(at, 'disk quota exceeded on volume data'));
      await ingest(store, index, message('gw-1', lines));
    }
    const raised = index.judgeMinutes(T0 + 40 * MINUTE);
    assert.deepEqual(heard, raised, 'every anomaly returned was published');
    const kinds = raised.map((a) => `${a.kind} ${a.template.split(' ')[0]} @${(a.minute - T0) / MINUTE}`);
    assert.ok(kinds.includes('jump session @20'), kinds.join('; '));
    assert.ok(kinds.includes('new disk @25'), kinds.join('; '));
    assert.ok(kinds.some((k) => k.startsWith('vanished cache @')), kinds.join('; '));
    assert.ok(!kinds.some((k) => k.startsWith('jump cache') || k.startsWith('new session')), 'steady templates raise nothing');
    const jump = raised.find((a) => a.kind === 'jump')!;
    assert.equal(jump.count, 200);
    assert.equal(jump.expected, 10);
    unsubscribe();
    assert.equal(events.recent().length, raised.length);
    await index.close();
    await store.close();
  });

  it('keeps template ids across a restart through the store', async () => {
    const store = new DuckDbStore(':memory:');
    await store.open();
    const first = await LogTemplateIndex.open(store, new LogTemplateEvents(), log);
    const a = await ingest(store, first, message('gw-1', [line(T0, 'user alice logged in from 10.0.0.1'), line(T0, 'stream s1 closed after 5 s')]));
    await first.close();
    const second = await LogTemplateIndex.open(store, new LogTemplateEvents(), log);
    const b = await ingest(store, second, message('gw-2', [line(T0 + 5, 'stream s9 closed after 7 s'), line(T0 + 6, 'user alice logged in from 10.0.0.2')]));
    assert.equal(b.log_lines[0]!.template_id, a.log_lines[1]!.template_id);
    assert.equal(b.log_lines[1]!.template_id, a.log_lines[0]!.template_id);
    // A damaged saved state is refused (and logged); mining goes on with a fresh miner.
    await store.setMeta('log_miner_state', '{"version": 999}');
    const third = await LogTemplateIndex.open(store, new LogTemplateEvents(), log);
    assert.equal(third.miner.stats().templates, 0);
    await second.close();
    await third.close();
    await store.close();
  });
});
