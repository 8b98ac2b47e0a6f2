/** Runtime metrics every pod reports: CPU, memory, GC pauses, event-loop delay, active handles. */
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import type { Histogram, MetricsRegistry } from './metrics';

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export interface RuntimeSnapshot {
  cpuPercent: number;
  rssBytes: number;
  heapUsedBytes: number;
  eventLoopDelayP99Ms: number;
  activeHandles: number;
}

/** monitorEventLoopDelay records whole timer intervals; the delay is what exceeds the resolution. */
const LOOP_RESOLUTION_MS = 10;

export class RuntimeMetrics {
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly gcObserver: PerformanceObserver;
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  /** The last interval's CPU and loop figures; undefined until the first metrics flush. */
  private last: RuntimeSnapshot | undefined;

  constructor(private readonly registry: MetricsRegistry) {
    this.loopDelay.enable();
    // One histogram per kind, looked up once: a busy pod collects garbage tens of times a second.
    const pauses = new Map<number, Histogram>();
    const pauseHistogram = (kind: number) => {
      let histogram = pauses.get(kind);
      if (!histogram) pauses.set(kind, (histogram = registry.histogram('nodejs_gc_pause_ms', { kind: GC_KINDS[kind] ?? 'other' })));
      return histogram;
    };
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) pauseHistogram((entry as { detail?: { kind?: number } }).detail?.kind ?? 0).record(entry.duration);
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  /** Samples the runtime into gauges; called once per metrics flush. */
  sample(): RuntimeSnapshot {
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMicros = Math.max(1, (now - this.lastAt) * 1000);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const memory = process.memoryUsage();
    const snapshot: RuntimeSnapshot = {
      cpuPercent: ((cpu.user + cpu.system) / elapsedMicros) * 100,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventLoopDelayP99Ms: this.loopDelayMs(this.loopDelay.percentile(99)),
      activeHandles: process.getActiveResourcesInfo().length,
    };
    const r = this.registry;
    r.gauge('process_cpu_percent').set(snapshot.cpuPercent);
    r.gauge('process_rss_bytes').set(snapshot.rssBytes);
    r.gauge('nodejs_heap_used_bytes').set(snapshot.heapUsedBytes);
    r.gauge('nodejs_heap_total_bytes').set(memory.heapTotal);
    r.gauge('nodejs_external_bytes').set(memory.external);
    r.gauge('nodejs_eventloop_delay_p50_ms').set(this.loopDelayMs(this.loopDelay.percentile(50)));
    r.gauge('nodejs_eventloop_delay_p99_ms').set(snapshot.eventLoopDelayP99Ms);
    r.gauge('nodejs_eventloop_delay_max_ms').set(this.loopDelayMs(this.loopDelay.max));
    r.gauge('nodejs_active_handles').set(snapshot.activeHandles);
    this.loopDelay.reset();
    this.last = snapshot;
    return snapshot;
  }

  private loopDelayMs(nanos: number): number {
    return this.loopDelay.count ? Math.max(0, nanos / 1e6 - LOOP_RESOLUTION_MS) : 0;
  }

  /**
   * Figures for a health answer, measured now: memory and handles as they are, CPU and event-loop delay over
   * the last metrics interval — or, before the first one, CPU averaged since the process started and the
   * loop delay recorded so far. Real from the pod's first answer, never a placeholder zero.
   */
  current(): RuntimeSnapshot {
    const memory = process.memoryUsage();
    let cpuPercent = this.last?.cpuPercent;
    if (cpuPercent === undefined) {
      const total = process.cpuUsage();
      cpuPercent = ((total.user + total.system) / Math.max(1, process.uptime() * 1e6)) * 100;
    }
    return {
      cpuPercent,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventLoopDelayP99Ms: this.last?.eventLoopDelayP99Ms ?? this.loopDelayMs(this.loopDelay.percentile(99)),
      activeHandles: process.getActiveResourcesInfo().length,
    };
  }

  stop(): void {
    this.loopDelay.disable();
    this.gcObserver.disconnect();
  }
}
