/**
 * Writes JSON straight into a byte buffer, producing exactly what `JSON.stringify` would, without building the
 * intermediate object or string. The agent encodes every event and log record this way so that nothing of a
 * queued item lives on the JavaScript heap: at 50 000 events/s, heap objects (or strings) waiting for the next
 * flush are what the young-generation garbage collector has to copy on every scavenge.
 *
 * Writes past `limit` are not made; `overflow` says so and the caller retries in a larger buffer.
 */
export class JsonBytes {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  limit = 0;
  overflow = false;

  /** Starts writing at `pos` of `buf`, never past `limit`. */
  reset(buf: Buffer, pos: number, limit: number): void {
    this.buf = buf;
    this.pos = pos;
    this.limit = limit;
    this.overflow = false;
  }

  private room(bytes: number): boolean {
    if (this.pos + bytes <= this.limit) return true;
    this.overflow = true;
    return false;
  }

  byte(c: number): void {
    if (this.room(1)) this.buf[this.pos++] = c;
  }

  /** Bytes prepared in advance (keys, punctuation). */
  raw(bytes: Uint8Array): void {
    if (!this.room(bytes.length)) return;
    if (bytes.length <= 16) for (let i = 0; i < bytes.length; i++) this.buf[this.pos++] = bytes[i]!;
    else {
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
    }
  }

  /** A JSON string literal, escaped as JSON.stringify escapes it (lone surrogates as \udxxx). */
  string(s: string): void {
    if (!this.room(s.length + 2)) return;
    const buf = this.buf;
    buf[this.pos++] = 0x22;
    let i = 0;
    // Most strings are printable ASCII: copy them byte by byte with one bound check up front.
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) break;
      buf[this.pos++] = c;
    }
    if (i < s.length) this.stringRest(s, i);
    this.byte(0x22);
  }

  private stringRest(s: string, from: number): void {
    const buf = this.buf;
    for (let i = from; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (!this.room(6)) return;
      if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) buf[this.pos++] = c;
      else if (c < 0x80) this.escapeAscii(c);
      else if (c < 0x800) {
        buf[this.pos++] = 0xc0 | (c >> 6);
        buf[this.pos++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          buf[this.pos++] = 0xf0 | (cp >> 18);
          buf[this.pos++] = 0x80 | ((cp >> 12) & 0x3f);
          buf[this.pos++] = 0x80 | ((cp >> 6) & 0x3f);
          buf[this.pos++] = 0x80 | (cp & 0x3f);
          i++;
        } else this.unicodeEscape(c); // a lone surrogate: JSON.stringify escapes it
      } else {
        buf[this.pos++] = 0xe0 | (c >> 12);
        buf[this.pos++] = 0x80 | ((c >> 6) & 0x3f);
        buf[this.pos++] = 0x80 | (c & 0x3f);
      }
    }
  }

  private escapeAscii(c: number): void {
    const short = SHORT_ESCAPES[c];
    if (short) {
      this.buf[this.pos++] = 0x5c;
      this.buf[this.pos++] = short;
    } else if (c === 0x7f) this.buf[this.pos++] = c;
    else this.unicodeEscape(c);
  }

  private unicodeEscape(c: number): void {
    const buf = this.buf;
    buf[this.pos++] = 0x5c;
    buf[this.pos++] = 0x75; // u
    buf[this.pos++] = HEX[(c >> 12) & 15]!;
    buf[this.pos++] = HEX[(c >> 8) & 15]!;
    buf[this.pos++] = HEX[(c >> 4) & 15]!;
    buf[this.pos++] = HEX[c & 15]!;
  }

  /** A JSON number; integers are written digit by digit, anything else through Number#toString. */
  number(n: number): void {
    if (Number.isSafeInteger(n)) this.integer(n);
    else if (Number.isFinite(n)) this.ascii(String(n));
    else this.ascii('null');
  }

  /** A non-negative safe integer in the given radix (10 or 36), without quotes. */
  integer(n: number, radix = 10): void {
    if (n < 0) {
      this.byte(0x2d);
      n = -n;
    }
    let digits = 1;
    for (let rest = Math.floor(n / radix); rest > 0; rest = Math.floor(rest / radix)) digits++;
    if (!this.room(digits)) return;
    let at = this.pos + digits;
    this.pos = at;
    do {
      const d = n % radix;
      this.buf[--at] = d < 10 ? 0x30 + d : 0x57 + d;
      n = Math.floor(n / radix);
    } while (n > 0);
  }

  /** A JSON text made elsewhere (JSON.stringify), as UTF-8. */
  json(text: string): void {
    const at = this.pos;
    // write() never splits a character and stops where the room ends: short means it did not fit.
    this.pos += this.buf.write(text, at, Math.max(0, this.limit - at), 'utf8');
    if (this.pos - at !== Buffer.byteLength(text)) this.overflow = true;
  }

  /** A string known to be printable ASCII needing no escapes (numbers, literals). */
  ascii(s: string): void {
    if (!this.room(s.length)) return;
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }
}

const HEX = new Uint8Array([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));
const SHORT_ESCAPES: (number | undefined)[] = [];
for (const [c, e] of [['\b', 'b'], ['\f', 'f'], ['\n', 'n'], ['\r', 'r'], ['\t', 't'], ['"', '"'], ['\\', '\\']] as const) SHORT_ESCAPES[c.charCodeAt(0)] = e.charCodeAt(0);

const utf8 = new TextEncoder();
/** Bytes of a piece of JSON syntax prepared once, e.g. `,"tenant":`. */
export const jsonBytes = (text: string): Uint8Array => utf8.encode(text);
