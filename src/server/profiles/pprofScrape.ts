/**
 * Profiles of a Go service (or anything serving net/http/pprof) over HTTP: `BASE/profile?seconds=N` for CPU,
 * `BASE/heap`, `BASE/goroutine`, `BASE/block` and `BASE/mutex`. Block and mutex profiles are empty unless the
 * program sets runtime.SetBlockProfileRate / SetMutexProfileFraction: "where enabled" is decided by whether
 * they hold samples.
 */
import type { StoredProfileType } from '../../protocol/profiles';

/** Answers larger than this are refused (a profile this large is a misconfigured target, not a profile). */
export const MAX_SCRAPE_BYTES = 64 * 1024 * 1024;

export class ScrapeError extends Error {}

export function pprofUrl(base: string, type: StoredProfileType, cpuSeconds: number): string {
  const root = base.replace(/\/+$/, '');
  return type === 'cpu' ? `${root}/profile?seconds=${cpuSeconds}` : `${root}/${type}`;
}

export async function scrapePprof(base: string, type: StoredProfileType, cpuSeconds: number, signal?: AbortSignal): Promise<Buffer> {
  const url = pprofUrl(base, type, cpuSeconds);
  const timeout = AbortSignal.timeout((type === 'cpu' ? cpuSeconds : 0) * 1000 + 30_000);
  let response: Response;
  try {
    response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  } catch (error) {
    throw new ScrapeError(`${url}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`);
  }
  if (!response.ok) throw new ScrapeError(`${url}: HTTP ${response.status} ${(await response.text().catch(() => '')).trim().slice(0, 200)}`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_SCRAPE_BYTES) throw new ScrapeError(`${url}: ${declared} bytes, over the ${MAX_SCRAPE_BYTES}-byte limit`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > MAX_SCRAPE_BYTES) throw new ScrapeError(`${url}: more than ${MAX_SCRAPE_BYTES} bytes, over the limit`);
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks);
}
