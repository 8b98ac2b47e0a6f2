/**
 * Real services for tests. `npm test` starts one NATS and one ClickHouse for the whole run and passes their
 * URLs in the environment; a test file run on its own starts its own. Tests that kill a server always start
 * their own.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClickHouse } from '../../src/launch/clickhouse';
import { startNatsServer, type NatsServer } from '../../src/launch/nats';

export interface Shared {
  url: string;
  stop(): Promise<void>;
}

export async function sharedNats(): Promise<Shared> {
  const url = process.env.SG_TEST_NATS_URL;
  if (url) return { url, stop: async () => {} };
  const server = await startNatsServer();
  return { url: server.url, stop: () => server.stop() };
}

/** A NATS server owned by the calling test (for restarts and kills). */
export function ownNats(): Promise<NatsServer> {
  return startNatsServer();
}

export async function sharedClickHouse(): Promise<Shared> {
  const url = process.env.SG_TEST_CLICKHOUSE_URL;
  if (url) return { url, stop: async () => {} };
  const server = await startClickHouse();
  return { url: server.url, stop: () => server.stop() };
}

export function tempDir(prefix = 'sg-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const repoRoot = join(__dirname, '..', '..', '..');

/** Polls until `probe` is true, for asserting on eventually-consistent state without timed assertions. */
export async function eventually(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
