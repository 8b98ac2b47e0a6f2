/** The built adapter (dist/adapter.js) as its own process, driven by DebugClient over stdio. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { repoRoot, sharedNats, type Shared } from '../support/services';

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

  it('answers initialize with its capabilities and sends initialized', async () => {
    const initialized = dc.waitForEvent('initialized');
    const response = await dc.initializeRequest({ adapterID: 'streamgate', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    assert.equal(response.success, true);
    assert.equal(response.body?.supportsConfigurationDoneRequest, true);
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

  it('reports breakpoints as not installed rather than pretending', async () => {
    await dc.initializeRequest();
    const response = await dc.setBreakpointsRequest({ source: { path: '/x.ts' }, breakpoints: [{ line: 3 }] });
    const [breakpoint] = response.body.breakpoints;
    assert.ok(breakpoint);
    assert.equal(breakpoint.verified, false);
    assert.match(String(breakpoint.message), /not available/);
  });
});
