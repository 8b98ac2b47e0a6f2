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
  /** CPU sampling interval in microseconds (default 5000: 200 Hz). */
  cpuIntervalMicros?: number;
  /** Average bytes between heap samples (default 512 KiB, as Go). 0 disables the heap sampler. */
  heapIntervalBytes?: number;
  sourceMaps?: boolean;
}

export class Profiler {
  private readonly session = new Session();
  private readonly mapper: SourceMapper | undefined;
  private cpuRunningUntil = 0;
  private heapSampling = false;
  readonly cpuIntervalMicros: number;
  readonly heapIntervalBytes: number;

  constructor(options: ProfilerOptions = {}) {
    this.cpuIntervalMicros = options.cpuIntervalMicros ?? 5000;
    this.heapIntervalBytes = options.heapIntervalBytes ?? 512 * 1024;
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

  /** Samples the CPU for `seconds`; one CPU profile at a time per process. */
  async cpu(seconds: number, signal?: AbortSignal): Promise<Buffer> {
    const now = Date.now();
    if (this.cpuRunningUntil > now) {
      throw new ProfilerBusyError(`a CPU profile is already running on this pod (${Math.ceil((this.cpuRunningUntil - now) / 1000)} s left)`);
    }
    this.cpuRunningUntil = now + seconds * 1000;
    try {
      await this.post('Profiler.enable');
      await this.post('Profiler.setSamplingInterval', { interval: this.cpuIntervalMicros });
      await this.post('Profiler.start');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      const { profile } = await this.post<{ profile: V8CpuProfile }>('Profiler.stop');
      await this.post('Profiler.disable');
      const pprof = cpuProfileToPprof(profile, this.mapper);
      return gzipAsync(await pprof.encodeAsync());
    } finally {
      this.cpuRunningUntil = 0;
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
    return gzipAsync(await pprof.encodeAsync());
  }

  dispose(): void {
    this.session.disconnect();
  }
}
