/**
 * Simulated users of the sandbox fleet: `node dist/demo/loadgen.js --targets http://127.0.0.1:A,http://…`.
 * Every session is real HTTP against the pods (sessions, SSE subscriptions, JSON and binary messages, history
 * reads, a few bad keys), so the business events come from the gateway's own code paths.
 */
import { parseArgs } from 'node:util';
import { encodeBinaryFrame } from '../gateway/frames';
import { TENANTS } from '../gateway/tenants';
import { LoadModel } from './model';

const STREAMS = ['orders', 'prices', 'chat', 'telemetry', 'alerts', 'audit'];

interface Stats {
  sessions: number;
  active: number;
  requests: number;
  errors: number;
  rateLimited: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string' },
      'day-minutes': { type: 'string', default: '24' },
      'peak-sessions-per-second': { type: 'string', default: '4' },
      'max-sessions': { type: 'string', default: '120' },
      'message-interval-ms': { type: 'string', default: '700' },
      'start-hour': { type: 'string', default: '8' },
      seed: { type: 'string', default: '42' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const targets = (values.targets ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (targets.length === 0) throw new Error('--targets http://127.0.0.1:PORT[,…] is required');
  const model = new LoadModel({
    dayMs: Number(values['day-minutes']) * 60_000,
    startHour: Number(values['start-hour']),
    startWeekday: 0,
    peakSessionsPerSecond: Number(values['peak-sessions-per-second']),
    tenants: TENANTS.map((t) => t.id),
    seed: Number(values.seed),
    messageIntervalMs: Number(values['message-interval-ms']),
  });
  const maxSessions = Number(values['max-sessions']);
  const stats: Stats = { sessions: 0, active: 0, requests: 0, errors: 0, rateLimited: 0 };
  const controllers = new Set<AbortController>();
  let stopping = false;

  // Arrivals follow the real time since the last tick: on a busy machine timers fire late, and assuming
  // 100 ms per tick would quietly lower the load.
  let lastTick = performance.now();
  const tick = setInterval(() => {
    if (stopping) return;
    const now = performance.now();
    const elapsedSeconds = Math.min(1, (now - lastTick) / 1000);
    lastTick = now;
    const arrivals = model.poisson(model.sessionRate() * elapsedSeconds);
    for (let i = 0; i < arrivals && stats.active < maxSessions; i++) {
      const controller = new AbortController();
      controllers.add(controller);
      stats.active++;
      stats.sessions++;
      void runSession(model, targets[Math.floor(model.random() * targets.length)]!, stats, controller.signal).finally(() => {
        controllers.delete(controller);
        stats.active--;
      });
    }
  }, 100);

  const report = setInterval(() => {
    if (values.quiet) return;
    const c = model.clock();
    process.stderr.write(
      `loadgen: day ${c.day} ${String(Math.floor(c.hour)).padStart(2, '0')}:${String(Math.floor((c.hour % 1) * 60)).padStart(2, '0')} ` +
        `rate ${model.sessionRate().toFixed(2)}/s active ${stats.active} sessions ${stats.sessions} requests ${stats.requests} errors ${stats.errors} 429s ${stats.rateLimited}\n`,
    );
  }, 10_000);

  const stop = () => {
    stopping = true;
    clearInterval(tick);
    clearInterval(report);
    for (const c of controllers) c.abort();
    setTimeout(() => process.exit(0), 1500).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function runSession(model: LoadModel, target: string, stats: Stats, shutdown: AbortSignal): Promise<void> {
  // The session's own signal ends its subscription with it (and everything on shutdown).
  const sessionEnd = new AbortController();
  const signal = AbortSignal.any([shutdown, sessionEnd.signal]);
  const tenantId = model.tenant();
  const tenant = TENANTS.find((t) => t.id === tenantId)!;
  // About 1 % of clients present a wrong or revoked key.
  const key = model.random() < 0.01 ? `sk_live_${tenantId}_revoked0000000000000000` : tenant.apiKey;
  const auth = { authorization: `Bearer ${key}` };
  const request = async (method: string, path: string, init: { body?: string | Buffer; headers?: Record<string, string> } = {}) => {
    stats.requests++;
    const response = await fetch(`${target}${path}`, { method, signal, ...init, headers: { ...auth, ...init.headers } });
    if (response.status === 429) stats.rateLimited++;
    else if (response.status >= 400) stats.errors++;
    return response;
  };
  let session: string | undefined;
  try {
    const started = await request('POST', '/v1/sessions', { body: JSON.stringify({ client: model.client(tenantId) }), headers: { 'content-type': 'application/json' } });
    if (!started.ok) return void (await started.arrayBuffer());
    session = ((await started.json()) as { session: string }).session;
    // The session rides along on its requests, so the gateway can tell a session's subscribe and publish apart.
    const inSession = { ...auth, 'x-sg-session': session };
    const stream = STREAMS[Math.floor(model.random() * STREAMS.length)]!;
    if (model.random() < 0.7) void subscribe(target, stream, inSession, signal);
    if (model.random() < 0.1) await (await request('GET', `/v1/streams/${stream}/history?limit=20`)).arrayBuffer();
    const endAt = Date.now() + model.sessionDurationMs();
    while (Date.now() < endAt && !signal.aborted) {
      if (!(await sleep(model.messageIntervalMs(), signal))) break;
      const size = model.payloadBytes();
      const binary = model.random() < 0.2;
      const body = binary
        ? encodeBinaryFrame(Buffer.alloc(size, Math.floor(model.random() * 256)))
        : JSON.stringify({ type: stream, seq: stats.requests, at: Date.now(), data: 'x'.repeat(size) });
      const response = await request('POST', `/v1/streams/${stream}/messages`, {
        body,
        headers: { 'content-type': binary ? 'application/octet-stream' : 'application/json', 'x-sg-session': session },
      });
      await response.arrayBuffer();
      if (response.status === 429) await sleep(1000 * Number(response.headers.get('retry-after') ?? 1), signal);
    }
  } catch {
    if (!signal.aborted) stats.errors++;
  } finally {
    sessionEnd.abort();
    if (session) {
      await fetch(`${target}/v1/sessions/${session}`, { method: 'DELETE', headers: auth, signal: AbortSignal.timeout(2000) })
        .then((r) => r.arrayBuffer())
        .catch(() => {});
    }
  }
}

async function subscribe(target: string, stream: string, auth: Record<string, string>, signal: AbortSignal): Promise<void> {
  try {
    const response = await fetch(`${target}/v1/streams/${stream}/subscribe`, { headers: auth, signal });
    const reader = response.body?.getReader();
    if (!reader) return;
    while (!signal.aborted) {
      const { done } = await reader.read();
      if (done) break;
    }
  } catch {
    /* aborted at session end, or the pod went away */
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(true), ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve(false)), { once: true });
  });
}

main().catch((error) => {
  process.stderr.write(`loadgen: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
