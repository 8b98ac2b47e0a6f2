/** `sg server` as a user runs it: a real process, real NATS, real DuckDB, HTTP status, clean exit. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import * as readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { ServerStatus } from '../../src/protocol/status';
import { eventually, repoRoot, sharedNats, tempDir, type Shared } from '../support/services';

const cli = join(repoRoot, 'dist', 'cli.js');

function runCli(args: string[]) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe('sg server', () => {
  let nats: Shared;
  before(async () => {
    nats = await sharedNats();
  });
  after(() => nats.stop());

  it('runs headless, serves its status, and exits cleanly on SIGTERM', async () => {
    const db = join(tempDir(), 'headless.duckdb');
    const run = runCli(['server', '--nats', nats.url, '--store', `duckdb:${db}`]);
    const firstLine = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: run.child.stdout }).once('line', resolve);
      void run.exited.then(() => reject(new Error(`sg server exited early: ${run.stderr()}`)));
    });
    const url = /ready: (http:\/\/127\.0\.0\.1:\d+)\/status/.exec(firstLine)?.[1];
    assert.ok(url, firstLine);
    let status: ServerStatus | undefined;
    await eventually('NATS connected in /status', async () => {
      status = (await (await fetch(`${url}/status`)).json()) as ServerStatus;
      return status.nats.state === 'connected';
    });
    assert.ok(status);
    assert.equal(status.store.state, 'ready');
    assert.equal(status.store.location, db);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
  });

  it('rejects a bad --store with the usage and exit code 2', async () => {
    const run = runCli(['server', '--store', 'mysql:x']);
    assert.equal(await run.exited, 2);
    assert.match(run.stderr(), /--store must be duckdb:PATH or clickhouse:URL, not "mysql:x"/);
    assert.match(run.stderr(), /sg server \[--nats URL\]/);
  });

  it('rejects an unknown flag', async () => {
    const run = runCli(['server', '--bogus']);
    assert.equal(await run.exited, 2);
    assert.match(run.stderr(), /Unknown option '--bogus'/);
  });

  it('lists its commands with --help', async () => {
    const run = runCli(['--help']);
    let out = '';
    run.child.stdout.on('data', (d) => (out += d));
    assert.equal(await run.exited, 0);
    assert.match(out, /^sg \d+\.\d+\.\d+/);
    assert.match(out, /server\s+run the language server's backend headless/);
  });
});
