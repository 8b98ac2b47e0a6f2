/** Credentials and TLS against real nats-servers that require them: the agent and the fleet client accept both. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect } from 'nats';
import { startAgent } from '../../src/agent';
import { listPods } from '../../src/common/podClient';
import { natsConnectionOptions } from '../../src/common/natsOptions';
import { startNatsServer } from '../../src/launch/nats';
import { findExecutable } from '../../src/launch/process';
import { tempDir } from '../support/services';

describe('NATS authentication and TLS', () => {
  it('user and password: the agent registers, and a wrong password is refused in words', async () => {
    const server = await startNatsServer({ extraArgs: ['--user', 'sg', '--pass', 's3cret'] });
    try {
      const agent = await startAgent({ nats: { url: server.url, user: 'sg', password: 's3cret' }, service: 'auth', pod: 'userpass', version: '1.0.0' });
      const nc = await connect(natsConnectionOptions({ url: server.url, user: 'sg', password: 's3cret' }, 'test'));
      assert.deepEqual((await listPods(nc)).map((p) => p.pod), ['userpass']);
      await nc.close();
      await agent.stop();
      await assert.rejects(
        startAgent({ nats: { url: server.url, user: 'sg', password: 'wrong' }, service: 'auth', pod: 'x', version: '1.0.0', connectTimeoutMs: 3000 }),
        /refused the credentials/,
      );
    } finally {
      await server.stop();
    }
  });

  it('token', async () => {
    const server = await startNatsServer({ extraArgs: ['--auth', 'tok-123'] });
    try {
      const agent = await startAgent({ nats: { url: server.url, token: 'tok-123' }, service: 'auth', pod: 'token', version: '1.0.0' });
      assert.equal(agent.health().pod, 'token');
      await agent.stop();
    } finally {
      await server.stop();
    }
  });

  it('TLS with a private CA: the agent connects with caFile, and without it fails clearly', async () => {
    const openssl = findExecutable('openssl');
    assert.ok(openssl, 'openssl makes the test certificates');
    const dir = tempDir('sg-tls-');
    const run = (args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'ignore' });
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=sg-test-ca']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    // nats.js verifies 127.0.0.1 as "localhost"; the certificate names both.
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf']);
    const server = await startNatsServer({ extraArgs: ['--tls', '--tlscert', join(dir, 'server.pem'), '--tlskey', join(dir, 'server.key')] });
    const url = server.url.replace('nats://', 'tls://');
    try {
      const agent = await startAgent({ nats: { url, tls: { caFile: join(dir, 'ca.pem') } }, service: 'auth', pod: 'tls', version: '1.0.0' });
      const nc = await connect(natsConnectionOptions({ url, tls: { caFile: join(dir, 'ca.pem') } }, 'test'));
      assert.deepEqual((await listPods(nc)).map((p) => p.pod), ['tls']);
      await nc.close();
      await agent.stop();
      await assert.rejects(startAgent({ nats: url, service: 'auth', pod: 'x', version: '1.0.0', connectTimeoutMs: 3000 }), /StreamGate agent: NATS at tls:\/\/127\.0\.0\.1:\d+: .*(certificate|self.signed)/i);
    } finally {
      await server.stop();
    }
  });
});
