/**
 * SGQL's tokens. Words are not reserved here: whether `where` is a step or a column depends on where it
 * stands, which the parser decides. Every token keeps its offsets, so every error has an exact range.
 */

export type TokenKind = 'ident' | 'number' | 'duration' | 'string' | 'op' | 'comment' | 'eof' | 'bad';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** Numbers and durations (in ms); strings: the unescaped text. */
  value?: number | string;
  /** For `bad` tokens and unterminated strings: what is wrong. */
  error?: string;
}

/** Duration units and their length in milliseconds. */
export const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const OPERATORS = ['==', '!=', '<=', '>=', '=~', '!~', '..', '|', '(', ')', '[', ']', ',', ';', '.', '=', '<', '>', '+', '-', '*', '/', '%', '!'];
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
export const MAX_IDENT_LENGTH = 128;

export function tokenize(text: string, { comments = false }: { comments?: boolean } = {}): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      if (comments) tokens.push({ kind: 'comment', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (IDENT_START.test(c)) {
      while (i < n && IDENT_PART.test(text[i]!)) i++;
      const word = text.slice(start, i);
      tokens.push(word.length > MAX_IDENT_LENGTH ? { kind: 'bad', text: word, start, end: i, error: `a name can be at most ${MAX_IDENT_LENGTH} characters` } : { kind: 'ident', text: word, start, end: i });
      continue;
    }
    if (DIGIT.test(c)) {
      tokens.push(number(text, start));
      i = tokens[tokens.length - 1]!.end;
      continue;
    }
    if (c === '"' || c === "'") {
      tokens.push(string(text, start));
      i = tokens[tokens.length - 1]!.end;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, start, end: i + op.length });
      i += op.length;
      continue;
    }
    i++;
    tokens.push({ kind: 'bad', text: c, start, end: i, error: `unexpected character ${JSON.stringify(c)}` });
  }
  tokens.push({ kind: 'eof', text: '', start: n, end: n });
  return tokens;
}

function number(text: string, start: number): Token {
  let i = start;
  while (i < text.length && DIGIT.test(text[i]!)) i++;
  if (text[i] === '.' && DIGIT.test(text[i + 1] ?? '')) {
    i++;
    while (i < text.length && DIGIT.test(text[i]!)) i++;
  }
  if ((text[i] === 'e' || text[i] === 'E') && /[0-9+-]/.test(text[i + 1] ?? '')) {
    let j = i + 1;
    if (text[j] === '+' || text[j] === '-') j++;
    if (DIGIT.test(text[j] ?? '')) {
      while (j < text.length && DIGIT.test(text[j]!)) j++;
      i = j;
    }
  }
  const numeric = Number(text.slice(start, i));
  // A unit right after the digits makes a duration (5m, 1.5h, 250ms); any other letter is a mistake.
  let u = i;
  while (u < text.length && IDENT_PART.test(text[u]!)) u++;
  const unit = text.slice(i, u);
  if (unit === '') {
    if (!Number.isFinite(numeric)) return { kind: 'bad', text: text.slice(start, i), start, end: i, error: 'this number is too large' };
    return { kind: 'number', text: text.slice(start, i), start, end: i, value: numeric };
  }
  const ms = DURATION_UNITS[unit];
  if (ms === undefined) return { kind: 'bad', text: text.slice(start, u), start, end: u, error: `unknown duration unit "${unit}": use ms, s, m, h, d or w` };
  const value = numeric * ms;
  if (!Number.isSafeInteger(Math.round(value))) return { kind: 'bad', text: text.slice(start, u), start, end: u, error: 'this duration is too long' };
  return { kind: 'duration', text: text.slice(start, u), start, end: u, value: Math.round(value) };
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0' };

function string(text: string, start: number): Token {
  const quote = text[start]!;
  let i = start + 1;
  let value = '';
  while (i < text.length) {
    const c = text[i]!;
    if (c === quote) return { kind: 'string', text: text.slice(start, i + 1), start, end: i + 1, value };
    if (c === '\n') break;
    if (c === '\\') {
      const next = text[i + 1];
      const escaped = next === undefined ? undefined : ESCAPES[next];
      if (escaped === undefined) {
        return { kind: 'bad', text: text.slice(start, i + 2), start, end: Math.min(text.length, i + 2), error: `unknown escape \\${next ?? ''} in a string: use \\n, \\t, \\\\, \\" or \\'` };
      }
      value += escaped;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  return { kind: 'bad', text: text.slice(start, i), start, end: i, value, error: `this string has no closing ${quote}` };
}
