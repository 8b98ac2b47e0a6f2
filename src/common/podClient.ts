/**
 * Talking to pods over NATS from outside them (the CLI, the language server, the debug adapter, tests):
 * discovery through the services API, health, profiles reassembled from chunks, and JSON requests.
 */
import { createHash } from 'node:crypto';
import { RequestStrategy, type Msg, type NatsConnection } from 'nats';
import { check } from '../protocol/schema';
import {
  controlSubject,
  debugSubject,
  DISCOVERY_SERVICE,
  HealthReplySchema,
  PROFILE_HEADERS,
  podInfoFromService,
  podMatches,
  type ControlOp,
  type DebugOp,
  type HealthReply,
  type PodInfo,
  type PodStatus,
  type ProfileRequest,
} from '../protocol/nats';

const decoder = new TextDecoder();

/** An error answered by a pod (bad request, busy, internal), with its code. */
export class PodError extends Error {
  constructor(readonly pod: string, readonly code: number, message: string) {
    super(message);
  }
}

/** Every live pod, via $SRV.INFO.sg-pod; pods that do not answer within `maxWaitMs` are not live. */
export async function listPods(nc: NatsConnection, { selector, maxWaitMs = 1000 }: { selector?: Record<string, string>; maxWaitMs?: number } = {}): Promise<PodInfo[]> {
  const client = nc.services.client({ maxWait: maxWaitMs, strategy: RequestStrategy.Timer });
  const pods: PodInfo[] = [];
  const seen = new Set<string>();
  try {
    for await (const info of await client.info(DISCOVERY_SERVICE)) {
      const pod = podInfoFromService(info);
      if (!pod || seen.has(pod.pod) || !podMatches(pod, selector)) continue;
      seen.add(pod.pod);
      pods.push(pod);
    }
  } catch (error) {
    // With no sg-pod service at all the server answers "no responders": that is an empty fleet, not a failure.
    if (!noResponders(error)) throw error;
  }
  return pods.sort((a, b) => a.service.localeCompare(b.service) || a.pod.localeCompare(b.pod));
}

function serviceError(msg: Msg): { code: number; description: string } | undefined {
  const description = msg.headers?.get('Nats-Service-Error');
  if (!description) return undefined;
  return { code: Number(msg.headers?.get('Nats-Service-Error-Code') ?? 500), description };
}

function noResponders(error: unknown): boolean {
  return (error as { code?: string }).code === '503' || /no responders/i.test(String((error as Error).message));
}

/** A JSON request to one pod's control endpoint. */
export async function requestPod(nc: NatsConnection, pod: string, op: ControlOp, body: unknown, timeoutMs = 5000): Promise<unknown> {
  let msg: Msg;
  try {
    msg = await nc.request(controlSubject(pod, op), new TextEncoder().encode(JSON.stringify(body)), { timeout: timeoutMs });
  } catch (error) {
    if (noResponders(error)) throw new PodError(pod, 404, `pod ${pod} is not running (nothing answers on ${controlSubject(pod, op)})`);
    if ((error as { code?: string }).code === 'TIMEOUT') throw new PodError(pod, 504, `pod ${pod} did not answer ${op} within ${timeoutMs} ms`);
    throw error;
  }
  const failure = serviceError(msg);
  if (failure) throw new PodError(pod, failure.code, failure.description);
  return JSON.parse(decoder.decode(msg.data));
}

/** A JSON request to one pod's debug endpoint (sg.dbg.<pod>.<op>, apart from control for NATS permissions). */
export async function requestDebug(nc: NatsConnection, pod: string, op: DebugOp, body: unknown, timeoutMs = 5000): Promise<unknown> {
  const subject = debugSubject(pod, op);
  let msg: Msg;
  try {
    msg = await nc.request(subject, new TextEncoder().encode(JSON.stringify(body)), { timeout: timeoutMs });
  } catch (error) {
    if (noResponders(error)) throw new PodError(pod, 404, `pod ${pod} does not answer debug requests (nothing answers on ${subject}: it is gone, runs without the debugger, or NATS permissions hide it)`);
    if ((error as { code?: string }).code === 'TIMEOUT') throw new PodError(pod, 504, `pod ${pod} did not answer ${op} within ${timeoutMs} ms`);
    if (/permissions violation/i.test(String((error as Error).message))) throw new PodError(pod, 403, `NATS refused this user permission to publish to ${subject}: debugging needs the debugger role (see docs/debugging.md)`);
    throw error;
  }
  const failure = serviceError(msg);
  if (failure) throw new PodError(pod, failure.code, failure.description);
  return JSON.parse(decoder.decode(msg.data));
}

/** Every live pod (matching `selector`) with its health, asked of all pods at once. */
export async function podStatuses(
  nc: NatsConnection,
  { selector, maxWaitMs = 1000, healthTimeoutMs = 1500 }: { selector?: Record<string, string>; maxWaitMs?: number; healthTimeoutMs?: number } = {},
): Promise<PodStatus[]> {
  const infos = await listPods(nc, { ...(selector ? { selector } : {}), maxWaitMs });
  return Promise.all(
    infos.map(async (info): Promise<PodStatus> => {
      try {
        const health = await podHealth(nc, info.pod, healthTimeoutMs);
        return { info, health, seenAt: Date.now() };
      } catch (error) {
        return { info, healthError: error instanceof Error ? error.message : String(error), seenAt: Date.now() };
      }
    }),
  );
}

export async function podHealth(nc: NatsConnection, pod: string, timeoutMs = 2000): Promise<HealthReply> {
  const parsed = check(HealthReplySchema, await requestPod(nc, pod, 'health', {}, timeoutMs));
  if (!parsed.ok) throw new PodError(pod, 502, `pod ${pod} answered health with an unexpected shape: ${parsed.error}`);
  return parsed.value;
}

export interface ProfileProgress {
  phase: 'sampling' | 'receiving';
  /** 0..1 */
  fraction: number;
}

/**
 * Asks a pod for a CPU or heap profile (gzipped pprof). The answer arrives in chunks; they are checked
 * against the pod's SHA-256 so a profile is either whole or an error.
 */
export async function fetchProfile(
  nc: NatsConnection,
  pod: string,
  request: ProfileRequest,
  onProgress: (progress: ProfileProgress) => void = () => {},
): Promise<Buffer> {
  const samplingMs = request.type === 'cpu' ? (request.seconds ?? 10) * 1000 : 0;
  const started = Date.now();
  const ticker = samplingMs
    ? setInterval(() => onProgress({ phase: 'sampling', fraction: Math.min(1, (Date.now() - started) / samplingMs) }), 200)
    : undefined;
  try {
    const { data } = await requestChunked(nc, controlSubject(pod, 'profile'), new TextEncoder().encode(JSON.stringify(request)), samplingMs + 30_000, `pod ${pod}`, (received, count) => {
      if (ticker) clearInterval(ticker);
      onProgress({ phase: 'receiving', fraction: received / count });
    });
    return data;
  } catch (error) {
    if (error instanceof ChunkError) throw new PodError(pod, error.code, error.message);
    if (noResponders(error)) throw new PodError(pod, 404, `pod ${pod} is not running (nothing answers on ${controlSubject(pod, 'profile')})`);
    throw error;
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

/** A failed chunked answer: the responder's error, or chunks missing or corrupt. */
export class ChunkError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/**
 * A request answered as chunks (PROFILE_HEADERS) and an empty end-of-stream message, reassembled and checked
 * against the SHA-256 the responder sent. `summary` is the Sg-Profile-Summary header of the first chunk.
 */
export async function requestChunked(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array,
  maxWaitMs: number,
  who: string,
  onChunk: (received: number, count: number) => void = () => {},
): Promise<{ data: Buffer; summary?: string }> {
  const chunks = new Map<number, Uint8Array>();
  let expected = -1;
  let sha256 = '';
  let summary: string | undefined;
  const replies = await nc.requestMany(subject, payload, { strategy: RequestStrategy.SentinelMsg, maxWait: maxWaitMs });
  for await (const reply of replies) {
    if (reply instanceof Error) throw reply;
    const failure = serviceError(reply);
    if (failure) throw new ChunkError(failure.code, failure.description);
    if (reply.data.length === 0 && !reply.headers) break; // sentinel
    const [index, count] = (reply.headers?.get(PROFILE_HEADERS.chunk) ?? '').split('/').map(Number);
    if (index === undefined || count === undefined || !Number.isInteger(index) || !Number.isInteger(count)) {
      throw new ChunkError(502, `${who} sent a profile chunk without a valid ${PROFILE_HEADERS.chunk} header`);
    }
    expected = count;
    sha256 = reply.headers?.get(PROFILE_HEADERS.sha256) ?? '';
    summary ??= reply.headers?.get(PROFILE_HEADERS.summary) || undefined;
    chunks.set(index, reply.data);
    onChunk(chunks.size, count);
  }
  if (expected < 0) throw new ChunkError(504, `${who} sent no profile within ${Math.round(maxWaitMs / 1000)} s`);
  if (chunks.size !== expected) throw new ChunkError(502, `profile from ${who} is incomplete: ${chunks.size} of ${expected} chunks arrived`);
  const data = Buffer.concat([...Array(expected).keys()].map((i) => chunks.get(i)!));
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== sha256) throw new ChunkError(502, `profile from ${who} is corrupt (SHA-256 ${actual.slice(0, 12)}… ≠ ${sha256.slice(0, 12)}…)`);
  return { data, ...(summary ? { summary } : {}) };
}
