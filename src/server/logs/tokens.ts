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
    let code = text.charCodeAt(i);
    if (isSeparator(code)) {
      if (isJunk(code)) junkChars++;
      i++;
      continue;
    }
    if (raw.length === maxTokens - 1) {
      const rest = text.slice(i).trimEnd();
      const nextSeparator = rest.search(/\s/);
      if (nextSeparator >= 0) {
        tokensCapped = true;
        junkChars += countJunk(rest);
        raw.push(rest);
        masked.push(WILDCARD);
        values.push([rest]);
        break;
      }
    }
    const start = i;
    let digitOrSlash = false;
    let junk = 0;
    while (i < length) {
      code = text.charCodeAt(i);
      if (isSeparator(code)) break;
      if (isDigit(code) || code === 47 || code === 92) digitOrSlash = true;
      else if (isJunk(code)) junk++;
      i++;
    }
    const token = text.slice(start, i);
    raw.push(token);
    junkChars += junk;
    if (junk > 0) {
      masked.push(WILDCARD);
      values.push([token]);
    } else if (digitOrSlash || MAY_HOLD_BOOLEAN.test(token)) {
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

function countJunk(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (isJunk(text.charCodeAt(i))) n++;
  return n;
}

/** Spans of a token, each either literal text or a masked value. */
interface Span {
  start: number;
  end: number;
  value: boolean;
}

/** The token with its values replaced by wildcards, or undefined when it holds none. */
export function maskToken(token: string): { text: string; values: string[] } | undefined {
  const spans: Span[] = [];
  let any = false;
  let from = 0;
  for (let at = token.indexOf(':', 1); at > 0 && at < token.length - 2; at = token.indexOf(':', at + 1)) {
    const whole = urlAt(token, at) ?? windowsPathAt(token, at);
    if (!whole || whole.start < from) continue;
    any = maskPieces(token, from, whole.start, spans) || any;
    spans.push(whole);
    any = true;
    from = at = whole.end;
  }
  any = maskPieces(token, from, token.length, spans) || any;
  if (!any) return undefined;
  return render(token, foldValues(token, spans));
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

/** `scheme://…` holding a digit is one value (`hdfs://host-4:9000/tmp`); without digits it is text. */
function urlAt(token: string, colon: number): Span | undefined {
  if (token.charCodeAt(colon + 1) !== 47 || token.charCodeAt(colon + 2) !== 47) return undefined;
  let start = colon;
  while (start > 0) {
    const code = token.charCodeAt(start - 1);
    if (!(isAlnum(code) || code === 43 || code === 45 || code === 46)) break;
    start--;
  }
  if (start === colon || isDigit(token.charCodeAt(start))) return undefined;
  const end = spanEnd(token, colon + 3);
  for (let i = colon + 3; i < end; i++) if (isDigit(token.charCodeAt(i))) return { start, end, value: true };
  return undefined;
}

/** `C:\dir\file` is one value. */
function windowsPathAt(token: string, colon: number): Span | undefined {
  if (token.charCodeAt(colon + 1) !== 92) return undefined;
  const drive = token.charCodeAt(colon - 1);
  if (!((drive >= 65 && drive <= 90) || (drive >= 97 && drive <= 122))) return undefined;
  if (colon >= 2 && isAlnum(token.charCodeAt(colon - 2))) return undefined;
  return { start: colon - 1, end: spanEnd(token, colon + 2), value: true };
}

/** Masks token[from, to): pieces between piece delimiters, each a path or a run of fields. */
function maskPieces(token: string, from: number, to: number, spans: Span[]): boolean {
  let any = false;
  let i = from;
  while (i < to) {
    const code = token.charCodeAt(i);
    if (code < 128 && PIECE[code]) {
      spans.push({ start: i, end: i + 1, value: false });
      i++;
      continue;
    }
    let end = i;
    while (end < to) {
      const c = token.charCodeAt(end);
      if (c < 128 && PIECE[c]) break;
      end++;
    }
    if (code === 47 && isPath(token, i, end)) {
      spans.push({ start: i, end, value: true });
      any = true;
    } else {
      any = maskFields(token, i, end, spans) || any;
    }
    i = end;
  }
  return any;
}

/** `/a/b.c`: a slash, then one or more non-empty segments each after a slash, not ending in a slash. */
function isPath(token: string, start: number, end: number): boolean {
  if (end - start < 2) return false;
  let previousSlash = false;
  for (let i = start; i < end; i++) {
    const slash = token.charCodeAt(i) === 47;
    if (slash && previousSlash) return false;
    previousSlash = slash;
  }
  return !previousSlash;
}

/** Splits token[start, end) at field delimiters, pushing literal and value spans; true if any value. */
function maskFields(token: string, start: number, end: number, spans: Span[]): boolean {
  if (isUuid(token, start, end)) {
    spans.push({ start, end, value: true });
    return true;
  }
  let any = false;
  let fieldStart = start;
  for (let i = start; i <= end; i++) {
    const code = i < end ? token.charCodeAt(i) : -1;
    if (i < end && !(code < 128 && code >= 0 && FIELD[code])) continue;
    if (code === 45 && isSign(token, i, start, end)) continue;
    if (i > fieldStart) {
      const value = isValueField(token, fieldStart, i);
      spans.push({ start: fieldStart, end: i, value });
      any = any || value;
    }
    if (i < end) spans.push({ start: i, end: i + 1, value: false });
    fieldStart = i + 1;
  }
  return any;
}

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

/** A minus before a digit at the start of a field or after `_` is a sign (`-1`, `blk_-4412`), not a delimiter. */
function isSign(token: string, at: number, start: number, end: number): boolean {
  if (at + 1 >= end || !isDigit(token.charCodeAt(at + 1))) return false;
  if (at === start) return true;
  const before = token.charCodeAt(at - 1);
  return before === 95 || (before < 128 && (FIELD[before] === 1 || PIECE[before] === 1));
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
  if (length > 2 && token.charCodeAt(start) === 48 && (token.charCodeAt(start + 1) | 32) === 120) {
    return digits + hexLetters === length - 1;
  }
  return digits > 0 && digits + hexLetters === length && length >= 4;
}

/** Folds value, `.` `:` or `-`, value into one value span (dotted numbers, times, host:port, dates). */
function foldValues(token: string, spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const span of spans) {
    const last = out[out.length - 1];
    const beforeLast = out[out.length - 2];
    if (span.value && last && beforeLast?.value && !last.value && last.end - last.start === 1) {
      const sep = token.charCodeAt(last.start);
      if (sep === 46 || sep === 58 || sep === 45) {
        out.pop();
        beforeLast.end = span.end;
        continue;
      }
    }
    if (span.value && last?.value) {
      last.end = span.end;
      continue;
    }
    if (!span.value && last && !last.value) {
      last.end = span.end;
      continue;
    }
    out.push({ ...span });
  }
  return out;
}

function render(token: string, spans: Span[]): { text: string; values: string[] } {
  let text = '';
  const values: string[] = [];
  for (const span of spans) {
    if (span.value) {
      text += WILDCARD;
      values.push(token.slice(span.start, span.end));
    } else {
      text += token.slice(span.start, span.end);
    }
  }
  return { text, values };
}
