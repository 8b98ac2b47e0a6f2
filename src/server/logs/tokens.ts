/**
 * Splitting a log line into tokens and masking the values any log carries: numbers, hex, IP addresses with
 * ports, UUIDs, absolute paths, booleans and null. These rules are the only knowledge of log syntax the miner
 * has; they are generic (nothing in them names a product or a data set), and every other parameter is found by
 * comparing lines.
 *
 * A token is split at field delimiters (`,;:=|"'[](){}<>` and, outside paths, `.#@$%&*~^?!\`). A field is a
 * value when it is an absolute path (`/a/b.c`), `true`/`false`/`null`, or when one of its alphanumeric runs is
 * all digits, `0x…` hex, or hex of 4 or more characters with a digit in it (so `blk_-4412`, `1.2.3.4`,
 * `3f2a-…-77c1` and `attempt_14_0020_m_3` are values; `ssh2`, `jk2_init` and `Slf4jLogger` are words). A value
 * replaces its field by the wildcard `<*>`; `<*>.<*>` and `<*>:<*>` (dotted numbers, times, host:port) fold
 * into one. So `rhost=10.0.0.7:22` is masked to `rhost=<*>`, with the value `10.0.0.7:22`.
 */

export const WILDCARD = '<*>';

/** One line cut into tokens: masked text (compared and shown) and the raw text (the parameters). */
export interface TokenizedLine {
  raw: string[];
  masked: string[];
  /** Values replaced by wildcards in each masked token, in order; undefined where nothing was masked. */
  values: (string[] | undefined)[];
  /** Characters that are neither printable nor whitespace (control bytes, U+FFFD) in the line. */
  junkChars: number;
  /** The line had more tokens than allowed: its last token holds the rest of the line, as one value. */
  tokensCapped: boolean;
}

/** Chars that always end a field and cut a path too. */
const PIECE_DELIMITERS = ',;:=|"\'[](){}<>';
/** Chars that end a field outside a path. */
const FIELD_DELIMITERS = '.-#@$%&*~^?!\\';

const PIECE = new Uint8Array(128);
const FIELD = new Uint8Array(128);
for (const c of PIECE_DELIMITERS) PIECE[c.charCodeAt(0)] = 1;
for (const c of FIELD_DELIMITERS) FIELD[c.charCodeAt(0)] = 1;

const BOOLEAN_OR_NULL = /^(?:true|false|null)$/i;
const MAY_HOLD_BOOLEAN = /true|false|null/i;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
function isHexLetter(code: number): boolean {
  return (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}
function isLetter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}
function isAlnum(code: number): boolean {
  return isDigit(code) || (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}
/** Whitespace, C0/C1 controls, DEL: token separators. */
function isSeparator(code: number): boolean {
  return code <= 32 || (code >= 127 && code <= 160) || code === 0x2028 || code === 0x2029;
}
/** Not whitespace, yet not printable: controls and the replacement character. */
function isJunk(code: number): boolean {
  return (code < 32 && code !== 9 && code !== 10 && code !== 13) || (code >= 127 && code < 160) || code === 0xfffd;
}

/** ASCII character classes for the tokenizer's inner loop. */
const SEPARATOR = 1;
const NEEDS_MASK = 2;
const JUNK = 4;
const ASCII_CLASS = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  ASCII_CLASS[code] = (isSeparator(code) ? SEPARATOR : 0) | (isJunk(code) ? JUNK : 0) | (isDigit(code) || code === 47 || code === 92 ? NEEDS_MASK : 0);
}

function classOf(code: number): number {
  if (code < 128) return ASCII_CLASS[code]!;
  return (isSeparator(code) ? SEPARATOR : 0) | (isJunk(code) ? JUNK : 0);
}

/**
 * Tokens of `text`, split at whitespace and control characters. At most `maxTokens`: the last one then holds
 * the rest of the line and is masked whole.
 */
export function tokenize(text: string, maxTokens: number): TokenizedLine {
  const raw: string[] = [];
  const masked: string[] = [];
  const values: (string[] | undefined)[] = [];
  let junkChars = 0;
  let tokensCapped = false;
  const length = text.length;
  let i = 0;
  while (i < length) {
    let kind = classOf(text.charCodeAt(i));
    if (kind & SEPARATOR) {
      if (kind & JUNK) junkChars++;
      i++;
      continue;
    }
    if (raw.length === maxTokens - 1 && hasSeparatorAfter(text, i)) {
      const rest = text.slice(i).trimEnd();
      tokensCapped = true;
      junkChars += countJunk(rest);
      raw.push(rest);
      masked.push(WILDCARD);
      values.push([rest]);
      break;
    }
    const start = i;
    let seen = 0;
    while (i < length) {
      kind = classOf(text.charCodeAt(i));
      if (kind & SEPARATOR) break;
      if (kind & JUNK) junkChars++;
      seen |= kind;
      i++;
    }
    const token = text.slice(start, i);
    raw.push(token);
    if (seen & JUNK) {
      masked.push(WILDCARD);
      values.push([token]);
    } else if (seen & NEEDS_MASK || MAY_HOLD_BOOLEAN.test(token)) {
      const mask = maskToken(token);
      masked.push(mask ? mask.text : token);
      values.push(mask?.values);
    } else {
      masked.push(token);
      values.push(undefined);
    }
  }
  return { raw, masked, values, junkChars, tokensCapped };
}

/** Whether another token follows the one starting at `from`. */
function hasSeparatorAfter(text: string, from: number): boolean {
  let i = from;
  while (i < text.length && !(classOf(text.charCodeAt(i)) & SEPARATOR)) i++;
  while (i < text.length && classOf(text.charCodeAt(i)) & SEPARATOR) i++;
  return i < text.length;
}

function countJunk(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (isJunk(text.charCodeAt(i))) n++;
  return n;
}

/**
 * The spans of one token being masked, literal text or a value, folded as they are pushed: values next to each
 * other join, as do literals, and value, `.` `:` or `-`, value becomes one value (dotted numbers, times,
 * host:port, dates). Typed arrays reused across tokens keep masking free of per-span objects.
 */
class SpanList {
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  isValue = new Uint8Array(64);
  count = 0;
  values = 0;

  reset(): void {
    this.count = 0;
    this.values = 0;
  }

  push(token: string, start: number, end: number, value: boolean): void {
    const last = this.count - 1;
    if (last >= 0) {
      const lastIsValue = this.isValue[last] === 1;
      if (value && lastIsValue) {
        this.ends[last] = end;
        return;
      }
      if (!value && !lastIsValue) {
        this.ends[last] = end;
        return;
      }
      if (value && last >= 1 && this.ends[last]! - this.starts[last]! === 1 && this.isValue[last - 1] === 1) {
        const sep = token.charCodeAt(this.starts[last]!);
        if (sep === 46 || sep === 58 || sep === 45) {
          this.count--;
          this.ends[last - 1] = end;
          return;
        }
      }
    }
    if (this.count === this.starts.length) this.grow();
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.isValue[this.count] = value ? 1 : 0;
    this.count++;
    if (value) this.values++;
  }

  render(token: string): { text: string; values: string[] } {
    let text = '';
    const values: string[] = [];
    for (let i = 0; i < this.count; i++) {
      const slice = token.slice(this.starts[i], this.ends[i]);
      if (this.isValue[i] === 1) {
        text += WILDCARD;
        values.push(slice);
      } else {
        text += slice;
      }
    }
    return { text, values };
  }

  private grow(): void {
    const size = this.starts.length * 2;
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    const isValue = new Uint8Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    isValue.set(this.isValue);
    this.starts = starts;
    this.ends = ends;
    this.isValue = isValue;
  }
}

const spans = new SpanList();

/** The token with its values replaced by wildcards, or undefined when it holds none. */
export function maskToken(token: string): { text: string; values: string[] } | undefined {
  spans.reset();
  let from = 0;
  for (let at = token.indexOf(':', 1); at > 0 && at < token.length - 1; at = token.indexOf(':', at + 1)) {
    const whole = urlAt(token, at) ?? windowsPathAt(token, at) ?? hostPortAt(token, at);
    if (!whole || whole.start < from) continue;
    maskPieces(token, from, whole.start);
    spans.push(token, whole.start, whole.end, true);
    from = at = whole.end;
  }
  maskPieces(token, from, token.length);
  return spans.values === 0 ? undefined : spans.render(token);
}

/** Ends a URL or a Windows path inside a token. */
const SPAN_END = '"\'[](){}<>,;|';
const ENDS_SPAN = new Uint8Array(128);
for (const c of SPAN_END) ENDS_SPAN[c.charCodeAt(0)] = 1;

function spanEnd(token: string, from: number): number {
  let end = from;
  while (end < token.length) {
    const code = token.charCodeAt(end);
    if (code < 128 && ENDS_SPAN[code]) break;
    end++;
  }
  return end;
}

interface Range {
  start: number;
  end: number;
}

/** `scheme://…` holding a digit is one value (`hdfs://host-4:9000/tmp`); a URL without digits is text. */
function urlAt(token: string, colon: number): Range | undefined {
  if (token.charCodeAt(colon + 1) !== 47 || token.charCodeAt(colon + 2) !== 47) return undefined;
  let start = colon;
  while (start > 0) {
    const code = token.charCodeAt(start - 1);
    if (!(isAlnum(code) || code === 43 || code === 45 || code === 46)) break;
    start--;
  }
  if (start === colon || !isLetter(token.charCodeAt(start))) return undefined;
  const end = spanEnd(token, colon + 3);
  for (let i = colon + 3; i < end; i++) if (isDigit(token.charCodeAt(i))) return { start, end };
  return undefined;
}

/** `C:\\dir\\file` is one value. */
function windowsPathAt(token: string, colon: number): Range | undefined {
  if (token.charCodeAt(colon + 1) !== 92 || !isLetter(token.charCodeAt(colon - 1))) return undefined;
  if (colon >= 2 && isAlnum(token.charCodeAt(colon - 2))) return undefined;
  return { start: colon - 1, end: spanEnd(token, colon + 2) };
}

/**
 * `host:port` where the host has a letter and a digit (`msra-sa-41:9000`, `node7.corp/10.0.0.7:8030`, as Java
 * prints socket addresses) is one value. `Calories:12` is a key and its value, not a host.
 */
function hostPortAt(token: string, colon: number): Range | undefined {
  let end = colon + 1;
  while (end < token.length && isDigit(token.charCodeAt(end))) end++;
  const digits = end - colon - 1;
  if (digits < 1 || digits > 5) return undefined;
  if (end < token.length) {
    const next = token.charCodeAt(end);
    if (!(next < 128 && PIECE[next]) || next === 58) return undefined;
  }
  let start = colon;
  let letter = false;
  let digit = false;
  while (start > 0) {
    const code = token.charCodeAt(start - 1);
    if (isLetter(code)) letter = true;
    else if (isDigit(code)) digit = true;
    else if (code !== 45 && code !== 46 && code !== 47 && code !== 95) break;
    start--;
  }
  if (start > 0 && !(token.charCodeAt(start - 1) < 128 && PIECE[token.charCodeAt(start - 1)])) return undefined;
  return letter && digit ? { start, end } : undefined;
}

/** Masks token[from, to): pieces between piece delimiters, each a path or a run of fields. */
function maskPieces(token: string, from: number, to: number): void {
  let i = from;
  while (i < to) {
    const code = token.charCodeAt(i);
    if (code < 128 && PIECE[code]) {
      spans.push(token, i, i + 1, false);
      i++;
      continue;
    }
    let end = i + 1;
    while (end < to) {
      const c = token.charCodeAt(end);
      if (c < 128 && PIECE[c]) break;
      end++;
    }
    if ((code === 47 || code === 46) && isPath(token, i, end)) spans.push(token, i, end, true);
    else maskFields(token, i, end);
    i = end;
  }
}

/** `/a/b.c`, `/var/www/`, `./run`, `../lib/x.so`: an absolute or dot-relative path (not `//host`, not `/`). */
function isPath(token: string, start: number, end: number): boolean {
  let at = start;
  if (token.charCodeAt(at) === 46) {
    at++;
    if (token.charCodeAt(at) === 46) at++;
  }
  if (token.charCodeAt(at) !== 47 || end - at < 2) return false;
  const next = token.charCodeAt(at + 1);
  return next !== 47 && !(next < 128 && PIECE[next]);
}

/** Splits token[start, end) at field delimiters, pushing each field as a literal or a value. */
function maskFields(token: string, start: number, end: number): void {
  if (isUuid(token, start, end) || isHostWithDigit(token, start, end)) {
    spans.push(token, start, end, true);
    return;
  }
  let fieldStart = start;
  for (let i = start; i <= end; i++) {
    const code = i < end ? token.charCodeAt(i) : -1;
    if (i < end && !(code < 128 && FIELD[code])) continue;
    if (code === 45 && isSign(token, i, start, end)) continue;
    if (i > fieldStart) spans.push(token, fieldStart, i, isValueField(token, fieldStart, i));
    if (i < end) spans.push(token, i, i + 1, false);
    fieldStart = i + 1;
  }
}

/** A field is a value if one of its alphanumeric runs is, or if it is `true`, `false` or `null`. */
function isValueField(token: string, start: number, end: number): boolean {
  let runStart = -1;
  for (let i = start; i <= end; i++) {
    const code = i < end ? token.charCodeAt(i) : -1;
    if (i < end && isAlnum(code)) {
      if (runStart < 0) runStart = i;
      continue;
    }
    if (runStart >= 0 && isValueRun(token, runStart, i)) return true;
    runStart = -1;
  }
  const length = end - start;
  return length >= 4 && length <= 5 && BOOLEAN_OR_NULL.test(token.slice(start, end));
}

/** Digits with a unit of 1–3 letters: `64172MB`, `23ms`, `5s`. */
function isQuantity(token: string, start: number, end: number): boolean {
  let i = start;
  while (i < end && isDigit(token.charCodeAt(i))) i++;
  if (i === start || end - i > 3) return false;
  for (; i < end; i++) if (!isLetter(token.charCodeAt(i))) return false;
  return true;
}

/** A minus before a digit at the start of a field or after `_` is a sign (`-1`, `blk_-4412`), not a delimiter. */
function isSign(token: string, at: number, start: number, end: number): boolean {
  if (at + 1 >= end || !isDigit(token.charCodeAt(at + 1))) return false;
  if (at === start) return true;
  const before = token.charCodeAt(at - 1);
  return before === 95 || (before < 128 && (FIELD[before] === 1 || PIECE[before] === 1));
}

/**
 * A host name with a digit in it: three or more dot-separated labels of letters, digits and `-`, the last of
 * 2–6 letters (`cp-1.slowvm1.utah.cloudlab.us`, `5.36.59.76.dsl.omantel.net.om`). Names without digits
 * (`java.net.Socket`, `mapred.job.id`) stay text.
 */
function isHostWithDigit(token: string, start: number, end: number): boolean {
  let dots = 0;
  let digit = false;
  let labelStart = start;
  for (let i = start; i < end; i++) {
    const code = token.charCodeAt(i);
    if (code === 46) {
      if (i === labelStart) return false;
      dots++;
      labelStart = i + 1;
    } else if (isDigit(code)) digit = true;
    else if (!isLetter(code) && code !== 45) return false;
  }
  const last = end - labelStart;
  if (dots < 2 || !digit || last < 2 || last > 6) return false;
  for (let i = labelStart; i < end; i++) if (!isLetter(token.charCodeAt(i))) return false;
  return true;
}

/** 8-4-4-4-12 hex digits. */
function isUuid(token: string, start: number, end: number): boolean {
  if (end - start !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const code = token.charCodeAt(start + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (code !== 45) return false;
    } else if (!isDigit(code) && !isHexLetter(code)) return false;
  }
  return true;
}

/** All digits; `0x` and hex digits; or 4+ hex digits with at least one decimal digit. */
function isValueRun(token: string, start: number, end: number): boolean {
  let digits = 0;
  let hexLetters = 0;
  for (let i = start; i < end; i++) {
    const code = token.charCodeAt(i);
    if (isDigit(code)) digits++;
    else if (isHexLetter(code)) hexLetters++;
  }
  const length = end - start;
  if (digits === length) return true;
  if (isQuantity(token, start, end)) return true;
  if (length > 2 && token.charCodeAt(start) === 48 && (token.charCodeAt(start + 1) | 32) === 120) {
    return digits + hexLetters === length - 1;
  }
  return digits > 0 && digits + hexLetters === length && length >= 4;
}
