/**
 * A minimal protocol-buffers reader for pprof: varints (64-bit, two's complement negatives), length-delimited
 * fields and packed repeated scalars. Every read is bounds-checked, so a truncated or corrupt profile gives an
 * error that says where, never a wrong value or an endless loop.
 */

export class WireError extends Error {}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;

export class ProtobufReader {
  pos: number;

  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A field key: its number and wire type. */
  key(): { field: number; wire: number } {
    const at = this.pos;
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) throw new WireError(`field number 0 at byte ${at}: not protocol buffers`);
    return { field, wire: key % 8 };
  }

  /**
   * An unsigned or int64 varint as a number: exact up to 2^53, negatives (ten-byte two's complement) exact
   * down to -2^53.
   */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    // Fast path: up to 4 bytes (28 bits), the common case for ids, indexes and small values.
    let lo = 0;
    let shift = 0;
    for (; shift < 28; shift += 7) {
      if (pos >= this.end) throw this.truncated('varint');
      const b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return lo >>> 0;
      }
    }
    // Slow path: assemble the low and high 32 bits.
    if (pos >= this.end) throw this.truncated('varint');
    let b = buf[pos++]!;
    lo = (lo | ((b & 0x7f) << 28)) >>> 0;
    let hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (shift = 3; ; shift += 7) {
        if (pos >= this.end) throw this.truncated('varint');
        if (shift > 31 + 7) throw new WireError(`varint longer than 10 bytes at byte ${this.pos}`);
        b = buf[pos++]!;
        if (shift < 32) hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
    }
    this.pos = pos;
    hi >>>= 0;
    if (hi & 0x80000000) {
      // Negative int64: -(~value + 1).
      return -((~hi >>> 0) * TWO_32 + (~lo >>> 0) + 1);
    }
    return hi * TWO_32 + lo;
  }

  /** The bounds of a length-delimited field's payload; the reader moves past it. */
  bytes(): [number, number] {
    const at = this.pos;
    const length = this.varint();
    const start = this.pos;
    if (length > this.end - start) {
      throw new WireError(`a field at byte ${at} says ${length} bytes follow, but only ${this.end - start} do (truncated?)`);
    }
    this.pos = start + length;
    return [start, start + length];
  }

  string(): string {
    const [start, end] = this.bytes();
    return decoder.decode(this.buf.subarray(start, end));
  }

  /** Skips a field of an unknown number. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LENGTH:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new WireError(`wire type ${wire} at byte ${this.pos} is not valid here: not a pprof profile, or corrupt`);
    }
  }

  /** Repeated scalar varints, packed (wire type 2) or one per key (wire type 0), appended to `out`. */
  repeatedVarint(wire: number, out: { push(value: number): void }): void {
    if (wire === WIRE_VARINT) {
      out.push(this.varint());
      return;
    }
    if (wire !== WIRE_LENGTH) throw new WireError(`expected a varint or packed varints at byte ${this.pos}, found wire type ${wire}`);
    const [start, end] = this.bytes();
    const inner = new ProtobufReader(this.buf, start, end);
    while (!inner.done) out.push(inner.varint());
  }

  expect(wire: number, expected: number, what: string): void {
    if (wire !== expected) throw new WireError(`${what} at byte ${this.pos} has wire type ${wire}, expected ${expected}`);
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw this.truncated(`${n}-byte field`);
    this.pos += n;
  }

  private truncated(what: string): WireError {
    return new WireError(`truncated ${what} at byte ${this.pos} of ${this.end}`);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });
