/**
 * The debug gate: what compiled V8 breakpoint conditions read and call, installed on a global only the debugger
 * uses. Everything that can be decided without pausing is decided inside the condition, so a hit that would be
 * thrown away never pays for a pause (the costliest step, ~0.5 ms): whether the breakpoint is still on, the
 * user's condition, the hit condition, the rate limit. A logpoint never pauses after its first evaluation (the one
 * pause every breakpoint takes so the agent can time V8's cost at its line): its expressions are evaluated and its
 * line sent from here.
 *
 * Why the hot path is numbers in a typed array rather than calls: V8 evaluates a breakpoint condition through
 * its debug-evaluate machinery, which costs ~50 µs whatever the condition says, and every call from a condition
 * into a JavaScript function costs about as much again (measured on Node 20). So a condition only counts its
 * evaluation and reads flags (`cells`); the gate's functions are called once a hit is really wanted (a
 * snapshot or a log line within its rate limit), and the CPU budget is settled from the counts by a timer.
 */
import { types } from 'node:util';
import { GATE_GLOBAL, type HitCondition } from '../../common/debugExpressions';
import { cpuNowMs, type CaptureStart } from './capture';

/**
 * Leaky bucket of CPU milliseconds: `capacityMs` drains at `percent` of a core; over capacity is over budget.
 * Beside it, what was charged in the last window, so a breakpoint switched off can say what it really cost.
 */
export class CpuBudget {
  private level = 0;
  private at: number;
  private readonly since: number;
  readonly capacityMs: number;
  /** Charges of the last window, oldest first, with their sum. */
  private readonly recent: { at: number; ms: number }[] = [];
  private recentMs = 0;

  /** `percent` of one core over a window of `windowMs`. */
  constructor(readonly percent: number, readonly windowMs = 10_000, now = performance.now()) {
    this.capacityMs = (percent / 100) * windowMs;
    this.at = now;
    this.since = now;
  }

  /** Adds `ms` of work; false when that takes the breakpoint over its budget. */
  charge(ms: number, now = performance.now()): boolean {
    this.level = Math.max(0, this.level - (now - this.at) * (this.percent / 100)) + ms;
    this.at = now;
    this.recent.push({ at: now, ms });
    this.recentMs += ms;
    this.forget(now);
    return this.level <= this.capacityMs;
  }

  /**
   * Share of one core the breakpoint used over the last window (or since it was set, if that is shorter, but
   * at least a second): the figure its "budget exceeded" message gives.
   */
  usedPercent(now = performance.now()): number {
    this.forget(now);
    const span = Math.max(1000, Math.min(this.windowMs, now - this.since));
    return (this.recentMs / span) * 100;
  }

  private forget(now: number): void {
    while (this.recent.length && this.recent[0]!.at <= now - this.windowMs) this.recentMs -= this.recent.shift()!.ms;
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

  /** Milliseconds until a token is available again (0 if one is). */
  msUntilToken(now = performance.now()): number {
    const tokens = Math.min(Math.max(1, this.burst), this.tokens + ((now - this.at) * this.perWindow) / this.windowMs);
    return tokens >= 1 ? 0 : ((1 - tokens) * this.windowMs) / this.perWindow;
  }
}

/**
 * The cells of one slot in `DebugGate.cells`: evaluations, hits, open (on and within budget), ready (a token), and
 * measure (set until the slot's first evaluation has paused once so the agent can time V8's cost at that line).
 */
export const CELLS_PER_SLOT = 5;
const EVALUATIONS = 0;
const HITS = 1;
const OPEN = 2;
const READY = 3;
const MEASURE = 4;
/** One evaluation in this many of a user's condition goes through the gate's try/catch, so errors are reported. */
export const ERROR_SAMPLE = 1024;
/** Breakpoints installed on one pod at once, over every session (numbers are reused as they go). */
export const MAX_SLOTS = 1024;

/** One installed breakpoint as the gate sees it. */
export interface GateSlot {
  readonly slot: number;
  /** Where its cells start in `DebugGate.cells`. */
  readonly cell: number;
  active: boolean;
  /** Backed by the gate's cells (see DebugGate.allocate). */
  hits: number;
  evaluations: number;
  readonly hitCondition: HitCondition | undefined;
  readonly rate: RateLimit;
  readonly budget: CpuBudget;
  /**
   * Estimated cost of V8 evaluating this breakpoint's condition once, ms: the probe's (SnapshotDebugger.calibrate)
   * until the first evaluation has paused once and the cost at the breakpoint's own line was timed.
   */
  evaluationCostMs: number;
  /** Called (once) when the budget is exceeded; the owner disables the breakpoint outside the condition. */
  onBudgetExceeded(): void;
  onConditionError(error: unknown): void;
  /** Logpoints: the evaluated parts (or the error that stopped them). */
  onLog?(values: unknown[] | undefined, error: unknown, started: CaptureStart): void;
  /** Snapshots taken without pausing: the frame's `this`, its locals' getters and the call sites. */
  onCapture?(self: unknown, locals: (() => unknown)[], stack: NodeJS.CallSite[], started: CaptureStart): void;
}

type SlotFields = Omit<GateSlot, 'cell' | 'hits' | 'evaluations'> & { hits?: number; evaluations?: number };

export class DebugGate {
  private readonly slots: (GateSlot | undefined)[] = [];
  private readonly free: number[] = [];
  /** Slot 0 is scratch (calibration); breakpoints get 1, 2, … and their numbers are reused once released. */
  private nextSlot = 1;
  /** The numbers conditions read and write: CELLS_PER_SLOT per slot, for MAX_SLOTS slots. */
  private readonly cells = new Float64Array(MAX_SLOTS * CELLS_PER_SLOT);
  /** Evaluations already charged to each slot's CPU budget. */
  private readonly charged: number[] = [];
  private readonly refills = new Map<number, NodeJS.Timeout>();
  /** Snapshot breakpoints whose conditions said "pause" since the last pause, and when the first did. */
  private fired: GateSlot[] = [];
  private firedAt: CaptureStart | undefined;
  /** Slots whose first evaluation paused so the cost at their line can be timed. */
  private measuring: GateSlot[] = [];
  /** What the last capture call handed over (scope objects and values, by reference). */
  private sunk: unknown[] = [];

  readonly api = {
    /** The cells, read and written by conditions as `<gate>.v[i]`. */
    v: this.cells,
    /** The user's condition, through a try/catch: an error counts as false and is reported. */
    k: (slot: number, condition: () => unknown): boolean => {
      try {
        return Boolean(condition());
      } catch (error) {
        this.slots[slot]?.onConditionError(error);
        return false;
      }
    },
    /** Snapshot (the condition, hit condition and readiness held): the rate limit; true pauses. */
    t: (slot: number): boolean => {
      const s = this.slots[slot];
      if (!s?.active) return false;
      const now = performance.now();
      if (!this.take(s, now)) return false;
      if (!this.fired.length) this.firedAt = { wall: now, cpu: cpuNowMs() };
      this.fired.push(s);
      return true;
    },
    /** The slot's first evaluation: pause once (only) so the agent can time V8's cost at this line; the rest of the condition still runs. */
    c: (slot: number): boolean => {
      const s = this.slots[slot];
      if (!s) return false;
      this.cells[s.cell + MEASURE] = 0;
      if (!s.active) return false;
      this.measuring.push(s);
      return true;
    },
    /** Logpoint: rate limit, evaluate the parts, hand them over; never pauses (see `c` for the first evaluation). */
    l: (slot: number, parts: () => unknown[]): boolean => {
      const s = this.slots[slot];
      if (!s?.onLog || !s.active) return false;
      const now = performance.now();
      if (!this.take(s, now)) return false;
      const started = { wall: now, cpu: cpuNowMs() };
      let values: unknown[] | undefined;
      let failure: unknown;
      try {
        values = parts();
      } catch (error) {
        failure = error;
      }
      s.onLog(values, failure, started);
      return false;
    },
    /** Snapshot without pausing (see SnapshotDebugger): rate limit, then capture here. */
    s: (slot: number, self: unknown, locals: (() => unknown)[]): boolean => {
      const s = this.slots[slot];
      if (!s?.onCapture || !s.active) return false;
      const now = performance.now();
      if (!this.take(s, now)) return false;
      s.onCapture(self, locals, callSites(this.api.s, 40), { wall: now, cpu: cpuNowMs() });
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

  /**
   * The condition V8 evaluates for one breakpoint: count the evaluation; then, reading cells only, is it open,
   * does the user's condition hold, the hit condition, is a token ready; only then call `action`.
   */
  condition(slot: GateSlot, action: string, userCondition: string | undefined): string {
    const g = GATE_GLOBAL;
    const c = slot.cell;
    const v = `${g}.v`;
    const parts = [`${v}[${c + OPEN}] === 1`];
    if (userCondition) parts.push(`(${v}[${c + EVALUATIONS}] % ${ERROR_SAMPLE} === 1 ? ${g}.k(${slot.slot}, () => (${userCondition})) : (${userCondition}))`);
    parts.push(hitExpression(slot.hitCondition, `(${v}[${c + HITS}] += 1)`), `${v}[${c + READY}] === 1`, action);
    // `|`, not `||`: the measuring pause (first evaluation only) never skips what the breakpoint itself does then.
    return `(${v}[${c + EVALUATIONS}] += 1, (${v}[${c + MEASURE}] === 1 && ${g}.c(${slot.slot})) | (${parts.join(' && ')}))`;
  }

  /** The condition of the scratch slot 0, the same shape as a breakpoint's, always false (for calibration). */
  scratchCondition(): string {
    const v = `${GATE_GLOBAL}.v`;
    return `(${v}[${EVALUATIONS}] += 1, ${v}[${OPEN}] === 1 && (${v}[${HITS}] += 1) > 0 && ${v}[${READY}] === 1)`;
  }

  /**
   * Charges each slot's CPU budget for the evaluations since the last call, at its estimated cost each; a slot
   * over budget is closed and its owner told. Called by a timer while breakpoints exist.
   */
  settle(now = performance.now()): void {
    for (const s of this.slots) {
      if (!s?.active) continue;
      const evaluations = this.cells[s.cell + EVALUATIONS]!;
      const fresh = evaluations - (this.charged[s.slot] ?? 0);
      this.charged[s.slot] = evaluations;
      if (fresh > 0 && !s.budget.charge(fresh * s.evaluationCostMs, now)) this.exceed(s);
    }
  }

  install(): void {
    Object.defineProperty(globalThis, GATE_GLOBAL, { value: this.api, configurable: true, enumerable: false, writable: false });
  }

  uninstall(): void {
    Reflect.deleteProperty(globalThis, GATE_GLOBAL);
  }

  /** A slot for a breakpoint, or undefined when MAX_SLOTS are in use. */
  allocate(make: (slot: number) => SlotFields): GateSlot | undefined {
    const n = this.free.pop() ?? (this.nextSlot < MAX_SLOTS ? this.nextSlot++ : undefined);
    if (n === undefined) return undefined;
    const cell = n * CELLS_PER_SLOT;
    this.cells.fill(0, cell, cell + CELLS_PER_SLOT);
    this.charged[n] = 0;
    const fields = make(n);
    const cells = this.cells;
    const slot = Object.defineProperties({ ...fields, cell } as GateSlot, {
      hits: { get: () => cells[cell + HITS]!, set: (value: number) => (cells[cell + HITS] = value), enumerable: true },
      evaluations: { get: () => cells[cell + EVALUATIONS]!, set: (value: number) => (cells[cell + EVALUATIONS] = value), enumerable: true },
    });
    if (fields.hits) slot.hits = fields.hits;
    if (fields.evaluations) slot.evaluations = fields.evaluations;
    this.charged[n] = slot.evaluations;
    this.cells[cell + OPEN] = slot.active ? 1 : 0;
    this.cells[cell + READY] = 1;
    this.cells[cell + MEASURE] = slot.active ? 1 : 0;
    this.slots[n] = slot;
    return slot;
  }

  release(slot: GateSlot): void {
    slot.active = false;
    if (this.slots[slot.slot] !== slot) return;
    this.slots[slot.slot] = undefined;
    this.cells[slot.cell + OPEN] = 0;
    this.cells[slot.cell + READY] = 0;
    this.cells[slot.cell + MEASURE] = 0;
    const refill = this.refills.get(slot.slot);
    if (refill) clearTimeout(refill);
    this.refills.delete(slot.slot);
    this.free.push(slot.slot);
  }

  /** Closes a slot (its breakpoint is being disabled): conditions stop there. */
  close(slot: GateSlot): void {
    slot.active = false;
    if (this.slots[slot.slot] === slot) {
      this.cells[slot.cell + OPEN] = 0;
      this.cells[slot.cell + MEASURE] = 0;
    }
  }

  /** Takes a token of the slot's rate limit; when none is left, conditions stop calling until one is. */
  private take(s: GateSlot, now: number): boolean {
    const taken = s.rate.take(now);
    const wait = s.rate.msUntilToken(now);
    if (wait > 0 && !this.refills.has(s.slot)) {
      this.cells[s.cell + READY] = 0;
      const timer = setTimeout(() => {
        this.refills.delete(s.slot);
        if (this.slots[s.slot] === s) this.cells[s.cell + READY] = 1;
      }, Math.ceil(wait));
      timer.unref();
      this.refills.set(s.slot, timer);
    }
    return taken;
  }

  /** The snapshot breakpoints that fired since the last call, and when the first of them did. */
  takeFired(): { slots: GateSlot[]; at: CaptureStart | undefined } {
    const fired = { slots: this.fired, at: this.firedAt };
    this.fired = [];
    this.firedAt = undefined;
    return fired;
  }

  /** The slots whose first evaluation paused to be measured, since the last call. */
  takeMeasuring(): GateSlot[] {
    const slots = this.measuring;
    this.measuring = [];
    return slots;
  }

  takeSunk(): unknown[] {
    const values = this.sunk;
    this.sunk = [];
    return values;
  }

  private exceed(s: GateSlot): void {
    if (!s.active) return;
    this.close(s);
    s.onBudgetExceeded();
  }
}

/** The hit condition as an expression over `hits` (an expression that counts the hit and yields the count). */
function hitExpression(condition: HitCondition | undefined, hits: string): string {
  if (!condition) return `${hits} > 0`;
  switch (condition.op) {
    case '>=':
    case '>':
    case '<':
    case '<=':
      return `${hits} ${condition.op} ${condition.n}`;
    case '==':
      return `${hits} === ${condition.n}`;
    case '%':
      return `${hits} % ${condition.n} === ${condition.remainder ?? 0}`;
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
