import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check } from '../../src/protocol/schema';
import { parseStoreSpec, redactUrl, ServerSettingsSchema } from '../../src/protocol/settings';

describe('store specs (sg server --store)', () => {
  it('reads duckdb:PATH', () => {
    assert.deepEqual(parseStoreSpec('duckdb:/tmp/a.duckdb'), { kind: 'duckdb', path: '/tmp/a.duckdb' });
  });
  it('reads clickhouse:URL#db and defaults the database', () => {
    assert.deepEqual(parseStoreSpec('clickhouse:http://127.0.0.1:8123#metrics'), { kind: 'clickhouse', url: 'http://127.0.0.1:8123', database: 'metrics' });
    assert.deepEqual(parseStoreSpec('clickhouse:http://h:8123'), { kind: 'clickhouse', url: 'http://h:8123', database: 'streamgate' });
  });
  it('explains what is wrong with a bad spec', () => {
    assert.throws(() => parseStoreSpec('postgres:x'), /must be duckdb:PATH or clickhouse:URL, not "postgres:x"/);
    assert.throws(() => parseStoreSpec('duckdb:'), /needs a file path/);
    assert.throws(() => parseStoreSpec('clickhouse:not a url'), /url/i);
    assert.throws(() => parseStoreSpec('clickhouse:http://h:8123#drop table'), /database names are letters, digits and _/);
  });
});

describe('server settings schema', () => {
  it('accepts settings without NATS', () => {
    const parsed = check(ServerSettingsSchema, { nats: null, store: { kind: 'duckdb', path: '/x' } });
    assert.equal(parsed.ok, true);
  });
  it('names the offending field', () => {
    const parsed = check(ServerSettingsSchema, { nats: { url: '' }, store: { kind: 'duckdb', path: '/x' } });
    assert.equal(parsed.ok, false);
    assert.match(parsed.error, /nats\.url: NATS URL is empty/);
    const noStore = check(ServerSettingsSchema, { nats: null });
    assert.match(!noStore.ok ? noStore.error : '', /^store: /);
  });
});

describe('redactUrl', () => {
  it('removes credentials from every URL in a list', () => {
    assert.equal(redactUrl('nats://alice:secret@h1:4222,nats://bob:pw@h2:4222'), 'nats://h1:4222,nats://h2:4222');
    assert.equal(redactUrl('nats://h:4222'), 'nats://h:4222');
  });
});
