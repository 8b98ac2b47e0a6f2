/**
 * How the miner compares and widens tokens: which tokens are words (they decide similarity and may become
 * variants), and how two differing tokens generalise (`key=<*>` or `<*>`).
 */
import { WILDCARD } from './tokens';

/**
 * A token that reads as the statement's own text: a letter, no digits outside masked values.
 * `uid=<*>` is a word (its skeleton is constant); `ssh2`, `host-7.corp`, `[<*>]` and `<*>` are not.
 */
export function isWord(token: string): boolean {
  let letters = false;
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    if (code >= 48 && code <= 57) return false;
    if (!letters && ((code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code > 127)) letters = true;
  }
  return letters;
}

/** A word right after a number is its unit (`16.0 KB`, `3 seconds`): a differing unit is part of the value. */
export function followsNumber(raw: readonly string[], position: number): boolean {
  return position > 0 && NUMBER.test(raw[position - 1]!);
}

const NUMBER = /^[-+]?\d+(?:[.,]\d+)?$/;

/** A word with no masked value in it: only these open variant positions. */
export function isPlainWord(token: string): boolean {
  return isWord(token) && !token.includes(WILDCARD);
}

/**
 * `key=<*>` or `key:<*>`: a token generalised to its key. Such a template token matches any line token with
 * the same key; masked tokens like `uid=<*>` read the same way.
 */
export function keyLength(token: string): number {
  const n = token.length - WILDCARD.length;
  if (n < 2 || !token.endsWith(WILDCARD)) return -1;
  const c = token.charCodeAt(n - 1);
  return c === 61 || c === 58 ? n : -1;
}

export function tokenMatches(templateToken: string, token: string): boolean {
  if (templateToken === token) return true;
  const n = keyLength(templateToken);
  if (n < 0 || token.length < n) return false;
  for (let i = 0; i < n; i++) if (templateToken.charCodeAt(i) !== token.charCodeAt(i)) return false;
  return true;
}

/** The most specific token covering both: the same token, their shared `key=<*>`, or `<*>`. */
export function generaliseToken(a: string, b: string): string {
  if (tokenMatches(a, b)) return a;
  const n = Math.min(a.length, b.length);
  let common = 0;
  while (common < n && a.charCodeAt(common) === b.charCodeAt(common)) common++;
  for (let cut = common; cut > 0; cut--) {
    const c = a.charCodeAt(cut - 1);
    if (c !== 61 && c !== 58) continue;
    const key = a.slice(0, cut);
    return isWord(key) && !key.includes(WILDCARD) ? key + WILDCARD : WILDCARD;
  }
  return WILDCARD;
}

/** Generalises `tokens` in place to cover `other`; true if any token changed. */
export function generaliseTokens(tokens: string[], other: readonly string[]): boolean {
  let changed = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === WILDCARD) continue;
    const general = generaliseToken(t, other[i]!);
    if (general !== t) {
      tokens[i] = general;
      changed = true;
    }
  }
  return changed;
}
