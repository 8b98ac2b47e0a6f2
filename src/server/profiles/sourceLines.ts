/**
 * Source lines for the rules that read code (V8 inlines JSON.parse and RegExp construction into their callers,
 * so only the line's text says what a hot line does). A profile names files as the pod saw them
 * (`/srv/build/demo/gateway/server.ts`); they are looked up as they are, then under each root with the path's
 * leading folders dropped one at a time (`<root>/demo/gateway/server.ts`). Files are read once and kept.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_FILES = 200;

export class SourceLines {
  private readonly files = new Map<string, string[] | null>();

  constructor(private readonly roots: readonly string[]) {}

  line(file: string, line: number): string | undefined {
    return this.lines(file)?.[line - 1];
  }

  private lines(file: string): string[] | undefined {
    const cached = this.files.get(file);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.locate(file);
    let lines: string[] | null = null;
    if (found) {
      try {
        if (statSync(found).size <= MAX_FILE_BYTES) lines = readFileSync(found, 'utf8').split('\n');
      } catch {
        lines = null;
      }
    }
    if (this.files.size >= MAX_FILES) this.files.delete(this.files.keys().next().value!);
    this.files.set(file, lines);
    return lines ?? undefined;
  }

  private locate(file: string): string | undefined {
    if (!file || file.startsWith('node:') || file === '(native)') return undefined;
    if (isAbsolute(file) && existsSync(file)) return file;
    const parts = file.split(/[\\/]+/).filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const tail = parts.slice(i).join('/');
      for (const root of this.roots) {
        const candidate = join(root, tail);
        if (existsSync(candidate)) return candidate;
      }
    }
    return undefined;
  }
}
