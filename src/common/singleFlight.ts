/**
 * One run of some work at a time: while a run is in flight, asking again returns it. The slot is freed only
 * after the run has settled, in a later microtask, so work that finishes without waiting on anything (an async
 * function whose path has no `await`) does not free the slot before it is taken and leave it taken for ever —
 * the bug of `this.running = (async () => { …; this.running = undefined })()`.
 */
export class SingleFlight<T> {
  private running: Promise<T> | undefined;

  get busy(): boolean {
    return this.running !== undefined;
  }

  run(work: () => Promise<T>): Promise<T> {
    if (this.running) return this.running;
    let started: Promise<T>;
    try {
      started = work();
    } catch (error) {
      started = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.running = started;
    const free = () => {
      if (this.running === started) this.running = undefined;
    };
    started.then(free, free);
    return started;
  }
}
