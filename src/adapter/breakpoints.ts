/**
 * The session's breakpoints: what VS Code set per source file, checked before anything reaches a pod, turned
 * into the specs pods sync to, and each one's state across the fleet in one message ("installed on 3/3
 * pods", "pending: no pod runs this file", "rejected: …", "disabled on gw-2: CPU budget exceeded").
 */
import { basename } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { checkExpression, parseHitCondition, parseLogTemplate } from '../common/debugExpressions';
import { DEFAULT_BREAKPOINT_TTL_MS, type BreakpointSpec, type BreakpointState, type CaptureLimits } from '../protocol/nats';
import { localSourceHash, type PathMapper } from './paths';

export interface SessionBreakpoint {
  dapId: number;
  specId: string;
  kind: 'snapshot' | 'logpoint';
  /** The local file as VS Code sent it. */
  source: string;
  /** What pods are asked for (see PathMapper.toRemote). */
  remoteFile: string;
  line: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
  /** Watches added to this breakpoint alone (an evaluate of something not captured). */
  ownWatches: string[];
  expiresAt: number;
  localHash?: string;
  /** Why it never reaches a pod, if it does not. */
  refusal?: string;
  states: Map<string, BreakpointState | { error: string }>;
  /** What VS Code was last told, to send a `breakpoint` event only on change. */
  shown?: { verified: boolean; message: string; line: number };
}

export interface BookDefaults {
  limits?: CaptureLimits;
  snapshotsPerMinute?: number;
  logsPerSecond?: number;
  ttlMinutes?: number;
  cpuBudgetPercent?: number;
}

export class BreakpointBook {
  private readonly bySource = new Map<string, SessionBreakpoint[]>();
  private nextId = 1;
  /** Watches of the whole session (the Watch view, `sg debug --watch`): captured by every snapshot breakpoint. */
  sessionWatches: string[] = [];

  constructor(private readonly paths: PathMapper, private readonly defaults: BookDefaults) {}

  all(): SessionBreakpoint[] {
    return [...this.bySource.values()].flat();
  }

  byDapId(id: number): SessionBreakpoint | undefined {
    return this.all().find((b) => b.dapId === id);
  }

  bySpecId(id: string): SessionBreakpoint | undefined {
    return this.all().find((b) => b.specId === id);
  }

  /** Replaces the breakpoints of one file; unchanged ones keep their ids (and their hit counts on pods). */
  setForSource(sourcePath: string, wanted: DebugProtocol.SourceBreakpoint[]): SessionBreakpoint[] {
    const before = this.bySource.get(sourcePath) ?? [];
    const hash = localSourceHash(sourcePath);
    const next = wanted.map((w) => {
      const same = before.find((b) => b.line === w.line && (b.condition ?? '') === (w.condition ?? '') && (b.hitCondition ?? '') === (w.hitCondition ?? '') && (b.logMessage ?? '') === (w.logMessage ?? ''));
      if (same) {
        if (hash) same.localHash = hash;
        return same;
      }
      const dapId = this.nextId++;
      const bp: SessionBreakpoint = {
        dapId,
        specId: `bp${dapId}`,
        kind: w.logMessage ? 'logpoint' : 'snapshot',
        source: sourcePath,
        remoteFile: this.paths.toRemote(sourcePath),
        line: w.line,
        ...(w.condition?.trim() ? { condition: w.condition } : {}),
        ...(w.hitCondition?.trim() ? { hitCondition: w.hitCondition } : {}),
        ...(w.logMessage ? { logMessage: w.logMessage } : {}),
        ownWatches: [],
        expiresAt: Date.now() + (this.defaults.ttlMinutes ? this.defaults.ttlMinutes * 60_000 : DEFAULT_BREAKPOINT_TTL_MS),
        ...(hash ? { localHash: hash } : {}),
        states: new Map(),
      };
      const refusal = refusalOf(bp);
      if (refusal) bp.refusal = refusal;
      return bp;
    });
    if (next.length) this.bySource.set(sourcePath, next);
    else this.bySource.delete(sourcePath);
    return next;
  }

  clear(): void {
    this.bySource.clear();
  }

  /** Every breakpoint that goes to pods, as the wire protocol has it. */
  specs(): BreakpointSpec[] {
    return this.all()
      .filter((b) => !b.refusal)
      .map((b) => {
        const watches = b.kind === 'snapshot' ? [...new Set([...this.sessionWatches, ...b.ownWatches])].filter((w) => checkExpression(w).ok) : [];
        return {
          id: b.specId,
          kind: b.kind,
          file: b.remoteFile,
          line: b.line,
          ...(b.condition ? { condition: b.condition } : {}),
          ...(b.hitCondition ? { hitCondition: b.hitCondition } : {}),
          ...(b.logMessage ? { logMessage: b.logMessage } : {}),
          ...(watches.length ? { watches } : {}),
          ...(this.defaults.limits ? { limits: this.defaults.limits } : {}),
          ...(this.defaults.snapshotsPerMinute ? { snapshotsPerMinute: this.defaults.snapshotsPerMinute } : {}),
          ...(this.defaults.logsPerSecond ? { logsPerSecond: this.defaults.logsPerSecond } : {}),
          ...(this.defaults.cpuBudgetPercent ? { cpuBudgetPercent: this.defaults.cpuBudgetPercent } : {}),
          expiresAt: b.expiresAt,
          ...(b.localHash ? { sourceHash: b.localHash } : {}),
        };
      });
  }

  /** The breakpoint as VS Code should show it, given which pods match the session now. */
  present(bp: SessionBreakpoint, pods: string[]): { verified: boolean; message: string; line: number } {
    if (bp.refusal) return { verified: false, message: `rejected: ${bp.refusal}`, line: bp.line };
    const file = basename(bp.source);
    if (pods.length === 0) return { verified: false, message: 'pending: no pod matches the session\'s selector', line: bp.line };
    const states = pods.map((pod) => ({ pod, state: bp.states.get(pod) }));
    const installed = states.filter((s) => s.state && 'state' in s.state && s.state.state === 'installed');
    const line = installed.map((s) => (s.state as BreakpointState).line).find((l) => l !== undefined) ?? bp.line;
    const notes: string[] = [];
    const group = (name: string, pick: (s: BreakpointState) => boolean) => {
      const hit = states.filter((s) => s.state && 'state' in s.state && pick(s.state));
      if (!hit.length) return;
      const reasons = [...new Set(hit.map((s) => (s.state as BreakpointState).message ?? ''))];
      notes.push(`${name} on ${hit.map((s) => s.pod).join(', ')}${reasons[0] ? `: ${reasons.join('; ')}` : ''}`);
    };
    group('disabled', (s) => s.state === 'disabled');
    group('expired', (s) => s.state === 'expired');
    const failed = states.filter((s) => s.state && 'error' in s.state);
    if (failed.length) notes.push(failed.map((s) => `${s.pod}: ${(s.state as { error: string }).error}`).join('; '));
    const unanswered = states.filter((s) => !s.state);
    if (unanswered.length && unanswered.length < pods.length) notes.push(`waiting for ${unanswered.map((s) => s.pod).join(', ')}`);
    const skewed = installed.filter((s) => bp.localHash && (s.state as BreakpointState).sourceHash && (s.state as BreakpointState).sourceHash !== bp.localHash);
    if (skewed.length) notes.push(`${skewed.map((s) => s.pod).join(', ')} ${skewed.length === 1 ? 'runs' : 'run'} a different version of ${file} than the workspace`);
    const conditionNotes = [...new Set(installed.map((s) => (s.state as BreakpointState).message).filter((m): m is string => !!m))];
    notes.push(...conditionNotes);
    if (installed.length) {
      return { verified: true, message: [`installed on ${installed.length}/${pods.length} pods`, ...notes].join('; '), line };
    }
    const all = (pick: (s: BreakpointState) => boolean) => states.every((s) => s.state && 'state' in s.state && pick(s.state));
    if (all((s) => s.state === 'pending')) return { verified: false, message: `pending: no pod runs this file (${file})`, line: bp.line };
    if (all((s) => s.state === 'rejected')) {
      const reasons = [...new Set(states.map((s) => (s.state as BreakpointState).message ?? 'refused'))];
      return { verified: false, message: `rejected: ${reasons.join('; ')}`, line: bp.line };
    }
    if (unanswered.length === pods.length) return { verified: false, message: `installing on ${pods.length} pods…`, line: bp.line };
    const pending = states.filter((s) => s.state && 'state' in s.state && s.state.state === 'pending');
    if (pending.length) notes.unshift(`pending on ${pending.map((s) => s.pod).join(', ')}: no script runs this file`);
    const rejected = states.filter((s) => s.state && 'state' in s.state && s.state.state === 'rejected');
    if (rejected.length) notes.unshift(`rejected on ${rejected.map((s) => s.pod).join(', ')}: ${(rejected[0]!.state as BreakpointState).message ?? ''}`);
    return { verified: false, message: notes.join('; ') || 'not installed', line: bp.line };
  }
}

/** Checks a breakpoint's expressions here, so a bad one never reaches a pod; the reason, in words. */
export function refusalOf(bp: Pick<SessionBreakpoint, 'condition' | 'hitCondition' | 'logMessage' | 'kind'>): string | undefined {
  if (bp.condition) {
    const checked = checkExpression(bp.condition);
    if (!checked.ok) return `condition ${checked.reason}`;
  }
  if (bp.hitCondition) {
    const parsed = parseHitCondition(bp.hitCondition);
    if (!parsed.ok) return `hit condition ${parsed.reason}`;
  }
  if (bp.kind === 'logpoint') {
    const parsed = parseLogTemplate(bp.logMessage ?? '');
    if (!parsed.ok) return `log message ${parsed.reason}`;
    for (const part of parsed.parts) {
      if (!('expression' in part)) continue;
      const checked = checkExpression(part.expression);
      if (!checked.ok) return `log message part {${part.expression}} ${checked.reason}`;
    }
  }
  return undefined;
}
