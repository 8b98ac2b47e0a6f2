/**
 * The StreamGate pod agent: `startAgent()` makes a process a StreamGate pod. It registers for discovery,
 * publishes telemetry (metrics, spans, business events, logs) to JetStream without ever blocking the app,
 * and serves CPU and heap profiles over NATS and at Go's /debug/pprof paths.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type NatsConnection, type Service } from 'nats';
import type { Attributes } from '@opentelemetry/api';
import { explainNatsError, natsConnectionOptions } from '../common/natsOptions';
import { VERSION } from '../common/version';
import {
  type BusinessEventType,
  type ControlOp,
  debugSubject,
  DebugEvalRequestSchema,
  DebugSyncRequestSchema,
  type HealthReply,
  type IncidentKind,
  type LogRecord,
  type PodMetadata,
} from '../protocol/nats';
import type { NatsSettings } from '../protocol/settings';
import { redactUrl } from '../protocol/settings';
import { check } from '../protocol/schema';
import { ControlRequestError, registerControl, type JsonHandler } from './control';
import { SnapshotDebugger, type DebuggerStats } from './debugger/debugger';
import { CallSites, siteAttributes } from './callSite';
import { handlePprofRequest } from './http';
import { MetricsRegistry, type Counter, type Gauge, type Histogram, type Labels } from './metrics';
import { Profiler } from './profiler';
import { TelemetryPublisher, type EventFields, type TraceIds } from './publisher';
import { RuntimeMetrics } from './runtime';
import { StreamGateSpanExporter } from './spans';
import { activeTraceIds } from './tracing';

export { ControlRequestError } from './control';
export { extractTraceContext, injectTraceHeaders, setupTracing, activeTraceIds } from './tracing';
export type { Counter, Gauge, Histogram, Labels } from './metrics';
export type { EventFields, TraceIds } from './publisher';

export interface AgentOptions {
  /** NATS URL, or full settings with credentials file, token, user/password and TLS. */
  nats: string | NatsSettings;
  service: string;
  pod: string;
  /** The application's version (semver), shown in discovery and used for version-skew warnings. */
  version: string;
  /** region, zone, node and anything else selectors should match on. */
  labels?: Labels;
  /** How often queued spans, events and logs are sent (default 200 ms). */
  flushIntervalMs?: number;
  /** How often metrics are collected and sent (default 1000 ms). */
  metricsIntervalMs?: number;
  /** Items buffered per kind before the oldest are dropped (default 100 000). */
  maxBufferedItems?: number;
  /** JetStream publishes in flight (default 64). */
  maxInFlight?: number;
  /** Base URL of this pod's /debug/pprof endpoints, advertised in discovery. */
  pprofUrl?: string;
  /** CPU sampling interval in microseconds (default 5000). */
  cpuIntervalMicros?: number;
  /** Heap sampling interval in bytes (default 1 MiB; 0 disables). */
  heapIntervalBytes?: number;
  /** Map profile frames of bundled code back to its sources through their source maps (default true). */
  sourceMaps?: boolean;
  /** How long to wait for NATS at start (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Add each log record's call site (file, line and function, through source maps) as the OpenTelemetry
   * attributes code.filepath, code.lineno and code.function, for the log analyzer (default true).
   */
  logCallSites?: boolean;
  /**
   * The non-breaking debugger (snapshot breakpoints, logpoints) on sg.dbg.<pod>.*; `false` turns it off.
   * `redactNames` replaces the list of names whose values are never captured (see docs/debugging.md).
   */
  debug?: false | { redactNames?: string[] };
}

export interface Agent {
  readonly service: string;
  readonly pod: string;
  readonly nc: NatsConnection;
  readonly spanExporter: StreamGateSpanExporter;
  counter(name: string, labels?: Labels): Counter;
  gauge(name: string, labels?: Labels): Gauge;
  histogram(name: string, labels?: Labels): Histogram;
  /** A business or user event; returns its id. Carries the active trace id unless `fields.traceId` is given. */
  event(type: BusinessEventType, fields?: EventFields): string;
  /** A structured log record; carries the active (or the given) trace and span ids. */
  log(level: LogRecord['level'], msg: string, attrs?: Attributes, trace?: TraceIds): void;
  /** Ground truth of an injected incident (for scoring alerts). */
  truth(incident: { id: string; type: IncidentKind; phase: 'start' | 'end'; start: number; end: number }): void;
  /** Serves an app-defined JSON request on this pod's control subject. */
  addEndpoint(op: ControlOp, handler: JsonHandler): void;
  /** For the app's HTTP server: answers /debug/pprof/* and returns true, or returns false. */
  handlePprof(req: IncomingMessage, res: ServerResponse): boolean;
  health(): HealthReply;
  cpuProfile(seconds: number): Promise<Buffer>;
  /** The debugger's counters and recent capture times; undefined when debugging is off. */
  debugStats(): DebuggerStats | undefined;
  heapProfile(): Promise<Buffer>;
  /** Sends everything buffered; resolves when JetStream has acknowledged it (or after `timeoutMs`). */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Flushes, unregisters and drains the connection. */
  stop(): Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  if (!/^\d+\.\d+\.\d+([-+][\w.-]+)?$/.test(options.version)) {
    throw new Error(`StreamGate agent: version must be a semantic version such as 1.4.2, not "${options.version}"`);
  }
  const settings: NatsSettings = typeof options.nats === 'string' ? { url: options.nats } : options.nats;
  const startedAt = Date.now();
  const bootId = randomBytes(4).toString('hex');
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...natsConnectionOptions(settings, `sg-agent ${options.service}/${options.pod}`),
      timeout: options.connectTimeoutMs ?? 10_000,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
      // No stack captured for every request (each telemetry publish is one): the agent's errors say what failed.
      noAsyncTraces: true,
    });
  } catch (error) {
    throw new Error(`StreamGate agent: ${explainNatsError(error, redactUrl(settings.url))}`);
  }
  // Whatever fails from here on (no JetStream, a version the services API refuses) must not leave a
  // connection reconnecting forever, observers or an inspector session behind.
  const undo: (() => void)[] = [];
  try {
    return await assemble(options, nc, startedAt, bootId, undo);
  } catch (error) {
    for (const step of undo.reverse()) step();
    await nc.close().catch(() => {});
    throw error;
  }
}

async function assemble(options: AgentOptions, nc: NatsConnection, startedAt: number, bootId: string, undo: (() => void)[]): Promise<Agent> {
  const publisher = new TelemetryPublisher({
    service: options.service,
    pod: options.pod,
    bootId,
    ...(options.maxBufferedItems ? { maxBufferedItems: options.maxBufferedItems } : {}),
    ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}),
  });
  publisher.attach(nc.jetstream(), nc.info?.max_payload);
  undo.push(() => publisher.stop());
  const registry = new MetricsRegistry();
  const runtime = new RuntimeMetrics(registry);
  undo.push(() => runtime.stop());
  const profiler = new Profiler({
    ...(options.cpuIntervalMicros ? { cpuIntervalMicros: options.cpuIntervalMicros } : {}),
    ...(options.heapIntervalBytes !== undefined ? { heapIntervalBytes: options.heapIntervalBytes } : {}),
    ...(options.sourceMaps !== undefined ? { sourceMaps: options.sourceMaps } : {}),
  });
  undo.push(() => profiler.dispose());
  await profiler.startHeapSampling();
  const spanExporter = new StreamGateSpanExporter(publisher);

  const metricsInterval = options.metricsIntervalMs ?? 1000;

  const health = (): HealthReply => {
    const r = runtime.current();
    const stats = publisher.snapshot();
    return {
      pod: options.pod,
      service: options.service,
      ts: Date.now(),
      uptimeS: (Date.now() - startedAt) / 1000,
      cpuPercent: r.cpuPercent,
      rssBytes: r.rssBytes,
      heapUsedBytes: r.heapUsedBytes,
      eventLoopDelayP99Ms: r.eventLoopDelayP99Ms,
      activeHandles: r.activeHandles,
      lastPublishAt: stats.lastPublishAt,
      published: stats.published,
      dropped: stats.dropped,
      buffered: stats.buffered,
      agentLongestTaskMs: stats.longestTaskMs,
      ...(stats.lastPermanentError ? { lastPublishError: stats.lastPermanentError } : {}),
    };
  };

  const metadata: PodMetadata = {
    service: options.service,
    pod: options.pod,
    runtime: 'node',
    startedAt: new Date(startedAt).toISOString(),
    agentVersion: VERSION,
    ...(options.pprofUrl ? { pprof: options.pprofUrl } : {}),
  };
  for (const [key, value] of Object.entries(options.labels ?? {})) metadata[`label.${key}`] = value;
  const control = await registerControl(nc, options.pod, options.version, metadata, {
    health,
    profile: (request) => (request.type === 'cpu' ? profiler.cpu(request.seconds ?? 10, undefined, { timeline: request.timeline ?? false }) : profiler.heap()),
  });
  const debug = options.debug === false ? undefined : startDebugger(nc, options, control.addEndpointAt);
  if (debug) undo.push(() => void debug.stop());
  // Once startAgent resolves the server knows our subscriptions: discovery and control answer at once.
  await nc.flush();

  let counted = publisher.snapshot();
  const collectMetrics = () => {
    const started = performance.now();
    runtime.sample();
    const stats = publisher.snapshot();
    // Counters go up by what happened since the last collection: consumers get totals and rates right.
    for (const kind of Object.keys(stats.published) as (keyof typeof stats.published)[]) {
      registry.counter('sg_agent_published_total', { kind }).inc(stats.published[kind] - counted.published[kind]);
      registry.counter('sg_agent_dropped_total', { kind }).inc(stats.dropped[kind] - counted.dropped[kind]);
    }
    registry.counter('sg_agent_publish_errors_total').inc(stats.publishErrors - counted.publishErrors);
    counted = stats;
    registry.gauge('sg_agent_buffered_items').set(stats.buffered);
    registry.gauge('sg_agent_longest_task_ms').set(stats.longestTaskMs);
    publisher.send('metrics', { intervalMs: metricsInterval, ...registry.collect() });
    publisher.noteTask(started);
  };
  const metricsTimer = setInterval(collectMetrics, metricsInterval);
  const flushTimer = setInterval(() => void publisher.flush(), options.flushIntervalMs ?? 200);
  metricsTimer.unref();
  flushTimer.unref();

  let stopped = false;
  const callSites = options.logCallSites === false ? undefined : new CallSites();
  const agent: Agent = {
    service: options.service,
    pod: options.pod,
    nc,
    spanExporter,
    counter: (name, labels) => registry.counter(name, labels),
    gauge: (name, labels) => registry.gauge(name, labels),
    histogram: (name, labels) => registry.histogram(name, labels),
    // Encoded straight into the publisher's buffers: nothing of an event or log record stays on the heap.
    event: (type, fields = NO_FIELDS) => publisher.enqueueEvent(type, fields, fields.traceId ?? activeTraceIds().traceId),
    log: (level, msg, attrs, trace) => {
      const site = callSites?.callerOf(agent.log);
      publisher.enqueueLog(level, msg, site ? { ...attrs, ...siteAttributes(site) } : attrs, trace ?? activeTraceIds());
    },
    truth(incident) {
      publisher.send('truth', { incident: { ...incident, pod: options.pod } });
    },
    addEndpoint: (op, handler) => control.addEndpoint(op, handler),
    handlePprof: (req, res) => handlePprofRequest(profiler, req, res),
    health,
    cpuProfile: (seconds) => profiler.cpu(seconds),
    debugStats: () => debug?.stats(),
    heapProfile: () => profiler.heap(),
    async flush(timeoutMs = 10_000) {
      collectMetrics();
      return publisher.settled(timeoutMs);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(metricsTimer);
      clearInterval(flushTimer);
      await agent.flush(3000).catch(() => false);
      await spanExporter.shutdown();
      await debug?.stop();
      publisher.stop();
      await stopService(control.service);
      runtime.stop();
      profiler.dispose();
      await nc.drain().catch(() => nc.close());
    },
  };
  return agent;
}

/** The debugger and its two control endpoints, on subjects of their own (sg.dbg.<pod>.sync | eval). */
function startDebugger(nc: NatsConnection, options: AgentOptions, addEndpointAt: (name: string, subject: string, handler: JsonHandler) => void): SnapshotDebugger {
  const redactNames = options.debug ? options.debug.redactNames : undefined;
  const debug = new SnapshotDebugger({ nc, pod: options.pod, service: options.service, version: options.version, ...(redactNames ? { redactNames } : {}) });
  addEndpointAt('debug-sync', debugSubject(options.pod, 'sync'), async (request) => {
    const parsed = check(DebugSyncRequestSchema, request);
    if (!parsed.ok) throw new ControlRequestError(`bad debug sync request: ${parsed.error}`);
    return debug.sync(parsed.value);
  });
  addEndpointAt('debug-eval', debugSubject(options.pod, 'eval'), async (request) => {
    const parsed = check(DebugEvalRequestSchema, request);
    if (!parsed.ok) throw new ControlRequestError(`bad debug eval request: ${parsed.error}`);
    return debug.evaluate(parsed.value);
  });
  return debug;
}

async function stopService(service: Service): Promise<void> {
  await service.stop().catch(() => {});
}

const NO_FIELDS: EventFields = Object.freeze({});
