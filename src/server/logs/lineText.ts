/**
 * What a raw log line becomes before mining: text that is well-formed, of bounded length, with the damage it
 * arrived with recorded. Lines are never refused: bytes that are not UTF-8 are decoded with U+FFFD in their
 * place, lone surrogates in a string are replaced the same way, and a line longer than the limit is mined on
 * its first `maxChars` characters. Every such repair is reported so the caller counts it.
 */

export type LineInput = string | Uint8Array;

export interface LineText {
  /** The text the miner works on: well-formed UTF-16, at most `maxChars` long. */
  text: string;
  /** Length of the input: UTF-16 code units of a string, bytes of a byte array. */
  inputLength: number;
  /** The input was longer than `maxChars` (or than `maxChars * 4` bytes) and only its head was mined. */
  truncated: boolean;
  /** The bytes were not valid UTF-8, or the string held lone surrogates; replaced by U+FFFD. */
  invalidUtf8: boolean;
}

/** ES2024 string methods Node 20 has but the ES2022 library typings lack. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

const lenientUtf8 = new TextDecoder('utf-8', { fatal: false });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Longest UTF-8 encoding of one UTF-16 code unit; a byte input longer than this many times maxChars is cut. */
const MAX_BYTES_PER_UNIT = 3;

export function readLine(input: LineInput, maxChars: number): LineText {
  return typeof input === 'string' ? fromString(input, maxChars) : fromBytes(input, maxChars);
}

function fromString(input: string, maxChars: number): LineText {
  let text = input;
  let truncated = false;
  if (text.length > maxChars) {
    text = cutAt(text, maxChars);
    truncated = true;
  }
  const checked = text as unknown as WellFormedString;
  const invalidUtf8 = !checked.isWellFormed();
  if (invalidUtf8) text = checked.toWellFormed();
  return { text, inputLength: input.length, truncated, invalidUtf8 };
}

function fromBytes(input: Uint8Array, maxChars: number): LineText {
  let bytes = input;
  let truncated = false;
  const maxBytes = maxChars * MAX_BYTES_PER_UNIT;
  if (bytes.length > maxBytes) {
    bytes = bytes.subarray(0, maxBytes);
    truncated = true;
  }
  let text: string;
  let invalidUtf8 = false;
  try {
    // A cut may split the last character; only the whole input is held to strict UTF-8.
    text = truncated ? lenientUtf8.decode(dropPartialTail(bytes)) : strictUtf8.decode(bytes);
    if (truncated) invalidUtf8 = text.includes('\uFFFD') && !isValidUtf8(dropPartialTail(bytes));
  } catch {
    invalidUtf8 = true;
    text = lenientUtf8.decode(bytes);
  }
  if (text.length > maxChars) {
    text = cutAt(text, maxChars);
    truncated = true;
  }
  return { text, inputLength: input.length, truncated, invalidUtf8 };
}

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Drops a trailing incomplete UTF-8 sequence (at most 3 bytes) left by cutting a byte array. */
function dropPartialTail(bytes: Uint8Array): Uint8Array {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) !== 0x80) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return needed > back ? bytes.subarray(0, bytes.length - back) : bytes;
    }
  }
  return bytes;
}

/** The first `max` code units, not splitting a surrogate pair. */
function cutAt(text: string, max: number): string {
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
