/**
 * Snapshots as the debugger UI sees them: one shown per pod (thread), the rest queued in arrival order, and
 * the ids DAP hands out for frames, scopes and variables of the shown ones (dropped when a snapshot is
 * dismissed, so a long session does not accumulate them).
 */
import type { CapturedFrame, CapturedValue, SnapshotEvent } from '../protocol/nats';

/** Snapshots waiting per pod; past it the oldest waiting one is dropped (and counted). */
export const MAX_QUEUED_PER_POD = 20;

export type Ref =
  | { kind: 'frame'; snapshot: SnapshotEvent; frame: CapturedFrame; index: number }
  | { kind: 'locals'; snapshot: SnapshotEvent; frame: CapturedFrame }
  | { kind: 'watches'; snapshot: SnapshotEvent }
  | { kind: 'value'; value: CapturedValue; evaluateName?: string };

export class SnapshotQueues {
  private readonly shown = new Map<number, SnapshotEvent>();
  private readonly waiting = new Map<number, SnapshotEvent[]>();
  private readonly dropped = new Map<number, number>();
  private readonly refs = new Map<number, Ref>();
  private readonly refsOf = new Map<string, number[]>();
  /** Frame ids by snapshot id and frame index: every stackTrace of a shown snapshot names its frames alike. */
  private readonly frameIds = new Map<string, number>();
  private nextRef = 1;

  /** A snapshot arrived for a thread: 'show' it now, or it was 'queued' behind the one shown. */
  offer(threadId: number, snapshot: SnapshotEvent): 'show' | 'queued' {
    if (!this.shown.has(threadId)) {
      this.shown.set(threadId, snapshot);
      return 'show';
    }
    const queue = this.waiting.get(threadId) ?? [];
    queue.push(snapshot);
    if (queue.length > MAX_QUEUED_PER_POD) {
      queue.shift();
      this.dropped.set(threadId, (this.dropped.get(threadId) ?? 0) + 1);
    }
    this.waiting.set(threadId, queue);
    return 'queued';
  }

  current(threadId: number): SnapshotEvent | undefined {
    return this.shown.get(threadId);
  }

  waitingCount(threadId: number): number {
    return this.waiting.get(threadId)?.length ?? 0;
  }

  /** Dismisses the shown snapshot; returns the next one to show, if any. */
  dismiss(threadId: number): SnapshotEvent | undefined {
    const shown = this.shown.get(threadId);
    if (shown) this.release(shown);
    this.shown.delete(threadId);
    const next = this.waiting.get(threadId)?.shift();
    if (next) this.shown.set(threadId, next);
    return next;
  }

  /** A pod left: everything of its thread goes. */
  drop(threadId: number): void {
    const shown = this.shown.get(threadId);
    if (shown) this.release(shown);
    this.shown.delete(threadId);
    this.waiting.delete(threadId);
    this.dropped.delete(threadId);
  }

  threadsShowing(): number[] {
    return [...this.shown.keys()];
  }

  ref(snapshot: SnapshotEvent | undefined, ref: Ref): number {
    const id = this.nextRef++;
    this.refs.set(id, ref);
    if (snapshot) {
      const list = this.refsOf.get(snapshot.id) ?? [];
      list.push(id);
      this.refsOf.set(snapshot.id, list);
    }
    return id;
  }

  /** The id of a snapshot's frame: the same for as long as the snapshot is shown, whoever asks. */
  frameRef(snapshot: SnapshotEvent, frame: CapturedFrame, index: number): number {
    const key = `${snapshot.id}#${index}`;
    const known = this.frameIds.get(key);
    if (known !== undefined && this.refs.has(known)) return known;
    const id = this.ref(snapshot, { kind: 'frame', snapshot, frame, index });
    this.frameIds.set(key, id);
    return id;
  }

  get(id: number): Ref | undefined {
    return this.refs.get(id);
  }

  /** The snapshot a frame id belongs to. */
  frame(id: number): { snapshot: SnapshotEvent; frame: CapturedFrame; index: number } | undefined {
    const ref = this.refs.get(id);
    return ref?.kind === 'frame' ? ref : undefined;
  }

  private release(snapshot: SnapshotEvent): void {
    for (const id of this.refsOf.get(snapshot.id) ?? []) {
      const ref = this.refs.get(id);
      if (ref?.kind === 'frame') this.frameIds.delete(`${snapshot.id}#${ref.index}`);
      this.refs.delete(id);
    }
    this.refsOf.delete(snapshot.id);
  }

  /** Values shown outside any snapshot (REPL results) are kept until this many exist, then the oldest go. */
  trimLoose(max = 10_000): void {
    if (this.refs.size <= max) return;
    const owned = new Set([...this.refsOf.values()].flat());
    for (const id of this.refs.keys()) {
      if (this.refs.size <= max) break;
      if (!owned.has(id)) this.refs.delete(id);
    }
  }
}
