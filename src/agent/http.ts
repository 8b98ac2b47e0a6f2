/**
 * Go's net/http/pprof paths on a Node pod, so `go tool pprof http://pod/debug/pprof/profile?seconds=N` and
 * every other pprof tool read a Node pod like a Go one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_PROFILE_SECONDS } from '../protocol/nats';
import { ProfilerBusyError, type Profiler } from './profiler';

export const PPROF_PREFIX = '/debug/pprof';

/** Handles the request if it is a pprof path; returns false otherwise so the app can route it. */
export function handlePprofRequest(profiler: Profiler, req: IncomingMessage, res: ServerResponse): boolean {
  // Called for every request the app serves: decide on the raw string before parsing anything.
  if (!req.url?.startsWith(PPROF_PREFIX)) return false;
  const url = new URL(req.url, 'http://pod');
  const path = url.pathname.slice(PPROF_PREFIX.length).replace(/\/$/, '');
  const fail = (status: number, message: string): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-go-pprof': '1' });
    res.end(`${message}\n`);
  };
  const send = (profile: Buffer, name: string) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename="${name}"`,
      'x-content-type-options': 'nosniff',
    });
    res.end(profile);
  };
  if (path === '') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`StreamGate pod profiles (pprof):\n  ${PPROF_PREFIX}/profile?seconds=N   CPU, N seconds (default 30)\n  ${PPROF_PREFIX}/heap                live heap (sampled)\n`);
    return true;
  }
  if (path === '/profile') {
    const raw = url.searchParams.get('seconds') ?? '30';
    const seconds = Number(raw);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PROFILE_SECONDS) {
      fail(400, `bad seconds "${raw}": a whole number from 1 to ${MAX_PROFILE_SECONDS}`);
      return true;
    }
    const abort = new AbortController();
    // The client went away before the answer: stop sampling. (The request's own 'close' fires as soon as its
    // body has been read, so the response is what tells.)
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    profiler.cpu(seconds, abort.signal).then(
      (profile) => send(profile, 'profile.pb.gz'),
      (error: unknown) => fail(error instanceof ProfilerBusyError ? 409 : 500, error instanceof Error ? error.message : String(error)),
    );
    return true;
  }
  if (path === '/heap') {
    profiler.heap().then(
      (profile) => send(profile, 'heap.pb.gz'),
      (error: unknown) => fail(500, error instanceof Error ? error.message : String(error)),
    );
    return true;
  }
  fail(404, `unknown profile "${path.slice(1)}": this pod serves profile and heap`);
  return true;
}
