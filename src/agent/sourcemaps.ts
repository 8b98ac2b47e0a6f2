/**
 * Maps generated JavaScript positions back to TypeScript sources, for profiles (and, later, breakpoints).
 * Maps are read once per script: a `//# sourceMappingURL=` comment pointing at a file or a data: URL.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND, originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

export interface OriginalPosition {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, as pprof's Line.column. */
  column: number;
  name?: string;
}

export class SourceMapper {
  private readonly maps = new Map<string, TraceMap | null>();

  /** `url` as V8 reports it (file:// URL or path); `line` 1-based, `column` 0-based. */
  map(url: string, line: number, column: number): OriginalPosition | undefined {
    const path = scriptPath(url);
    if (!path) return undefined;
    const map = this.load(path);
    if (!map) return undefined;
    let position = originalPositionFor(map, { line, column, bias: GREATEST_LOWER_BOUND });
    if (position.source === null) position = originalPositionFor(map, { line, column, bias: LEAST_UPPER_BOUND });
    if (position.source === null) return undefined;
    const file = position.source.startsWith('file://') ? fileURLToPath(position.source) : position.source;
    return { file, line: position.line, column: position.column + 1, ...(position.name ? { name: position.name } : {}) };
  }

  private load(path: string): TraceMap | null {
    const cached = this.maps.get(path);
    if (cached !== undefined) return cached;
    let map: TraceMap | null = null;
    try {
      const code = readFileSync(path, 'utf8');
      const match = /\/\/[#@] sourceMappingURL=(\S+)\s*$/.exec(code.slice(-4096)) ?? /\/\/[#@] sourceMappingURL=(\S+)/.exec(code);
      if (match) {
        const reference = match[1]!;
        if (reference.startsWith('data:')) {
          const base64 = reference.slice(reference.indexOf(',') + 1);
          map = new TraceMap(Buffer.from(base64, 'base64').toString('utf8'), pathToFileURL(path).href);
        } else {
          const mapPath = isAbsolute(reference) ? reference : resolve(dirname(path), reference);
          map = new TraceMap(readFileSync(mapPath, 'utf8'), pathToFileURL(mapPath).href);
        }
      }
    } catch {
      map = null; // no map, unreadable file or map: positions stay as generated
    }
    this.maps.set(path, map);
    return map;
  }
}

export function scriptPath(url: string): string | undefined {
  if (url.startsWith('file://')) return fileURLToPath(url);
  if (url.startsWith('/')) return url;
  return undefined;
}
