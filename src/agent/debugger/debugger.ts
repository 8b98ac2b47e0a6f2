/**
 * The non-breaking debugger: snapshot breakpoints, logpoints and exception snapshots on a live pod through an
 * in-process V8 inspector session, without ever leaving the pod paused.
 *
 * Why it has its own inspector session rather than the profiler's: the profiler's session lives as long as the
 * pod (its heap sampler runs throughout), while this one is connected only while breakpoints exist and is
 * disconnected when the last one goes, which is the only way to be sure V8 drops everything it keeps for a
 * debugging session (scripts' break locations, object groups, deoptimised functions). Failures stay apart too:
 * a debugger fault cannot stop the heap sampler. Node supports several in-process sessions at once.
 *
 * How a hit is handled: the compiled condition calls the gate (gate.ts), which decides without pausing
 * whether to take a snapshot; only then does V8 pause, and the `Debugger.paused` handler captures
 * synchronously (inspector calls on the same thread answer at once) and returns, which resumes V8. Nothing in
 * the handler awaits: Node keeps memory per pause while a paused handler awaits.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Session } from 'node:inspector';
import type { Debugger, InspectorNotification, Runtime } from 'node:inspector';
import { RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import { types } from 'node:util';
import { SingleFlight } from '../../common/singleFlight';
import { checkExpression, GATE_GLOBAL, parseHitCondition, parseLogTemplate, parsePath, type HitCondition, type TemplatePart } from '../../common/debugExpressions';
import {
  AUDIT_STREAM,
  AUDIT_STREAM_SPEC,
  AUDIT_SUBJECTS,
  auditSubject,
  DEFAULT_BREAKPOINT_TTL_MS,
  DEFAULT_CAPTURE_LIMITS,
  DEFAULT_CPU_BUDGET_PERCENT,
  DEFAULT_LOGS_PER_SECOND,
  DEFAULT_SESSION_LEASE_MS,
  DEFAULT_SNAPSHOTS_PER_MINUTE,
  debugEventSubject,
  PROTOCOL_VERSION,
  type AuditEvent,
  type BreakpointSpec,
  type BreakpointState,
  type CaptureLimits,
  type CapturedFrame,
  type CapturedValue,
  type DebugEvalReply,
  type DebugEvalRequest,
  type DebugEvent,
  type DebugSyncReply,
  type DebugSyncRequest,
  type ExceptionMode,
  type LogEvent,
  type SnapshotEvent,
} from '../../protocol/nats';
import { ControlRequestError } from '../control';
import { CaptureBudget, captureStartNow, Capturer, capture, cpuNowMs, formatForLog, type CaptureStart } from './capture';
import { CpuBudget, DebugGate, MAX_SLOTS, RateLimit, type GateSlot } from './gate';
import { Outboxes } from './outbox';
import { Redactor } from './redaction';
import { ScriptIndex } from './scripts';

const CAPTURE_GROUP = 'sg-capture';
/** Scope types whose variables are a frame's locals and arguments (closures and module scopes are not). */
const LOCAL_SCOPES = new Set(['local', 'block', 'catch']);
/** Locals per frame, whatever maxProperties says. */
const MAX_LOCALS = 64;
/** After the last breakpoint goes, the inspector stays attached this long in case another comes. */
const DETACH_GRACE_MS = 10_000;
/** How often false conditions are charged to their breakpoints' CPU budgets (counted in the gate's cells). */
const SETTLE_MS = 250;
/** Timed runs when measuring the condition cost at a breakpoint's line (one pause, once per breakpoint and pod). */
const MEASURE_RUNS = 10;

export interface SnapshotDebuggerOptions {
  nc: NatsConnection;
  pod: string;
  service: string;
  version: string;
  /** Names whose values are redacted (case-insensitive substrings); default DEFAULT_REDACTED_NAMES. */
  redactNames?: string[];
}

interface DebugSession {
  id: string;
  identity: string;
  leaseUntil: number;
  breakpoints: Map<string, Breakpoint>;
  exceptions: ExceptionSettings;
}

interface ExceptionSettings {
  mode: ExceptionMode;
  limits: CaptureLimits | undefined;
  rate: RateLimit;
  budget: CpuBudget;
  /** Why they were switched off by the pod (budget), if they were. */
  disabled?: string;
}

interface Breakpoint {
  session: DebugSession;
  spec: BreakpointSpec;
  state: BreakpointState;
  slot?: GateSlot;
  hitCondition?: HitCondition;
  /** Compiled user condition (for the V8 condition), if any. */
  condition?: string;
  /** Logpoints: the template, with each expression compiled. */
  template?: (TemplatePart & { compiled?: string })[];
  /** Watch expressions as written: paths are read from the live values, the rest evaluated by V8 with throwOnSideEffect. */
  watches: string[];
  locationKeys: string[];
  conditionErrors: number;
  captureFailures: number;
  /** Removed from its session (or replaced): a resolution still in flight must not install it. */
  gone?: boolean;
  /** The top frame's variable names, learnt at the first pause: later snapshots are taken without one. */
  fastNames?: string[];
}

interface V8Location {
  key: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
  breakpoints: Set<Breakpoint>;
  v8Id?: string;
}

/** Keeps the last few captures' pod time, for `stats()` (benchmarks and the health of the debugger). */
export interface DebuggerStats {
  attached: boolean;
  sessions: number;
  breakpoints: number;
  snapshots: number;
  logs: number;
  evaluationCostMs: number | undefined;
  pauseCostMs: number | undefined;
  /** Pod time of recent captures, ms, oldest first (at most 10 000). */
  recentCaptureMs: number[];
}

export class SnapshotDebugger {
  private session: Session | undefined;
  private readonly gate = new DebugGate();
  private readonly scripts: ScriptIndex;
  private readonly redactor: Redactor;
  private readonly sessions = new Map<string, DebugSession>();
  private readonly locations = new Map<string, V8Location>();
  private readonly bySlot = new Map<number, Breakpoint>();
  private readonly timer: NodeJS.Timeout;
  private detachTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private pendingRetry: NodeJS.Timeout | undefined;
  private auditStreamReady = false;
  private readonly auditStreamCheck = new SingleFlight<void>();
  private pauseMode: ExceptionMode = 'none';
  private calibrating = false;
  private evaluationCostMs: number | undefined;
  private pauseCostMs: number | undefined;
  private snapshotSeq = 0;
  private readonly bootId = randomBytes(3).toString('hex');
  private counts = { snapshots: 0, logs: 0 };
  private readonly recentCaptureMs: number[] = [];
  private stopped = false;
  private syncQueue: Promise<void> = Promise.resolve();
  /** Script ids to URLs (call frames carry only the id). */
  private readonly scriptUrls = new Map<string, string>();
  private readonly fileUrls = new Map<string, string>();
  private readonly outboxes = new Outboxes();

  constructor(private readonly options: SnapshotDebuggerOptions) {
    this.scripts = new ScriptIndex(options.pod);
    this.redactor = new Redactor(options.redactNames);
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  get attached(): boolean {
    return this.session !== undefined;
  }

  stats(): DebuggerStats {
    let breakpoints = 0;
    for (const s of this.sessions.values()) breakpoints += s.breakpoints.size;
    return {
      attached: this.attached,
      sessions: this.sessions.size,
      breakpoints,
      snapshots: this.counts.snapshots,
      logs: this.counts.logs,
      evaluationCostMs: this.evaluationCostMs,
      pauseCostMs: this.pauseCostMs,
      recentCaptureMs: [...this.recentCaptureMs],
    };
  }

  // --- Requests ---------------------------------------------------------------------------------------------------

  /** Makes this pod hold exactly the session's breakpoints; answers each one's state here. */
  sync(request: DebugSyncRequest): Promise<DebugSyncReply> {
    // One at a time: a periodic re-sync and a change must not both install the same breakpoint.
    const next = this.syncQueue.then(() => this.syncNow(request));
    this.syncQueue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async syncNow(request: DebugSyncRequest): Promise<DebugSyncReply> {
    if (this.stopped) throw new ControlRequestError('the agent is stopping', 503);
    let session = this.sessions.get(request.session);
    const exceptionsWanted = request.exceptions?.mode ?? 'none';
    if (!session && request.breakpoints.length === 0 && exceptionsWanted === 'none') {
      return { pod: this.options.pod, session: request.session, breakpoints: [], exceptions: { mode: 'none' } };
    }
    if (!session) {
      session = { id: request.session, identity: request.identity, leaseUntil: 0, breakpoints: new Map(), exceptions: exceptionSettings('none') };
      this.sessions.set(session.id, session);
    }
    session.identity = request.identity;
    session.leaseUntil = Date.now() + (request.leaseMs ?? DEFAULT_SESSION_LEASE_MS);
    void this.ensureAuditStream();

    const wanted = new Map(request.breakpoints.map((b) => [b.id, b]));
    for (const [id, bp] of session.breakpoints) {
      if (!wanted.has(id)) {
        bp.gone = true;
        this.remove(bp);
        session.breakpoints.delete(id);
        this.audit('remove', session, bp.spec);
      }
    }
    const needsInspector = request.breakpoints.length > 0 || exceptionsWanted !== 'none';
    if (needsInspector) this.attach();
    for (const spec of request.breakpoints) {
      const existing = session.breakpoints.get(spec.id);
      if (existing && sameInstallation(existing.spec, spec)) {
        this.update(existing, spec);
        continue;
      }
      if (existing) {
        existing.gone = true;
        this.remove(existing);
      }
      const bp = await this.install(session, spec);
      session.breakpoints.set(spec.id, bp);
      this.audit(bp.state.state === 'rejected' ? 'refused' : existing ? 'change' : 'set', session, spec, bp.state.state === 'rejected' ? bp.state.message : undefined);
    }
    this.setExceptions(session, request.exceptions);
    // Exceptions can come from any script: their maps are loaded before V8 starts pausing on them.
    if (session.exceptions.mode !== 'none') await this.scripts.preloadAll();
    this.applyExceptionMode();
    if (session.breakpoints.size === 0 && session.exceptions.mode === 'none') this.endSession(session, undefined);
    this.maybeDetach();
    const outbox = this.outboxes.of(request.session);
    const after = request.received?.boot === this.bootId ? request.received.seq : 0;
    for (const json of outbox.since(after)) this.publishJson(request.session, json);
    return {
      pod: this.options.pod,
      session: request.session,
      breakpoints: request.breakpoints.map((b) => session.breakpoints.get(b.id)?.state ?? { id: b.id, state: 'pending' }),
      exceptions: { mode: session.exceptions.mode, ...(session.exceptions.disabled ? { message: session.exceptions.disabled } : {}) },
      sent: { boot: this.bootId, seq: outbox.last },
    };
  }

  /** Evaluates an expression live in the pod's global scope, side-effect free and time-bounded (the REPL). */
  evaluate(request: DebugEvalRequest): DebugEvalReply {
    const checked = checkExpression(request.expression);
    if (!checked.ok) throw new ControlRequestError(`the expression ${checked.reason}`);
    const temporary = !this.session;
    this.attach();
    try {
      const session = this.sessions.get(request.session) ?? { id: request.session, identity: request.identity, leaseUntil: 0, breakpoints: new Map(), exceptions: exceptionSettings('none') };
      this.audit('eval', session, undefined, checked.source);
      const budget = new CaptureBudget(undefined, DEFAULT_CAPTURE_LIMITS.maxCaptureMs * 4, this.redactor);
      const result = this.post<Runtime.EvaluateReturnType>('Runtime.evaluate', {
        expression: checked.source,
        throwOnSideEffect: true,
        timeout: 200,
        objectGroup: CAPTURE_GROUP,
        silent: true,
        generatePreview: false,
      });
      const value = this.remoteValue(result.result, result.exceptionDetails, budget);
      return { value };
    } finally {
      this.post('Runtime.releaseObjectGroup', { objectGroup: CAPTURE_GROUP });
      if (temporary) this.maybeDetach(true);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const session of [...this.sessions.values()]) this.endSession(session, undefined);
    this.detach();
    await Promise.resolve();
  }

  // --- Breakpoints ------------------------------------------------------------------------------------------------

  private async install(session: DebugSession, spec: BreakpointSpec): Promise<Breakpoint> {
    const bp: Breakpoint = { session, spec, state: { id: spec.id, state: 'pending' }, watches: [], locationKeys: [], conditionErrors: 0, captureFailures: 0 };
    const refusal = this.compile(bp);
    if (refusal) {
      bp.state = { id: spec.id, state: 'rejected', message: refusal };
      return bp;
    }
    if (spec.expiresAt <= Date.now()) {
      bp.state = { id: spec.id, state: 'expired', message: `expired at ${new Date(spec.expiresAt).toISOString()}` };
      return bp;
    }
    await this.place(bp);
    return bp;
  }

  /** Checks and compiles the breakpoint's expressions; returns why it is refused, if it is. */
  private compile(bp: Breakpoint): string | undefined {
    const { spec } = bp;
    if (spec.condition?.trim()) {
      const checked = checkExpression(spec.condition);
      if (!checked.ok) return `condition ${checked.reason}`;
      bp.condition = checked.compiled;
    }
    if (spec.hitCondition?.trim()) {
      const parsed = parseHitCondition(spec.hitCondition);
      if (!parsed.ok) return `hit condition: ${parsed.reason}`;
      bp.hitCondition = parsed.value;
    }
    if (spec.kind === 'logpoint') {
      const parsed = parseLogTemplate(spec.logMessage ?? '');
      if (!parsed.ok) return `log message ${parsed.reason}`;
      const template: (TemplatePart & { compiled?: string })[] = [];
      for (const part of parsed.parts) {
        if ('text' in part) template.push(part);
        else {
          const checked = checkExpression(part.expression);
          if (!checked.ok) return `log message part {${part.expression}} ${checked.reason}`;
          template.push({ expression: part.expression, compiled: checked.compiled });
        }
      }
      bp.template = template;
    }
    const refused = this.setWatches(bp, spec.watches ?? []);
    return refused;
  }

  private setWatches(bp: Breakpoint, watches: string[]): string | undefined {
    const checkedWatches: string[] = [];
    for (const watch of watches) {
      const checked = checkExpression(watch);
      if (!checked.ok) return `watch ${watch} ${checked.reason}`;
      checkedWatches.push(checked.source);
    }
    bp.watches = checkedWatches;
    return undefined;
  }

  /** Changes that need no new V8 breakpoint: watches, limits, rates, expiry, budget. */
  private update(bp: Breakpoint, spec: BreakpointSpec): void {
    const before = bp.spec;
    bp.spec = spec;
    if (JSON.stringify(before.watches ?? []) !== JSON.stringify(spec.watches ?? []) || before.limits?.pauseEveryHit !== spec.limits?.pauseEveryHit) {
      this.setWatches(bp, spec.watches ?? []);
      if (bp.fastNames && !this.canSkipPause(bp)) {
        bp.fastNames = undefined; // watches are evaluated by V8 with its side-effect check: that needs a pause
        for (const key of bp.locationKeys) this.refreshLocation(this.locations.get(key)!);
      }
    }
    if (bp.slot && (before.snapshotsPerMinute !== spec.snapshotsPerMinute || before.logsPerSecond !== spec.logsPerSecond || before.cpuBudgetPercent !== spec.cpuBudgetPercent)) {
      // Rates and budgets start afresh; hit counts carry on.
      const old = bp.slot;
      const carried = { hits: old.hits, evaluations: old.evaluations };
      this.gate.release(old);
      this.bySlot.delete(old.slot);
      bp.slot = undefined;
      this.allocateSlot(bp, carried);
      for (const key of bp.locationKeys) this.refreshLocation(this.locations.get(key)!);
    }
  }

  /** Resolves the breakpoint's file and line on this pod and sets (or shares) the V8 breakpoint. */
  private async place(bp: Breakpoint): Promise<void> {
    const { spec } = bp;
    const resolution = await this.scripts.resolve(spec.file, spec.line);
    if (!this.session || bp.gone || bp.state.state !== 'pending') return;
    if (resolution.kind === 'pending') {
      bp.state = { id: spec.id, state: 'pending', message: resolution.message };
      return;
    }
    if (resolution.kind === 'rejected') {
      bp.state = { id: spec.id, state: 'rejected', message: resolution.message };
      return;
    }
    if (!this.allocateSlot(bp)) return;
    for (const location of resolution.locations) {
      const key = `${location.url}:${location.lineNumber}:${location.columnNumber}`;
      let shared = this.locations.get(key);
      if (!shared) {
        shared = { key, ...location, breakpoints: new Set() };
        this.locations.set(key, shared);
      }
      shared.breakpoints.add(bp);
      bp.locationKeys.push(key);
      this.refreshLocation(shared);
    }
    const notes: string[] = [];
    if (resolution.line !== spec.line) notes.push(`line ${spec.line} has no code; installed at line ${resolution.line}`);
    if (resolution.note) notes.push(resolution.note);
    bp.state = {
      id: spec.id,
      state: 'installed',
      line: resolution.line,
      resolvedFile: resolution.file,
      ...(resolution.sourceHash ? { sourceHash: resolution.sourceHash } : {}),
      ...(notes.length ? { message: notes.join('; ') } : {}),
    };
  }

  /** The breakpoint's slot in the gate; undefined (and the breakpoint rejected) when the pod has no slot left. */
  private allocateSlot(bp: Breakpoint, carried: { hits: number; evaluations: number } = { hits: 0, evaluations: 0 }): GateSlot | undefined {
    const { spec } = bp;
    const logpoint = spec.kind === 'logpoint';
    const slot = this.gate.allocate((n) => ({
      slot: n,
      active: true,
      ...carried,
      hitCondition: bp.hitCondition,
      rate: logpoint ? new RateLimit(spec.logsPerSecond ?? DEFAULT_LOGS_PER_SECOND, 1000, spec.logsPerSecond ?? DEFAULT_LOGS_PER_SECOND) : new RateLimit(spec.snapshotsPerMinute ?? DEFAULT_SNAPSHOTS_PER_MINUTE, 60_000),
      budget: new CpuBudget(spec.cpuBudgetPercent ?? DEFAULT_CPU_BUDGET_PERCENT),
      evaluationCostMs: this.evaluationCostMs ?? 0.05,
      onBudgetExceeded: () => setImmediate(() => this.disableForBudget(bp)),
      onConditionError: (error) => this.conditionError(bp, error),
      ...(logpoint
        ? { onLog: (values: unknown[] | undefined, error: unknown, started: CaptureStart) => this.log(bp, values, error, started) }
        : { onCapture: (self: unknown, locals: (() => unknown)[], sites: NodeJS.CallSite[], started: CaptureStart) => this.snapshotWithoutPause(bp, self, locals, sites, started) }),
    }));
    if (!slot) {
      bp.state = { id: spec.id, state: 'rejected', message: `this pod already holds ${MAX_SLOTS} breakpoints (every session's together); remove some` };
      return undefined;
    }
    bp.slot = slot;
    this.bySlot.set(slot.slot, bp);
    return slot;
  }

  /** The V8 condition of one location: each breakpoint's gate chain, joined so that every one is evaluated. */
  private locationCondition(location: V8Location): string {
    const g = GATE_GLOBAL;
    return [...location.breakpoints]
      .filter((bp) => bp.slot)
      .map((bp) => {
        const slot = bp.slot!;
        const n = slot.slot;
        let action: string;
        if (bp.spec.kind === 'logpoint') {
          const parts = (bp.template ?? []).filter((p) => p.compiled).map((p) => `(${p.compiled})`);
          action = `${g}.l(${n}, () => [${parts.join(', ')}])`;
        } else if (bp.fastNames) {
          action = `${g}.s(${n}, this, [${bp.fastNames.map((name) => `() => ${name}`).join(', ')}])`;
        } else {
          action = `${g}.t(${n})`;
        }
        return this.gate.condition(slot, action, bp.condition);
      })
      .join(' | ');
  }

  /** CDP allows one breakpoint per location: replace it with one whose condition serves every breakpoint there. */
  private refreshLocation(location: V8Location): void {
    if (!this.session) return;
    if (location.v8Id) {
      this.post('Debugger.removeBreakpoint', { breakpointId: location.v8Id });
      location.v8Id = undefined;
    }
    if (location.breakpoints.size === 0) {
      this.locations.delete(location.key);
      return;
    }
    const result = this.post<Debugger.SetBreakpointByUrlReturnType>('Debugger.setBreakpointByUrl', {
      url: location.url,
      lineNumber: location.lineNumber,
      columnNumber: location.columnNumber,
      condition: this.locationCondition(location),
    });
    location.v8Id = result.breakpointId;
  }

  /** Takes the breakpoint out of V8 and the gate at once (a breakpoint deoptimises its function). */
  private remove(bp: Breakpoint): void {
    for (const key of bp.locationKeys) {
      const location = this.locations.get(key);
      if (!location) continue;
      location.breakpoints.delete(bp);
      this.refreshLocation(location);
    }
    bp.locationKeys = [];
    if (bp.slot) {
      this.gate.release(bp.slot);
      this.bySlot.delete(bp.slot.slot);
      bp.slot = undefined;
    }
  }

  private disableForBudget(bp: Breakpoint): void {
    if (!bp.slot || bp.state.state !== 'installed') return;
    const used = bp.slot.budget.usedPercent();
    const evaluationsPerSecond = bp.slot.evaluations;
    const costMs = bp.slot.evaluationCostMs;
    this.remove(bp);
    const budget = bp.spec.cpuBudgetPercent ?? DEFAULT_CPU_BUDGET_PERCENT;
    bp.state = {
      ...bp.state,
      state: 'disabled',
      message: `CPU budget exceeded: it cost ${used.toFixed(1)} % of a core (budget ${budget} % over 10 s; ${evaluationsPerSecond} evaluations so far, ~${costMs.toFixed(2)} ms each)`,
    };
    this.publishStatus(bp);
    this.audit('budget-exceeded', bp.session, bp.spec, bp.state.message);
    this.maybeDetach();
  }

  private conditionError(bp: Breakpoint, error: unknown): void {
    bp.conditionErrors++;
    if (bp.conditionErrors !== 1) return;
    const message = this.redactor.redactText(error instanceof Error ? `${error.name}: ${error.message}` : String(error), 300);
    setImmediate(() => {
      if (bp.state.state !== 'installed') return;
      bp.state = { ...bp.state, message: `condition threw ${message} on ${this.options.pod}; hits where it throws count as false` };
      this.publishStatus(bp);
    });
  }

  private tick(): void {
    const now = Date.now();
    for (const session of [...this.sessions.values()]) {
      if (session.leaseUntil < now) {
        this.endSession(session, `its lease ran out: no word from the session since ${new Date(session.leaseUntil - DEFAULT_SESSION_LEASE_MS).toISOString()}`);
        continue;
      }
      for (const bp of session.breakpoints.values()) {
        if (bp.spec.expiresAt <= now && bp.state.state !== 'expired' && bp.state.state !== 'rejected') {
          this.remove(bp);
          bp.state = { id: bp.spec.id, state: 'expired', message: `expired at ${new Date(bp.spec.expiresAt).toISOString()} (breakpoints last ${DEFAULT_BREAKPOINT_TTL_MS / 60_000} min unless set otherwise)` };
          this.publishStatus(bp);
          this.audit('expired', session, bp.spec);
        }
      }
    }
    this.maybeDetach();
  }

  /** A session that ended or went silent: all its breakpoints go. */
  private endSession(session: DebugSession, why: string | undefined): void {
    for (const bp of session.breakpoints.values()) {
      bp.gone = true;
      this.remove(bp);
    }
    this.sessions.delete(session.id);
    this.outboxes.clear(session.id);
    if (why) this.audit('session-expired', session, undefined, why);
    this.applyExceptionMode();
  }

  private schedulePendingRetry(): void {
    if (this.pendingRetry) return;
    this.pendingRetry = setTimeout(() => {
      this.pendingRetry = undefined;
      void this.retryPending();
    }, 250);
    this.pendingRetry.unref();
  }

  /** Scripts loaded since: pending breakpoints may now have a place to go. */
  private async retryPending(): Promise<void> {
    for (const session of this.sessions.values()) {
      for (const bp of session.breakpoints.values()) {
        if (bp.state.state !== 'pending') continue;
        await this.place(bp);
        if (!isPending(bp)) this.publishStatus(bp);
      }
    }
  }

  // --- The inspector session ----------------------------------------------------------------------------------------

  private attach(): void {
    if (this.detachTimer) {
      clearTimeout(this.detachTimer);
      this.detachTimer = undefined;
    }
    if (this.session) return;
    const session = new Session();
    session.connect();
    this.session = session;
    this.gate.install();
    session.on('Debugger.scriptParsed', (message: InspectorNotification<Debugger.ScriptParsedEventDataType>) => {
      const { url, sourceMapURL, scriptId } = message.params;
      // Every evaluation of a breakpoint condition compiles a script without a URL and reports it here: nothing
      // to keep (keeping their ids grew by one entry per evaluation).
      if (!url) return;
      this.scriptUrls.set(scriptId, url);
      if (this.scripts.add({ url, ...(sourceMapURL ? { sourceMapURL } : {}) })) this.schedulePendingRetry();
    });
    session.on('Debugger.paused', (message: InspectorNotification<Debugger.PausedEventDataType>) => this.onPaused(message.params));
    // Each of those condition scripts is dropped by V8 once evaluated, but the inspector keeps the source of every
    // collected script unless told a limit: ~1 KB of native memory per capture (a pod grew 110 MB over 100k
    // captures). Nothing here reads a collected script's source, so keep none.
    this.post('Debugger.enable', { maxScriptsCacheSize: 0 });
    this.post('Debugger.setAsyncCallStackDepth', { maxDepth: 0 });
    this.settleTimer = setInterval(() => this.gate.settle(), SETTLE_MS);
    this.settleTimer.unref();
    this.calibrate();
    warmUp(this.redactor);
    this.pauseMode = 'none';
    this.applyExceptionMode();
  }

  private maybeDetach(now = false): void {
    const inUse = [...this.sessions.values()].some((s) => s.exceptions.mode !== 'none' || [...s.breakpoints.values()].some((b) => b.state.state === 'installed' || b.state.state === 'pending'));
    if (inUse || !this.session) return;
    if (now) {
      this.detach();
      return;
    }
    if (this.detachTimer) return;
    this.detachTimer = setTimeout(() => {
      this.detachTimer = undefined;
      this.maybeDetach(true);
    }, DETACH_GRACE_MS);
    this.detachTimer.unref();
  }

  private detach(): void {
    if (this.detachTimer) clearTimeout(this.detachTimer);
    this.detachTimer = undefined;
    const session = this.session;
    if (!session) return;
    for (const location of this.locations.values()) location.v8Id = undefined;
    this.locations.clear();
    try {
      this.post('Debugger.disable');
    } catch {
      /* disconnecting drops everything anyway */
    }
    session.disconnect();
    this.session = undefined;
    if (this.settleTimer) clearInterval(this.settleTimer);
    this.settleTimer = undefined;
    this.gate.uninstall();
    this.scripts.clear();
    this.scriptUrls.clear();
  }

  private post<T = object>(method: string, params: object = {}): T {
    const session = this.session;
    if (!session) throw new Error('the debugger is not attached');
    const answer: { done: boolean; error: Error | null; result?: T } = { done: false, error: null };
    session.post(method, params, (error, result) => {
      answer.error = error;
      answer.result = result as T;
      answer.done = true;
    });
    // A session on the pod's own thread answers synchronously; anything else would be a Node change to notice.
    if (!answer.done) throw new Error(`the inspector did not answer ${method} synchronously`);
    if (answer.error) throw answer.error;
    return answer.result as T;
  }

  /**
   * Measures, once, what V8 costs per evaluation of a breakpoint condition and per pause on this pod, so the
   * CPU budget can count conditions that are false (they never reach the agent's code in full).
   */
  private calibrate(): void {
    if (this.evaluationCostMs !== undefined) return;
    const probe = (this.gate.api as unknown as { probe?: (a: number, b: number) => number });
    probe.probe = calibrationProbe;
    const { result } = this.post<Runtime.EvaluateReturnType>('Runtime.evaluate', { expression: `${GATE_GLOBAL}.probe`, objectGroup: 'sg-calibrate', silent: true });
    const runs = (n: number) => {
      const before = process.cpuUsage();
      let sink = 0;
      for (let i = 0; i < n; i++) sink += calibrationProbe(i, sink & 7);
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000 / n;
    };
    this.calibrating = true;
    try {
      // Few runs: this happens once per attach, on the pod's thread, and every pause here costs what it measures.
      const base = runs(50);
      // The same shape as a breakpoint's condition (counting, reading flags), on the gate's scratch slot.
      // Each measured after one untimed run: V8's first evaluation of a condition (and its first pause) in a script
      // works out the script's scopes once, ~30 ms for a 1.4 MB bundle, and averaged in it made every later
      // evaluation look 15× dearer than it is (0.7 ms instead of 0.04), so the CPU budget switched breakpoints
      // and logpoints off within a second on lines a pod passes 150 times a second.
      const conditional = this.post<{ breakpointId: string }>('Debugger.setBreakpointOnFunctionCall', { objectId: result.objectId, condition: this.gate.scratchCondition() });
      runs(1);
      const withCondition = runs(50);
      this.post('Debugger.removeBreakpoint', { breakpointId: conditional.breakpointId });
      const pausing = this.post<{ breakpointId: string }>('Debugger.setBreakpointOnFunctionCall', { objectId: result.objectId });
      runs(1);
      const withPause = runs(5);
      this.post('Debugger.removeBreakpoint', { breakpointId: pausing.breakpointId });
      this.evaluationCostMs = Math.min(1, Math.max(0.005, withCondition - base));
      this.pauseCostMs = Math.min(5, Math.max(0.05, withPause - base));
    } finally {
      this.calibrating = false;
      delete probe.probe;
      this.post('Runtime.releaseObjectGroup', { objectGroup: 'sg-calibrate' });
    }
  }

  // --- Hits ---------------------------------------------------------------------------------------------------------

  private onPaused(params: Debugger.PausedEventDataType): void {
    if (this.calibrating) return;
    try {
      const measuring = this.gate.takeMeasuring();
      const fired = this.gate.takeFired();
      const startedAt = fired.at ?? captureStartNow();
      if (params.reason === 'exception' || params.reason === 'promiseRejection') {
        this.onException(params, startedAt);
        return;
      }
      for (const slot of fired.slots) {
        const bp = this.bySlot.get(slot.slot);
        if (!bp) continue;
        try {
          this.snapshot(params, bp, startedAt);
        } catch (error) {
          this.captureFailed(bp, error);
        }
      }
      // After the snapshots, so their capture time does not include it.
      for (const slot of measuring) this.measureAt(params, slot);
    } catch {
      // Nothing may escape a paused handler: the pod carries on whatever happened here.
    } finally {
      try {
        this.post('Runtime.releaseObjectGroup', { objectGroup: CAPTURE_GROUP });
      } catch {
        /* detached meanwhile */
      }
    }
  }

  /**
   * What a condition costs V8 at this breakpoint's own line, timed on the paused frame: debug-evaluate of a
   * condition-shaped expression on it, less the same expression evaluated without a frame (the protocol's own
   * cost), plus the probe's cost. It varies by line (~0.05 ms in a small function, ~0.12–0.15 ms on the gateway's
   * message-handling lines), so the probe alone under-counts some lines several times over. Charged to the budget.
   * What it cannot see: V8 keeping a function that holds a break point unoptimised (bench/debugCapture).
   */
  private measureAt(params: Debugger.PausedEventDataType, slot: GateSlot): void {
    const frame = params.callFrames[0];
    if (!frame) return;
    const started = captureStartNow();
    const expression = this.gate.scratchCondition();
    const time = (method: string, args: object): number => {
      this.post(method, args);
      const before = process.cpuUsage();
      for (let i = 0; i < MEASURE_RUNS; i++) this.post(method, args);
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000 / MEASURE_RUNS;
    };
    try {
      const atLine = time('Debugger.evaluateOnCallFrame', { callFrameId: frame.callFrameId, expression, silent: true });
      const bare = time('Runtime.evaluate', { expression, silent: true });
      const probe = this.evaluationCostMs ?? 0.05;
      slot.evaluationCostMs = Math.min(5, Math.max(probe, atLine - bare + probe));
    } catch {
      // Not measured: the probe's estimate stands.
    }
    if (!slot.budget.charge(budgetCostMs(started))) {
      this.gate.close(slot);
      slot.onBudgetExceeded();
    }
  }

  private snapshot(params: Debugger.PausedEventDataType, bp: Breakpoint, startedAt: CaptureStart): void {
    const limits = { ...DEFAULT_CAPTURE_LIMITS, ...bp.spec.limits };
    // The hard budget bounds the agent's own work; V8's pause before it is spent already (and reported in captureMs).
    const budget = new CaptureBudget(limits, limits.maxCaptureMs, this.redactor);
    const { frames, watches, topNames } = this.capture(params.callFrames, bp.watches, undefined, budget);
    this.publishSnapshot(bp.session, { breakpointId: bp.spec.id, reason: 'breakpoint', frames, watches, budget, startedAt });
    if (!bp.fastNames && this.canSkipPause(bp)) {
      // The scopes at this line are now known: from the next hit on, capture inside the condition, unpaused.
      const names = topNames.filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && !name.startsWith('__streamgate'));
      setImmediate(() => {
        if (bp.state.state !== 'installed' || bp.fastNames || !this.canSkipPause(bp)) return;
        bp.fastNames = names;
        for (const key of bp.locationKeys) this.refreshLocation(this.locations.get(key)!);
      });
    }
    if (bp.slot && !bp.slot.budget.charge(budgetCostMs(startedAt))) {
      this.gate.close(bp.slot);
      setImmediate(() => this.disableForBudget(bp));
    }
  }

  /** Only path watches (read from live values) and no demand to pause every time: later snapshots need no pause. */
  private canSkipPause(bp: Breakpoint): boolean {
    return bp.spec.kind === 'snapshot' && bp.watches.every((w) => parsePath(w) !== undefined) && !bp.spec.limits?.pauseEveryHit;
  }

  /**
   * A snapshot taken inside the breakpoint's condition: the top frame's locals (read through one small getter
   * each), `this`, and the call stack from V8's call sites. No pause: V8 never builds the frames' scope chains.
   */
  private snapshotWithoutPause(bp: Breakpoint, self: unknown, getters: (() => unknown)[], sites: NodeJS.CallSite[], startedAt: CaptureStart): void {
    try {
      const limits = { ...DEFAULT_CAPTURE_LIMITS, ...bp.spec.limits };
      const budget = new CaptureBudget(limits, limits.maxCaptureMs, this.redactor, startedAt);
      const capturer = new Capturer(budget);
      const locals = (bp.fastNames ?? []).map((name, i): [string, { value: CapturedValue }] => {
        try {
          return [name, capturer.add(getters[i]!(), name)];
        } catch {
          return [name, { value: { t: 'omitted', reason: 'not initialised yet at this line' } }];
        }
      });
      const selfHolder = self !== undefined && self !== globalThis ? capturer.add(self) : undefined;
      const scope = Object.fromEntries((bp.fastNames ?? []).map((name, i) => [name, readGetter(getters[i]!)]));
      const watchHolders = bp.watches.map((expression): [string, { value: CapturedValue }] => {
        const live = readPath(expression, [scope], self);
        return [expression, live ? capturer.add(live.value, lastName(expression)) : { value: { t: 'omitted', reason: 'not found in the frame' } }];
      });
      capturer.run();
      // The condition's own frame (an eval) comes first: the app's frames start after it.
      const start = sites.findIndex((site) => !site.isEval());
      const frames = sites.slice(Math.max(0, start), Math.max(0, start) + limits.maxFrames).map((site): CapturedFrame => {
        const file = site.getFileName() ?? '';
        const position = this.scripts.originalPosition(this.fileUrl(file), site.getLineNumber() ?? 0, Math.max(0, (site.getColumnNumber() ?? 1) - 1));
        return { function: site.getFunctionName() ?? '(anonymous)', file: position.file, line: position.line, column: position.column };
      });
      if (frames[0]) {
        frames[0].locals = locals.map(([name, holder]) => [name, holder.value]);
        if (selfHolder) frames[0].this = selfHolder.value;
      }
      if (frames.length > 1 && limits.maxFramesWithLocals > 1) {
        budget.leftOut.add('the locals of outer frames: this snapshot was taken without pausing the pod (the first snapshot of a breakpoint on a pod has them; captureLimits.pauseEveryHit takes them every time, at ~1–2 ms a hit)');
      }
      const watches = watchHolders.map(([expression, holder]): [string, CapturedValue] => [expression, holder.value]);
      this.publishSnapshot(bp.session, { breakpointId: bp.spec.id, reason: 'breakpoint', frames, watches, budget, startedAt });
      if (bp.slot && !bp.slot.budget.charge(budgetCostMs(startedAt))) {
        this.gate.close(bp.slot);
        setImmediate(() => this.disableForBudget(bp));
      }
    } catch (error) {
      // Nothing may escape into the app's code from a condition; the breakpoint says what went wrong instead.
      this.captureFailed(bp, error);
    }
  }

  /** A capture that failed (a bug, or a value no one foresaw) is reported once on the breakpoint, not swallowed. */
  private captureFailed(bp: Breakpoint, error: unknown): void {
    if (bp.captureFailures++ > 0) return;
    const message = this.redactor.redactText(error instanceof Error ? `${error.name}: ${error.message}` : String(error), 300);
    setImmediate(() => {
      if (bp.state.state !== 'installed') return;
      bp.state = { ...bp.state, message: `a capture failed on ${this.options.pod} (${message}); the pod carries on` };
      this.publishStatus(bp);
    });
  }

  private fileUrl(file: string): string {
    if (!file.startsWith('/')) return file;
    let url = this.fileUrls.get(file);
    if (!url) {
      url = pathToFileURL(file).href;
      if (this.fileUrls.size > 10_000) this.fileUrls.clear();
      this.fileUrls.set(file, url);
    }
    return url;
  }

  private onException(params: Debugger.PausedEventDataType, startedAt: CaptureStart): void {
    const data = params.data as (Runtime.RemoteObject & { uncaught?: boolean }) | undefined;
    const uncaught = data?.uncaught === true;
    // Exceptions thrown and caught inside Node itself say nothing about the app.
    if (!params.callFrames.some((f) => this.frameUrl(f).startsWith('file:'))) return;
    for (const session of this.sessions.values()) {
      const settings = session.exceptions;
      if (settings.mode === 'none' || (settings.mode === 'uncaught' && !uncaught)) continue;
      const cost = () => (this.pauseCostMs ?? 0.5) + budgetCostMs(startedAt);
      if (settings.rate.take()) {
        const limits = { ...DEFAULT_CAPTURE_LIMITS, ...settings.limits };
        const budget = new CaptureBudget(limits, limits.maxCaptureMs, this.redactor);
        const { frames, watches, extra } = this.capture(params.callFrames, [], data, budget);
        this.publishSnapshot(session, { reason: 'exception', frames, watches, budget, startedAt, exception: extra, uncaught });
      }
      if (!settings.budget.charge(cost())) {
        settings.disabled = `exception snapshots switched off on ${this.options.pod}: CPU budget exceeded (${settings.budget.usedPercent().toFixed(1)} % of a core over 10 s)`;
        settings.mode = 'none';
        setImmediate(() => {
          this.applyExceptionMode();
          this.publish(session.id, { v: PROTOCOL_VERSION, kind: 'status', session: session.id, pod: this.options.pod, service: this.options.service, at: Date.now(), exceptions: { mode: 'none', message: settings.disabled } });
          this.audit('budget-exceeded', session, undefined, settings.disabled);
        });
      }
    }
  }

  /**
   * Captures frames (locals for the top ones), watch values and one extra object, synchronously: one
   * evaluation per watch and one call that hands every scope object to the gate, then plain JavaScript.
   */
  private capture(
    callFrames: Debugger.CallFrame[],
    watches: string[],
    extraObject: Runtime.RemoteObject | undefined,
    budget: CaptureBudget,
  ): { frames: CapturedFrame[]; watches: [string, CapturedValue][]; extra?: CapturedValue; topNames: string[] } {
    const { limits } = budget;
    const frames = callFrames.slice(0, limits.maxFrames);
    if (callFrames.length > frames.length) budget.leftOut.add(`${callFrames.length - frames.length} frames past the first ${limits.maxFrames} (maxFrames)`);
    const withLocals = Math.min(frames.length, limits.maxFramesWithLocals);
    const refs: string[] = [];
    const plan: { scopes: number[]; thisRef?: number }[] = [];
    for (let i = 0; i < withLocals; i++) {
      const frame = frames[i]!;
      const scopes: number[] = [];
      for (const scope of frame.scopeChain) {
        if (LOCAL_SCOPES.has(scope.type) && scope.object.objectId) scopes.push(refs.push(scope.object.objectId) - 1);
      }
      const thisRef = frame.this.type === 'object' && frame.this.objectId ? refs.push(frame.this.objectId) - 1 : undefined;
      plan.push({ scopes, ...(thisRef !== undefined ? { thisRef } : {}) });
    }
    const extraRef = extraObject?.objectId ? refs.push(extraObject.objectId) - 1 : undefined;
    let values: unknown[] = [];
    if (refs.length) {
      this.post('Runtime.callFunctionOn', {
        objectId: refs[0],
        functionDeclaration: `function (...rest) { globalThis.${GATE_GLOBAL}.sink(this, ...rest); }`,
        arguments: refs.slice(1).map((objectId) => ({ objectId })),
        objectGroup: CAPTURE_GROUP,
        silent: true,
      });
      values = this.gate.takeSunk();
    }
    // Watches: a path (req.headers["x-tenant"]) is read from the live values, never calling a getter; anything
    // else is evaluated by V8 in the top frame, which refuses side effects, with the time left after the locals
    // (a slow watch, such as a getter that throws, never starves the locals of their budget).
    const top = plan[0];
    const topScopes = top ? top.scopes.map((r) => values[r]) : [];
    const topThis = top?.thisRef !== undefined ? values[top.thisRef] : undefined;
    const live = watches.map((expression) => readPath(expression, topScopes, topThis));
    // Everything is captured breadth first under one budget: every local gets its first level before any
    // gets its second, so running out cuts the deepest parts, never a whole variable.
    const capturer = new Capturer(budget);
    // The exception (if any) first: it is what an exception snapshot is about.
    const extraHolder = extraRef !== undefined ? capturer.add(values[extraRef]) : undefined;
    const frameHolders = frames.map((_, i) => {
      const p = plan[i];
      if (!p) return undefined;
      return {
        locals: this.localHolders(p.scopes.map((r) => values[r]), capturer),
        ...(p.thisRef !== undefined ? { self: capturer.add(values[p.thisRef]) } : {}),
      };
    });
    const watchHolders: ({ value: CapturedValue } | undefined)[] = watches.map((expression, i) => {
      const found = live[i];
      return found ? capturer.add(found.value, lastName(expression)) : undefined;
    });
    capturer.run();
    const evaluated = new Capturer(budget);
    watches.forEach((expression, i) => {
      if (watchHolders[i]) return;
      const left = budget.timeLeft();
      if (left <= 0 || !frames[0]) {
        watchHolders[i] = { value: { t: 'omitted', reason: `the capture time budget of ${limits.maxCaptureMs} ms ran out` } };
        budget.exhaust(`values past the capture time budget of ${limits.maxCaptureMs} ms (maxCaptureMs)`);
        return;
      }
      const result = this.post<Debugger.EvaluateOnCallFrameReturnType>('Debugger.evaluateOnCallFrame', {
        callFrameId: frames[0].callFrameId,
        expression,
        objectGroup: CAPTURE_GROUP,
        throwOnSideEffect: true,
        timeout: Math.max(1, Math.floor(left)),
        silent: true,
      });
      if (!result.exceptionDetails && result.result.type === 'object' && result.result.objectId) {
        this.post('Runtime.callFunctionOn', { objectId: result.result.objectId, functionDeclaration: `function () { globalThis.${GATE_GLOBAL}.sink(this); }`, objectGroup: CAPTURE_GROUP, silent: true });
        watchHolders[i] = evaluated.add(this.gate.takeSunk()[0], lastName(expression));
      } else {
        watchHolders[i] = { value: this.remoteValue(result.result, result.exceptionDetails, budget) };
      }
    });
    evaluated.run();
    const captured: CapturedFrame[] = frames.map((frame, i) => {
      const position = this.scripts.originalPosition(this.frameUrl(frame), frame.location.lineNumber + 1, frame.location.columnNumber ?? 0);
      const entry: CapturedFrame = { function: frame.functionName || '(anonymous)', file: position.file, line: position.line, column: position.column };
      const holders = frameHolders[i];
      if (holders) {
        entry.locals = holders.locals.map(([name, holder]) => [name, holder.value]);
        if (holders.self) entry.this = holders.self.value;
      }
      return entry;
    });
    const watchValues = watches.map((expression, i): [string, CapturedValue] => [expression, watchHolders[i]?.value ?? { t: 'undefined' }]);
    const extra = extraHolder ? extraHolder.value : extraObject ? this.remoteValue(extraObject, undefined, budget) : undefined;
    return { frames: captured, watches: watchValues, ...(extra !== undefined ? { extra } : {}), topNames: frameHolders[0]?.locals.map(([name]) => name) ?? [] };
  }

  private frameUrl(frame: Debugger.CallFrame): string {
    return frame.url || this.scriptUrls.get(frame.location.scriptId) || '';
  }

  private localHolders(scopes: unknown[], capturer: Capturer): [string, { value: CapturedValue }][] {
    const seen = new Set<string>();
    const locals: [string, { value: CapturedValue }][] = [];
    for (const scope of scopes) {
      if (typeof scope !== 'object' || scope === null) continue;
      for (const name of Object.keys(scope)) {
        if (seen.has(name)) continue; // an inner block's variable shadows the outer one
        seen.add(name);
        if (locals.length >= MAX_LOCALS) {
          capturer.budget.leftOut.add(`locals past the first ${MAX_LOCALS} of a frame`);
          return locals;
        }
        const descriptor = Object.getOwnPropertyDescriptor(scope, name);
        locals.push([name, descriptor && 'value' in descriptor ? capturer.add(descriptor.value, name) : { value: { t: 'getter' } }]);
      }
    }
    return locals;
  }

  /** A value V8 returned (a primitive, or an exception thrown by the evaluation). */
  private remoteValue(result: Runtime.RemoteObject, exception: Runtime.ExceptionDetails | undefined, budget: CaptureBudget): CapturedValue {
    if (exception) {
      const description = exception.exception?.description ?? exception.text;
      const firstLine = description.split('\n')[0] ?? description;
      const message = /side-effect/i.test(firstLine)
        ? 'not evaluated: it may have side effects (StreamGate evaluates with throwOnSideEffect)'
        : /terminated/i.test(firstLine)
          ? 'not evaluated: it ran past its time budget and was stopped'
          : firstLine;
      return { t: 'thrown', message: this.redactor.redactText(message, 500) };
    }
    if (result.type === 'object' && result.objectId) {
      this.post('Runtime.callFunctionOn', { objectId: result.objectId, functionDeclaration: `function () { globalThis.${GATE_GLOBAL}.sink(this); }`, objectGroup: CAPTURE_GROUP, silent: true });
      return capture(this.gate.takeSunk()[0], budget);
    }
    if (result.unserializableValue !== undefined) return result.type === 'bigint' ? { t: 'bigint', v: result.unserializableValue.replace(/n$/, '') } : { t: 'number', v: result.unserializableValue };
    if (result.type === 'undefined') return { t: 'undefined' };
    if (result.type === 'function') return { t: 'function', name: result.description ?? '(anonymous)' };
    if (result.type === 'symbol') return { t: 'symbol', v: result.description ?? 'Symbol()' };
    return capture(result.value as unknown, budget);
  }

  private publishSnapshot(
    session: DebugSession,
    s: { breakpointId?: string; reason: 'breakpoint' | 'exception'; frames: CapturedFrame[]; watches: [string, CapturedValue][]; budget: CaptureBudget; startedAt: CaptureStart; exception?: CapturedValue; uncaught?: boolean },
  ): void {
    const captureMs = performance.now() - s.startedAt.wall;
    const captureCpuMs = cpuNowMs() - s.startedAt.cpu;
    this.recentCaptureMs.push(captureMs);
    if (this.recentCaptureMs.length > 10_000) this.recentCaptureMs.splice(0, this.recentCaptureMs.length - 10_000);
    this.counts.snapshots++;
    const event: SnapshotEvent = {
      v: PROTOCOL_VERSION,
      kind: 'snapshot',
      session: session.id,
      pod: this.options.pod,
      service: this.options.service,
      at: Date.now() - captureMs,
      id: `${this.options.pod}.${this.bootId}.${(this.snapshotSeq++).toString(36)}`,
      ...(s.breakpointId ? { breakpointId: s.breakpointId } : {}),
      reason: s.reason,
      version: this.options.version,
      frames: s.frames,
      watches: s.watches,
      ...(s.exception !== undefined ? { exception: s.exception } : {}),
      ...(s.uncaught !== undefined ? { uncaught: s.uncaught } : {}),
      captureMs,
      captureCpuMs,
      leftOut: [...s.budget.leftOut],
      bytes: s.budget.bytes,
    };
    this.publishNumbered(session, event);
  }

  private log(bp: Breakpoint, values: unknown[] | undefined, error: unknown, startedAt: CaptureStart): void {
    const limits: CaptureLimits = { maxDepth: 2, maxProperties: 10, maxSnapshotBytes: 4096, maxCaptureMs: 1 };
    const budget = new CaptureBudget(limits, 1, this.redactor, startedAt);
    let text = '';
    if (values) {
      let i = 0;
      for (const part of bp.template ?? []) {
        if ('text' in part) text += part.text;
        else text += formatForLog(capture(values[i++], budget));
      }
    } else {
      text = `<logpoint failed: ${this.redactor.redactText(error instanceof Error ? error.message : String(error), 300)}>`;
    }
    this.counts.logs++;
    this.publishNumbered(bp.session, { v: PROTOCOL_VERSION, kind: 'log', session: bp.session.id, pod: this.options.pod, service: this.options.service, at: Date.now(), breakpointId: bp.spec.id, text });
    if (bp.slot && !bp.slot.budget.charge(budgetCostMs(startedAt))) {
      this.gate.close(bp.slot);
      setImmediate(() => this.disableForBudget(bp));
    }
  }

  // --- Exceptions ---------------------------------------------------------------------------------------------------

  private setExceptions(session: DebugSession, wanted: DebugSyncRequest['exceptions']): void {
    const mode = wanted?.mode ?? 'none';
    const current = session.exceptions;
    if (current.disabled && mode !== 'none') return; // switched off for its budget; a new session starts afresh
    if (current.mode !== mode || JSON.stringify(current.limits) !== JSON.stringify(wanted?.limits)) {
      session.exceptions = exceptionSettings(mode, wanted?.limits, wanted?.snapshotsPerMinute);
      if (current.mode !== mode) this.audit('exceptions', session, undefined, `exception snapshots: ${mode}`);
    }
  }

  private applyExceptionMode(): void {
    let mode: ExceptionMode = 'none';
    for (const s of this.sessions.values()) {
      if (s.exceptions.mode === 'all') mode = 'all';
      else if (s.exceptions.mode === 'uncaught' && mode === 'none') mode = 'uncaught';
    }
    if (!this.session || mode === this.pauseMode) return;
    this.post('Debugger.setPauseOnExceptions', { state: mode });
    this.pauseMode = mode;
  }

  // --- Out of the pod -------------------------------------------------------------------------------------------------

  private publishStatus(bp: Breakpoint): void {
    this.publish(bp.session.id, { v: PROTOCOL_VERSION, kind: 'status', session: bp.session.id, pod: this.options.pod, service: this.options.service, at: Date.now(), breakpoint: bp.state });
  }

  private publish(session: string, event: DebugEvent): void {
    this.publishJson(session, JSON.stringify(event));
  }

  /** Snapshots and log lines are numbered and kept a while, so what a NATS restart lost can be sent again. */
  private publishNumbered(session: DebugSession, event: SnapshotEvent | LogEvent): void {
    const outbox = this.outboxes.of(session.id);
    event.boot = this.bootId;
    event.seq = outbox.next();
    const json = JSON.stringify(event);
    outbox.keep(event.seq, json);
    this.publishJson(session.id, json);
  }

  private publishJson(session: string, json: string): void {
    try {
      this.options.nc.publish(debugEventSubject(session, this.options.pod), json);
    } catch {
      // The connection is closed: the pod is stopping; nothing is waiting for this event.
    }
  }

  private audit(action: AuditEvent['action'], session: DebugSession, spec: BreakpointSpec | undefined, detail?: string): void {
    const who = action === 'budget-exceeded' || action === 'expired' || action === 'session-expired' ? `pod (for ${session.identity})` : session.identity;
    const event: AuditEvent = {
      v: PROTOCOL_VERSION,
      id: `${this.options.pod}.${this.bootId}.a${(this.snapshotSeq++).toString(36)}`,
      ts: Date.now(),
      pod: this.options.pod,
      service: this.options.service,
      action,
      who,
      session: session.id,
      ...(spec
        ? {
            breakpoint: {
              id: spec.id,
              kind: spec.kind,
              file: spec.file,
              line: spec.line,
              ...(spec.condition ? { condition: spec.condition } : {}),
              ...(spec.logMessage ? { logMessage: spec.logMessage } : {}),
            },
          }
        : {}),
      ...(detail ? { detail } : {}),
    };
    try {
      this.options.nc.publish(auditSubject(this.options.pod), JSON.stringify(event));
    } catch {
      /* closed */
    }
  }

  /** The server creates the audit stream; a pod with JetStream rights creates it too when no server has run yet. */
  private ensureAuditStream(): Promise<void> {
    if (this.auditStreamReady) return Promise.resolve();
    return this.auditStreamCheck.run(async () => {
      try {
        const jsm = await this.options.nc.jetstreamManager({ timeout: 5000 });
        await jsm.streams.info(AUDIT_STREAM).catch(async () => {
          await jsm.streams.add({ name: AUDIT_STREAM, subjects: [AUDIT_SUBJECTS], storage: StorageType.File, retention: RetentionPolicy.Limits, max_age: AUDIT_STREAM_SPEC.maxAgeMs * 1e6, max_bytes: AUDIT_STREAM_SPEC.maxBytes });
        });
        this.auditStreamReady = true;
      } catch {
        /* try again with the next request */
      }
    });
  }
}

/** Read through a function: `place` changes the state behind the compiler's narrowing. */
function isPending(bp: Breakpoint): boolean {
  return bp.state.state === 'pending';
}

function exceptionSettings(mode: ExceptionMode, limits?: CaptureLimits, perMinute?: number): ExceptionSettings {
  return { mode, limits, rate: new RateLimit(perMinute ?? DEFAULT_SNAPSHOTS_PER_MINUTE, 60_000), budget: new CpuBudget(DEFAULT_CPU_BUDGET_PERCENT) };
}

/** Same file, line, kind and expressions: the V8 breakpoint can stay as it is. */
function sameInstallation(a: BreakpointSpec, b: BreakpointSpec): boolean {
  return a.kind === b.kind && a.file === b.file && a.line === b.line && (a.condition ?? '') === (b.condition ?? '') && (a.hitCondition ?? '') === (b.hitCondition ?? '') && (a.logMessage ?? '') === (b.logMessage ?? '');
}

/** A local's value through its getter; undefined when it is not initialised yet at the breakpoint's line. */
function readGetter(getter: () => unknown): unknown {
  try {
    return getter();
  } catch {
    return undefined;
  }
}

/**
 * A watch that is a plain path, read from live values without calling anything: own data properties only (an
 * accessor, a Proxy or a missing step means "not a path here", and V8 evaluates it instead).
 */
function readPath(expression: string, scopes: unknown[], self: unknown): { value: unknown } | undefined {
  const steps = parsePath(expression);
  if (!steps) return undefined;
  const [root = '', ...rest] = steps;
  let value: unknown;
  if (root === 'this') value = self;
  else {
    const holder = scopes.find((scope) => typeof scope === 'object' && scope !== null && Object.prototype.hasOwnProperty.call(scope, root));
    if (!holder) return undefined;
    value = (holder as Record<string, unknown>)[root as string];
  }
  for (const step of rest) {
    if (typeof value === 'string' && step === 'length') {
      value = value.length;
      continue;
    }
    if (typeof value !== 'object' || value === null || types.isProxy(value)) return undefined;
    const descriptor = Reflect.getOwnPropertyDescriptor(value, step);
    if (!descriptor || !('value' in descriptor)) return undefined;
    value = descriptor.value;
  }
  return { value };
}

/** `req.headers.authorization` → "authorization": a watch's own name decides redaction like a variable's. */
function lastName(expression: string): string | undefined {
  return /([A-Za-z_$][\w$]*)\s*\]?\s*$/.exec(expression.replace(/\[\s*["']([^"']+)["']\s*\]\s*$/, '.$1'))?.[1];
}

/**
 * Runs the capture code over a varied object graph a few times when the debugger attaches, so the first
 * real snapshot does not pay for compiling it (a cold capture is ~10× slower and would hit its time budget).
 */
/**
 * What a hit costs the breakpoint's CPU budget: the CPU time the pod spent on it since the hit (pause, capture,
 * serialising). Not the wall time: a pod descheduled meanwhile (a busy node, a container at its CPU limit) is
 * not spending its core on the debugger, and charging it the wall time disabled an ordinary breakpoint on all
 * three sandbox pods after a handful of snapshots on a loaded machine.
 */
function budgetCostMs(startedAt: CaptureStart): number {
  return cpuNowMs() - startedAt.cpu;
}

function warmUp(redactor: Redactor): void {
  class Sample {
    constructor(readonly id: number, readonly tags: string[]) {}
  }
  const graph = {
    text: 'warm up the capture code',
    secretToken: 'not a real one',
    list: Array.from({ length: 30 }, (_, i) => new Sample(i, ['a', 'b'])),
    map: new Map(Array.from({ length: 30 }, (_, i) => [`k${i}`, { i, when: new Date(0) }])),
    set: new Set([1, 2, 3]),
    bytes: Buffer.from('bytes'),
    nested: { a: { b: { c: { d: 1 } } } },
    error: new Error('sample'),
  };
  for (let i = 0; i < 5; i++) {
    const capturer = new Capturer(new CaptureBudget(undefined, 50, redactor));
    capturer.add(graph, 'graph');
    capturer.add('card 4111 1111 1111 1111', 'note');
    capturer.run();
  }
}

/** A small function of ordinary shape whose conditional breakpoint V8 evaluates during calibration. */
function calibrationProbe(a: number, b: number): number {
  const sum = a + b;
  const scaled = sum * 3;
  const label = scaled > 10 ? 'big' : 'small';
  return label.length + scaled;
}
