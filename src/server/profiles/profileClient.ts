/** The stored profiles of a shared `sg server`, over the sg-server NATS service (what `sg profile` and editors in shared mode use). */
import type { NatsConnection } from 'nats';
import { ChunkError, requestChunked } from '../../common/podClient';
import { serverSubject, type ServerOp } from '../../protocol/nats';
import type {
  ProfileRangeRequest,
  ProfileRangeSummary,
  ProfileSelection,
  RecommendationsRequest,
  RecommendationsResult,
  RegressionsRequest,
  RegressionsResult,
  SelectionSummary,
} from '../../protocol/profiles';
import { ServerRequestError } from '../sharedClient';
import type { ProfilesApi, RangeProfile, SelectedProfile } from './fleetProfiles';

export class RemoteProfiles implements ProfilesApi {
  constructor(private readonly nc: NatsConnection, private readonly timeoutMs = 60_000) {}

  private async json<T>(op: ServerOp, body: unknown): Promise<T> {
    let reply;
    try {
      reply = await this.nc.request(serverSubject(op), new TextEncoder().encode(JSON.stringify(body)), { timeout: this.timeoutMs });
    } catch (error) {
      throw unreachable(error, op, this.timeoutMs);
    }
    const failure = reply.headers?.get('Nats-Service-Error');
    if (failure) throw new ServerRequestError(failure, Number(reply.headers?.get('Nats-Service-Error-Code') ?? 500));
    return JSON.parse(new TextDecoder().decode(reply.data)) as T;
  }

  private async chunked<S>(op: ServerOp, body: unknown): Promise<{ pprof: Buffer | undefined; summary: S }> {
    try {
      const { data, summary } = await requestChunked(this.nc, serverSubject(op), new TextEncoder().encode(JSON.stringify(body)), this.timeoutMs, 'the StreamGate server');
      if (!summary) throw new ServerRequestError(`the StreamGate server answered ${op} without a summary`, 502);
      return { pprof: data.length ? data : undefined, summary: JSON.parse(summary) as S };
    } catch (error) {
      if (error instanceof ChunkError) throw new ServerRequestError(error.message, error.code);
      throw unreachable(error, op, this.timeoutMs);
    }
  }

  select(selection: ProfileSelection): Promise<SelectedProfile> {
    return this.chunked<SelectionSummary>('profiles', selection);
  }

  range(request: ProfileRangeRequest): Promise<RangeProfile> {
    return this.chunked<ProfileRangeSummary>('profile-range', request);
  }

  regressions(request: RegressionsRequest): Promise<RegressionsResult> {
    return this.json('regressions', request);
  }

  recommendations(request: RecommendationsRequest): Promise<RecommendationsResult> {
    return this.json('recommendations', request);
  }
}

function unreachable(error: unknown, op: ServerOp, timeoutMs: number): Error {
  const text = String((error as Error).message);
  if (/no responders|503/i.test(text)) return new ServerRequestError('no StreamGate server answers on this NATS (start one with sg server, or open the extension against it)', 503);
  if (/timeout/i.test(text)) return new ServerRequestError(`the StreamGate server did not answer ${op} within ${timeoutMs} ms`, 504);
  return error instanceof Error ? error : new Error(text);
}
