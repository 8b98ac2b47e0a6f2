/**
 * The stored profiles on the `sg-server` NATS service: `profiles` and `profile-range` answer a gzipped pprof
 * in chunks (as pods answer theirs, so it may exceed NATS's max payload) with what was selected in the
 * Sg-Profile-Summary header; `regressions` and `recommendations` answer JSON.
 */
import { createHash } from 'node:crypto';
import { headers as natsHeaders, type NatsConnection, type ServiceMsg } from 'nats';
import { safeRespond } from '../../agent/control';
import { errorMessage, type Logger } from '../../common/logger';
import { PROFILE_HEADERS } from '../../protocol/nats';
import { ProfileRangeRequestSchema, ProfileSelectionSchema, RecommendationsRequestSchema, RegressionsRequestSchema } from '../../protocol/profiles';
import type * as z from 'zod/mini';
import { readServiceRequest, type ServerService } from '../serverService';
import type { ProfilesApi } from './fleetProfiles';

export function registerProfileEndpoints(nc: NatsConnection, service: ServerService, api: ProfilesApi, log: Logger): void {
  service.endpoint('regressions', RegressionsRequestSchema, (request) => api.regressions(request));
  service.endpoint('recommendations', RecommendationsRequestSchema, (request) => api.recommendations(request));
  service.rawEndpoint('profiles', (msg) => void answerProfile(nc, msg, 'profiles', ProfileSelectionSchema, (s) => api.select(s), log));
  service.rawEndpoint('profile-range', (msg) => void answerProfile(nc, msg, 'profile-range', ProfileRangeRequestSchema, (r) => api.range(r), log));
}

async function answerProfile<T>(
  nc: NatsConnection,
  msg: ServiceMsg,
  op: string,
  schema: z.ZodMiniType<T>,
  run: (request: T) => Promise<{ pprof: Buffer | undefined; summary: object }>,
  log: Logger,
): Promise<void> {
  const request = readServiceRequest(msg, schema, op);
  if (!request) return;
  let answer: { pprof: Buffer | undefined; summary: object };
  try {
    answer = await run(request.value);
  } catch (error) {
    log.warn(`sg-server ${op}: ${errorMessage(error)}`);
    safeRespond(() => msg.respondError(500, errorMessage(error)));
    return;
  }
  respondChunked(nc, msg, answer.pprof ?? Buffer.alloc(0), headerJson(answer.summary));
}

/** Chunks under the server's max payload, each with its index, the whole's SHA-256 and the summary; then the end. */
function respondChunked(nc: NatsConnection, msg: ServiceMsg, data: Buffer, summary: string): void {
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  const room = Math.min(1024 + summary.length, maxPayload / 2);
  const chunkSize = Math.max(256, maxPayload - room);
  const count = Math.max(1, Math.ceil(data.length / chunkSize));
  const sha256 = createHash('sha256').update(data).digest('hex');
  for (let i = 0; i < count; i++) {
    const h = natsHeaders();
    h.set(PROFILE_HEADERS.chunk, `${i}/${count}`);
    h.set(PROFILE_HEADERS.sha256, sha256);
    if (i === 0) h.set(PROFILE_HEADERS.summary, summary);
    safeRespond(() => msg.respond(data.subarray(i * chunkSize, (i + 1) * chunkSize), { headers: h }));
  }
  safeRespond(() => msg.respond(new Uint8Array(0)));
}

/** JSON for a header value: one line (JSON escapes newlines), ASCII only, problems capped. */
function headerJson(summary: object): string {
  const capped = 'problems' in summary && Array.isArray(summary.problems) ? { ...summary, problems: (summary.problems as string[]).slice(0, 20).map((p) => p.slice(0, 300)) } : summary;
  return JSON.stringify(capped).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
