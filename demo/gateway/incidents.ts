/**
 * Injectable incidents, each a real change in the gateway's behaviour (not fake telemetry), with ground truth
 * published as it starts and ends so alerts can be scored:
 *   latency-spike    every request waits 150–600 ms more
 *   error-burst      30 % of requests fail with 500
 *   cpu-hotspot      each message's content signature is computed the slow way (real CPU)
 *   memory-leak      each message's frame, and 64 KiB of parsed records, retained until the incident ends
 *   crash-loop       the pod exits a few seconds after each start until the incident ends
 *   slow-dependency  the storage path takes 200–900 ms more
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncidentKind, IncidentReply } from '../../src/protocol/nats';

export interface ActiveIncident {
  id: string;
  type: IncidentKind;
  start: number;
  end: number;
}

export type TruthSink = (incident: ActiveIncident & { phase: 'start' | 'end' }) => void;

export class Incidents {
  private readonly active = new Map<IncidentKind, ActiveIncident>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** What the memory leak holds on to: frames (Buffer memory, outside V8's heap) and records on the heap. */
  private readonly leaked: (Buffer | number[])[] = [];

  constructor(
    private readonly pod: string,
    private readonly stateDir: string,
    private readonly truth: TruthSink,
    private readonly crash: (reason: string) => void,
  ) {}

  /** On start: resume a crash loop that is still on, or report the end of one that has finished. */
  resume(): void {
    const file = this.crashFile();
    if (!existsSync(file)) return;
    const incident = JSON.parse(readFileSync(file, 'utf8')) as ActiveIncident;
    if (Date.now() < incident.end) {
      this.active.set('crash-loop', incident);
      this.schedule(() => this.crash(`crash-loop incident ${incident.id}`), 2000 + Math.random() * 2000);
    } else {
      rmSync(file, { force: true });
      this.truth({ ...incident, phase: 'end', end: Date.now() });
    }
  }

  start(type: IncidentKind, durationMs: number): IncidentReply {
    const existing = this.active.get(type);
    if (existing) return { id: existing.id, pod: this.pod, type, start: existing.start, end: existing.end };
    const now = Date.now();
    const incident: ActiveIncident = { id: randomUUID(), type, start: now, end: now + durationMs };
    this.active.set(type, incident);
    this.truth({ ...incident, phase: 'start' });
    if (type === 'crash-loop') {
      mkdirSync(this.stateDir, { recursive: true });
      writeFileSync(this.crashFile(), JSON.stringify(incident));
      this.schedule(() => this.crash(`crash-loop incident ${incident.id}`), 1000);
    } else {
      this.schedule(() => this.finish(type), durationMs);
    }
    return { id: incident.id, pod: this.pod, type, start: incident.start, end: incident.end };
  }

  isActive(type: IncidentKind): boolean {
    return this.active.has(type);
  }

  list(): ActiveIncident[] {
    return [...this.active.values()];
  }

  /** latency-spike: extra wait before answering. */
  async requestDelay(): Promise<void> {
    if (this.active.has('latency-spike')) await sleep(150 + Math.random() * 450);
  }

  /** slow-dependency: extra wait in storage. */
  async dependencyDelay(): Promise<void> {
    if (this.active.has('slow-dependency')) await sleep(200 + Math.random() * 700);
  }

  shouldFail(): boolean {
    return this.active.has('error-burst') && Math.random() < 0.3;
  }

  retain(frame: Buffer): void {
    // The records are what a heap profile sees: V8's sampling heap profiler counts the JS heap only, and a
    // Buffer's bytes live outside it (the leak's RSS growth shows them; see docs/profiling.md).
    if (this.active.has('memory-leak')) this.leaked.push(Buffer.from(frame), new Array<number>(8192).fill(frame.length));
  }

  get leakedBytes(): number {
    return this.leaked.reduce((n, b) => n + (Buffer.isBuffer(b) ? b.length : b.length * 8), 0);
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private finish(type: IncidentKind): void {
    const incident = this.active.get(type);
    if (!incident) return;
    this.active.delete(type);
    if (type === 'memory-leak') this.leaked.length = 0;
    this.truth({ ...incident, phase: 'end', end: Date.now() });
  }

  private schedule(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private crashFile(): string {
    return join(this.stateDir, `${this.pod}.crash-loop.json`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
