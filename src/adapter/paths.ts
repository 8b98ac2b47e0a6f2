/**
 * Local (workspace) paths ⇄ the paths pods know their sources by. With `remoteRoot` the mapping is exact;
 * without it the adapter sends the path relative to `localRoot` and each pod matches it against the tails of
 * its sources' paths, so a checkout anywhere debugs pods built anywhere.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

export class PathMapper {
  constructor(private readonly localRoot: string | undefined, private readonly remoteRoot: string | undefined) {}

  /** What to ask pods for: remoteRoot/rel, rel (to localRoot), or the path as given. */
  toRemote(localPath: string): string {
    const rel = this.relativeToRoot(localPath);
    if (rel === undefined) return localPath.split(sep).join('/');
    return this.remoteRoot ? `${this.remoteRoot.replace(/\/+$/, '')}/${rel}` : rel;
  }

  /** The workspace-relative form of a local path (for `sg debug --json` and messages), or the path itself. */
  display(localPath: string): string {
    return this.relativeToRoot(localPath) ?? localPath;
  }

  private relativeToRoot(localPath: string): string | undefined {
    if (!this.localRoot || !isAbsolute(localPath)) return isAbsolute(localPath) ? undefined : localPath.split(sep).join('/');
    const rel = relative(this.localRoot, localPath);
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) return undefined;
    return rel.split(sep).join('/');
  }

  /** The local file for a pod's source path: exact under remoteRoot, else the longest tail that exists locally. */
  toLocal(remotePath: string): string | undefined {
    if (this.remoteRoot && this.localRoot && remotePath.startsWith(`${this.remoteRoot.replace(/\/+$/, '')}/`)) {
      return join(this.localRoot, remotePath.slice(this.remoteRoot.replace(/\/+$/, '').length + 1));
    }
    if (isAbsolute(remotePath) && existsSync(remotePath)) return remotePath;
    if (!this.localRoot) return undefined;
    const segments = remotePath.split('/').filter(Boolean);
    for (let take = segments.length - 1; take >= 1; take--) {
      const candidate = join(this.localRoot, ...segments.slice(segments.length - take));
      if (existsSync(candidate)) return candidate;
    }
    return undefined;
  }
}

/** SHA-256 of a local file with line endings normalised, as pods hash their sources; undefined if unreadable. */
export function localSourceHash(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path, 'utf8').replace(/\r\n/g, '\n')).digest('hex');
  } catch {
    return undefined;
  }
}
