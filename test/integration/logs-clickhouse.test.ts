/**
 * The log analyzer's queries and the miner's saved state on ClickHouse (18.16 in the test run): the same rows
 * and answers as on DuckDB (test/unit/logs-index.test.ts), through SQL that must also run on current releases.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/common/logger';
import { PROTOCOL_VERSION, type LogBatch, type LogRecord } from '../../src/protocol/nats';
import { LogTemplateEvents, LogTemplateIndex } from '../../src/server/logs/templateIndex';
import { LocalLogs } from '../../src/server/logs/templateQueries';
import { ClickHouseStore } from '../../src/server/store/clickhouse';
import { emptyBatch, rowsOf } from '../../src/server/store/rows';
import { TABLES } from '../../src/server/store/schema';
import { sharedClickHouse, type Shared } from '../support/services';

const log = createLogger(() => {}, 'error', 'test');
const MINUTE = 60_000;
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;

describe('log templates on ClickHouse', () => {
  let clickhouse: Shared;
  let store: ClickHouseStore;
  before(async () => {
    clickhouse = await sharedClickHouse();
    store = new ClickHouseStore({ url: clickhouse.url, database: `sg_logs_${process.pid}` });
    await store.open();
  });
  after(async () => {
    await store.close();
    await clickhouse.stop();
  });

  it('stores lines and counts, answers the analyzer, and keeps ids across a restart', async () => {
    const index = await LogTemplateIndex.open(store, new LogTemplateEvents(), log);
    const line = (i: number, minute: number, msg: string, extra: Partial<LogRecord> = {}): LogRecord => ({ id: `ch-${i}`, ts: T0 + minute * MINUTE + i, level: 'warn', msg, ...extra });
    const logs: LogRecord[] = [];
    for (let i = 0; i < 12; i++) logs.push(line(i, i % 4, `slow consumer c${i % 3} lagging by ${i * 10} messages`, { attrs: { 'code.filepath': '/srv/fanout.ts', 'code.lineno': 57 } }));
    logs.push(line(99, 3, 'stream s7 closed by client', { level: 'info' }));
    const message: LogBatch = { v: PROTOCOL_VERSION, id: 'ch-msg-1', service: 'gateway', pod: 'gw-3', ts: T0, seq: 1, kind: 'logs', logs };
    const rows = emptyBatch();
    const tables = rowsOf(message, []);
    index.enrich(message, tables);
    for (const t of TABLES) rows[t].push(...(tables[t] ?? []));
    await store.write(rows);
    index.written(rows);
    const api = new LocalLogs(() => store, () => index, new LogTemplateEvents(), log);
    const result = await api.templates({ from: T0 - MINUTE, to: T0 + 10 * MINUTE, sort: 'count' });
    assert.equal(result.lines, 13);
    const slow = result.templates[0]!;
    assert.match(slow.template, /^slow consumer <\*> lagging by <\*> messages$/);
    assert.equal(slow.count, 12);
    assert.deepEqual(slow.levels, { warn: 12 });
    assert.deepEqual(slow.site, { file: '/srv/fanout.ts', line: 57 });
    assert.equal(slow.firstSeen, T0);
    assert.equal(slow.sparkline.reduce((a, b) => a + b, 0), 12);
    const warnOnly = await api.templates({ from: T0 - MINUTE, to: T0 + 10 * MINUTE, level: 'info' });
    assert.deepEqual(warnOnly.templates.map((t) => t.count), [1]);
    const detail = await api.template({ templateId: slow.id, from: T0 - MINUTE, to: T0 + 10 * MINUTE });
    assert.equal(detail.lines.length, 12);
    assert.ok(detail.lines.every((l) => l.msg.startsWith('slow consumer')));
    // Values are as each line was mined: the first line came before `c0` became a wildcard, so its only value
    // was the count; every later line has both.
    assert.deepEqual(detail.params[0]!.values.map((v) => [v.value, v.count]), [
      ['c1', 4],
      ['c2', 4],
      ['c0', 3],
      ['0', 1],
    ]);
    await index.close();
    const again = await LogTemplateIndex.open(store, new LogTemplateEvents(), log);
    assert.equal(again.miner.match('slow consumer c9 lagging by 5 messages')?.templateId, slow.id);
    await again.close();
  });
});
