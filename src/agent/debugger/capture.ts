/**
 * Turns live values into CapturedValue trees within the capture limits, in plain JavaScript on the pod's
 * thread (far cheaper than one inspector round trip per object). It never runs the app's code: accessors are
 * shown as getters rather than called, Proxies are not looked into (their traps are user code), collections
 * are read through the built-ins' own iterators, and huge arrays, maps and sets are read from the start only
 * (with their size), never walked. Redaction happens here, before anything leaves the pod.
 */
import { types } from 'node:util';
import type { CaptureLimits, CapturedValue } from '../../protocol/nats';
import { DEFAULT_CAPTURE_LIMITS } from '../../protocol/nats';
import { REDACTED, type Redactor } from './redaction';

/** Extra characters scanned for secret shapes past the cut, so a secret straddling it is still found. */
const SECRET_SCAN_MARGIN = 512;
/** How often (in values) the time budget is checked. */
const DEADLINE_STRIDE = 16;
/** Bytes of a Buffer or Uint8Array shown as hex. */
const MAX_HEX_BYTES = 48;

export class CaptureBudget {
  readonly limits: Required<CaptureLimits>;
  /** Approximate JSON size so far. */
  bytes = 0;
  private values = 0;
  /** Set when time or size ran out: everything after it is omitted. */
  exhausted: string | undefined;
  readonly leftOut = new Set<string>();

  constructor(limits: CaptureLimits | undefined, readonly deadline: number, readonly redactor: Redactor) {
    this.limits = { ...DEFAULT_CAPTURE_LIMITS, ...limits };
  }

  /** Counts a value; false once the time or size budget is spent (and says which, once). */
  take(size: number): boolean {
    if (this.exhausted) return false;
    this.bytes += size;
    if (this.bytes > this.limits.maxSnapshotBytes) {
      this.exhaust(`values past the snapshot size limit of ${Math.round(this.limits.maxSnapshotBytes / 1024)} kB (maxSnapshotBytes)`);
      return false;
    }
    if (++this.values % DEADLINE_STRIDE === 0 && performance.now() > this.deadline) {
      this.exhaust(`values past the capture time budget of ${this.limits.maxCaptureMs} ms (maxCaptureMs)`);
      return false;
    }
    return true;
  }

  timeLeft(): number {
    return this.deadline - performance.now();
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

/** Captures `value` for a slot called `name` (whose name alone may make it secret). */
export function captureNamed(name: string, value: unknown, budget: CaptureBudget): CapturedValue {
  if (budget.redactor.isSecretName(name)) return budget.take(12) ? REDACTED : budget.omitted();
  return capture(value, budget, 0, []);
}

export function capture(value: unknown, budget: CaptureBudget, depth: number, ancestors: object[]): CapturedValue {
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
      return captureObject(value, budget, depth, ancestors);
  }
  return { t: 'omitted', reason: `a ${typeof value}` };
}

function captureString(value: string, budget: CaptureBudget): CapturedValue {
  const max = budget.limits.maxStringLength;
  const redacted = budget.redactor.redactText(value, max + SECRET_SCAN_MARGIN);
  const cut = redacted.length > max ? redacted.slice(0, max) : redacted;
  if (!budget.take(cut.length + 2)) return budget.omitted();
  if (value.length <= max && redacted.length <= max) return redacted;
  budget.leftOut.add(`strings past ${max} characters (maxStringLength)`);
  return { t: 'string', v: cut, length: value.length };
}

function functionName(fn: unknown): string {
  // A class's static `name` may be a getter: read only a data property.
  const descriptor = Object.getOwnPropertyDescriptor(fn, 'name');
  return descriptor && 'value' in descriptor && typeof descriptor.value === 'string' && descriptor.value ? descriptor.value : '(anonymous)';
}

/** The constructor's name, read without calling any getter (no Symbol.toStringTag, no `constructor` getter). */
export function className(value: object): string {
  if (types.isProxy(value)) return 'Proxy';
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null) return 'Object';
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'constructor');
  if (descriptor && 'value' in descriptor && typeof descriptor.value === 'function') return functionName(descriptor.value);
  return 'Object';
}

function captureObject(value: object, budget: CaptureBudget, depth: number, ancestors: object[]): CapturedValue {
  if (!budget.take(24)) return budget.omitted();
  if (types.isProxy(value)) return { t: 'proxy' };
  const cls = className(value);
  if (ancestors.includes(value)) return { t: 'cycle', class: cls };
  if (types.isDate(value)) return { t: 'date', v: Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString() };
  if (types.isRegExp(value)) return { t: 'regexp', v: budget.redactor.redactText(RegExp.prototype.toString.call(value), 300) };
  if (types.isNativeError(value) || value instanceof Error) return captureError(value, cls, budget);
  if (types.isPromise(value)) return { t: 'promise', class: cls };
  if (types.isBoxedPrimitive(value)) return capture(value.valueOf(), budget, depth, ancestors);
  if (depth >= budget.limits.maxDepth) {
    budget.leftOut.add(`objects deeper than ${budget.limits.maxDepth} levels (maxDepth)`);
    return { t: 'deep', class: cls, ...sizeOf(value) };
  }
  const inner = [...ancestors, value];
  if (types.isUint8Array(value) || types.isUint8ClampedArray(value) || types.isArrayBuffer(value) || types.isSharedArrayBuffer(value) || types.isDataView(value)) {
    return captureBytes(value, cls, budget);
  }
  if (types.isTypedArray(value)) return captureTypedArray(value, cls, budget, depth, inner);
  if (Array.isArray(value)) return captureArray(value, cls, budget, depth, inner);
  if (types.isMap(value)) return captureMap(value, cls, budget, depth, inner);
  if (types.isSet(value)) return captureSet(value, cls, budget, depth, inner);
  if (types.isWeakMap(value) || types.isWeakSet(value)) return { t: 'object', class: cls, props: [] };
  return capturePlain(value, cls, budget, depth, inner);
}

function sizeOf(value: object): { size?: number } {
  if (Array.isArray(value)) return { size: value.length };
  if (types.isMap(value) || types.isSet(value)) return { size: (value as Map<unknown, unknown>).size };
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

function captureArray(value: unknown[], cls: string, budget: CaptureBudget, depth: number, inner: object[]): CapturedValue {
  const max = budget.limits.maxProperties;
  const length = value.length;
  const items: CapturedValue[] = [];
  for (let i = 0; i < Math.min(length, max); i++) {
    if (budget.exhausted) break;
    const own = ownValue(value, i);
    items.push(own === undefined ? { t: 'undefined' } : own === 'getter' ? { t: 'getter' } : capture(own.value, budget, depth + 1, inner));
  }
  const more = length - items.length;
  if (more > 0) budget.leftOut.add(`elements and properties past the first ${max} (maxProperties)`);
  return { t: 'array', class: cls, length, items, ...(more > 0 ? { more } : {}) };
}

function captureTypedArray(value: ArrayLike<number | bigint>, cls: string, budget: CaptureBudget, depth: number, inner: object[]): CapturedValue {
  const max = budget.limits.maxProperties;
  const length = value.length;
  const items: CapturedValue[] = [];
  for (let i = 0; i < Math.min(length, max) && !budget.exhausted; i++) items.push(capture(value[i], budget, depth + 1, inner));
  const more = length - items.length;
  return { t: 'array', class: cls, length, items, ...(more > 0 ? { more } : {}) };
}

function captureBytes(value: object, cls: string, budget: CaptureBudget): CapturedValue {
  const bytes = types.isArrayBuffer(value) || types.isSharedArrayBuffer(value)
    ? new Uint8Array(value as ArrayBuffer)
    : new Uint8Array((value as ArrayBufferView).buffer, (value as ArrayBufferView).byteOffset, (value as ArrayBufferView).byteLength);
  const shown = bytes.subarray(0, MAX_HEX_BYTES);
  // A secret carried as bytes (a request body, a header buffer) is as secret as a string: look at the text.
  const preview = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, MAX_HEX_BYTES + SECRET_SCAN_MARGIN)).toString('latin1');
  if (budget.redactor.hasSecretShape(preview)) return budget.take(12) ? REDACTED : budget.omitted();
  const hex = Buffer.from(shown.buffer, shown.byteOffset, shown.length).toString('hex');
  if (!budget.take(hex.length + 40)) return budget.omitted();
  return { t: 'bytes', class: cls, length: bytes.length, hex };
}

function captureMap(value: Map<unknown, unknown>, cls: string, budget: CaptureBudget, depth: number, inner: object[]): CapturedValue {
  const max = budget.limits.maxProperties;
  const size = Reflect.get<object, 'size'>(Map.prototype, 'size', value) as number; // the built-in getter, not a subclass's
  const entries: [CapturedValue, CapturedValue][] = [];
  // The built-in iterator reads the internal table: a subclass's overridden entries() is never called.
  for (const [k, v] of Map.prototype.entries.call(value)) {
    if (entries.length >= max || budget.exhausted) break;
    const key = capture(k, budget, depth + 1, inner);
    const val = typeof k === 'string' && budget.redactor.isSecretName(k) ? REDACTED : capture(v, budget, depth + 1, inner);
    entries.push([key, val]);
  }
  const more = size - entries.length;
  if (more > 0) budget.leftOut.add(`elements and properties past the first ${max} (maxProperties)`);
  return { t: 'map', class: cls, size, entries, ...(more > 0 ? { more } : {}) };
}

function captureSet(value: Set<unknown>, cls: string, budget: CaptureBudget, depth: number, inner: object[]): CapturedValue {
  const max = budget.limits.maxProperties;
  const size = Reflect.get<object, 'size'>(Set.prototype, 'size', value) as number;
  const items: CapturedValue[] = [];
  for (const v of Set.prototype.values.call(value)) {
    if (items.length >= max || budget.exhausted) break;
    items.push(capture(v, budget, depth + 1, inner));
  }
  const more = size - items.length;
  if (more > 0) budget.leftOut.add(`elements and properties past the first ${max} (maxProperties)`);
  return { t: 'set', class: cls, size, items, ...(more > 0 ? { more } : {}) };
}

function capturePlain(value: object, cls: string, budget: CaptureBudget, depth: number, inner: object[]): CapturedValue {
  const max = budget.limits.maxProperties;
  // Object.keys: own enumerable string keys, enumerated in C++ (a million-key object costs one pass, no more).
  const keys = Object.keys(value);
  const props: [string, CapturedValue][] = [];
  for (const key of keys) {
    if (props.length >= max || budget.exhausted) break;
    if (!budget.take(key.length + 4)) break;
    if (budget.redactor.isSecretName(key)) {
      props.push([key, REDACTED]);
      continue;
    }
    const own = ownValue(value, key);
    if (own === undefined) continue;
    props.push([key, own === 'getter' ? { t: 'getter' } : capture(own.value, budget, depth + 1, inner)]);
  }
  const more = keys.length - props.length;
  if (more > 0 && !budget.exhausted) budget.leftOut.add(`elements and properties past the first ${max} (maxProperties)`);
  return { t: 'object', class: cls, props, ...(more > 0 ? { more } : {}) };
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
