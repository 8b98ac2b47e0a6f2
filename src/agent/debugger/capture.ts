/**
 * Turns live values into CapturedValue trees within the capture limits, in plain JavaScript on the pod's
 * thread (far cheaper than one inspector round trip per object). It never runs the app's code: accessors are
 * shown as getters rather than called, Proxies are not looked into (their traps are user code), collections
 * are read through the built-ins' own iterators, and huge arrays, maps and sets are read from the start only
 * (with their size), never walked. Redaction happens here, before anything leaves the pod.
 *
 * Values are captured breadth first across the whole snapshot: every local of every frame (and every watch)
 * gets its first level before any of them gets its second, so when the size or time budget runs out it cuts
 * the deepest parts, never a whole variable. Within an object, properties whose names do not start with `_`
 * come first (they are what people look for in `req`, `res` and the like).
 */
import { types } from 'node:util';
import type { CaptureLimits, CapturedValue } from '../../protocol/nats';
import { DEFAULT_CAPTURE_LIMITS } from '../../protocol/nats';
import { REDACTED, type Redactor } from './redaction';

/** Extra characters scanned for secret shapes past the cut, so a secret straddling it is still found. */
const SECRET_SCAN_MARGIN = 512;
/** Share of the time budget kept for serialising and publishing what was read. */
const SERIALISE_SHARE = 0.4;
/** How often (in values) the time budget is checked. */
const DEADLINE_STRIDE = 16;
/** Bytes of a Buffer or Uint8Array shown as hex. */
const MAX_HEX_BYTES = 48;

type Kind = 'plain' | 'array' | 'typed' | 'bytes' | 'map' | 'set' | 'weak' | 'date' | 'regexp' | 'error' | 'promise' | 'boxed';

interface Task {
  value: unknown;
  depth: number;
  ancestors: readonly object[];
  /** Where the result goes (a slot in the parent's node, or a top-level result). */
  put: (value: CapturedValue) => void;
  /** A slot named like a secret: redacted whatever the value. */
  secretName?: boolean;
}

/** CPU time of this process, ms (user and system; precise to the microsecond on Linux). */
export function cpuNowMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/** When a capture started, on both clocks. */
export interface CaptureStart {
  wall: number;
  cpu: number;
}

export function captureStartNow(): CaptureStart {
  return { wall: performance.now(), cpu: cpuNowMs() };
}

/**
 * A capture's time is the CPU time the pod spends on it: that is what it costs the pod, and a pod that is
 * descheduled meanwhile (a busy node, a container at its CPU limit) is not at fault. Wall time is a backstop at
 * this many times the budget, so nothing ever runs on unbounded.
 */
const WALL_BACKSTOP = 4;

export class CaptureBudget {
  readonly limits: Required<CaptureLimits>;
  /** Approximate JSON size so far. */
  bytes = 0;
  private values = 0;
  /** Set when time or size ran out: everything after it is omitted. */
  exhausted: string | undefined;
  readonly leftOut = new Set<string>();

  private readonly cpuDeadline: number;
  private readonly wallDeadline: number;
  private readonly backstop: number;

  /**
   * The capture may take `ms` from `started` (default: now); reading values stops earlier (SERIALISE_SHARE of
   * the budget is left for turning the snapshot into JSON and handing it to NATS, which costs about as much per
   * byte).
   */
  constructor(limits: CaptureLimits | undefined, ms: number, readonly redactor: Redactor, started: CaptureStart = captureStartNow()) {
    this.limits = { ...DEFAULT_CAPTURE_LIMITS, ...limits };
    this.cpuDeadline = started.cpu + ms;
    this.wallDeadline = started.wall + ms;
    this.backstop = started.wall + ms * WALL_BACKSTOP;
    this.readReserve = ms * SERIALISE_SHARE;
  }

  private readonly readReserve: number;

  /** Counts a value; false once the time or size budget is spent (and says which, once). */
  take(size: number): boolean {
    if (this.exhausted) return false;
    this.bytes += size;
    if (this.bytes > this.limits.maxSnapshotBytes) {
      this.exhaust(`values past the snapshot size limit of ${Math.round(this.limits.maxSnapshotBytes / 1024)} kB (maxSnapshotBytes)`);
      return false;
    }
    if (++this.values % DEADLINE_STRIDE === 0 && this.timeLeft() < this.readReserve) {
      this.exhaust(`values past the capture time budget of ${this.limits.maxCaptureMs} ms (maxCaptureMs)`);
      return false;
    }
    return true;
  }

  /**
   * Ms left (at least). The capture's CPU time never exceeds the wall time it took, so while the wall clock has
   * more than the serialising reserve left, that is a safe answer without reading the CPU clock (a system call,
   * ~1–5 µs); nearer the end the CPU time decides, within the wall-time backstop.
   */
  timeLeft(): number {
    const now = performance.now();
    const wallLeft = this.wallDeadline - now;
    if (wallLeft >= this.readReserve) return wallLeft;
    return Math.min(this.cpuDeadline - cpuNowMs(), (this.backstop - now) / WALL_BACKSTOP);
  }

  exhaust(reason: string): void {
    if (!this.exhausted) {
      this.exhausted = reason;
      this.leftOut.add(reason);
    }
  }

  omitted(): CapturedValue {
    return { t: 'omitted', reason: this.exhausted ?? 'budget' };
  }
}

/** Per-prototype facts, so a class seen once costs one lookup afterwards. */
const protoInfo = new WeakMap<object, { name: string; kind: Kind }>();

/**
 * Captures many values breadth first under one budget. `add` queues a top-level value and returns a holder
 * whose `value` is filled in by `run`.
 */
export class Capturer {
  private queue: Task[] = [];
  private head = 0;

  constructor(readonly budget: CaptureBudget) {}

  add(value: unknown, name?: string): { value: CapturedValue } {
    const holder: { value: CapturedValue } = { value: { t: 'omitted', reason: 'not reached' } };
    this.queue.push({ value, depth: 0, ancestors: [], put: (v) => (holder.value = v), secretName: name !== undefined && this.budget.redactor.isSecretName(name) });
    return holder;
  }

  run(): void {
    const { budget } = this;
    while (this.head < this.queue.length) {
      const task = this.queue[this.head++]!;
      if (budget.exhausted) {
        task.put(budget.omitted());
        continue;
      }
      task.put(task.secretName ? (budget.take(12) ? REDACTED : budget.omitted()) : this.one(task));
      // Free what was processed now and then: a big snapshot's queue does not keep every value alive.
      if (this.head > 4096) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    }
  }

  private child(value: unknown, depth: number, ancestors: readonly object[], put: (v: CapturedValue) => void, name?: string): void {
    this.queue.push({ value, depth, ancestors, put, ...(name !== undefined && this.budget.redactor.isSecretName(name) ? { secretName: true } : {}) });
  }

  private one(task: Task): CapturedValue {
    const { value } = task;
    const budget = this.budget;
    switch (typeof value) {
      case 'string':
        return captureString(value, budget);
      case 'number':
        if (!budget.take(8)) return budget.omitted();
        return Number.isFinite(value) && !Object.is(value, -0) ? value : { t: 'number', v: Object.is(value, -0) ? '-0' : String(value) };
      case 'boolean':
        return budget.take(5) ? value : budget.omitted();
      case 'undefined':
        return budget.take(16) ? { t: 'undefined' } : budget.omitted();
      case 'bigint':
        return budget.take(24) ? { t: 'bigint', v: value.toString() } : budget.omitted();
      case 'symbol':
        return budget.take(24) ? { t: 'symbol', v: budget.redactor.redactText(value.toString(), 200) } : budget.omitted();
      case 'function':
        return budget.take(32) ? { t: 'function', name: functionName(value) } : budget.omitted();
      case 'object':
        if (value === null) return budget.take(4) ? null : budget.omitted();
        return this.object(value, task);
    }
    return { t: 'omitted', reason: `a ${typeof value}` };
  }

  private object(value: object, task: Task): CapturedValue {
    const budget = this.budget;
    if (!budget.take(44)) return budget.omitted(); // {"t":"object","class":"…","props":[]} and the like
    if (types.isProxy(value)) return { t: 'proxy' };
    const { name: cls, kind } = describeProto(value);
    if (task.ancestors.includes(value)) return { t: 'cycle', class: cls };
    switch (kind) {
      case 'date':
        return { t: 'date', v: Number.isNaN((value as Date).getTime()) ? 'Invalid Date' : (value as Date).toISOString() };
      case 'regexp':
        return { t: 'regexp', v: budget.redactor.redactText(RegExp.prototype.toString.call(value), 300) };
      case 'error':
        return captureError(value as Error, cls, budget);
      case 'promise':
        return { t: 'promise', class: cls };
      case 'boxed':
        return this.one({ ...task, value: unbox(value) });
      case 'weak':
        return { t: 'object', class: cls, props: [] };
      case 'bytes':
        return captureBytes(value, cls, budget);
      default:
        break;
    }
    if (task.depth >= budget.limits.maxDepth) {
      budget.leftOut.add(`objects deeper than ${budget.limits.maxDepth} levels (maxDepth)`);
      return { t: 'deep', class: cls, ...sizeOf(value, kind) };
    }
    const ancestors = [...task.ancestors, value];
    const depth = task.depth + 1;
    const max = budget.limits.maxProperties;
    switch (kind) {
      case 'array':
      case 'typed': {
        const list = value as ArrayLike<unknown>;
        const length = list.length;
        const items: CapturedValue[] = [];
        for (let i = 0; i < Math.min(length, max); i++) {
          const index = items.push({ t: 'undefined' }) - 1;
          if (kind === 'typed') {
            this.child(list[i], depth, ancestors, (v) => (items[index] = v));
            continue;
          }
          const own = ownValue(value, i);
          if (own === 'getter') items[index] = { t: 'getter' };
          else if (own) this.child(own.value, depth, ancestors, (v) => (items[index] = v));
        }
        const more = length - items.length;
        if (more > 0) budget.leftOut.add(`elements and properties past the first ${max} (maxProperties)`);
        return { t: 'array', class: cls, length, items, ...(more > 0 ? { more } : {}) };
      }
      case 'map': {
        const size = Reflect.get<object, 'size'>(Map.prototype, 'size', value) as number; // the built-in getter, not a subclass's
        const entries: [CapturedValue, CapturedValue][] = [];
        // The built-in iterator reads the internal table: a subclass's overridden entries() is never called.
        for (const [k, v] of Map.prototype.entries.call(value)) {
          if (entries.length >= max) break;
          const entry: [CapturedValue, CapturedValue] = [{ t: 'undefined' }, { t: 'undefined' }];
          entries.push(entry);
          this.child(k, depth, ancestors, (c) => (entry[0] = c));
          this.child(v, depth, ancestors, (c) => (entry[1] = c), typeof k === 'string' ? k : undefined);
        }
        const more = size - entries.length;
        if (more > 0) budget.leftOut.add(`elements and properties past the first ${max} (maxProperties)`);
        return { t: 'map', class: cls, size, entries, ...(more > 0 ? { more } : {}) };
      }
      case 'set': {
        const size = Reflect.get<object, 'size'>(Set.prototype, 'size', value) as number;
        const items: CapturedValue[] = [];
        for (const v of Set.prototype.values.call(value)) {
          if (items.length >= max) break;
          const index = items.push({ t: 'undefined' }) - 1;
          this.child(v, depth, ancestors, (c) => (items[index] = c));
        }
        const more = size - items.length;
        if (more > 0) budget.leftOut.add(`elements and properties past the first ${max} (maxProperties)`);
        return { t: 'set', class: cls, size, items, ...(more > 0 ? { more } : {}) };
      }
      default:
        return this.plain(value, cls, depth, ancestors);
    }
  }

  private plain(value: object, cls: string, depth: number, ancestors: readonly object[]): CapturedValue {
    const budget = this.budget;
    const max = budget.limits.maxProperties;
    // Object.keys: own enumerable string keys, enumerated in C++ (a million-key object costs one pass, no more).
    const keys = publicFirst(Object.keys(value), max);
    const props: [string, CapturedValue][] = [];
    for (const key of keys) {
      if (props.length >= max) break;
      if (!budget.take(key.length + 6)) break; // ["key",…],
      const own = ownValue(value, key);
      if (own === undefined) continue;
      const prop: [string, CapturedValue] = [key, { t: 'undefined' }];
      props.push(prop);
      if (own === 'getter') prop[1] = { t: 'getter' };
      else this.child(own.value, depth, ancestors, (v) => (prop[1] = v), key);
    }
    const total = keys.total;
    const more = total - props.length;
    if (more > 0 && !budget.exhausted) budget.leftOut.add(`elements and properties past the first ${max} (maxProperties)`);
    return { t: 'object', class: cls, props, ...(more > 0 ? { more } : {}) };
  }
}

/** Keys not starting with `_` first, at most `max` (plus the total count). */
function publicFirst(keys: string[], max: number): string[] & { total: number } {
  const total = keys.length;
  let result: string[];
  if (keys.some((k) => k.charCodeAt(0) === 95)) {
    result = keys.filter((k) => k.charCodeAt(0) !== 95);
    if (result.length < max) for (const k of keys) if (k.charCodeAt(0) === 95 && result.push(k) >= max) break;
  } else {
    result = keys;
  }
  return Object.assign(result.length > max ? result.slice(0, max) : result, { total });
}

/** One value on its own (logpoint parts, REPL results, tests). */
export function capture(value: unknown, budget: CaptureBudget): CapturedValue {
  const capturer = new Capturer(budget);
  const holder = capturer.add(value);
  capturer.run();
  return holder.value;
}

/** A value held by a slot called `name`, whose name alone may make it secret. */
export function captureNamed(name: string, value: unknown, budget: CaptureBudget): CapturedValue {
  const capturer = new Capturer(budget);
  const holder = capturer.add(value, name);
  capturer.run();
  return holder.value;
}

function captureString(value: string, budget: CaptureBudget): CapturedValue {
  const max = budget.limits.maxStringLength;
  const redacted = budget.redactor.redactText(value, max + SECRET_SCAN_MARGIN);
  const cut = redacted.length > max ? redacted.slice(0, max) : redacted;
  if (!budget.take(cut.length + 3)) return budget.omitted();
  if (value.length <= max && redacted.length <= max) return redacted;
  budget.leftOut.add(`strings past ${max} characters (maxStringLength)`);
  return { t: 'string', v: cut, length: value.length };
}

function functionName(fn: unknown): string {
  // A class's static `name` may be a getter: read only a data property.
  const descriptor = Object.getOwnPropertyDescriptor(fn, 'name');
  return descriptor && 'value' in descriptor && typeof descriptor.value === 'string' && descriptor.value ? descriptor.value : '(anonymous)';
}

/** The constructor's name and what kind of object it is, read without calling any getter; cached per prototype. */
function describeProto(value: object): { name: string; kind: Kind } {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype) return PLAIN_OBJECT;
  if (proto === Array.prototype) return PLAIN_ARRAY;
  if (typeof proto === 'object' || typeof proto === 'function') {
    const cached = protoInfo.get(proto);
    if (cached) return cached;
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'constructor');
    const name = descriptor && 'value' in descriptor && typeof descriptor.value === 'function' ? functionName(descriptor.value) : 'Object';
    const info = { name, kind: kindOf(value) };
    protoInfo.set(proto, info);
    return info;
  }
  return PLAIN_OBJECT;
}
const PLAIN_OBJECT = { name: 'Object', kind: 'plain' as Kind };
const PLAIN_ARRAY = { name: 'Array', kind: 'array' as Kind };

function kindOf(value: object): Kind {
  if (Array.isArray(value)) return 'array';
  if (types.isUint8Array(value) || types.isUint8ClampedArray(value) || types.isArrayBuffer(value) || types.isSharedArrayBuffer(value) || types.isDataView(value)) return 'bytes';
  if (types.isTypedArray(value)) return 'typed';
  if (types.isMap(value)) return 'map';
  if (types.isSet(value)) return 'set';
  if (types.isWeakMap(value) || types.isWeakSet(value)) return 'weak';
  if (types.isDate(value)) return 'date';
  if (types.isRegExp(value)) return 'regexp';
  if (types.isNativeError(value) || value instanceof Error) return 'error';
  if (types.isPromise(value)) return 'promise';
  if (types.isBoxedPrimitive(value)) return 'boxed';
  return 'plain';
}

/** The primitive inside a boxed one, through the built-in valueOf (never a subclass's). */
function unbox(value: object): unknown {
  if (types.isNumberObject(value)) return Number.prototype.valueOf.call(value);
  if (types.isStringObject(value)) return String.prototype.valueOf.call(value);
  if (types.isBooleanObject(value)) return Boolean.prototype.valueOf.call(value);
  if (types.isBigIntObject(value)) return BigInt.prototype.valueOf.call(value);
  if (types.isSymbolObject(value)) return Symbol.prototype.valueOf.call(value);
  return undefined;
}

function sizeOf(value: object, kind: Kind): { size?: number } {
  if (kind === 'array') return { size: (value as unknown[]).length };
  if (kind === 'map') return { size: Reflect.get<object, 'size'>(Map.prototype, 'size', value) as number };
  if (kind === 'set') return { size: Reflect.get<object, 'size'>(Set.prototype, 'size', value) as number };
  return {};
}

function captureError(error: Error, cls: string, budget: CaptureBudget): CapturedValue {
  const descriptor = Object.getOwnPropertyDescriptor(error, 'message');
  const message = descriptor && 'value' in descriptor ? String(descriptor.value) : '';
  const text = budget.redactor.redactText(message, budget.limits.maxStringLength + SECRET_SCAN_MARGIN).slice(0, budget.limits.maxStringLength);
  budget.take(text.length + cls.length + 24);
  return { t: 'error', class: cls, message: text };
}

/** An element or property read without calling accessors. */
function ownValue(target: object, key: PropertyKey): { value: unknown } | 'getter' | undefined {
  const descriptor = Reflect.getOwnPropertyDescriptor(target, key);
  if (!descriptor) return undefined;
  return 'value' in descriptor ? { value: descriptor.value } : 'getter';
}

function captureBytes(value: object, cls: string, budget: CaptureBudget): CapturedValue {
  const bytes = types.isArrayBuffer(value) || types.isSharedArrayBuffer(value)
    ? new Uint8Array(value)
    : new Uint8Array((value as ArrayBufferView).buffer, (value as ArrayBufferView).byteOffset, (value as ArrayBufferView).byteLength);
  const shown = bytes.subarray(0, MAX_HEX_BYTES);
  // A secret carried as bytes (a request body, a header buffer) is as secret as a string: look at the text.
  const preview = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, MAX_HEX_BYTES + SECRET_SCAN_MARGIN)).toString('latin1');
  if (budget.redactor.hasSecretShape(preview)) return budget.take(12) ? REDACTED : budget.omitted();
  const hex = Buffer.from(shown.buffer, shown.byteOffset, shown.length).toString('hex');
  if (!budget.take(hex.length + 40)) return budget.omitted();
  return { t: 'bytes', class: cls, length: bytes.length, hex };
}

/** Text of a value for logpoint lines: primitives as themselves, objects as compact JSON-like text. */
export function formatForLog(value: CapturedValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  switch (value.t) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `${value.v}…`;
    case 'number':
    case 'bigint':
    case 'symbol':
    case 'date':
    case 'regexp':
      return value.v;
    case 'function':
      return `[Function ${value.name}]`;
    case 'object':
      return `${value.class === 'Object' ? '' : `${value.class} `}{${value.props.map(([k, v]) => `${k}: ${formatNested(v)}`).join(', ')}${value.more ? `, …${value.more} more` : ''}}`;
    case 'array':
      return `[${value.items.map(formatNested).join(', ')}${value.more ? `, …${value.more} more` : ''}]`;
    case 'map':
      return `Map(${value.size}) {${value.entries.map(([k, v]) => `${formatNested(k)} => ${formatNested(v)}`).join(', ')}}`;
    case 'set':
      return `Set(${value.size}) {${value.items.map(formatNested).join(', ')}}`;
    case 'bytes':
      return `<${value.class} ${value.hex}${value.length * 2 > value.hex.length ? '…' : ''}>`;
    case 'error':
      return `${value.class}: ${value.message}`;
    case 'promise':
      return `[${value.class}]`;
    case 'proxy':
      return '[Proxy]';
    case 'getter':
      return '[Getter]';
    case 'cycle':
      return `[Circular ${value.class}]`;
    case 'deep':
      return `[${value.class}]`;
    case 'omitted':
      return '…';
    case 'thrown':
      return `<threw ${value.message}>`;
  }
}

function formatNested(value: CapturedValue): string {
  return typeof value === 'string' ? JSON.stringify(value) : formatForLog(value);
}
