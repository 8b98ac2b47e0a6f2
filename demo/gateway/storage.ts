/**
 * The gateway's storage-like slow path: an append-only log file per tenant and stream, read back for
 * history. Real disk I/O; the slow-dependency incident adds latency here.
 */
import { appendFile, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Incidents } from './incidents';

export interface StoredMessage {
  id: string;
  ts: number;
  contentType: 'json' | 'binary';
  bytes: number;
  /** JSON body, or base64 of a binary payload. */
  body: unknown;
}

export class MessageStore {
  private readonly ready = new Set<string>();

  constructor(private readonly dir: string, private readonly incidents: Incidents) {}

  private file(tenant: string, stream: string): string {
    return join(this.dir, tenant, `${stream}.log`);
  }

  async append(tenant: string, stream: string, message: StoredMessage): Promise<void> {
    await this.incidents.dependencyDelay();
    const dir = join(this.dir, tenant);
    if (!this.ready.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.ready.add(dir);
    }
    await appendFile(this.file(tenant, stream), `${JSON.stringify(message)}\n`);
  }

  /** The last `limit` messages of a stream, newest last; reads at most the file's last 256 KiB. */
  async history(tenant: string, stream: string, limit: number): Promise<StoredMessage[]> {
    await this.incidents.dependencyDelay();
    const path = this.file(tenant, stream);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return [];
    }
    const length = Math.min(size, 256 * 1024);
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const lines = buffer.toString('utf8').split('\n').filter(Boolean);
      if (length < size) lines.shift(); // the first line may be cut
      const out: StoredMessage[] = [];
      for (const line of lines.slice(-limit)) {
        try {
          out.push(JSON.parse(line) as StoredMessage);
        } catch {
          /* a torn write at the end of the file: skip it */
        }
      }
      return out;
    } finally {
      await handle.close();
    }
  }
}
