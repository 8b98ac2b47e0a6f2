/**
 * The pod's control plane: a NATS micro service (`sg-pod`) whose metadata is the discovery record and whose
 * endpoints answer health, profile and app-defined requests on the pod's own subjects.
 */
import { createHash } from 'node:crypto';
import { headers as natsHeaders, type NatsConnection, type Service, type ServiceMsg } from 'nats';
import { check } from '../protocol/schema';
import { controlSubject, DISCOVERY_SERVICE, PROFILE_HEADERS, ProfileRequestSchema, type ControlOp, type HealthReply, type PodMetadata, type ProfileRequest } from '../protocol/nats';
import { ProfilerBusyError } from './profiler';

export type JsonHandler = (request: unknown) => Promise<unknown>;

/**
 * Answers are sent with nc.publish, which throws once the connection is closing: a pod that is stopping while
 * a request is in flight must drop the answer, not die of an unhandled rejection.
 */
export function safeRespond(send: () => unknown): void {
  try {
    send();
  } catch {
    /* the connection is closed or draining: nobody is waiting for this answer any more */
  }
}

/** A handler's way to say "bad request" with a clear message (code 400) rather than an internal error (500). */
export class ControlRequestError extends Error {
  constructor(message: string, readonly code = 400) {
    super(message);
  }
}

/** What a pod's control plane answers with: the agent's in-process figures, or a relay's for a pod without NATS. */
export interface ControlSources {
  health: () => HealthReply | Promise<HealthReply>;
  /** A gzipped pprof profile; throw ProfilerBusyError when one is already being taken. */
  profile: (request: ProfileRequest) => Promise<Buffer>;
}

export async function registerControl(
  nc: NatsConnection,
  pod: string,
  version: string,
  metadata: PodMetadata,
  sources: ControlSources,
): Promise<{ service: Service; addEndpoint(op: ControlOp, handler: JsonHandler): void; addEndpointAt(name: string, subject: string, handler: JsonHandler): void }> {
  const service = await nc.services.add({
    name: DISCOVERY_SERVICE,
    version,
    description: `StreamGate pod ${pod} of ${metadata.service}`,
    metadata: metadata as unknown as Record<string, string>,
  });
  const addEndpoint = (op: ControlOp, handler: JsonHandler) => {
    service.addEndpoint(op, {
      subject: controlSubject(pod, op),
      handler: (error, msg) => {
        if (error) return;
        void answerJson(msg, handler);
      },
    });
  };
  addEndpoint('health', async () => sources.health());
  service.addEndpoint('profile', {
    subject: controlSubject(pod, 'profile'),
    handler: (error, msg) => {
      if (!error) void answerProfile(nc, msg, sources.profile);
    },
  });
  // Endpoints on subjects outside sg.ctl (the debugger's sg.dbg.*), so NATS permissions can treat them apart.
  const addEndpointAt = (name: string, subject: string, handler: JsonHandler) => {
    service.addEndpoint(name, {
      subject,
      handler: (error, msg) => {
        if (!error) void answerJson(msg, handler);
      },
    });
  };
  return { service, addEndpoint, addEndpointAt };
}

async function answerJson(msg: ServiceMsg, handler: JsonHandler): Promise<void> {
  let request: unknown;
  try {
    request = msg.data.length ? JSON.parse(new TextDecoder().decode(msg.data)) : {};
  } catch {
    safeRespond(() => msg.respondError(400, 'the request is not JSON'));
    return;
  }
  let answer: Uint8Array;
  try {
    answer = new TextEncoder().encode(JSON.stringify(await handler(request)));
  } catch (error) {
    const code = error instanceof ControlRequestError ? error.code : 500;
    safeRespond(() => msg.respondError(code, error instanceof Error ? error.message : String(error)));
    return;
  }
  safeRespond(() => msg.respond(answer));
}

/** Parses a profile request, answering the error itself when it is bad. */
function parseProfileRequest(msg: ServiceMsg): ProfileRequest | undefined {
  let raw: unknown;
  try {
    raw = msg.data.length ? JSON.parse(new TextDecoder().decode(msg.data)) : {};
  } catch {
    safeRespond(() => msg.respondError(400, 'the profile request is not JSON'));
    return undefined;
  }
  const parsed = check(ProfileRequestSchema, raw);
  if (!parsed.ok) {
    safeRespond(() => msg.respondError(400, `bad profile request: ${parsed.error}`));
    return undefined;
  }
  return parsed.value;
}

async function answerProfile(nc: NatsConnection, msg: ServiceMsg, take: ControlSources['profile']): Promise<void> {
  const request = parseProfileRequest(msg);
  if (!request) return;
  let profile: Buffer;
  try {
    profile = await take(request);
  } catch (error) {
    const code = error instanceof ProfilerBusyError ? 409 : error instanceof ControlRequestError ? error.code : 500;
    safeRespond(() => msg.respondError(code, error instanceof Error ? error.message : String(error)));
    return;
  }
  respondInChunks(nc, msg, profile, request.type);
}

/** Sends a profile as chunks on the request's reply subject, then the empty end-of-stream message. */
function respondInChunks(nc: NatsConnection, msg: ServiceMsg, profile: Buffer, type: 'cpu' | 'heap'): void {
  // Stay under the server's max payload with room for the headers; the client reassembles and checks the hash.
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  const chunkSize = Math.max(256, maxPayload - Math.min(1024, maxPayload / 2));
  const count = Math.max(1, Math.ceil(profile.length / chunkSize));
  const sha256 = createHash('sha256').update(profile).digest('hex');
  for (let i = 0; i < count; i++) {
    const h = natsHeaders();
    h.set(PROFILE_HEADERS.chunk, `${i}/${count}`);
    h.set(PROFILE_HEADERS.sha256, sha256);
    h.set(PROFILE_HEADERS.type, type);
    safeRespond(() => msg.respond(profile.subarray(i * chunkSize, (i + 1) * chunkSize), { headers: h }));
  }
  safeRespond(() => msg.respond(new Uint8Array(0))); // end of stream
}
