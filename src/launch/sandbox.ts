/**
 * The sandbox fleet: N gateway pods running the agent, a Go pod, and the load generator, on one NATS. Pods
 * that exit are restarted with backoff (which is what a crash-loop incident looks like from outside).
 * Used by `sg fleet up`, `npm start`, the tests and the benchmarks.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type NatsConnection, type Service } from 'nats';
import { ControlRequestError, registerControl } from '../agent/control';
import { ensureStreamsAt } from '../common/streams';
import { VERSION } from '../common/version';
import { POD_READY_PREFIX, PodReadySchema, type FleetReady, type PodReady } from '../protocol/cli';
import type { HealthReply, PodMetadata } from '../protocol/nats';
import { check } from '../protocol/schema';
import { startNatsServer, type NatsServer } from './nats';
import { findExecutable, httpOk, spawnService, waitUntil, type ServiceProcess } from './process';

export interface SandboxOptions {
  /** Gateway pods (default 3). */
  pods?: number;
  /** An existing NATS; without it the fleet starts its own with JetStream. */
  natsUrl?: string;
  stateDir: string;
  /** Folder of the built bundles (dist/), holding demo/gateway.js and demo/loadgen.js. */
  distDir: string;
  /** Folder of the Go pod's source; the Go pod is skipped when it or `go` is missing. */
  goSourceDir?: string;
  /** The sandbox's source folder (demo/), reported so an editor can open it. */
  sourceDir?: string;
  loadgen?: boolean;
  /** How busy the simulated users keep the pods (default `normal`); see LOAD_LEVELS. */
  load?: LoadLevel;
  /** Extra load generator arguments; they win over the load level's. */
  loadgenArgs?: string[];
  log?: (line: string) => void;
  /** Aborting it while the fleet starts stops what has started and rejects. */
  signal?: AbortSignal;
}

export interface SandboxPod {
  pod: string;
  service: string;
  runtime: 'node' | 'go';
  port: number;
  process: ServiceProcess;
  restarts: number;
}

export interface Sandbox {
  readonly natsUrl: string;
  readonly nats: NatsServer | undefined;
  readonly pods: SandboxPod[];
  readonly loadgen: ServiceProcess | undefined;
  ready(): FleetReady;
  stop(): Promise<void>;
}

export type LoadLevel = 'light' | 'normal' | 'busy';
export const LOAD_LEVEL_NAMES: readonly LoadLevel[] = ['light', 'normal', 'busy'];

/**
 * The load generator's settings per level. `normal` keeps each of three gateway pods at 20–40 % of a core at
 * the daily peak, so a 10-second CPU profile holds hundreds of samples; `light` is a few % (a dozen samples
 * in 3 s); `busy` about twice `normal`. Measured with `npm run bench -- sandboxLoad` (docs/benchmarks.md).
 */
export const LOAD_LEVELS: Record<LoadLevel, { peakSessionsPerSecond: number; maxSessions: number; messageIntervalMs: number }> = {
  light: { peakSessionsPerSecond: 4, maxSessions: 120, messageIntervalMs: 700 },
  normal: { peakSessionsPerSecond: 24, maxSessions: 400, messageIntervalMs: 120 },
  busy: { peakSessionsPerSecond: 48, maxSessions: 800, messageIntervalMs: 100 },
};

export function loadgenArgsFor(level: LoadLevel): string[] {
  const l = LOAD_LEVELS[level];
  return ['--peak-sessions-per-second', String(l.peakSessionsPerSecond), '--max-sessions', String(l.maxSessions), '--message-interval-ms', String(l.messageIntervalMs)];
}

const REGIONS = [
  { region: 'eu-west', zone: 'eu-west-1a', node: 'node-a' },
  { region: 'eu-west', zone: 'eu-west-1b', node: 'node-b' },
  { region: 'us-east', zone: 'us-east-1a', node: 'node-c' },
  { region: 'us-east', zone: 'us-east-1b', node: 'node-d' },
];

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const log = options.log ?? (() => {});
  const { stateDir, distDir } = options;
  for (const dir of ['logs', 'data', 'incidents']) mkdirSync(join(stateDir, dir), { recursive: true });
  const gatewayBundle = join(distDir, 'demo', 'gateway.js');
  if (!existsSync(gatewayBundle)) throw new Error(`the sandbox gateway is not built (${gatewayBundle} is missing): run npm run build`);

  // Every process the fleet starts is in here until it exits, so no failure path can orphan one (each runs
  // in its own process group: nothing else would stop it).
  const spawned = new Set<ServiceProcess>();
  const track = (service: ServiceProcess) => {
    spawned.add(service);
    void service.exited.then(() => spawned.delete(service));
    return service;
  };
  const pods: SandboxPod[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;
  let nats: NatsServer | undefined;
  let relay: GoRelay | undefined;

  const stopAll = async () => {
    stopping = true;
    for (const timer of timers) clearTimeout(timer);
    await relay?.stop();
    await Promise.all([...spawned].map((service) => service.stop()));
    await nats?.stop();
  };
  const checkAborted = () => {
    if (options.signal?.aborted) throw new Error('the sandbox fleet was cancelled while starting');
  };

  const launchGateway = async (index: number, restarts: number, port = 0): Promise<SandboxPod> => {
    const pod = `gw-${index + 1}`;
    const place = REGIONS[index % REGIONS.length]!;
    const logFile = join(stateDir, 'logs', `${pod}.log`);
    const logStart = fileSize(logFile);
    const service = track(
      spawnService(
        pod,
        process.execPath,
        [
          '--enable-source-maps',
          gatewayBundle,
          '--pod', pod,
          '--port', String(port),
          '--nats', natsUrl,
          '--region', place.region,
          '--zone', place.zone,
          '--node', place.node,
          '--data-dir', join(stateDir, 'data', pod),
          '--state-dir', join(stateDir, 'incidents'),
        ],
        { logFile, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
      ),
    );
    let ready: PodReady;
    try {
      ready = await readyLine(service, logFile, logStart, 30_000);
    } catch (error) {
      await service.stop();
      throw error;
    }
    const entry: SandboxPod = { pod, service: 'gateway', runtime: 'node', port: ready.port, process: service, restarts };
    void service.exited.then((code) => {
      if (stopping) return;
      const delay = Math.min(10_000, 1000 * 2 ** Math.min(entry.restarts, 4));
      log(`${pod} exited (${code ?? 'signal'}); restarting in ${delay / 1000} s`);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (stopping) return;
        // Same port again: the load generator and anyone else keep reaching the pod.
        launchGateway(index, entry.restarts + 1, entry.port).then(
          (next) => {
            if (stopping) void next.process.stop();
            else pods.splice(pods.indexOf(entry), 1, next);
          },
          (error: Error) => log(`${pod} failed to restart: ${error.message}`),
        );
      }, delay);
      timers.add(timer);
    });
    return entry;
  };

  let natsUrl = options.natsUrl ?? '';
  try {
    if (!natsUrl) {
      // Each sandbox starts with an empty JetStream store: an editor connecting to it then replays minutes of
      // this fleet, not the hours every earlier sandbox left (what servers ingested is in their stores).
      const storeDir = join(stateDir, 'nats');
      rmSync(storeDir, { recursive: true, force: true });
      nats = await startNatsServer({ storeDir, logFile: join(stateDir, 'logs', 'nats-server.log') });
      natsUrl = nats.url;
      log(`started nats-server with JetStream on ${natsUrl}`);
    }
    // The sandbox is the operator of its NATS: it makes the streams a server would, so pods that start before
    // any server lose nothing.
    await ensureStreamsAt(natsUrl);
    checkAborted();
    const count = options.pods ?? 3;
    if (!Number.isInteger(count) || count < 1 || count > 32) throw new Error(`--pods must be 1 to 32, not ${count}`);
    const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => launchGateway(i, 0)));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    pods.push(...started.map((r) => (r as PromiseFulfilledResult<SandboxPod>).value));
    log(`${count} gateway pod(s) up: ${pods.map((p) => `${p.pod} :${p.port}`).join(', ')}`);
    checkAborted();

    if (options.goSourceDir && existsSync(join(options.goSourceDir, 'main.go'))) {
      if (!findExecutable('go')) log('Go is not installed: the fleet runs without its Go pod (apt-get install golang-go)');
      else {
        try {
          const goPod = await launchGoPod(options.goSourceDir, stateDir, track);
          pods.push(goPod);
          relay = await GoRelay.start(natsUrl, goPod, { ...REGIONS[count % REGIONS.length]! });
          log(`Go pod ${goPod.pod} up on :${goPod.port} (pprof relayed over NATS by the fleet)`);
        } catch (error) {
          log(`the Go pod did not start: ${(error as Error).message}`);
        }
      }
    }
    checkAborted();
  } catch (error) {
    await stopAll();
    throw error;
  }

  let loadgen: ServiceProcess | undefined;
  if (options.loadgen !== false) {
    const targets = pods.filter((p) => p.runtime === 'node').map((p) => `http://127.0.0.1:${p.port}`).join(',');
    loadgen = track(
      spawnService('loadgen', process.execPath, [join(distDir, 'demo', 'loadgen.js'), '--targets', targets, ...loadgenArgsFor(options.load ?? 'normal'), ...(options.loadgenArgs ?? [])], {
        logFile: join(stateDir, 'logs', 'loadgen.log'),
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      }),
    );
    log(`load generator started at the ${options.load ?? 'normal'} load level`);
  }

  return {
    natsUrl,
    nats,
    pods,
    loadgen,
    ready: () => ({
      nats: natsUrl,
      pods: pods.map((p) => ({ pod: p.pod, service: p.service, pid: p.process.pid, httpPort: p.port })),
      source: options.sourceDir ?? distDir,
    }),
    stop: stopAll,
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Waits for the pod's GATEWAY_READY line in its log, after `offset` (what earlier runs wrote). */
async function readyLine(service: ServiceProcess, logFile: string, offset: number, timeoutMs: number): Promise<PodReady> {
  let ready: PodReady | undefined;
  await waitUntil(
    `${service.name} to serve`,
    async () => {
      const fresh = readFileSync(logFile).subarray(offset).toString('utf8');
      const line = fresh.split('\n').find((l) => l.startsWith(POD_READY_PREFIX));
      if (!line) return false;
      const parsed = check(PodReadySchema, JSON.parse(line.slice(POD_READY_PREFIX.length)));
      if (parsed.ok) ready = parsed.value;
      return parsed.ok;
    },
    { service, timeoutMs, intervalMs: 50 },
  );
  return ready!;
}

async function launchGoPod(sourceDir: string, stateDir: string, track: (s: ServiceProcess) => ServiceProcess): Promise<SandboxPod> {
  const binary = join(stateDir, 'bin', 'gopod');
  mkdirSync(join(stateDir, 'bin'), { recursive: true });
  // Asynchronously, so a signal that cancels the fleet is handled while Go compiles.
  await promisify(execFile)('go', ['build', '-o', binary, '.'], {
    cwd: sourceDir,
    env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', GOCACHE: join(stateDir, 'go-cache'), GOPATH: join(stateDir, 'go-path') },
  });
  const logFile = join(stateDir, 'logs', 'go-1.log');
  const logStart = fileSize(logFile);
  const service = track(spawnService('go-1', binary, ['--pod', 'go-1'], { logFile }));
  try {
    const ready = await readyLine(service, logFile, logStart, 15_000);
    await waitUntil('the Go pod', () => httpOk(`http://127.0.0.1:${ready.port}/healthz`), { service, timeoutMs: 10_000 });
    return { pod: 'go-1', service: 'router', runtime: 'go', port: ready.port, process: service, restarts: 0 };
  } catch (error) {
    await service.stop();
    throw error;
  }
}

/**
 * Discovery, health and profiles for the Go pod, which has no NATS client: the fleet registers it as an
 * sg-pod with the agent's own control plane and answers from the pod's HTTP endpoints and /proc, so `sg pods`
 * and `sg profile` treat it like any other pod. What cannot be measured from outside (event-loop delay,
 * handles) is left out of its health rather than reported as zero.
 */
class GoRelay {
  private constructor(private readonly nc: NatsConnection, private readonly service: Service) {}

  static async start(natsUrl: string, pod: SandboxPod, labels: Record<string, string>): Promise<GoRelay> {
    const nc = await connect({ servers: natsUrl, name: `sg-fleet relay for ${pod.pod}`, maxReconnectAttempts: -1 });
    const httpBase = `http://127.0.0.1:${pod.port}`;
    const base = `${httpBase}/debug/pprof`;
    const startedAt = Date.now();
    const metadata: PodMetadata = {
      service: pod.service,
      pod: pod.pod,
      runtime: 'go',
      startedAt: new Date(startedAt).toISOString(),
      agentVersion: `${VERSION} (relay)`,
      pprof: base,
    };
    for (const [key, value] of Object.entries(labels)) metadata[`label.${key}`] = value;
    const cpu = new ProcCpu(pod.process.pid);
    try {
      const control = await registerControl(nc, pod.pod, GO_POD_VERSION, metadata, {
        health: async (): Promise<HealthReply> => ({
          pod: pod.pod,
          service: pod.service,
          ts: Date.now(),
          uptimeS: (Date.now() - startedAt) / 1000,
          cpuPercent: cpu.percent(),
          rssBytes: procRssBytes(pod.process.pid),
          heapUsedBytes: await goHeapAlloc(httpBase),
          lastPublishAt: 0,
          published: {},
          dropped: {},
          buffered: 0,
        }),
        profile: async (request) => {
          const url = request.type === 'cpu' ? `${base}/profile?seconds=${request.seconds ?? 10}` : `${base}/heap`;
          const response = await fetch(url);
          if (!response.ok) throw new ControlRequestError(`the Go pod answered ${response.status}: ${(await response.text()).trim()}`, 502);
          return Buffer.from(await response.arrayBuffer());
        },
      });
      await nc.flush();
      return new GoRelay(nc, control.service);
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.service.stop().catch(() => {});
    await this.nc.drain().catch(() => {});
  }
}

/** The Go pod's own version (demo/gopod), as it registers in discovery. */
const GO_POD_VERSION = '1.0.0';

/**
 * CPU use of a process from /proc/<pid>/stat: since the previous reading, or on the first one the average
 * since the process started — a measured figure from the first answer, never a placeholder.
 */
class ProcCpu {
  private last: { ticks: number; at: number } | undefined;
  private static readonly HZ = 100; // USER_HZ on Linux

  constructor(private readonly pid: number) {}

  percent(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const now = uptimeS * ProcCpu.HZ;
    const previous = this.last ?? { ticks: 0, at: Number(fields[19]) }; // starttime
    this.last = { ticks, at: now };
    const elapsed = now - previous.at;
    return elapsed > 0 ? ((ticks - previous.ticks) / elapsed) * 100 : 0;
  }
}

function procRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/** HeapAlloc from the Go runtime's memstats, served by expvar at /debug/vars. */
async function goHeapAlloc(httpBase: string): Promise<number> {
  const response = await fetch(`${httpBase}/debug/vars`);
  if (!response.ok) throw new Error(`the Go pod's /debug/vars answered ${response.status}`);
  const vars = (await response.json()) as { memstats?: { HeapAlloc?: number } };
  const heap = vars.memstats?.HeapAlloc;
  if (typeof heap !== 'number') throw new Error('the Go pod\'s /debug/vars has no memstats.HeapAlloc');
  return heap;
}
