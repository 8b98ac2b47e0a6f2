/**
 * A source map's `mappings`, looked up without decoding them into arrays: the one decoder of the agent, for the
 * debugger (a breakpoint's source line → generated position, a paused frame → source) and for profiles (each
 * sampled position → source, src/agent/sourcemaps.ts). `@jridgewell/trace-mapping` decodes every segment into its
 * own array (158k of them, ~46 MB of a pod's heap, for the gateway's 2 MB map) and, for a lookup from a source line,
 * then builds and sorts an index of all of them: ~100 ms of a pod's thread when a breakpoint is first set. Here one
 * pass over the string records, per generated line, where it starts and the decoder's running state there (20
 * bytes a line); a forward lookup decodes its line into a typed array (a few thousand lines are kept, so a
 * minified one-line bundle is decoded once, not once per lookup), and a lookup from a source line is one more pass
 * that keeps that source's segments for the next. The answers are trace-mapping's, tie for tie
 * (test/unit/mappings.test.ts checks a real bundle's map).
 */

const BASE64 = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64[c.charCodeAt(0)] = i;
const SEMICOLON = 59;
const COMMA = 44;
/** Fields per decoded segment: generated column, source (−1: none), line, column (0-based), name (−1: none). */
const FIELDS = 5;
const MAX_DECODED_LINES = 4096;

/** A running decoder over one mappings string. Fields are deltas: the generated column per line, the rest across lines. */
class Cursor {
  at = 0;
  generatedColumn = 0;
  source = 0;
  line = 0;
  column = 0;
  name = 0;
  hasSource = false;
  hasName = false;

  constructor(private readonly text: string) {}

  private vlq(): number {
    let result = 0;
    let shift = 0;
    let digit: number;
    do {
      digit = BASE64[this.text.charCodeAt(this.at++)] ?? -1;
      if (digit < 0) throw new Error(`invalid source map mappings at character ${this.at - 1}`);
      result |= (digit & 31) << shift;
      shift += 5;
    } while (digit & 32);
    const negative = result & 1;
    result >>>= 1;
    return negative ? -result : result;
  }

  private more(): boolean {
    if (this.at >= this.text.length) return false;
    const c = this.text.charCodeAt(this.at);
    return c !== COMMA && c !== SEMICOLON;
  }

  /** Reads the segment at the cursor (which is at its first character) and moves past it. */
  segment(): void {
    this.generatedColumn += this.vlq();
    this.hasSource = this.more();
    this.hasName = false;
    if (!this.hasSource) return;
    this.source += this.vlq();
    this.line += this.vlq();
    this.column += this.vlq();
    this.hasName = this.more();
    if (this.hasName) this.name += this.vlq();
  }
}

export class MappingIndex {
  /** Character offset where each generated line starts. */
  private readonly starts: Int32Array;
  /** The running source, line, column and name at the start of each generated line (4 per line). */
  private readonly states: Int32Array;
  readonly lines: number;
  /** The segments of each source looked up so far (a breakpoint's file is asked again for every line set in it). */
  private readonly bySource = new Map<number, Map<number, SourceSegment[]>>();

  constructor(private readonly text: string) {
    let lines = 1;
    for (let i = text.indexOf(';'); i !== -1; i = text.indexOf(';', i + 1)) lines++;
    this.lines = lines;
    this.starts = new Int32Array(lines);
    this.states = new Int32Array(lines * 4);
    const cursor = new Cursor(text);
    let line = 0;
    while (cursor.at < text.length) {
      const c = text.charCodeAt(cursor.at);
      if (c === SEMICOLON) {
        cursor.at++;
        cursor.generatedColumn = 0;
        line++;
        this.starts[line] = cursor.at;
        const state = line * 4;
        this.states[state] = cursor.source;
        this.states[state + 1] = cursor.line;
        this.states[state + 2] = cursor.column;
        this.states[state + 3] = cursor.name;
      } else if (c === COMMA) {
        cursor.at++;
      } else {
        cursor.segment();
      }
    }
  }

  /** Decoded lines (FIELDS per segment, sorted by generated column), the most recent MAX_DECODED_LINES. */
  private readonly decoded = new Map<number, Int32Array>();

  /**
   * The segments of generated line `line` (0-based), sorted by generated column as trace-mapping sorts them (a
   * stable sort, so equal columns keep the map's order).
   */
  private segments(line: number): Int32Array {
    const cached = this.decoded.get(line);
    if (cached) return cached;
    const cursor = new Cursor(this.text);
    cursor.at = this.starts[line]!;
    cursor.source = this.states[line * 4]!;
    cursor.line = this.states[line * 4 + 1]!;
    cursor.column = this.states[line * 4 + 2]!;
    cursor.name = this.states[line * 4 + 3]!;
    const values: number[] = [];
    let sorted = true;
    while (cursor.at < this.text.length) {
      const c = this.text.charCodeAt(cursor.at);
      if (c === SEMICOLON) break;
      if (c === COMMA) {
        cursor.at++;
        continue;
      }
      cursor.segment();
      if (values.length && cursor.generatedColumn < values[values.length - FIELDS]!) sorted = false;
      values.push(cursor.generatedColumn, cursor.hasSource ? cursor.source : -1, cursor.line, cursor.column, cursor.hasName ? cursor.name : -1);
    }
    let out = Int32Array.from(values);
    if (!sorted) {
      const order = Array.from({ length: values.length / FIELDS }, (_, i) => i).sort((a, b) => values[a * FIELDS]! - values[b * FIELDS]! || a - b);
      out = new Int32Array(values.length);
      order.forEach((from, to) => out.set(values.slice(from * FIELDS, from * FIELDS + FIELDS), to * FIELDS));
    }
    if (this.decoded.size >= MAX_DECODED_LINES) this.decoded.delete(this.decoded.keys().next().value!);
    this.decoded.set(line, out);
    return out;
  }

  /**
   * Where generated `line` (1-based) and `column` (0-based) come from, as trace-mapping's originalPositionFor:
   * with 'glb' the last segment at or before the column (the first of equals), with 'lub' the first at or after
   * it (the last of equals); undefined when there is none or it has no source. `name` is an index into the map's
   * names, when the segment has one.
   */
  original(line: number, column: number, bias: 'glb' | 'lub'): { source: number; line: number; column: number; name?: number } | undefined {
    if (line < 1 || line > this.lines) return undefined;
    const segments = this.segments(line - 1);
    const count = segments.length / FIELDS;
    // The first segment whose generated column is ≥ column.
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (segments[mid * FIELDS]! < column) lo = mid + 1;
      else hi = mid;
    }
    let index: number;
    if (lo < count && segments[lo * FIELDS]! === column) {
      index = lo;
      if (bias === 'lub') while (index + 1 < count && segments[(index + 1) * FIELDS]! === column) index++;
    } else {
      index = bias === 'glb' ? lo - 1 : lo;
    }
    if (index < 0 || index >= count) return undefined;
    const at = index * FIELDS;
    if (segments[at + 1]! < 0) return undefined;
    const name = segments[at + 4]!;
    return { source: segments[at + 1]!, line: segments[at + 2]! + 1, column: segments[at + 3]!, ...(name >= 0 ? { name } : {}) };
  }

  /**
   * The first generated position of source `source`'s lines `from`…`to` (1-based) that has code, as
   * trace-mapping's generatedPositionFor at column 0 with LEAST_UPPER_BOUND: the last of the segments at column 0,
   * else the first of those at the line's smallest column.
   */
  generated(source: number, from: number, to: number): { line: number; generatedLine: number; generatedColumn: number } | undefined {
    const byLine = this.ofSource(source);
    for (let line = from; line <= to; line++) {
      const list = byLine.get(line - 1);
      if (!list) continue;
      const atZero = list.filter((s) => s.column === 0);
      const smallest = Math.min(...list.map((s) => s.column));
      const pick = atZero.length ? atZero[atZero.length - 1]! : list.find((s) => s.column === smallest)!;
      return { line, generatedLine: pick.generatedLine + 1, generatedColumn: pick.generatedColumn };
    }
    return undefined;
  }

  /** Every segment of one source by its line (0-based), in generated order: one pass, kept for the next lookups. */
  private ofSource(source: number): Map<number, SourceSegment[]> {
    const cached = this.bySource.get(source);
    if (cached) return cached;
    const byLine = new Map<number, SourceSegment[]>();
    const cursor = new Cursor(this.text);
    let generatedLine = 0;
    while (cursor.at < this.text.length) {
      const c = this.text.charCodeAt(cursor.at);
      if (c === SEMICOLON) {
        cursor.at++;
        generatedLine++;
        cursor.generatedColumn = 0;
      } else if (c === COMMA) {
        cursor.at++;
      } else {
        cursor.segment();
        if (cursor.hasSource && cursor.source === source) {
          let list = byLine.get(cursor.line);
          if (!list) byLine.set(cursor.line, (list = []));
          list.push({ column: cursor.column, generatedLine, generatedColumn: cursor.generatedColumn });
        }
      }
    }
    this.bySource.set(source, byLine);
    return byLine;
  }
}

interface SourceSegment {
  column: number;
  generatedLine: number;
  generatedColumn: number;
}
