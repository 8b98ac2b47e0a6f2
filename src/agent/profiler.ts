/**
 * In-process profiling through the V8 inspector: CPU profiles on demand, and a heap sampler that runs for
 * the pod's lifetime so `heap` answers at once. Output is gzipped pprof.
 */
import { Session } from 'node:inspector';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { cpuProfileToPprof, heapProfileToPprof, type V8CpuProfile, type V8HeapProfile } from './pprof';
import { SourceMapper } from './sourcemaps';

const gzipAsync = promisify(gzip);

export class ProfilerBusyError extends Error {}

export interface ProfilerOptions {
  /** CPU sampling interval in microseconds (default 10 000: 100 Hz, as Go's pprof and the Node profilers of Datadog and Pyroscope). */
  cpuIntervalMicros?: number;
  /**
   * Average bytes between heap samples (default 1 MiB; Go samples every 512 KiB, but V8 walks the JavaScript stack for
   * each sample and a Node service allocates more per request: at 512 KiB the sampler cost the sandbox gateway 0.45–0.49 %
   * of its CPU, see docs/benchmarks.md). 0 disables the heap sampler.
   */
  heapIntervalBytes?: number;
  sourceMaps?: boolean;
}

export class Profiler {
  private readonly session = new Session();
  private readonly mapper: SourceMapper | undefined;
  /** Set from the request until the profile is encoded: V8 runs one CPU profile at a time. */
  private cpuBusy = false;
  private cpuRunningUntil = 0;
  private heapSampling = false;
  /** Ends a running CPU profile early when the profiler is disposed. */
  private readonly disposed = new AbortController();
  readonly cpuIntervalMicros: number;
  readonly heapIntervalBytes: number;

  constructor(options: ProfilerOptions = {}) {
    this.cpuIntervalMicros = options.cpuIntervalMicros ?? 10_000;
    this.heapIntervalBytes = options.heapIntervalBytes ?? 1024 * 1024;
    this.mapper = options.sourceMaps === false ? undefined : new SourceMapper();
    this.session.connect();
  }

  private post<T>(method: string, params?: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T)));
    });
  }

  async startHeapSampling(): Promise<void> {
    if (this.heapSampling || this.heapIntervalBytes <= 0) return;
    await this.post('HeapProfiler.enable');
    await this.post('HeapProfiler.startSampling', { samplingInterval: this.heapIntervalBytes });
    this.heapSampling = true;
  }

  /**
   * Samples the CPU for `seconds`; one CPU profile at a time per process. With `timeline`, every tick is its own
   * sample with its time (see cpuProfileToPprof).
   */
  async cpu(seconds: number, signal?: AbortSignal, { timeline = false }: { timeline?: boolean } = {}): Promise<Buffer> {
    if (!(seconds > 0)) throw new Error(`a CPU profile needs a positive number of seconds, not ${seconds}`);
    if (this.cpuBusy) {
      const left = Math.max(0, Math.ceil((this.cpuRunningUntil - Date.now()) / 1000));
      throw new ProfilerBusyError(`a CPU profile is already running on this pod (${left ? `${left} s left` : 'finishing'})`);
    }
    this.cpuBusy = true;
    this.cpuRunningUntil = Date.now() + seconds * 1000;
    try {
      await this.post('Profiler.enable');
      await this.post('Profiler.setSamplingInterval', { interval: this.cpuIntervalMicros });
      await this.post('Profiler.start');
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, seconds * 1000);
        signal?.addEventListener('abort', done, { once: true });
        this.disposed.signal.addEventListener('abort', done, { once: true });
      });
      if (this.disposed.signal.aborted) throw new Error('the agent stopped while the CPU profile was running');
      const { profile } = await this.post<{ profile: V8CpuProfile }>('Profiler.stop');
      // V8 stamps samples with the monotonic clock process.hrtime reads: this puts them in wall time.
      const epochOffsetMicros = Date.now() * 1000 - Number(process.hrtime.bigint() / 1000n);
      await this.post('Profiler.disable');
      const pprof = cpuProfileToPprof(profile, this.mapper, { epochOffsetMicros, timeline });
      return gzipAsync(await pprof.encodeAsync());
    } finally {
      this.cpuBusy = false;
    }
  }

  /** The live heap as sampled since the pod started (what Go's /debug/pprof/heap reports as inuse). */
  async heap(): Promise<Buffer> {
    await this.startHeapSampling();
    let profile: V8HeapProfile;
    try {
      ({ profile } = await this.post<{ profile: V8HeapProfile }>('HeapProfiler.getSamplingProfile'));
    } catch {
      // Another inspector session in this process stopped the isolate's sampler: start it again.
      this.heapSampling = false;
      await this.startHeapSampling();
      ({ profile } = await this.post<{ profile: V8HeapProfile }>('HeapProfiler.getSamplingProfile'));
    }
    const pprof = heapProfileToPprof(profile, this.heapIntervalBytes, this.mapper);
    // (inuse_objects and inuse_space are both estimates of the live heap, scaled from the samples.)
    return gzipAsync(await pprof.encodeAsync());
  }

  dispose(): void {
    this.disposed.abort();
    this.session.disconnect();
  }
}
