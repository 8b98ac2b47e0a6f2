/**
 * Redaction before anything leaves the pod: values of secret-sounding names, and strings that look like
 * secrets whatever their name (JWTs, bearer and basic credentials, API keys with well-known prefixes, private
 * keys, NATS seeds, card numbers that pass Luhn), become "[redacted]".
 */
export const REDACTED = '[redacted]';

/** Case-insensitive substrings of names whose values are never captured. */
export const DEFAULT_REDACTED_NAMES = ['password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'api_key', 'api-key', 'authorization', 'cookie', 'credential', 'privatekey', 'private_key', 'signature'];

/**
 * Secret shapes. Each alternative is anchored on a distinctive prefix so the scan stays linear; card numbers
 * are found separately because they need a checksum.
 */
const SECRET_SHAPES = new RegExp(
  [
    'eyJ[A-Za-z0-9_-]{6,}\\.eyJ[A-Za-z0-9_-]{6,}\\.[A-Za-z0-9_-]*', // JWT
    '\\b(?:Bearer|Basic|Token)\\s+[A-Za-z0-9._~+/=-]{8,}', // Authorization header values
    // Key prefixes match even glued to other text ("key=sk_live_…", "xsk_live_…"): a false positive costs a
    // value shown as [redacted]; a false negative costs a leaked key.
    '(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9_]{8,}', // Stripe-style keys (and the sandbox tenants')
    'gh[pousr]_[A-Za-z0-9]{20,}', // GitHub tokens
    'github_pat_[A-Za-z0-9_]{20,}',
    'xox[abprs]-[A-Za-z0-9-]{10,}', // Slack
    'AKIA[0-9A-Z]{16}', // AWS access key id
    'AIza[0-9A-Za-z_-]{35}', // Google API key
    'glpat-[A-Za-z0-9_-]{20,}', // GitLab
    'npm_[A-Za-z0-9]{36}', // npm
    '\\bS[UACONPX][A-Z2-7]{56}\\b', // NATS NKey seeds
    '-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)',
  ].join('|'),
  'g',
);
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;

/** Issuer prefixes and lengths of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners). */
function looksLikeCard(digits: string): boolean {
  const n = digits.length;
  if (n < 13 || n > 19) return false;
  const issuer =
    (digits[0] === '4' && (n === 13 || n === 16 || n === 19)) ||
    (/^(5[1-5]|2[2-7])/.test(digits) && n === 16) ||
    (/^3[47]/.test(digits) && n === 15) ||
    (/^(6011|65|64[4-9])/.test(digits) && n >= 16) ||
    (/^35/.test(digits) && n >= 16) ||
    (/^3(0[0-5]|[68])/.test(digits) && n >= 14);
  return issuer && luhn(digits);
}

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export class Redactor {
  private readonly names: string[];
  /** Names seen before and whether they are secret: names repeat a lot (every request's locals). */
  private readonly nameCache = new Map<string, boolean>();

  constructor(names: readonly string[] = DEFAULT_REDACTED_NAMES) {
    this.names = names.map((n) => n.toLowerCase()).filter(Boolean);
  }

  isSecretName(name: string): boolean {
    let secret = this.nameCache.get(name);
    if (secret === undefined) {
      const lower = name.toLowerCase();
      secret = this.names.some((n) => lower.includes(n));
      if (this.nameCache.size > 10_000) this.nameCache.clear();
      this.nameCache.set(name, secret);
    }
    return secret;
  }

  /**
   * The first `scanLength` characters of `text` with every secret-shaped part replaced (callers keep fewer
   * than they scan, so a secret cut at the end is still found whole). "[redacted]" when the text was
   * nothing but a secret. Nothing past `scanLength` is returned: it was not looked at.
   */
  redactText(text: string, scanLength = text.length): string {
    const scanned = text.length > scanLength ? text.slice(0, scanLength) : text;
    // Fast path: no character that starts any shape, and no long digit run.
    let out = scanned;
    SECRET_SHAPES.lastIndex = 0;
    if (SECRET_SHAPES.test(out)) {
      SECRET_SHAPES.lastIndex = 0;
      out = out.replace(SECRET_SHAPES, REDACTED);
    }
    if (/\d{4}/.test(out)) {
      CARD_CANDIDATE.lastIndex = 0;
      out = out.replace(CARD_CANDIDATE, (match) => (looksLikeCard(match.replace(/[ -]/g, '')) ? REDACTED : match));
    }
    return out;
  }

  /** True when the text holds something secret-shaped (for byte previews, which are not rewritten). */
  hasSecretShape(text: string): boolean {
    return this.redactText(text) !== text;
  }
}
