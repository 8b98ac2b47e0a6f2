/**
 * Which numbered events (snapshots, log lines) the session has from each pod, so that a pod can send again what
 * a NATS restart lost and nothing is shown twice. Per pod: the run (`boot`) the numbers belong to, the last
 * number up to which nothing is missing, and the numbers received past a gap.
 */
export class ReceivedEvents {
  private readonly byPod = new Map<string, { boot: string; seq: number; past: Set<number> }>();

  /** True the first time an event is seen; false for one received before (sent again after a reconnect). */
  accept(pod: string, boot: string, seq: number): boolean {
    let seen = this.byPod.get(pod);
    if (!seen || seen.boot !== boot) {
      seen = { boot, seq: 0, past: new Set() };
      this.byPod.set(pod, seen);
    }
    if (seq <= seen.seq || seen.past.has(seq)) return false;
    seen.past.add(seq);
    while (seen.past.delete(seen.seq + 1)) seen.seq++;
    return true;
  }

  /** What to tell the pod with a sync: it sends again what it holds after this. */
  watermark(pod: string): { boot: string; seq: number } | undefined {
    const seen = this.byPod.get(pod);
    return seen ? { boot: seen.boot, seq: seen.seq } : undefined;
  }

  /**
   * A sync answered: everything the pod had sent up to `sent.seq` (resent ones included) arrived before its
   * answer, or is lost for good (it no longer held it). Either way, nothing up to there is awaited any more.
   */
  settle(pod: string, sent: { boot: string; seq: number }): void {
    let seen = this.byPod.get(pod);
    if (!seen || seen.boot !== sent.boot) {
      seen = { boot: sent.boot, seq: 0, past: new Set() };
      this.byPod.set(pod, seen);
    }
    if (sent.seq <= seen.seq) return;
    seen.seq = sent.seq;
    for (const n of seen.past) if (n <= seen.seq) seen.past.delete(n);
    while (seen.past.delete(seen.seq + 1)) seen.seq++;
  }
}
