/**
 * Maps generated JavaScript positions back to TypeScript sources, for profiles (and, later, breakpoints).
 * Maps are read once per script: a `//# sourceMappingURL=` comment pointing at a file or a data: URL.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND, originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { MappingIndex } from './mappings';

export interface OriginalPosition {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, as pprof's Line.column. */
  column: number;
  name?: string;
}

/** What the mapper needs of a parsed map: the original position before (or else after) a generated one. */
interface ParsedMap {
  lookup(line: number, column: number): { source: string; line: number; column: number; name?: string } | undefined;
}

/**
 * Maps are read through MappingIndex (./mappings.ts: 20 bytes a generated line plus a few thousand decoded lines,
 * where trace-mapping's decoded arrays held ~46 MB of a pod's heap for the gateway's 2 MB map); index maps with
 * sections, which it does not read, go to trace-mapping. Results are kept per position, so a position seen in an
 * earlier profile costs a map lookup once.
 */
export class SourceMapper {
  private readonly maps = new Map<string, ParsedMap | null>();
  private readonly positions = new Map<string, OriginalPosition | null>();

  /** `url` as V8 reports it (file:// URL or path); `line` 1-based, `column` 0-based. */
  map(url: string, line: number, column: number): OriginalPosition | undefined {
    const key = `${url}\0${line}\0${column}`;
    const known = this.positions.get(key);
    if (known !== undefined) return known ?? undefined;
    const found = this.find(url, line, column);
    // Bounded: a long-lived pod meets a bounded set of positions, but nothing here may grow without limit.
    if (this.positions.size >= 100_000) this.positions.clear();
    this.positions.set(key, found ?? null);
    return found;
  }

  private find(url: string, line: number, column: number): OriginalPosition | undefined {
    const path = scriptPath(url);
    if (!path) return undefined;
    const map = this.load(path);
    if (!map) return undefined;
    const position = map.lookup(line, column);
    if (!position) return undefined;
    const file = position.source.startsWith('file://') ? fileURLToPath(position.source) : position.source;
    return { file, line: position.line, column: position.column + 1, ...(position.name ? { name: position.name } : {}) };
  }

  private load(path: string): ParsedMap | null {
    const cached = this.maps.get(path);
    if (cached !== undefined) return cached;
    let map: ParsedMap | null = null;
    try {
      const code = readFileSync(path, 'utf8');
      const match = /\/\/[#@] sourceMappingURL=(\S+)\s*$/.exec(code.slice(-4096)) ?? /\/\/[#@] sourceMappingURL=(\S+)/.exec(code);
      if (match) {
        const reference = match[1]!;
        if (reference.startsWith('data:')) {
          const base64 = reference.slice(reference.indexOf(',') + 1);
          map = parseMap(Buffer.from(base64, 'base64').toString('utf8'), pathToFileURL(path).href);
        } else {
          const mapPath = isAbsolute(reference) ? reference : resolve(dirname(path), reference);
          map = parseMap(readFileSync(mapPath, 'utf8'), pathToFileURL(mapPath).href);
        }
      }
    } catch {
      map = null; // no map, unreadable file or map: positions stay as generated
    }
    this.maps.set(path, map);
    return map;
  }
}

interface RawMap {
  version?: unknown;
  sections?: unknown;
  mappings?: unknown;
  sources?: unknown;
  names?: unknown;
  sourceRoot?: unknown;
}

/** Throws on malformed JSON or mappings (the caller then leaves positions as generated). */
function parseMap(text: string, mapUrl: string): ParsedMap {
  const raw = JSON.parse(text) as RawMap;
  if (raw.version === 3 && raw.sections === undefined && typeof raw.mappings === 'string' && Array.isArray(raw.sources)) {
    const root = typeof raw.sourceRoot === 'string' && raw.sourceRoot ? raw.sourceRoot.replace(/\/?$/, '/') : '';
    const sources = (raw.sources as unknown[]).map((s) => resolveSource(`${root}${String(s ?? '')}`, mapUrl));
    const names = Array.isArray(raw.names) ? (raw.names as unknown[]).map(String) : [];
    const index = new MappingIndex(raw.mappings);
    return {
      lookup(line, column) {
        const position = index.original(line, column, 'glb') ?? index.original(line, column, 'lub');
        const source = position && sources[position.source];
        if (!position || source === undefined) return undefined;
        const name = position.name === undefined ? undefined : names[position.name];
        return { source, line: position.line, column: position.column, ...(name ? { name } : {}) };
      },
    };
  }
  const trace = new TraceMap(text, mapUrl);
  return {
    lookup(line, column) {
      let position = originalPositionFor(trace, { line, column, bias: GREATEST_LOWER_BOUND });
      if (position.source === null) position = originalPositionFor(trace, { line, column, bias: LEAST_UPPER_BOUND });
      if (position.source === null) return undefined;
      return { source: position.source, line: position.line, column: position.column, ...(position.name ? { name: position.name } : {}) };
    },
  };
}

function resolveSource(source: string, mapUrl: string): string {
  try {
    return new URL(source, mapUrl).href;
  } catch {
    return source;
  }
}

export function scriptPath(url: string): string | undefined {
  if (url.startsWith('file://')) return fileURLToPath(url);
  if (url.startsWith('/')) return url;
  return undefined;
}
