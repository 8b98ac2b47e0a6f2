/**
 * What a pod sent one debug session lately, numbered. Snapshots and log lines go out on core NATS, which keeps
 * nothing for a subscriber that is away: after a NATS restart the pod may be back before the session has
 * subscribed again, and what it sent meanwhile is gone. The session says, with each sync, what it has without
 * a gap; the pod sends again what it still holds after that. Bounded in count and bytes.
 */
export class SessionOutbox {
  private seq = 0;
  private kept: { seq: number; json: string }[] = [];
  private bytes = 0;

  constructor(private readonly maxEvents = 64, private readonly maxBytes = 512 * 1024) {}

  /** The number of the next event. */
  next(): number {
    return ++this.seq;
  }

  get last(): number {
    return this.seq;
  }

  keep(seq: number, json: string): void {
    this.kept.push({ seq, json });
    this.bytes += json.length;
    while (this.kept.length > this.maxEvents || (this.bytes > this.maxBytes && this.kept.length > 1)) {
      this.bytes -= this.kept.shift()!.json.length;
    }
  }

  /** What is still held after `seq`, oldest first. */
  since(seq: number): string[] {
    return this.kept.filter((e) => e.seq > seq).map((e) => e.json);
  }

  /** The session ended: nothing to send again (the numbering carries on, should it come back). */
  clear(): void {
    this.kept = [];
    this.bytes = 0;
  }
}

/** Outboxes by session id; the oldest go past `max` sessions (they ended long ago). */
export class Outboxes {
  private readonly byId = new Map<string, SessionOutbox>();

  constructor(private readonly max = 1000) {}

  of(session: string): SessionOutbox {
    let outbox = this.byId.get(session);
    if (!outbox) {
      outbox = new SessionOutbox();
      this.byId.set(session, outbox);
      if (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value!);
    }
    return outbox;
  }

  clear(session: string): void {
    this.byId.get(session)?.clear();
  }
}
