/** The built adapter (dist/adapter.js) as its own process, driven by DebugClient over stdio. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { startNatsServer } from '../../src/launch/nats';
import { freePort } from '../../src/launch/process';
import { eventually, repoRoot, sharedNats, type Shared } from '../support/services';

const ADAPTER = join(repoRoot, 'dist', 'adapter.js');

describe('debug adapter process', () => {
  let nats: Shared;
  let dc: DebugClient;
  before(async () => {
    nats = await sharedNats();
  });
  after(() => nats.stop());
  beforeEach(async () => {
    dc = new DebugClient(process.execPath, ADAPTER, 'streamgate');
    await dc.start();
  });
  afterEach(() => dc.stop());

  it('answers initialize with its capabilities, and sends initialized once attached (ready for breakpoints)', async () => {
    const initialized = dc.waitForEvent('initialized');
    const response = await dc.initializeRequest({ adapterID: 'streamgate', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    assert.equal(response.success, true);
    assert.equal(response.body?.supportsConfigurationDoneRequest, true);
    assert.equal(response.body.supportsConditionalBreakpoints, true);
    assert.equal(response.body.supportsHitConditionalBreakpoints, true);
    assert.equal(response.body.supportsLogPoints, true);
    assert.deepEqual(response.body.exceptionBreakpointFilters?.map((f) => f.filter), ['uncaught', 'all']);
    await dc.attachRequest({ nats: nats.url } as never);
    await initialized;
  });

  it('attaches to a real NATS, lists threads, and disconnects', async () => {
    await dc.initializeRequest();
    const output = dc.waitForEvent('output');
    const attach = await dc.attachRequest({ nats: nats.url } as never);
    assert.equal(attach.success, true);
    assert.match(((await output).body as { output: string }).output, /Attached to the StreamGate fleet at nats:\/\/127\.0\.0\.1:\d+/);
    await dc.configurationDoneRequest();
    const threads = await dc.threadsRequest();
    assert.ok(Array.isArray(threads.body.threads));
    const disconnect = await dc.disconnectRequest();
    assert.equal(disconnect.success, true);
  });

  it('answers a configuration without nats with an error naming the attribute', async () => {
    await dc.initializeRequest();
    await assert.rejects(dc.attachRequest({}), /Invalid StreamGate attach configuration: .*"nats" attribute is required/);
  });

  it('answers a malformed URL and a wrong selector with clear errors, and keeps running', async () => {
    await dc.initializeRequest();
    await assert.rejects(dc.attachRequest({ nats: 'http://example.com' } as never), /must be nats:\/\/host:port/);
    await assert.rejects(dc.attachRequest({ nats: nats.url, selector: ['gateway'] } as never), /selector/);
    const ok = await dc.attachRequest({ nats: nats.url } as never);
    assert.equal(ok.success, true, 'the session still works after bad requests');
  });

  it('answers an unreachable NATS with an error that says what to do', async () => {
    await dc.initializeRequest();
    await assert.rejects(dc.attachRequest({ nats: 'nats://127.0.0.1:1', connectTimeoutMs: 2000 } as never), /Cannot attach: no NATS server answers at nats:\/\/127\.0\.0\.1:1/);
  });

  it('reports breakpoints set before any pod matches as pending, rather than pretending', async () => {
    await dc.initializeRequest();
    const response = await dc.setBreakpointsRequest({ source: { path: '/x.ts' }, breakpoints: [{ line: 3 }] });
    const [breakpoint] = response.body.breakpoints;
    assert.ok(breakpoint);
    assert.equal(breakpoint.verified, false);
    assert.equal(breakpoint.message, "pending: no pod matches the session's selector");
  });

  it('answers requests it does not know, and requests before attach, with numbered errors through one path', async () => {
    await dc.initializeRequest();
    await assert.rejects(dc.customRequest('nonsense'), /does not support the "nonsense" request/);
    await assert.rejects(dc.stackTraceRequest({ threadId: 1 }), /No pod has thread 1/);
    await assert.rejects(dc.launchRequest({}), /StreamGate attaches to running pods/);
  });

  it('a second attach replaces the first without leaking its connection', async () => {
    const monitor = await freePort();
    const own = await startNatsServer({ extraArgs: ['-m', String(monitor)] });
    try {
      await dc.initializeRequest();
      await dc.attachRequest({ nats: own.url } as never);
      await dc.attachRequest({ nats: own.url } as never);
      const connz = async () => ((await (await fetch(`http://127.0.0.1:${monitor}/connz`)).json()) as { connections: { name?: string }[] }).connections.filter((c) => c.name?.startsWith('streamgate-debug')).length;
      await eventually('one adapter connection', async () => (await connz()) === 1);
      await dc.disconnectRequest();
      await eventually('no adapter connection after disconnect', async () => (await connz()) === 0);
    } finally {
      await own.stop();
    }
  });
});
