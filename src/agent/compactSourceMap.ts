/**
 * A source map (version 3, without sections) held compactly: the `mappings` text as it came plus, per generated
 * line, where it starts in that text and the running source, line, column and name indexes at its start (VLQ
 * fields other than the column carry over between lines). A line's segments are decoded when a position on it
 * is first looked up, and a few thousand decoded lines are kept. For the gateway's 2 MB map this holds a few MB
 * where fully decoded arrays hold ~46 MB, and parsing costs one pass over the text with no allocation per segment.
 *
 * Lookups behave as trace-mapping's originalPositionFor: the last segment at or before the column on its line
 * (GREATEST_LOWER_BOUND), else the first after it (LEAST_UPPER_BOUND); a segment without a source maps nowhere.
 */

const BASE64 = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => (BASE64[c.charCodeAt(0)] = i));
const COMMA = 44;
const SEMICOLON = 59;
/** Fields per decoded segment: generated column, source, line, column, name (−1 when absent). */
const FIELDS = 5;
const MAX_DECODED_LINES = 4096;

interface RawMap {
  version?: unknown;
  sections?: unknown;
  mappings?: unknown;
  sources?: unknown;
  names?: unknown;
  sourceRoot?: unknown;
}

export class CompactSourceMap {
  private readonly decoded = new Map<number, Int32Array>();

  private constructor(
    private readonly mappings: string,
    private readonly sources: string[],
    private readonly names: string[],
    /** Per generated line (0-based): start offset in `mappings`, then source, line, column and name at its start. */
    private readonly lineStart: Int32Array,
  ) {}

  /** Undefined for what it does not read (index maps with sections, other versions). Throws on malformed JSON. */
  static parse(text: string, mapUrl: string): CompactSourceMap | undefined {
    const raw = JSON.parse(text) as RawMap;
    if (raw.version !== 3 || raw.sections !== undefined || typeof raw.mappings !== 'string' || !Array.isArray(raw.sources)) return undefined;
    const root = typeof raw.sourceRoot === 'string' && raw.sourceRoot ? raw.sourceRoot.replace(/\/?$/, '/') : '';
    const sources = (raw.sources as unknown[]).map((s) => resolveSource(`${root}${String(s ?? '')}`, mapUrl));
    const names = Array.isArray(raw.names) ? (raw.names as unknown[]).map(String) : [];
    return new CompactSourceMap(raw.mappings, sources, names, indexLines(raw.mappings));
  }

  /** `line` 1-based, `column` 0-based in the generated file; the original position with 0-based column. */
  lookup(line: number, column: number): { source: string; line: number; column: number; name?: string } | undefined {
    const segments = this.segments(line - 1);
    if (!segments || segments.length === 0) return undefined;
    const count = segments.length / FIELDS;
    // Last segment whose generated column is ≤ column (segments are sorted by it).
    let lo = 0;
    let hi = count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segments[mid * FIELDS]! <= column) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    let index = found >= 0 && segments[found * FIELDS + 1]! >= 0 ? found : -1;
    if (index < 0) {
      for (let k = found + 1; k < count; k++) {
        if (segments[k * FIELDS + 1]! >= 0) {
          index = k;
          break;
        }
      }
    }
    if (index < 0) return undefined;
    const at = index * FIELDS;
    const source = this.sources[segments[at + 1]!];
    if (source === undefined) return undefined;
    const name = segments[at + 4]! >= 0 ? this.names[segments[at + 4]!] : undefined;
    return { source, line: segments[at + 2]! + 1, column: segments[at + 3]!, ...(name ? { name } : {}) };
  }

  private segments(line: number): Int32Array | undefined {
    if (line < 0 || line * 5 >= this.lineStart.length) return undefined;
    const cached = this.decoded.get(line);
    if (cached) return cached;
    const segments = decodeLine(this.mappings, this.lineStart, line);
    if (this.decoded.size >= MAX_DECODED_LINES) this.decoded.delete(this.decoded.keys().next().value!);
    this.decoded.set(line, segments);
    return segments;
  }
}

function resolveSource(source: string, mapUrl: string): string {
  try {
    return new URL(source, mapUrl).href;
  } catch {
    return source;
  }
}

/** One pass over the mappings: each line's start offset and the running indexes there. */
function indexLines(mappings: string): Int32Array {
  let lines = 1;
  for (let i = 0; i < mappings.length; i++) if (mappings.charCodeAt(i) === SEMICOLON) lines++;
  const out = new Int32Array(lines * 5);
  let source = 0;
  let srcLine = 0;
  let srcColumn = 0;
  let name = 0;
  let line = 0;
  let field = 0;
  let value = 0;
  let shift = 0;
  const commit = (v: number) => {
    switch (field) {
      case 1:
        source += v;
        break;
      case 2:
        srcLine += v;
        break;
      case 3:
        srcColumn += v;
        break;
      case 4:
        name += v;
        break;
    }
    field++;
  };
  out[0] = 0;
  for (let i = 0; i < mappings.length; i++) {
    const c = mappings.charCodeAt(i);
    if (c === COMMA || c === SEMICOLON) {
      field = 0;
      if (c === SEMICOLON) {
        line++;
        const at = line * 5;
        out[at] = i + 1;
        out[at + 1] = source;
        out[at + 2] = srcLine;
        out[at + 3] = srcColumn;
        out[at + 4] = name;
      }
      continue;
    }
    const digit = c < 128 ? BASE64[c]! : -1;
    if (digit < 0) throw new Error(`invalid character in source map mappings at ${i}`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    commit(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return out;
}

function decodeLine(mappings: string, lineStart: Int32Array, line: number): Int32Array {
  const base = line * 5;
  const start = lineStart[base]!;
  let source = lineStart[base + 1]!;
  let srcLine = lineStart[base + 2]!;
  let srcColumn = lineStart[base + 3]!;
  let name = lineStart[base + 4]!;
  const values: number[] = [];
  let column = 0;
  let field = 0;
  let fields = [0, -1, 0, 0, -1];
  let value = 0;
  let shift = 0;
  const flush = () => {
    if (field > 0) values.push(...fields);
    field = 0;
    fields = [0, -1, 0, 0, -1];
  };
  for (let i = start; i < mappings.length; i++) {
    const c = mappings.charCodeAt(i);
    if (c === SEMICOLON) break;
    if (c === COMMA) {
      flush();
      continue;
    }
    const digit = c < 128 ? BASE64[c]! : -1;
    if (digit < 0) break;
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    const v = value & 1 ? -(value >>> 1) : value >>> 1;
    value = 0;
    shift = 0;
    switch (field) {
      case 0:
        column += v;
        fields[0] = column;
        break;
      case 1:
        source += v;
        fields[1] = source;
        break;
      case 2:
        srcLine += v;
        fields[2] = srcLine;
        break;
      case 3:
        srcColumn += v;
        fields[3] = srcColumn;
        break;
      case 4:
        name += v;
        fields[4] = name;
        break;
    }
    field++;
  }
  flush();
  // Segments are sorted by generated column in practice; sort to be safe for the binary search.
  const count = values.length / FIELDS;
  const order = [...Array(count).keys()].sort((a, b) => values[a * FIELDS]! - values[b * FIELDS]!);
  const out = new Int32Array(values.length);
  order.forEach((from, to) => out.set(values.slice(from * FIELDS, from * FIELDS + FIELDS), to * FIELDS));
  return out;
}
