import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { explainNatsError, natsConnectionOptions } from '../../src/common/natsOptions';
import { tempDir } from '../support/services';

describe('NATS connection options', () => {
  it('splits a cluster list', () => {
    const options = natsConnectionOptions({ url: 'nats://a:1, nats://b:2' }, 'test');
    assert.deepEqual(options.servers, ['nats://a:1', 'nats://b:2']);
    assert.equal(options.name, 'test');
  });
  it('passes token and user/password', () => {
    assert.equal(natsConnectionOptions({ url: 'nats://a:1', token: 't0k' }, 'x').token, 't0k');
    const up = natsConnectionOptions({ url: 'nats://a:1', user: 'u', password: 'p' }, 'x');
    assert.equal(up.user, 'u');
    assert.equal(up.pass, 'p');
  });
  it('takes user and password (or a token) from the URL, and strips them from the servers', () => {
    const up = natsConnectionOptions({ url: 'nats://viewer:p%40ss@h:4222' }, 'x');
    assert.deepEqual(up.servers, ['nats://h:4222']);
    assert.equal(up.user, 'viewer');
    assert.equal(up.pass, 'p@ss');
    const token = natsConnectionOptions({ url: 'nats://s3cret@h:4222' }, 'x');
    assert.equal(token.token, 's3cret');
    assert.equal(token.user, undefined);
    const explicit = natsConnectionOptions({ url: 'nats://a:b@h:4222', user: 'u', password: 'p' }, 'x');
    assert.equal(explicit.user, 'u', 'a setting wins over the URL');
  });
  it('turns on TLS for tls:// URLs and for configured files', () => {
    assert.deepEqual(natsConnectionOptions({ url: 'tls://a:1' }, 'x').tls, {});
    const dir = tempDir();
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'not really a certificate');
    assert.deepEqual(natsConnectionOptions({ url: 'nats://a:1', tls: { caFile: ca } }, 'x').tls, { caFile: ca });
  });
  it('fails clearly on a missing credentials or TLS file', () => {
    assert.throws(() => natsConnectionOptions({ url: 'nats://a:1', credentialsFile: '/nope/user.creds' }, 'x'), /cannot read the NATS credentials file \/nope\/user\.creds: ENOENT/);
    assert.throws(() => natsConnectionOptions({ url: 'nats://a:1', tls: { certFile: '/nope/c.pem' } }, 'x'), /TLS certificate file \/nope\/c\.pem/);
  });
  it('explains connection errors in words a user can act on', () => {
    assert.match(explainNatsError({ code: 'CONNECTION_REFUSED', message: 'x' }, 'nats://h:1'), /no NATS server answers at nats:\/\/h:1/);
    assert.match(explainNatsError({ code: 'AUTHORIZATION_VIOLATION' }, 'nats://h:1'), /refused the credentials/);
  });
});
