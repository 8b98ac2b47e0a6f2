/**
 * The StreamGate debug adapter: a DAP session whose debuggee is a fleet of pods reached over NATS. Pods are
 * threads; breakpoints become snapshot breakpoints and logpoints on every matching pod; a snapshot arrives as a
 * `stopped` event on its pod's thread while the pod itself keeps running. It knows nothing of VS Code; the
 * extension runs it inline and the CLI and tests drive it as a process (main.ts) or inline (sg debug).
 *
 * Every request goes through `dispatchRequest` and one table of handlers, so every failure takes one path:
 * a ProtocolError reaches the user as written, anything else becomes a numbered internal error.
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { BreakpointEvent, DebugSession, InitializedEvent, OutputEvent, Response, StoppedEvent, TerminatedEvent, ThreadEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { checkExpression } from '../common/debugExpressions';
import { PodError } from '../common/podClient';
import {
  AdapterErrorId,
  AttachArgumentsSchema,
  AuditArgumentsSchema,
  CustomRequest,
  SetWatchesArgumentsSchema,
  SnapshotArgumentsSchema,
  type AttachArguments,
  type BreakpointsResponseBody,
} from '../protocol/dap';
import { DEFAULT_SESSION_LEASE_MS, type DebugEvent, type DebugSyncRequest, type ExceptionMode, type PodInfo, type SnapshotEvent } from '../protocol/nats';
import { check } from '../protocol/schema';
import { BreakpointBook, type SessionBreakpoint } from './breakpoints';
import { EXECUTION_CONTROL_COMMANDS, notOnLivePod, ProtocolError, toDapMessage } from './errors';
import { FleetLink, type FleetListener } from './fleet';
import { PathMapper } from './paths';
import { ReceivedEvents } from './received';
import { scopes, snapshotJson, stackFrames, variable, variablesOf } from './presenter';
import { SnapshotQueues } from './snapshots';
import { describe, follow, parsePath } from './values';

type Handler = (args: unknown) => Promise<unknown>;

/** How often every pod is told the session's whole state again (also the session's lease renewal). */
const RESYNC_MS = 10_000;
/** A pod that did not answer a sync is asked again after this, doubling up to RESYNC_MS. */
const RETRY_FIRST_MS = 250;

export class StreamGateDebugSession extends DebugSession {
  private readonly sessionId = randomBytes(6).toString('hex');
  private fleet: FleetLink | undefined;
  private config: AttachArguments | undefined;
  private paths = new PathMapper(undefined, undefined);
  private book = new BreakpointBook(this.paths, {});
  private readonly queues = new SnapshotQueues();
  private readonly threadOfPod = new Map<string, number>();
  private readonly podOfThread = new Map<number, PodInfo>();
  private nextThread = 1;
  private exceptionMode: ExceptionMode = 'none';
  private resyncTimer: NodeJS.Timeout | undefined;
  private initializedSent = false;
  private ended = false;
  private readonly skewWarned = new Set<string>();
  private badEvents = 0;
  private readonly received = new ReceivedEvents();
  /** Pods whose last sync failed, and when they are asked again. */
  private readonly retries = new Map<string, { timer: NodeJS.Timeout; attempt: number }>();

  private readonly handlers: Record<string, Handler> = {
    initialize: async () => this.initialize(),
    attach: async (args) => this.attach(args),
    launch: async () => {
      throw new ProtocolError(AdapterErrorId.BadAttachArguments, 'StreamGate attaches to running pods: use "request": "attach"');
    },
    configurationDone: async () => undefined,
    setBreakpoints: async (args) => this.setBreakpoints(args as DebugProtocol.SetBreakpointsArguments),
    setExceptionBreakpoints: async (args) => this.setExceptionBreakpoints(args as DebugProtocol.SetExceptionBreakpointsArguments),
    setFunctionBreakpoints: async (args) => ({ breakpoints: (args as DebugProtocol.SetFunctionBreakpointsArguments).breakpoints.map(() => ({ verified: false, message: 'StreamGate sets breakpoints on lines, not functions' })) }),
    threads: async () => this.threads(),
    stackTrace: async (args) => this.stackTrace(args as DebugProtocol.StackTraceArguments),
    scopes: async (args) => this.scopes(args as DebugProtocol.ScopesArguments),
    variables: async (args) => ({ variables: variablesOf((args as DebugProtocol.VariablesArguments).variablesReference, this.queues) ?? [] }),
    evaluate: async (args) => this.evaluate(args as DebugProtocol.EvaluateArguments),
    continue: async (args) => this.continue(args as DebugProtocol.ContinueArguments),
    source: async () => {
      throw new ProtocolError(AdapterErrorId.BadRequest, 'This source is on the pod only; StreamGate shows sources from the workspace');
    },
    disconnect: async () => this.end(),
    terminate: async () => this.end(),
    [CustomRequest.setWatches]: async (args) => this.setWatches(args),
    [CustomRequest.snapshot]: async (args) => this.snapshotAsJson(args),
    [CustomRequest.audit]: async (args) => this.audit(args),
    [CustomRequest.breakpoints]: async () => this.breakpointList(),
    ...Object.fromEntries(
      EXECUTION_CONTROL_COMMANDS.map((command) => [
        command,
        async () => {
          throw notOnLivePod(command);
        },
      ]),
    ),
  };

  /** The one dispatcher: every request, one error path. */
  protected override dispatchRequest(request: DebugProtocol.Request): void {
    const response: DebugProtocol.Response = new Response(request);
    const handler = this.handlers[request.command];
    const work = handler ? handler(request.arguments) : Promise.reject(new ProtocolError(AdapterErrorId.BadRequest, `The StreamGate debugger does not support the "${request.command}" request`));
    work.then(
      (body) => {
        if (body !== undefined) response.body = body;
        this.sendResponse(response);
        if (request.command === 'disconnect') this.shutdown();
      },
      (error: unknown) => this.sendErrorResponse(response, toDapMessage(error)),
    );
  }

  // --- Lifecycle ----------------------------------------------------------------------------------------------------

  private initialize(): DebugProtocol.Capabilities {
    return {
      supportsConfigurationDoneRequest: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      supportTerminateDebuggee: false,
      supportsTerminateRequest: true,
      supportsSetVariable: false,
      supportsStepBack: false,
      supportsRestartFrame: false,
      supportsGotoTargetsRequest: false,
      supportsDelayedStackTraceLoading: false,
      exceptionBreakpointFilters: [
        { filter: 'uncaught', label: 'Uncaught Exceptions (snapshot)', description: 'A snapshot when an exception is not caught; the pod keeps running', default: false },
        { filter: 'all', label: 'All Exceptions (snapshot)', description: 'A snapshot of caught exceptions too (rate limited per pod)', default: false },
      ],
    };
  }

  private async attach(raw: unknown): Promise<void> {
    const parsed = check(AttachArgumentsSchema, raw ?? {});
    if (!parsed.ok) throw new ProtocolError(AdapterErrorId.BadAttachArguments, `Invalid StreamGate attach configuration: ${parsed.error}`);
    const config = parsed.value;
    // A second attach replaces the first: its connection, threads and breakpoints on pods go first.
    if (this.fleet) await this.detach();
    let fleet: FleetLink;
    try {
      fleet = await FleetLink.connect(config, this.sessionId, this.listener);
    } catch (error) {
      throw new ProtocolError(AdapterErrorId.NatsUnreachable, `Cannot attach: ${(error as Error).message}`);
    }
    this.config = config;
    this.fleet = fleet;
    this.ended = false;
    this.exceptionMode = config.exceptionSnapshots ?? this.exceptionMode;
    const previous = this.book;
    this.paths = new PathMapper(config.localRoot, config.remoteRoot);
    this.book = new BreakpointBook(this.paths, {
      ...(config.captureLimits ? { limits: config.captureLimits } : {}),
      ...(config.snapshotsPerMinute ? { snapshotsPerMinute: config.snapshotsPerMinute } : {}),
      ...(config.logsPerSecond ? { logsPerSecond: config.logsPerSecond } : {}),
      ...(config.breakpointTtlMinutes ? { ttlMinutes: config.breakpointTtlMinutes } : {}),
      ...(config.cpuBudgetPercent ? { cpuBudgetPercent: config.cpuBudgetPercent } : {}),
    });
    this.book.sessionWatches = previous.sessionWatches;
    await fleet.start();
    this.resyncTimer = setInterval(() => void this.syncAll(), RESYNC_MS);
    const pods = [...fleet.pods.values()];
    this.say(`Attached to the StreamGate fleet at ${fleet.url} as ${fleet.identity}: ${pods.length} pod${pods.length === 1 ? '' : 's'} match${pods.length === 1 ? 'es' : ''}${pods.length ? ` (${pods.map((p) => p.pod).join(', ')})` : ''}. Pods keep running: breakpoints take snapshots.\n`);
    if (!this.initializedSent) {
      this.initializedSent = true;
      setImmediate(() => this.sendEvent(new InitializedEvent()));
    }
  }

  /** Removes this session's breakpoints from every pod and closes the connection. */
  private async end(): Promise<void> {
    await this.detach();
  }

  private async detach(): Promise<void> {
    const fleet = this.fleet;
    if (!fleet) return;
    this.ended = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    this.cancelRetries();
    const empty: DebugSyncRequest = { session: this.sessionId, identity: fleet.identity, breakpoints: [], exceptions: { mode: 'none' } };
    await Promise.all([...fleet.pods.keys()].map((pod) => fleet.sync(pod, empty, 2000).catch(() => undefined)));
    this.fleet = undefined;
    for (const thread of [...this.podOfThread.keys()]) this.queues.drop(thread);
    this.threadOfPod.clear();
    this.podOfThread.clear();
    await fleet.close();
  }

  private readonly listener: FleetListener = {
    podJoined: (pod) => this.podJoined(pod),
    podLeft: (pod) => this.podLeft(pod),
    event: (event) => this.onEvent(event),
    badEvent: (reason) => {
      if (++this.badEvents <= 5) this.say(`Ignored a malformed debug event: ${reason}\n`, 'stderr');
    },
    reconnected: () => {
      this.say('NATS reconnected: installing the breakpoints on every pod again.\n');
      void this.syncAll();
    },
    disconnected: () => this.say('Lost the connection to NATS; reconnecting (pods keep their breakpoints meanwhile)…\n', 'stderr'),
    lost: (reason) => {
      if (this.ended) return;
      this.ended = true;
      this.say(`The StreamGate debug session ends: ${reason}.\n`, 'stderr');
      if (this.resyncTimer) clearInterval(this.resyncTimer);
      this.cancelRetries();
      this.fleet = undefined;
      this.sendEvent(new TerminatedEvent());
    },
  };

  // --- Pods as threads ------------------------------------------------------------------------------------------------

  private podJoined(pod: PodInfo): void {
    const thread = this.nextThread++;
    this.threadOfPod.set(pod.pod, thread);
    this.podOfThread.set(thread, pod);
    this.sendEvent(new ThreadEvent('started', thread));
    void this.syncPod(pod.pod).then(() => this.refreshBreakpoints());
  }

  private podLeft(pod: PodInfo): void {
    const thread = this.threadOfPod.get(pod.pod);
    if (thread === undefined) return;
    this.threadOfPod.delete(pod.pod);
    this.podOfThread.delete(thread);
    this.queues.drop(thread);
    this.cancelRetry(pod.pod);
    for (const bp of this.book.all()) bp.states.delete(pod.pod);
    this.sendEvent(new ThreadEvent('exited', thread));
    this.say(`${pod.pod} left the fleet (or stopped answering); its snapshots are gone.\n`);
    this.refreshBreakpoints();
  }

  private threads(): DebugProtocol.ThreadsResponse['body'] {
    const threads = [...this.podOfThread.entries()]
      .sort((a, b) => a[1].pod.localeCompare(b[1].pod))
      .map(([id, pod]) => {
        const waiting = this.queues.waitingCount(id);
        return { id, name: `${pod.service}/${pod.pod} (${pod.version})${waiting ? ` — ${waiting} more snapshot${waiting === 1 ? '' : 's'} waiting` : ''}` };
      });
    return { threads };
  }

  // --- Breakpoints ----------------------------------------------------------------------------------------------------

  private async setBreakpoints(args: DebugProtocol.SetBreakpointsArguments): Promise<DebugProtocol.SetBreakpointsResponse['body']> {
    const path = args.source.path;
    if (!path) throw new ProtocolError(AdapterErrorId.BadRequest, `StreamGate needs a file path for breakpoints (got a source without one: ${args.source.name ?? 'unnamed'})`);
    const wanted = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
    const set = this.book.setForSource(path, wanted);
    await this.syncAll();
    return { breakpoints: set.map((bp) => this.show(bp, false)) };
  }

  private async setExceptionBreakpoints(args: DebugProtocol.SetExceptionBreakpointsArguments): Promise<DebugProtocol.SetExceptionBreakpointsResponse['body']> {
    const filters = args.filters;
    this.exceptionMode = filters.includes('all') ? 'all' : filters.includes('uncaught') ? 'uncaught' : 'none';
    await this.syncAll();
    return {};
  }

  private syncRequest(pod?: string): DebugSyncRequest {
    const received = pod ? this.received.watermark(pod) : undefined;
    return {
      session: this.sessionId,
      identity: this.fleet?.identity ?? 'unknown',
      breakpoints: this.book.specs(),
      exceptions: {
        mode: this.exceptionMode,
        ...(this.config?.captureLimits ? { limits: this.config.captureLimits } : {}),
        ...(this.config?.snapshotsPerMinute ? { snapshotsPerMinute: this.config.snapshotsPerMinute } : {}),
      },
      leaseMs: DEFAULT_SESSION_LEASE_MS,
      ...(received ? { received } : {}),
    };
  }

  private async syncAll(): Promise<void> {
    const fleet = this.fleet;
    if (!fleet) return;
    await Promise.all([...fleet.pods.keys()].map((pod) => this.syncPod(pod)));
    this.refreshBreakpoints();
  }

  /**
   * Tells one pod the session's whole state. A pod that does not answer keeps its thread (it leaves only when
   * discovery stops seeing it): right after a NATS restart the adapter is often back before the pods, whose
   * breakpoints are still installed and whose snapshots must not be thrown away. It is asked again, sooner
   * than the periodic resync, until it answers.
   */
  private async syncPod(pod: string): Promise<void> {
    const fleet = this.fleet;
    if (!fleet || !this.threadOfPod.has(pod)) return;
    const request = this.syncRequest(pod);
    try {
      const reply = await fleet.sync(pod, request);
      this.cancelRetry(pod);
      for (const state of reply.breakpoints) {
        const bp = this.book.bySpecId(state.id);
        if (bp) bp.states.set(pod, state);
      }
      if (reply.sent) this.received.settle(pod, reply.sent);
      if (reply.exceptions?.message) this.say(`${reply.exceptions.message}\n`, 'stderr');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const transient = !(error instanceof PodError) || error.code === 404 || error.code >= 500;
      // A pod keeps what it had for its lease: while the first retries run, what it last said still holds.
      const keepLast = transient && (this.retries.get(pod)?.attempt ?? 0) < 3;
      for (const spec of request.breakpoints) {
        const bp = this.book.bySpecId(spec.id);
        const last = bp?.states.get(pod);
        if (bp && !(keepLast && last && 'state' in last)) bp.states.set(pod, { error: message });
      }
      if (transient) this.retrySoon(pod);
    }
  }

  private retrySoon(pod: string): void {
    const previous = this.retries.get(pod);
    if (previous) clearTimeout(previous.timer);
    const attempt = (previous?.attempt ?? 0) + 1;
    const timer = setTimeout(() => {
      if (this.retries.get(pod)?.timer !== timer) return;
      void this.syncPod(pod).then(() => this.refreshBreakpoints());
    }, Math.min(RESYNC_MS, RETRY_FIRST_MS * 2 ** (attempt - 1)));
    this.retries.set(pod, { timer, attempt });
  }

  private cancelRetry(pod: string): void {
    const retry = this.retries.get(pod);
    if (retry) clearTimeout(retry.timer);
    this.retries.delete(pod);
  }

  private cancelRetries(): void {
    for (const pod of [...this.retries.keys()]) this.cancelRetry(pod);
  }

  /** The breakpoint as VS Code should show it; `notify` sends a `breakpoint` event when that changed. */
  private show(bp: SessionBreakpoint, notify: boolean): DebugProtocol.Breakpoint {
    const pods = [...this.threadOfPod.keys()];
    const view = this.book.present(bp, pods);
    const changed = !bp.shown || bp.shown.message !== view.message || bp.shown.verified !== view.verified || bp.shown.line !== view.line;
    const dap: DebugProtocol.Breakpoint = { id: bp.dapId, verified: view.verified, message: view.message, line: view.line, source: { name: basename(bp.source), path: bp.source } };
    if (changed) {
      bp.shown = view;
      if (notify) this.sendEvent(new BreakpointEvent('changed', dap));
      if (!view.message.startsWith('installing')) this.say(`${bp.kind === 'logpoint' ? 'Logpoint' : 'Breakpoint'} ${this.paths.display(bp.source)}:${bp.line} ${view.message}\n`);
      this.warnSkew(bp);
    }
    return dap;
  }

  private refreshBreakpoints(): void {
    for (const bp of this.book.all()) this.show(bp, true);
  }

  private warnSkew(bp: SessionBreakpoint): void {
    for (const [pod, state] of bp.states) {
      if (!('state' in state) || !state.sourceHash || !bp.localHash || state.sourceHash === bp.localHash) continue;
      const key = `${bp.source}\0${pod}`;
      if (this.skewWarned.has(key)) continue;
      this.skewWarned.add(key);
      const info = this.podOfThread.get(this.threadOfPod.get(pod) ?? -1);
      this.say(`Warning: ${pod}${info ? ` (version ${info.version})` : ''} runs a different version of ${this.paths.display(bp.source)} than the workspace: lines may not match what you see.\n`, 'stderr');
    }
  }

  private async setWatches(raw: unknown): Promise<{ refused: { expression: string; reason: string }[] }> {
    const parsed = check(SetWatchesArgumentsSchema, raw);
    if (!parsed.ok) throw new ProtocolError(AdapterErrorId.BadRequest, `Bad ${CustomRequest.setWatches} arguments: ${parsed.error}`);
    const refused: { expression: string; reason: string }[] = [];
    const accepted: string[] = [];
    for (const expression of parsed.value.expressions) {
      const checked = checkExpression(expression);
      if (checked.ok) accepted.push(checked.source);
      else refused.push({ expression, reason: checked.reason });
    }
    this.book.sessionWatches = accepted;
    await this.syncAll();
    return { refused };
  }

  private breakpointList(): BreakpointsResponseBody {
    return {
      breakpoints: this.book.all().map((bp) => {
        const view = this.book.present(bp, [...this.threadOfPod.keys()]);
        return { id: bp.dapId, file: this.paths.display(bp.source), line: view.line, verified: view.verified, message: view.message, kind: bp.kind };
      }),
    };
  }

  // --- Snapshots --------------------------------------------------------------------------------------------------------

  private onEvent(event: DebugEvent): void {
    if (event.session !== this.sessionId) return;
    if (event.kind !== 'status' && event.boot !== undefined && event.seq !== undefined) {
      // Not counted as received until it can be shown: a pod without a thread yet sends it again once it has one.
      if (!this.threadOfPod.has(event.pod)) return;
      if (!this.received.accept(event.pod, event.boot, event.seq)) return;
    }
    switch (event.kind) {
      case 'snapshot':
        this.onSnapshot(event);
        return;
      case 'log': {
        const bp = this.book.bySpecId(event.breakpointId);
        const output = new OutputEvent(`[${event.pod}] ${event.text}\n`, 'stdout');
        const body: DebugProtocol.OutputEvent['body'] = {
          category: 'stdout',
          output: `[${event.pod}] ${event.text}\n`,
          // For programs driving the adapter (sg debug logpoint --json): who logged what, when.
          data: { pod: event.pod, service: event.service, at: event.at, text: event.text, breakpointId: bp?.dapId },
          ...(bp ? { source: { name: basename(bp.source), path: bp.source }, line: bp.line } : {}),
        };
        Object.assign(output.body, body);
        this.sendEvent(output);
        return;
      }
      case 'status':
        if (event.breakpoint) {
          const bp = this.book.bySpecId(event.breakpoint.id);
          if (bp) {
            bp.states.set(event.pod, event.breakpoint);
            this.show(bp, true);
          }
        }
        if (event.exceptions?.message) this.say(`${event.exceptions.message}\n`, 'stderr');
        return;
    }
  }

  private onSnapshot(snapshot: SnapshotEvent): void {
    const thread = this.threadOfPod.get(snapshot.pod);
    if (thread === undefined) return;
    if (snapshot.breakpointId && !this.book.bySpecId(snapshot.breakpointId)) return; // removed meanwhile
    if (this.queues.offer(thread, snapshot) === 'show') this.announce(thread, snapshot);
    else if (this.queues.waitingCount(thread) === 1) this.say(`${snapshot.pod}: more snapshots are waiting; Continue on its thread shows the next.\n`);
  }

  private announce(thread: number, snapshot: SnapshotEvent): void {
    const bp = snapshot.breakpointId ? this.book.bySpecId(snapshot.breakpointId) : undefined;
    const top = snapshot.frames[0];
    const where = bp ? `${basename(bp.source)}:${bp.line}` : top ? `${basename(top.file)}:${top.line}` : '';
    const what = snapshot.reason === 'exception' ? `Exception snapshot${snapshot.exception !== undefined ? ` (${describe(snapshot.exception)})` : ''}` : 'Snapshot';
    const body: DebugProtocol.StoppedEvent['body'] = {
      reason: snapshot.reason,
      threadId: thread,
      description: `${what} on ${snapshot.pod} at ${where}; the pod kept running`,
      text: `${what} taken in ${snapshot.captureMs.toFixed(2)} ms`,
      allThreadsStopped: false,
      preserveFocusHint: false,
      ...(bp ? { hitBreakpointIds: [bp.dapId] } : {}),
    };
    const stopped = new StoppedEvent(snapshot.reason, thread);
    Object.assign(stopped.body, body);
    this.sendEvent(stopped);
    if (snapshot.leftOut.length) this.say(`${snapshot.pod}: the snapshot left out ${snapshot.leftOut.join('; ')}.\n`);
  }

  private snapshotOf(threadId: number): SnapshotEvent {
    const pod = this.podOfThread.get(threadId);
    if (!pod) throw new ProtocolError(AdapterErrorId.UnknownThread, `No pod has thread ${threadId} (it may have left the fleet)`);
    const snapshot = this.queues.current(threadId);
    if (!snapshot) throw new ProtocolError(AdapterErrorId.NoSnapshot, `${pod.pod} has no snapshot to show: it is running (StreamGate never pauses pods); a snapshot appears when it passes a breakpoint`, false);
    return snapshot;
  }

  private stackTrace(args: DebugProtocol.StackTraceArguments): DebugProtocol.StackTraceResponse['body'] {
    const snapshot = this.snapshotOf(args.threadId);
    const all = stackFrames(snapshot, this.queues, this.paths);
    const start = args.startFrame ?? 0;
    const frames = args.levels ? all.slice(start, start + args.levels) : all.slice(start);
    return { stackFrames: frames, totalFrames: all.length };
  }

  private scopes(args: DebugProtocol.ScopesArguments): DebugProtocol.ScopesResponse['body'] {
    const frame = this.queues.frame(args.frameId);
    if (!frame) throw new ProtocolError(AdapterErrorId.NoSnapshot, 'That frame belongs to a snapshot that was dismissed', false);
    return { scopes: scopes(frame.snapshot, frame.frame, frame.index, this.queues) };
  }

  private continue(args: DebugProtocol.ContinueArguments): DebugProtocol.ContinueResponse['body'] {
    const next = this.queues.dismiss(args.threadId);
    if (next) setImmediate(() => this.announce(args.threadId, next));
    return { allThreadsContinued: false };
  }

  private snapshotAsJson(raw: unknown): unknown {
    const parsed = check(SnapshotArgumentsSchema, raw);
    if (!parsed.ok) throw new ProtocolError(AdapterErrorId.BadRequest, `Bad ${CustomRequest.snapshot} arguments: ${parsed.error}`);
    const snapshot = this.snapshotOf(parsed.value.threadId);
    const bp = snapshot.breakpointId ? this.book.bySpecId(snapshot.breakpointId) : undefined;
    const breakpoint = bp ? { file: this.paths.display(bp.source), line: bp.shown?.line ?? bp.line } : { file: snapshot.frames[0]?.file ?? '', line: snapshot.frames[0]?.line ?? 0 };
    return snapshotJson(snapshot, breakpoint, this.paths);
  }

  // --- Evaluation --------------------------------------------------------------------------------------------------------

  private async evaluate(args: DebugProtocol.EvaluateArguments): Promise<DebugProtocol.EvaluateResponse['body']> {
    if (args.context === 'repl') return this.evaluateLive(args);
    const frame = args.frameId !== undefined ? this.queues.frame(args.frameId) : undefined;
    if (!frame) throw new ProtocolError(AdapterErrorId.NoSnapshot, 'No snapshot is selected: watches are answered from the snapshot shown', false);
    const { snapshot } = frame;
    const expression = args.expression.trim();
    const captured = frame.index === 0 ? snapshot.watches.find(([w]) => w === expression) : undefined;
    if (captured) return this.result(captured[1], snapshot, expression);
    const steps = parsePath(expression);
    if (steps) {
      const [root, ...rest] = steps as [string, ...(string | number)[]];
      const local = root === 'this' ? frame.frame.this : frame.frame.locals?.find(([name]) => name === root)?.[1];
      if (local !== undefined) {
        const found = follow(local, rest);
        if (found.found) return this.result(found.value, snapshot, expression);
        if (found.reason === 'missing' && args.context === 'hover') throw new ProtocolError(AdapterErrorId.BadExpression, `${expression} is not in this snapshot`, false);
      } else if (args.context === 'hover') {
        throw new ProtocolError(AdapterErrorId.BadExpression, `${expression} is not a captured local`, false);
      }
    }
    return this.watchNextTime(expression, snapshot);
  }

  /** Not captured: the breakpoint captures it from its next snapshot on, and the answer says so. */
  private async watchNextTime(expression: string, snapshot: SnapshotEvent): Promise<DebugProtocol.EvaluateResponse['body']> {
    const checked = checkExpression(expression);
    if (!checked.ok) return { result: `(cannot be watched: the expression ${checked.reason})`, variablesReference: 0 };
    const bp = snapshot.breakpointId ? this.book.bySpecId(snapshot.breakpointId) : undefined;
    if (!bp) return { result: '(not captured in this exception snapshot; watches are captured at breakpoints)', variablesReference: 0 };
    if (!bp.ownWatches.includes(checked.source) && !this.book.sessionWatches.includes(checked.source)) {
      bp.ownWatches.push(checked.source);
      await this.syncAll();
    }
    return {
      result: `(not captured in this snapshot: added as a watch of ${basename(bp.source)}:${bp.line}, so its next snapshot captures it)`,
      variablesReference: 0,
      presentationHint: { attributes: ['readOnly'] },
    };
  }

  private result(value: Parameters<typeof describe>[0], snapshot: SnapshotEvent | undefined, expression: string): DebugProtocol.EvaluateResponse['body'] {
    const v = variable(expression, value, this.queues, snapshot, expression);
    return { result: v.value, ...(v.type ? { type: v.type } : {}), variablesReference: v.variablesReference, presentationHint: { attributes: ['readOnly'] } };
  }

  /** The REPL: evaluated live on the pod of the selected frame (or every pod), side-effect free. */
  private async evaluateLive(args: DebugProtocol.EvaluateArguments): Promise<DebugProtocol.EvaluateResponse['body']> {
    const fleet = this.fleet;
    if (!fleet) throw new ProtocolError(AdapterErrorId.NotAttached, 'Not attached to a fleet');
    const checked = checkExpression(args.expression);
    if (!checked.ok) throw new ProtocolError(AdapterErrorId.BadExpression, `Not evaluated: the expression ${checked.reason}`);
    const frame = args.frameId !== undefined ? this.queues.frame(args.frameId) : undefined;
    const pods = frame ? [frame.snapshot.pod] : [...fleet.pods.keys()].sort();
    if (!pods.length) throw new ProtocolError(AdapterErrorId.PodFailed, 'No pod matches the session to evaluate on');
    const results = await Promise.all(
      pods.map(async (pod) => {
        try {
          return { pod, value: await fleet.evaluate(pod, checked.source) };
        } catch (error) {
          return { pod, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    this.queues.trimLoose();
    if (results.length === 1) {
      const only = results[0]!;
      if ('error' in only) throw new ProtocolError(AdapterErrorId.PodFailed, `${only.pod}: ${only.error}`);
      return this.result(only.value, undefined, checked.source);
    }
    const summary = results.map((r) => `${r.pod}: ${'error' in r ? `(failed: ${r.error})` : describe(r.value)}`).join('  |  ');
    const byPod = { t: 'object' as const, class: 'Pods', props: results.map((r): [string, Parameters<typeof describe>[0]] => [r.pod, 'error' in r ? { t: 'thrown', message: r.error ?? '' } : r.value]) };
    return { result: summary, variablesReference: this.queues.ref(undefined, { kind: 'value', value: byPod }) };
  }

  private async audit(raw: unknown): Promise<unknown> {
    const parsed = check(AuditArgumentsSchema, raw ?? {});
    if (!parsed.ok) throw new ProtocolError(AdapterErrorId.BadRequest, `Bad ${CustomRequest.audit} arguments: ${parsed.error}`);
    const fleet = this.fleet;
    if (!fleet) throw new ProtocolError(AdapterErrorId.NotAttached, 'Not attached to a fleet');
    return fleet.audit(parsed.value.sinceMs ?? 3600_000, parsed.value.limit ?? 10_000);
  }

  private say(text: string, category: 'console' | 'stderr' = 'console'): void {
    this.sendEvent(new OutputEvent(text, category));
  }
}
