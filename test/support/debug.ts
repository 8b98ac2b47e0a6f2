/** Helpers for the debugger's tests: a fleet of real gateway pods, traffic to them, DAP clients, source lines. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { TENANTS, type Tenant } from '../../demo/gateway/tenants';
import { startSandbox, type Sandbox } from '../../src/launch/sandbox';
import { waitUntil, spawnService, type ServiceProcess } from '../../src/launch/process';
import { POD_READY_PREFIX } from '../../src/protocol/cli';
import { repoRoot, tempDir } from './services';

export const ADAPTER = join(repoRoot, 'dist', 'adapter.js');
export const GATEWAY_SOURCE = join(repoRoot, 'demo', 'gateway', 'server.ts');

/** The 1-based line of the first line of `file` containing `text` (tests never hard-code line numbers). */
export function lineOf(file: string, text: string): number {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`no line with ${JSON.stringify(text)} in ${file}`);
  return index + 1;
}

/** gw-1 and gw-2 are in eu-west, gw-3 in us-east: a region selector always leaves one pod out. */
export function gatewayFleet(natsUrl: string, pods = 3): Promise<Sandbox> {
  return startSandbox({ pods, natsUrl, stateDir: tempDir('sg-debug-fleet-'), distDir: join(repoRoot, 'dist'), loadgen: false });
}

/** One more gateway pod, outside the sandbox's supervision (so a test can kill it for good). */
export async function extraGateway(natsUrl: string, pod: string, region: string): Promise<{ process: ServiceProcess; port: number }> {
  const dir = tempDir(`sg-${pod}-`);
  const logFile = join(dir, 'pod.log');
  const service = spawnService(pod, process.execPath, ['--enable-source-maps', join(repoRoot, 'dist', 'demo', 'gateway.js'), '--pod', pod, '--nats', natsUrl, '--region', region, '--data-dir', join(dir, 'data'), '--state-dir', join(dir, 'incidents')], { logFile });
  let port = 0;
  await waitUntil(`${pod} to serve`, async () => {
    const line = readFileSync(logFile, 'utf8').split('\n').find((l) => l.startsWith(POD_READY_PREFIX));
    if (line) port = (JSON.parse(line.slice(POD_READY_PREFIX.length)) as { port: number }).port;
    return port > 0;
  }, { service, timeoutMs: 30_000 });
  return { process: service, port };
}

/** Posts `count` JSON messages to a pod, one after another; returns the HTTP statuses. */
export async function post(port: number, count = 1, { tenant = TENANTS[0]!, stream = 'orders', body = (i: number) => ({ n: i, text: 'hello' }) }: { tenant?: Tenant; stream?: string; body?: (i: number) => unknown } = {}): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/v1/streams/${stream}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body(i)),
    });
    await response.arrayBuffer();
    statuses.push(response.status);
  }
  return statuses;
}

/** Posts until stopped, so a breakpoint is hit whenever a test waits for it. */
export function traffic(port: number, tenant = TENANTS[0]!): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    let i = 0;
    while (running) {
      await post(port, 1, { tenant, body: () => ({ n: i++, text: 'traffic' }) }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

export async function startClient(): Promise<DebugClient> {
  const dc = new DebugClient(process.execPath, ADAPTER, 'streamgate');
  await dc.start();
  return dc;
}

/** initialize + attach + wait for `initialized`. */
export async function attach(dc: DebugClient, args: Record<string, unknown>): Promise<void> {
  await dc.initializeRequest({ adapterID: 'streamgate', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const initialized = dc.waitForEvent('initialized');
  await dc.attachRequest({ localRoot: repoRoot, ...args } as DebugProtocol.AttachRequestArguments);
  await initialized;
}

/** Every event of a kind from now on, for assertions over what arrived. */
export function record<T extends DebugProtocol.Event>(dc: DebugClient, event: string): T[] {
  const seen: T[] = [];
  dc.on(event, (e: DebugProtocol.Event) => seen.push(e as T));
  return seen;
}

/** Waits until a breakpoint event for `id` says what `pattern` matches (events may come in any number). */
export function breakpointMessage(dc: DebugClient, id: number, pattern: RegExp, timeoutMs = 30_000): Promise<DebugProtocol.Breakpoint> {
  return new Promise((resolve, reject) => {
    let last = '(no breakpoint event for it)';
    const timer = setTimeout(() => reject(new Error(`breakpoint ${id} never said ${pattern}; the last it said: ${last}`)), timeoutMs);
    const listener = (e: DebugProtocol.BreakpointEvent) => {
      if (e.body.breakpoint.id === id) last = JSON.stringify(e.body.breakpoint.message ?? '');
      if (e.body.breakpoint.id === id && pattern.test(e.body.breakpoint.message ?? '')) {
        clearTimeout(timer);
        dc.removeListener('breakpoint', listener);
        resolve(e.body.breakpoint);
      }
    };
    dc.on('breakpoint', listener);
  });
}

/** Every value under a variables reference, as text, recursively (bounded), for "never contains" checks. */
export async function allVariableText(dc: DebugClient, reference: number, depth = 4): Promise<string> {
  if (reference === 0 || depth === 0) return '';
  const { body } = await dc.variablesRequest({ variablesReference: reference });
  let text = '';
  for (const v of body.variables) text += `${v.name}=${v.value}\n${await allVariableText(dc, v.variablesReference, depth - 1)}`;
  return text;
}

export function outputText(events: DebugProtocol.OutputEvent[]): string {
  return events.map((e) => e.body.output).join('');
}

/** The thread of a stopped event (always set by this adapter; DAP types it optional). */
export function threadOf(event: DebugProtocol.StoppedEvent): number {
  if (event.body.threadId === undefined) throw new Error('a stopped event without a thread');
  return event.body.threadId;
}
