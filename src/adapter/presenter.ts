/**
 * Snapshots in DAP terms: stack frames with local sources, scopes, variables, and the JSON of
 * `sg debug snapshot --json`.
 */
import { basename } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { SnapshotJson } from '../protocol/dap';
import type { CapturedFrame, CapturedValue, SnapshotEvent } from '../protocol/nats';
import type { PathMapper } from './paths';
import type { SnapshotQueues } from './snapshots';
import { childrenOf, describe, hasChildren, plain, typeOf } from './values';

export function frameSource(frame: CapturedFrame, paths: PathMapper): DebugProtocol.Source {
  if (frame.file.startsWith('node:') || !frame.file) {
    return { name: frame.file || '(unknown)', presentationHint: 'deemphasize', origin: 'Node.js internals' };
  }
  const local = paths.toLocal(frame.file);
  if (local) return { name: basename(local), path: local, ...(local.includes('/node_modules/') ? { presentationHint: 'deemphasize' as const } : {}) };
  return { name: basename(frame.file), presentationHint: 'deemphasize', origin: `on the pod at ${frame.file} (no local copy)` };
}

export function stackFrames(snapshot: SnapshotEvent, queues: SnapshotQueues, paths: PathMapper): DebugProtocol.StackFrame[] {
  return snapshot.frames.map((frame, index) => ({
    id: queues.frameRef(snapshot, frame, index),
    name: frame.function,
    source: frameSource(frame, paths),
    line: frame.line,
    column: frame.column + 1,
    ...(frame.file.startsWith('node:') ? { presentationHint: 'subtle' as const } : {}),
  }));
}

export function scopes(snapshot: SnapshotEvent, frame: CapturedFrame, index: number, queues: SnapshotQueues): DebugProtocol.Scope[] {
  const list: DebugProtocol.Scope[] = [];
  if (frame.locals) {
    list.push({ name: 'Locals', presentationHint: 'locals', variablesReference: queues.ref(snapshot, { kind: 'locals', snapshot, frame }), namedVariables: frame.locals.length, expensive: false });
  } else {
    list.push({ name: 'Locals (not captured for this frame: raise captureLimits.maxFramesWithLocals to capture more frames)', presentationHint: 'locals', variablesReference: 0, expensive: false });
  }
  if (index === 0 && snapshot.watches.length) {
    list.push({ name: 'Watches (captured)', variablesReference: queues.ref(snapshot, { kind: 'watches', snapshot }), namedVariables: snapshot.watches.length, expensive: false });
  }
  if (index === 0 && snapshot.exception !== undefined) {
    list.push({ name: snapshot.uncaught ? 'Exception (uncaught)' : 'Exception', variablesReference: queues.ref(snapshot, { kind: 'value', value: { t: 'object', class: 'Exception', props: [['exception', snapshot.exception]] } }), expensive: false });
  }
  return list;
}

export function variable(name: string, value: CapturedValue, queues: SnapshotQueues, snapshot: SnapshotEvent | undefined, evaluateName?: string): DebugProtocol.Variable {
  return {
    name,
    value: describe(value),
    type: typeOf(value),
    variablesReference: hasChildren(value) ? queues.ref(snapshot, { kind: 'value', value, ...(evaluateName ? { evaluateName } : {}) }) : 0,
    ...(evaluateName ? { evaluateName } : {}),
    ...(name === '…' ? { presentationHint: { kind: 'virtual' as const } } : {}),
  };
}

function childName(parent: string | undefined, name: string): string | undefined {
  if (!parent || name === '…') return undefined;
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `${parent}.${name}` : /^\d+$/.test(name) ? `${parent}[${name}]` : `${parent}[${JSON.stringify(name)}]`;
}

export function variablesOf(refId: number, queues: SnapshotQueues): DebugProtocol.Variable[] | undefined {
  const ref = queues.get(refId);
  if (!ref) return undefined;
  switch (ref.kind) {
    case 'locals': {
      const vars = (ref.frame.locals ?? []).map(([name, value]) => variable(name, value, queues, ref.snapshot, name));
      if (ref.frame.this !== undefined) vars.push(variable('this', ref.frame.this, queues, ref.snapshot, 'this'));
      return vars;
    }
    case 'watches':
      return ref.snapshot.watches.map(([expression, value]) => variable(expression, value, queues, ref.snapshot, expression));
    case 'value':
      return (childrenOf(ref.value) ?? []).map((child) => variable(child.name, child.value, queues, undefined, childName(ref.evaluateName, child.name)));
    case 'frame':
      return [];
  }
}

/** The `sg debug snapshot --json` document (a contract: see docs/debugging.md). */
export function snapshotJson(snapshot: SnapshotEvent, breakpoint: { file: string; line: number }, paths: PathMapper): SnapshotJson {
  return {
    pod: snapshot.pod,
    service: snapshot.service,
    breakpoint,
    at: new Date(snapshot.at).toISOString(),
    frames: snapshot.frames.map((frame) => {
      const local = frame.file.startsWith('node:') ? undefined : paths.toLocal(frame.file);
      return {
        function: frame.function,
        file: local ? paths.display(local) : frame.file,
        line: frame.line,
        locals: Object.fromEntries([...(frame.locals ?? []).map(([name, value]) => [name, plain(value)] as const)]),
      };
    }),
    watches: Object.fromEntries(snapshot.watches.map(([expression, value]) => [expression, plain(value)])),
    leftOut: [...snapshot.leftOut],
  };
}
