/** Each real service the product uses starts, is reachable from our code, and stops. */
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'nats';
import { startClickHouse } from '../../src/launch/clickhouse';
import { startNatsServer } from '../../src/launch/nats';
import { ClickHouseStore } from '../../src/server/store/clickhouse';
import { DuckDbStore } from '../../src/server/store/duckdb';
import { SCHEMA_VERSION } from '../../src/server/store/schema';
import { sql } from '../../src/server/store/sql';
import { sharedClickHouse, tempDir, type Shared } from '../support/services';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('nats-server', () => {
  it('starts with JetStream on a loopback port, answers our client, and stops', async () => {
    const server = await startNatsServer();
    try {
      const nc = await connect({ servers: server.url });
      const jsm = await nc.jetstreamManager();
      const account = await jsm.getAccountInfo();
      assert.equal(typeof account.streams, 'number');
      await nc.close();
    } finally {
      await server.stop();
    }
    assert.equal(await portOpen(server.port), false, 'the port is closed after stop');
  });
});

describe('DuckDB store', () => {
  it('opens a file, applies the schema, and reports its version', async () => {
    const path = join(tempDir(), 'sub', 'streamgate.duckdb');
    const store = new DuckDbStore(path);
    const { version } = await store.open();
    assert.match(version, /^v\d+\.\d+/);
    const rows = await store.query(sql`SELECT value FROM sg_meta WHERE key = ${'schema_version'}`);
    assert.deepEqual(rows, [{ value: String(SCHEMA_VERSION) }]);
    await store.close();
  });
  it('says clearly when the file cannot be created', async () => {
    // A folder cannot be made under a regular file (ENOTDIR), whoever runs the test.
    const store = new DuckDbStore(join(__filename, 'sub', 'streamgate.duckdb'));
    await assert.rejects(store.open(), /cannot create the folder for the DuckDB file .*: ENOTDIR/);
  });
});

describe('clickhouse-server', () => {
  let shared: Shared;
  before(async () => {
    shared = await sharedClickHouse();
  });
  after(() => shared.stop());

  it('is reachable by the store, which creates its database and schema', async () => {
    const database = `sg_test_${process.pid}`;
    const store = new ClickHouseStore({ url: shared.url, database });
    const { version } = await store.open();
    assert.match(version, /^\d+\.\d+/);
    const rows = await store.query({ text: `SELECT value FROM ${database}.sg_meta FINAL WHERE key = ?`, params: ['schema_version'] });
    assert.deepEqual(rows, [{ value: String(SCHEMA_VERSION) }]);
    await store.close();
  });

  it('starts in a folder of its own and stops', async () => {
    const server = await startClickHouse({ dir: tempDir('sg-ch-') });
    const response = await fetch(`${server.url}/ping`);
    assert.equal((await response.text()).trim(), 'Ok.');
    await server.stop();
    assert.equal(await portOpen(server.httpPort), false);
  });

  it('reports an unreachable server in words', async () => {
    const store = new ClickHouseStore({ url: 'http://127.0.0.1:1', database: 'x' });
    await assert.rejects(store.open(), /ClickHouse at http:\/\/127\.0\.0\.1:1 is not reachable/);
  });
});
