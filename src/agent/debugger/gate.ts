/**
 * The debug gate: what compiled V8 breakpoint conditions call, installed on a global only the debugger uses.
 * Everything that can be decided without pausing is decided here, inside the condition, so a hit that would
 * be thrown away never pays for a pause (the costliest step, ~0.5 ms): whether the breakpoint is still on,
 * its CPU budget, the user's condition (errors caught and counted), the hit condition, the rate limit. A
 * logpoint never pauses at all: its expressions are evaluated and its line sent from here.
 */
import { types } from 'node:util';
import { GATE_GLOBAL, hitConditionMet, type HitCondition } from '../../common/debugExpressions';

/** Leaky bucket of CPU milliseconds: `capacityMs` drains at `ratePerMs`; over capacity is over budget. */
export class CpuBudget {
  private level = 0;
  private at = performance.now();
  readonly capacityMs: number;

  /** `percent` of one core over a window of `windowMs`. */
  constructor(readonly percent: number, readonly windowMs = 10_000) {
    this.capacityMs = (percent / 100) * windowMs;
  }

  /** Adds `ms` of work; false when that takes the breakpoint over its budget. */
  charge(ms: number, now = performance.now()): boolean {
    this.level = Math.max(0, this.level - (now - this.at) * (this.percent / 100)) + ms;
    this.at = now;
    return this.level <= this.capacityMs;
  }

  /** Share of one core used over the window, for messages. */
  usedPercent(now = performance.now()): number {
    const level = Math.max(0, this.level - (now - this.at) * (this.percent / 100));
    return (level / this.windowMs) * 100 + this.percent;
  }
}

/** Token bucket: `perWindow` events per `windowMs`, with a burst of at most `burst`. */
export class RateLimit {
  private tokens: number;
  private at = performance.now();
  dropped = 0;

  constructor(readonly perWindow: number, readonly windowMs: number, readonly burst = Math.min(perWindow, 10)) {
    this.tokens = Math.max(1, burst);
  }

  take(now = performance.now()): boolean {
    this.tokens = Math.min(Math.max(1, this.burst), this.tokens + ((now - this.at) * this.perWindow) / this.windowMs);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.dropped++;
    return false;
  }
}

/** One installed breakpoint as the gate sees it. */
export interface GateSlot {
  readonly slot: number;
  active: boolean;
  hits: number;
  evaluations: number;
  readonly hitCondition: HitCondition | undefined;
  readonly rate: RateLimit;
  readonly budget: CpuBudget;
  /** Estimated cost of V8 evaluating this breakpoint's condition once, ms (see SnapshotDebugger.calibrate). */
  evaluationCostMs: number;
  /** Called (once) when the budget is exceeded; the owner disables the breakpoint outside the condition. */
  onBudgetExceeded(): void;
  onConditionError(error: unknown): void;
  /** Logpoints: the evaluated parts (or the error that stopped them). */
  onLog?(values: unknown[] | undefined, error: unknown, startedAt: number): void;
  /** Snapshots taken without pausing: the frame's `this`, its locals' getters and the call sites. */
  onCapture?(self: unknown, locals: (() => unknown)[], stack: NodeJS.CallSite[], startedAt: number): void;
}

export class DebugGate {
  private readonly slots: (GateSlot | undefined)[] = [];
  private nextSlot = 1;
  /** Snapshot breakpoints whose conditions said "pause" since the last pause, and when the first did. */
  private fired: GateSlot[] = [];
  private firedAt = 0;
  /** What the last capture call handed over (scope objects and values, by reference). */
  private sunk: unknown[] = [];

  readonly api = {
    /** Active, within budget (counts the evaluation). */
    a: (slot: number): boolean => {
      const s = this.slots[slot];
      if (!s?.active) return false;
      s.evaluations++;
      if (!s.budget.charge(s.evaluationCostMs)) {
        this.exceed(s);
        return false;
      }
      return true;
    },
    /** Active, within budget, and the user's condition holds (an error in it counts as false and is reported). */
    k: (slot: number, condition: () => unknown): boolean => {
      if (!this.api.a(slot)) return false;
      try {
        return Boolean(condition());
      } catch (error) {
        this.slots[slot]?.onConditionError(error);
        return false;
      }
    },
    /** Snapshot: hit condition and rate limit; true pauses. */
    t: (slot: number): boolean => {
      const s = this.slots[slot];
      if (!s) return false;
      s.hits++;
      if (s.hitCondition && !hitConditionMet(s.hitCondition, s.hits)) return false;
      const now = performance.now();
      if (!s.rate.take(now)) return false;
      if (!this.fired.length) this.firedAt = now;
      this.fired.push(s);
      return true;
    },
    /** Logpoint: hit condition, rate limit, evaluate the parts, hand them over; never pauses. */
    l: (slot: number, parts: () => unknown[]): boolean => {
      const s = this.slots[slot];
      if (!s?.onLog) return false;
      s.hits++;
      if (s.hitCondition && !hitConditionMet(s.hitCondition, s.hits)) return false;
      const startedAt = performance.now();
      if (!s.rate.take(startedAt)) return false;
      let values: unknown[] | undefined;
      let failure: unknown;
      try {
        values = parts();
      } catch (error) {
        failure = error;
      }
      s.onLog(values, failure, startedAt);
      return false;
    },
    /** Snapshot without pausing (see SnapshotDebugger): hit condition, rate limit, then capture here. */
    s: (slot: number, self: unknown, locals: (() => unknown)[]): boolean => {
      const s = this.slots[slot];
      if (!s?.onCapture) return false;
      s.hits++;
      if (s.hitCondition && !hitConditionMet(s.hitCondition, s.hits)) return false;
      const startedAt = performance.now();
      if (!s.rate.take(startedAt)) return false;
      s.onCapture(self, locals, callSites(this.api.s, 40), startedAt);
      return false;
    },
    /** An allowed method on a built-in receiver (see debugExpressions.ts). */
    m: (receiver: unknown, method: string, optional: boolean, ...args: unknown[]): unknown => callMethod(receiver, method, optional, args),
    /** An allowed pure function. */
    f: (name: string, ...args: unknown[]): unknown => callFunction(name, args),
    /** Receives the capture's scope objects and values (called through Runtime.callFunctionOn). */
    sink: (...values: unknown[]): void => {
      this.sunk = values;
    },
  };

  install(): void {
    Object.defineProperty(globalThis, GATE_GLOBAL, { value: this.api, configurable: true, enumerable: false, writable: false });
  }

  uninstall(): void {
    Reflect.deleteProperty(globalThis, GATE_GLOBAL);
  }

  allocate(make: (slot: number) => GateSlot): GateSlot {
    const slot = make(this.nextSlot++);
    this.slots[slot.slot] = slot;
    return slot;
  }

  release(slot: GateSlot): void {
    slot.active = false;
    this.slots[slot.slot] = undefined;
  }

  /** The snapshot breakpoints that fired since the last call, and when the first of them did. */
  takeFired(): { slots: GateSlot[]; at: number } {
    const fired = { slots: this.fired, at: this.firedAt };
    this.fired = [];
    this.firedAt = 0;
    return fired;
  }

  takeSunk(): unknown[] {
    const values = this.sunk;
    this.sunk = [];
    return values;
  }

  private exceed(s: GateSlot): void {
    if (!s.active) return;
    s.active = false;
    s.onBudgetExceeded();
  }
}

/**
 * The call stack above `below`, as V8's structured call sites (no string formatting, no source-map lookup by
 * Node: mapping is done by the debugger with the maps it already holds).
 */
function callSites(below: (...args: never[]) => unknown, limit: number): NodeJS.CallSite[] {
  const holder: { stack?: NodeJS.CallSite[] } = {};
  const prepare = Error.prepareStackTrace;
  const stackLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.captureStackTrace(holder, below);
    return holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = stackLimit;
  }
}

// --- The allowed calls, checked at run time -----------------------------------------------------------------------

const MAX_SCANNED_LENGTH = 1_000_000;

function primitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

function refuse(message: string): never {
  throw new TypeError(`StreamGate debugger: ${message}`);
}

const STRING_IMPL = new Set(['startsWith', 'endsWith', 'includes', 'indexOf', 'lastIndexOf', 'charAt', 'charCodeAt', 'codePointAt', 'at', 'slice', 'substring', 'toLowerCase', 'toUpperCase', 'trim', 'trimStart', 'trimEnd']);
const ARRAY_IMPL = new Set(['includes', 'indexOf', 'lastIndexOf', 'at']);

function callMethod(receiver: unknown, method: string, optional: boolean, args: unknown[]): unknown {
  if (receiver === null || receiver === undefined) {
    if (optional) return undefined;
    refuse(`cannot call .${method}() on ${String(receiver)}`);
  }
  if (!args.every(primitive) && !((method === 'has' || method === 'get') && args.length === 1)) refuse(`.${method}() takes only strings, numbers and booleans here`);
  if (typeof receiver === 'string' && STRING_IMPL.has(method)) {
    if (receiver.length > MAX_SCANNED_LENGTH && method !== 'at' && method !== 'charAt') refuse(`.${method}() on a string of ${receiver.length} characters`);
    return (String.prototype[method as 'slice'] as (...a: unknown[]) => unknown).apply(receiver, args);
  }
  if (typeof receiver === 'number' && (method === 'toFixed' || method === 'toString')) {
    return (Number.prototype[method] as (...a: unknown[]) => unknown).apply(receiver, args);
  }
  if (typeof receiver === 'object' && !types.isProxy(receiver)) {
    if (Array.isArray(receiver) && ARRAY_IMPL.has(method)) {
      if (receiver.length > MAX_SCANNED_LENGTH && method !== 'at') refuse(`.${method}() on an array of ${receiver.length} elements`);
      return (Array.prototype[method as 'at'] as (...a: unknown[]) => unknown).apply(receiver, args);
    }
    if (types.isMap(receiver) && (method === 'has' || method === 'get')) return Map.prototype[method].call(receiver, args[0]);
    if (types.isSet(receiver) && method === 'has') return Set.prototype.has.call(receiver, args[0]);
    if (types.isWeakMap(receiver) && (method === 'has' || method === 'get')) return WeakMap.prototype[method].call(receiver, args[0] as object);
    if (types.isWeakSet(receiver) && method === 'has') return WeakSet.prototype.has.call(receiver, args[0] as object);
  }
  refuse(`.${method}() is allowed only on built-in strings, arrays, numbers, Maps and Sets`);
}

const PURE: Record<string, (...args: never[]) => unknown> = {
  'Math.abs': Math.abs,
  'Math.min': Math.min,
  'Math.max': Math.max,
  'Math.floor': Math.floor,
  'Math.ceil': Math.ceil,
  'Math.round': Math.round,
  'Math.trunc': Math.trunc,
  'Math.sign': Math.sign,
  'Math.sqrt': Math.sqrt,
  Number,
  String,
  Boolean,
  isNaN,
  isFinite,
  'Number.isInteger': Number.isInteger,
  'Number.isFinite': Number.isFinite,
  'Number.isNaN': Number.isNaN,
};

function callFunction(name: string, args: unknown[]): unknown {
  if (name === 'Array.isArray') return Array.isArray(args[0]);
  if (name === 'Object.keys') {
    const target = args[0];
    if (typeof target !== 'object' || target === null || types.isProxy(target)) refuse('Object.keys() takes a plain object here');
    const keys = Object.keys(target);
    return keys.length > 10_000 ? keys.slice(0, 10_000) : keys;
  }
  const fn = PURE[name];
  if (!fn) refuse(`${name}() is not allowed`);
  // Objects would be converted with their own valueOf/toString: user code. Only primitives go in.
  if (!args.every(primitive)) refuse(`${name}() takes only strings, numbers and booleans here`);
  return (fn as (...a: unknown[]) => unknown)(...args);
}
