/**
 * `sg debug snapshot | logpoint | audit`: the debugger from a terminal, driving the same debug adapter VS Code
 * uses, over DAP (src/cli/dapClient.ts).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { CustomRequest, selectorFromFlat, type AttachArguments, type AuditResponseBody, type BreakpointsResponseBody, type PlainValue, type SnapshotJson } from '../../protocol/dap';
import { parseSelector } from '../../protocol/nats';
import { UsageError, type CliCommand } from '../command';
import { InlineDapClient } from '../dapClient';
import { parseDuration, resolveNatsUrl } from '../target';

const USAGE = `sg debug snapshot FILE:LINE [--condition EXPR] [--hit-condition H] [--watch EXPR]... [--capture-ms N] [--selector k=v,...] [--timeout S] [--json]
sg debug logpoint FILE:LINE "TEMPLATE" [--count N] [--condition EXPR] [--selector k=v,...] [--timeout S] [--json]
sg debug audit [--since 1h] [--json]

  FILE:LINE         a source file relative to the repository (e.g. demo/gateway/server.ts:105); run sg from its root
  snapshot          waits for the first snapshot a matching pod takes there, prints it and removes the breakpoint
  logpoint          streams the lines of a logpoint; TEMPLATE has {expression} parts, e.g. "tenant {tenant.id}"
  audit             the audit trail of debug actions (who set, removed, or had refused which breakpoint)
  --condition EXPR  only when EXPR is true (checked before it reaches a pod: it may only read)
  --hit-condition H >= 10, % 100 == 0, == 5 …
  --watch EXPR      also capture EXPR (repeatable)
  --capture-ms N    the time a pod may spend on one capture, 1 to 100 ms of its CPU (default 5); values past it are
                    left out and say so
  --selector S      only pods matching all of k=v (service, pod, version or a label: region, zone, node)
  --timeout S       give up after S seconds (snapshot default 60; logpoint default: until --count lines or Ctrl-C)
  --count N         stop after N logpoint lines
  --since D         audit events of the last D (30s, 5m, 1h; default 1h)
  --json            snapshot: one object { pod, service, breakpoint: { file, line }, at, frames: [ { function, file,
                    line, locals } ], watches } (docs/debugging.md); logpoint: one JSON object per line; audit: an array
  --nats URL        NATS of the fleet (default: $STREAMGATE_NATS_URL, the running sandbox fleet, nats://127.0.0.1:4222)
  --creds FILE      NATS credentials file      --identity NAME   who you are in the audit trail`;

const OPTIONS = {
  nats: { type: 'string' },
  creds: { type: 'string' },
  identity: { type: 'string' },
  'capture-ms': { type: 'string' },
  selector: { type: 'string' },
  condition: { type: 'string' },
  'hit-condition': { type: 'string' },
  watch: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  count: { type: 'string' },
  since: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export const debugCommand: CliCommand = {
  name: 'debug',
  summary: 'snapshot breakpoints, logpoints and the audit trail on live pods (never pauses them)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS, strict: true });
    const [sub, ...rest] = positionals;
    switch (sub) {
      case 'snapshot':
        return snapshot(rest, values);
      case 'logpoint':
        return logpoint(rest, values);
      case 'audit':
        return audit(values);
      default:
        throw new UsageError(`sg debug needs snapshot, logpoint or audit, not "${sub ?? ''}"`);
    }
  },
};

function location(text: string | undefined): { file: string; line: number; path: string } {
  const m = text ? /^(.+):(\d+)$/.exec(text) : null;
  if (!m) throw new UsageError(`the location is FILE:LINE, e.g. demo/gateway/server.ts:105, not "${text ?? ''}"`);
  const line = Number(m[2]);
  if (line < 1) throw new UsageError(`the line must be 1 or more, not ${line}`);
  return { file: m[1]!, line, path: resolve(process.cwd(), m[1]!) };
}

function seconds(text: string | undefined, fallback: number | undefined, flag: string): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n > 0)) throw new UsageError(`${flag} must be a positive number of seconds, not "${text}"`);
  return n;
}

function attachArguments(values: Values): AttachArguments {
  let selector;
  try {
    selector = values.selector ? selectorFromFlat(parseSelector(values.selector)) : undefined;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let maxCaptureMs: number | undefined;
  if (values['capture-ms'] !== undefined) {
    maxCaptureMs = Number(values['capture-ms']);
    if (!(maxCaptureMs > 0 && maxCaptureMs <= 100)) throw new UsageError(`--capture-ms must be a number of milliseconds from 1 to 100, not "${values['capture-ms']}"`);
  }
  return {
    nats: resolveNatsUrl(values.nats),
    ...(values.creds ? { natsOptions: { credentialsFile: values.creds } } : {}),
    ...(selector ? { selector } : {}),
    ...(maxCaptureMs !== undefined ? { captureLimits: { maxCaptureMs } } : {}),
    ...(values.identity ? { identity: values.identity } : {}),
    localRoot: process.cwd(),
  };
}

/** initialize + attach, with what the adapter says on the console going to stderr. */
async function open(values: Values, quiet = false): Promise<InlineDapClient> {
  const dap = new InlineDapClient();
  dap.on('output', (event) => {
    const body = (event as DebugProtocol.OutputEvent).body;
    if (body.category === 'stdout') return; // logpoint lines: the command prints them
    if (!quiet || body.category === 'stderr') process.stderr.write(body.output);
  });
  await dap.request('initialize', { adapterID: 'streamgate', clientID: 'sg', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const initialized = dap.next('initialized', 30_000);
  try {
    await dap.request('attach', attachArguments(values));
  } catch (error) {
    dap.dispose();
    throw error;
  }
  await initialized;
  return dap;
}

async function close(dap: InlineDapClient): Promise<void> {
  await dap.request('disconnect', {}).catch(() => undefined);
  dap.dispose();
}

/** Sets one breakpoint; fails at once when it was refused (the message says why). */
async function setBreakpoint(dap: InlineDapClient, where: { path: string; line: number }, breakpoint: DebugProtocol.SourceBreakpoint): Promise<DebugProtocol.Breakpoint> {
  const body = await dap.request<DebugProtocol.SetBreakpointsResponse['body']>('setBreakpoints', { source: { path: where.path }, breakpoints: [breakpoint] });
  const bp = body.breakpoints[0]!;
  if (bp.message?.startsWith('rejected:')) throw new Error(`the breakpoint was ${bp.message}`);
  await dap.request('configurationDone', {});
  return bp;
}

async function snapshot(rest: string[], values: Values): Promise<number> {
  if (rest.length !== 1) throw new UsageError('sg debug snapshot takes one FILE:LINE');
  const where = location(rest[0]);
  const timeoutS = seconds(values.timeout, 60, '--timeout')!;
  if (!existsSync(where.path)) process.stderr.write(`note: ${where.file} is not in this folder; pods are asked for it by its path\n`);
  const dap = await open(values, values.json);
  try {
    if (values.watch?.length) {
      const { refused } = await dap.request<{ refused: { expression: string; reason: string }[] }>(CustomRequest.setWatches, { expressions: values.watch });
      if (refused.length) throw new UsageError(refused.map((r) => `--watch ${r.expression}: the expression ${r.reason}`).join('\n'));
    }
    const stopped = dap.next('stopped', timeoutS * 1000);
    const bp = await setBreakpoint(dap, where, { line: where.line, ...(values.condition ? { condition: values.condition } : {}), ...(values['hit-condition'] ? { hitCondition: values['hit-condition'] } : {}) });
    process.stderr.write(`waiting up to ${timeoutS} s for a pod to pass ${where.file}:${bp.line ?? where.line} (${bp.message ?? ''})\n`);
    let event: DebugProtocol.StoppedEvent;
    try {
      event = (await stopped) as DebugProtocol.StoppedEvent;
    } catch {
      const { breakpoints } = await dap.request<BreakpointsResponseBody>(CustomRequest.breakpoints);
      process.stderr.write(`no pod passed ${where.file}:${where.line} within ${timeoutS} s (the breakpoint was ${breakpoints[0]?.message ?? 'not set'})\n`);
      return 1;
    }
    const json = await dap.request<SnapshotJson>(CustomRequest.snapshot, { threadId: event.body.threadId });
    process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : tree(json, event.body.description ?? ''));
    return 0;
  } finally {
    await close(dap);
  }
}

async function logpoint(rest: string[], values: Values): Promise<number> {
  if (rest.length !== 2) throw new UsageError('sg debug logpoint takes FILE:LINE and a "TEMPLATE"');
  const where = location(rest[0]);
  const template = rest[1]!;
  const count = values.count === undefined ? Infinity : Number(values.count);
  if (!(count >= 1)) throw new UsageError(`--count must be 1 or more, not "${values.count}"`);
  const timeoutS = seconds(values.timeout, undefined, '--timeout');
  const dap = await open(values, values.json);
  let printed = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  dap.on('output', (event) => {
    const body = (event as DebugProtocol.OutputEvent).body;
    if (body.category !== 'stdout' || printed >= count) return;
    const data = body.data as { pod: string; service: string; at: number; text: string } | undefined;
    process.stdout.write(values.json && data ? `${JSON.stringify({ pod: data.pod, service: data.service, at: new Date(data.at).toISOString(), text: data.text })}\n` : body.output);
    if (++printed >= count) finish();
  });
  const onSignal = () => finish();
  process.once('SIGINT', onSignal);
  const timer = timeoutS ? setTimeout(finish, timeoutS * 1000) : undefined;
  try {
    const bp = await setBreakpoint(dap, where, { line: where.line, logMessage: template, ...(values.condition ? { condition: values.condition } : {}) });
    process.stderr.write(`logpoint ${where.file}:${bp.line ?? where.line}: ${bp.message ?? ''}\n`);
    await done;
    return printed > 0 || count === Infinity ? 0 : 1;
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    await close(dap);
  }
}

async function audit(values: Values): Promise<number> {
  let sinceMs: number;
  try {
    sinceMs = values.since ? parseDuration(values.since) : 3600_000;
  } catch (error) {
    throw new UsageError(`--since: ${(error as Error).message}`);
  }
  const dap = await open({ ...values, selector: undefined }, true);
  try {
    const { events, note } = await dap.request<AuditResponseBody & { note?: string }>(CustomRequest.audit, { sinceMs });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
      return 0;
    }
    if (!events.length) {
      process.stdout.write(`${note ?? `no debug actions in the last ${values.since ?? '1h'}`}\n`);
      return 0;
    }
    const rows = events.map((e) => [
      new Date(e.ts).toISOString().replace('T', ' ').slice(0, 19),
      e.pod,
      e.action,
      e.who,
      e.breakpoint ? `${e.breakpoint.kind} ${e.breakpoint.file}:${e.breakpoint.line}${e.breakpoint.condition ? ` if ${e.breakpoint.condition}` : ''}` : '',
      e.detail ?? '',
    ]);
    const head = ['TIME (UTC)', 'POD', 'ACTION', 'WHO', 'BREAKPOINT', 'DETAIL'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.min(60, r[i]!.length))));
    process.stdout.write([head, ...rows].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
    return 0;
  } finally {
    await close(dap);
  }
}

/** The snapshot as an indented tree, three levels deep, long collections cut. */
function tree(json: SnapshotJson, description: string): string {
  const lines = [`${description || `Snapshot of ${json.pod}`} (${json.service}, ${json.at})`];
  const value = (name: string, v: PlainValue, indent: string, depth: number) => {
    if (v === null || typeof v !== 'object') {
      lines.push(`${indent}${name} = ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
      return;
    }
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    lines.push(`${indent}${name} = ${Array.isArray(v) ? `Array(${v.length})` : '{…}'}`);
    if (depth >= 3) return;
    for (const [k, x] of entries.slice(0, 10)) value(k, x, `${indent}  `, depth + 1);
    if (entries.length > 10) lines.push(`${indent}  … ${entries.length - 10} more`);
  };
  for (const frame of json.frames) {
    lines.push(`  ${frame.function}  ${frame.file}:${frame.line}`);
    for (const [name, v] of Object.entries(frame.locals)) value(name, v, '      ', 1);
  }
  if (Object.keys(json.watches).length) {
    lines.push('  watches');
    for (const [expression, v] of Object.entries(json.watches)) value(expression, v, '      ', 1);
  }
  if (json.leftOut.length) lines.push(`  left out: ${json.leftOut.join('; ')}`);
  return `${lines.join('\n')}\n`;
}
