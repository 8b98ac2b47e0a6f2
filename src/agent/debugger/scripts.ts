/**
 * The pod's loaded scripts, as the inspector reports them, and the translation of a source file and line
 * (TypeScript, through each script's source map) to the generated script URL, line and column V8 takes.
 * Maps are read asynchronously on first need and kept per script.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, posix, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodedMappings, TraceMap } from '@jridgewell/trace-mapping';
import { scriptPath } from '../sourcemaps';
import { MappingIndex } from '../mappings';

export interface ScriptInfo {
  url: string;
  sourceMapURL?: string;
}

interface LoadedScript {
  url: string;
  path: string;
  /** undefined: a script without a map (its own file is its source). */
  map: TraceMap | undefined;
  /** Lookups in the map's mappings (built when the map is read). */
  index: MappingIndex | undefined;
  /** Absolute paths of the map's sources, index for index. */
  sources: string[];
}

export interface ResolvedLocation {
  url: string;
  /** 0-based, as V8 takes it. */
  lineNumber: number;
  columnNumber: number;
}

export type Resolution =
  | { kind: 'resolved'; file: string; line: number; locations: ResolvedLocation[]; sourceHash?: string; note?: string }
  | { kind: 'pending'; message: string }
  | { kind: 'rejected'; message: string };

/** How far past the asked line a breakpoint may move to the next line with code. */
const MAX_LINE_SHIFT = 20;

export class ScriptIndex {
  private readonly scripts = new Map<string, ScriptInfo>();
  private readonly loaded = new Map<string, Promise<LoadedScript | undefined>>();
  /** Scripts whose loading finished, for synchronous use inside a pause. */
  private readonly ready = new Map<string, LoadedScript | undefined>();
  private readonly hashes = new Map<string, string | undefined>();

  constructor(private readonly pod: string) {}

  /** From Debugger.scriptParsed: only scripts that are files (not node: internals or eval'd code). */
  add(script: ScriptInfo): boolean {
    if (!scriptPath(script.url)) return false;
    this.scripts.set(script.url, script);
    return true;
  }

  clear(): void {
    this.scripts.clear();
  }

  /**
   * Where a generated position comes from, synchronously (this runs inside a pause): through a map already
   * loaded, else as generated (and the map is loaded for next time).
   */
  originalPosition(url: string, line: number, column: number): { file: string; line: number; column: number } {
    const loaded = this.ready.get(url);
    if (loaded?.map && loaded.index) {
      const position = loaded.index.original(line, column, 'glb') ?? loaded.index.original(line, column, 'lub');
      const source = position ? loaded.map.resolvedSources[position.source] : undefined;
      if (position && source !== undefined) {
        const file = source.startsWith('file://') ? fileURLToPath(source) : source;
        return { file, line: position.line, column: position.column };
      }
    } else if (loaded === undefined && !this.ready.has(url)) {
      const script = this.scripts.get(url);
      if (script) void this.load(script);
    }
    return { file: scriptPath(url) ?? url, line, column };
  }

  get size(): number {
    return this.scripts.size;
  }

  private load(script: ScriptInfo): Promise<LoadedScript | undefined> {
    let loading = this.loaded.get(script.url);
    if (!loading) {
      loading = loadScript(script).catch(() => undefined);
      void loading.then((loaded) => this.ready.set(script.url, loaded));
      this.loaded.set(script.url, loading);
    }
    return loading;
  }

  /** Loads every script's map in the background (exception snapshots can come from anywhere). */
  async preloadAll(): Promise<void> {
    for (const script of [...this.scripts.values()]) {
      if (this.ready.has(script.url)) continue;
      await this.load(script);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Finds where `file:line` runs in this pod. */
  async resolve(file: string, line: number): Promise<Resolution> {
    const wanted = normalize(file);
    const wantedSegments = wanted.split('/').filter(Boolean);
    const scripts: (LoadedScript | undefined)[] = [];
    for (const script of [...this.scripts.values()]) {
      // One map at a time, yielding between them: parsing many maps back to back would stall the pod.
      const cached = this.ready.get(script.url);
      if (cached !== undefined || this.ready.has(script.url)) scripts.push(cached);
      else {
        scripts.push(await this.load(script));
        await new Promise((r) => setImmediate(r));
      }
    }
    // Every (script, source) pair with how many trailing path segments it shares with the asked file.
    const candidates: { script: LoadedScript; sourceIndex: number; source: string; score: number }[] = [];
    for (const script of scripts) {
      if (!script) continue;
      const sources = script.map ? script.sources : [script.path];
      sources.forEach((source, sourceIndex) => {
        const score = source === wanted ? Number.MAX_SAFE_INTEGER : sharedSuffix(source.split('/').filter(Boolean), wantedSegments);
        if (score > 0) candidates.push({ script, sourceIndex, source, score });
      });
    }
    const exact = candidates.filter((c) => c.score === Number.MAX_SAFE_INTEGER);
    let best = exact;
    if (!best.length) {
      // A relative path must match whole; an absolute one from another machine matches by its longest tail.
      const need = isAbsolute(file) ? 1 : wantedSegments.length;
      const top = Math.max(0, ...candidates.map((c) => c.score));
      best = top >= need ? candidates.filter((c) => c.score === top) : [];
    }
    if (!best.length) return { kind: 'pending', message: `no script on ${this.pod} was built from ${file}` };
    const files = [...new Set(best.map((c) => c.source))];
    if (files.length > 1) {
      return {
        kind: 'rejected',
        message: `${file} matches ${files.length} files on ${this.pod} (${files.slice(0, 4).join(', ')}${files.length > 4 ? ', …' : ''}): give more of the path`,
      };
    }
    const locations: ResolvedLocation[] = [];
    let actualLine = line;
    for (const candidate of best) {
      const position = generatedFor(candidate.script, candidate.sourceIndex, line);
      if (!position) continue;
      actualLine = position.line;
      locations.push({ url: candidate.script.url, lineNumber: position.generatedLine - 1, columnNumber: position.generatedColumn });
    }
    if (!locations.length) return { kind: 'rejected', message: `line ${line} of ${files[0]} has no code on ${this.pod} (nor the ${MAX_LINE_SHIFT} lines after it)` };
    const scriptsNote = locations.length > 1 ? `runs in ${locations.length} scripts on ${this.pod}: ${locations.map((l) => posix.basename(l.url)).join(', ')}` : undefined;
    const sourceHash = await this.sourceHash(best[0]!.script, best[0]!.sourceIndex);
    return { kind: 'resolved', file: files[0]!, line: actualLine, locations, ...(sourceHash ? { sourceHash } : {}), ...(scriptsNote ? { note: scriptsNote } : {}) };
  }

  /** SHA-256 of the source as the pod has it: the map's sourcesContent, else the file on disk. */
  private async sourceHash(script: LoadedScript, index: number): Promise<string | undefined> {
    const key = `${script.url}#${index}`;
    if (this.hashes.has(key)) return this.hashes.get(key);
    const embedded: unknown = script.map?.sourcesContent?.[index];
    const content = typeof embedded === 'string' ? embedded : await readFile(script.map ? script.sources[index]! : script.path, 'utf8').catch(() => undefined);
    const hash = content === undefined ? undefined : sourceContentHash(content);
    this.hashes.set(key, hash);
    return hash;
  }
}

/** The hash both sides compare for the version-skew warning: line endings do not count. */
export function sourceContentHash(content: string): string {
  return createHash('sha256').update(content.replace(/\r\n/g, '\n')).digest('hex');
}

function normalize(file: string): string {
  const slashed = file.replace(/\\/g, '/');
  return isAbsolute(slashed) ? posix.normalize(slashed) : posix.normalize(slashed).replace(/^(\.\/)+/, '');
}

function sharedSuffix(a: string[], b: string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

function generatedFor(script: LoadedScript, sourceIndex: number, line: number): { line: number; generatedLine: number; generatedColumn: number } | undefined {
  if (!script.map || !script.index) return { line, generatedLine: line, generatedColumn: 0 };
  return script.index.generated(sourceIndex, line, line + MAX_LINE_SHIFT);
}

async function loadScript(script: ScriptInfo): Promise<LoadedScript | undefined> {
  const path = scriptPath(script.url);
  if (!path) return undefined;
  let reference = script.sourceMapURL;
  if (!reference) {
    // V8 reports sourceMapURL only for a trailing comment it parsed; bundlers always put it last.
    const code = await readFile(path, 'utf8').catch(() => '');
    reference = /\/\/[#@] sourceMappingURL=(\S+)\s*$/.exec(code.slice(-4096))?.[1];
  }
  if (!reference) return { url: script.url, path, map: undefined, index: undefined, sources: [] };
  let map: TraceMap;
  if (reference.startsWith('data:')) {
    const comma = reference.indexOf(',');
    const body = reference.slice(comma + 1);
    const json = reference.slice(0, comma).includes(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
    map = new TraceMap(json, pathToFileURL(path).href);
  } else {
    const mapPath = reference.startsWith('file://') ? fileURLToPath(reference) : isAbsolute(reference) ? reference : resolve(dirname(path), reference);
    map = new TraceMap(await readFile(mapPath, 'utf8'), pathToFileURL(mapPath).href);
  }
  const sources = map.resolvedSources.map((s) => (s.startsWith('file://') ? fileURLToPath(s) : s).replace(/\\/g, '/'));
  return { url: script.url, path, map, index: new MappingIndex(encodedMappings(map)), sources };
}
