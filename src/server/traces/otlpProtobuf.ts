/**
 * OTLP trace export requests in protobuf (opentelemetry/proto/collector/trace/v1), read field by field into the
 * same plain shape as OTLP/JSON, so one validation serves both. Only the wire format is implemented here, with
 * the field numbers of trace.proto, common.proto and resource.proto; unknown fields are skipped as the protobuf
 * rules say. Ids become lowercase hex, 64-bit times decimal strings (exact: read as BigInt).
 */

export class ProtobufError extends Error {}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly end = buf.length) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  uint(): number {
    return Number(this.varint());
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new ProtobufError('truncated fixed64');
    let value = 0n;
    for (let i = 7; i >= 0; i--) value = (value << 8n) | BigInt(this.buf[this.pos + i]!);
    this.pos += 8;
    return value;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new ProtobufError('truncated double');
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  bytes(): Uint8Array {
    const length = this.uint();
    if (this.pos + length > this.end) throw new ProtobufError(`a field of ${length} bytes runs past the end of its message`);
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  message(): Reader {
    const length = this.uint();
    if (this.pos + length > this.end) throw new ProtobufError(`a message of ${length} bytes runs past the end of its parent`);
    const inner = new Reader(this.buf, this.pos + length);
    inner.pos = this.pos;
    this.pos += length;
    return inner;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new ProtobufError('truncated field');
  }

  /** Calls `field` for each field; it returns false for fields it does not read (they are skipped). */
  each(field: (number: number, wireType: number) => boolean): void {
    while (!this.done) {
      const key = this.uint();
      const number = key >>> 3;
      const wireType = key & 7;
      if (!field(number, wireType)) this.skip(wireType);
    }
  }
}

const utf8 = new TextDecoder('utf-8');

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

type Json = Record<string, unknown>;

function anyValue(r: Reader): Json {
  let out: Json = {};
  r.each((n, w) => {
    if (n === 1 && w === 2) out = { stringValue: r.string() };
    else if (n === 2 && w === 0) out = { boolValue: r.varint() !== 0n };
    else if (n === 3 && w === 0) out = { intValue: BigInt.asIntN(64, r.varint()).toString() };
    else if (n === 4 && w === 1) out = { doubleValue: r.double() };
    else if (n === 5 && w === 2) out = { arrayValue: { values: repeated(r.message(), 1, anyValue) } };
    else if (n === 6 && w === 2) out = { kvlistValue: { values: repeated(r.message(), 1, keyValue) } };
    else if (n === 7 && w === 2) out = { bytesValue: Buffer.from(r.bytes()).toString('base64') };
    else return false;
    return true;
  });
  return out;
}

function keyValue(r: Reader): Json {
  let key = '';
  let value: Json = {};
  r.each((n, w) => {
    if (n === 1 && w === 2) key = r.string();
    else if (n === 2 && w === 2) value = anyValue(r.message());
    else return false;
    return true;
  });
  return { key, value };
}

function repeated(r: Reader, field: number, read: (r: Reader) => Json): Json[] {
  const out: Json[] = [];
  r.each((n, w) => {
    if (n !== field || w !== 2) return false;
    out.push(read(r.message()));
    return true;
  });
  return out;
}

function event(r: Reader): Json {
  const out: Json = { name: '', timeUnixNano: '0', attributes: [] as Json[] };
  r.each((n, w) => {
    if (n === 1 && w === 1) out.timeUnixNano = r.fixed64().toString();
    else if (n === 2 && w === 2) out.name = r.string();
    else if (n === 3 && w === 2) (out.attributes as Json[]).push(keyValue(r.message()));
    else return false;
    return true;
  });
  return out;
}

function link(r: Reader): Json {
  const out: Json = { traceId: '', spanId: '', attributes: [] as Json[] };
  r.each((n, w) => {
    if (n === 1 && w === 2) out.traceId = hex(r.bytes());
    else if (n === 2 && w === 2) out.spanId = hex(r.bytes());
    else if (n === 3 && w === 2) out.traceState = r.string();
    else if (n === 4 && w === 2) (out.attributes as Json[]).push(keyValue(r.message()));
    else return false;
    return true;
  });
  return out;
}

function status(r: Reader): Json {
  const out: Json = { code: 0 };
  r.each((n, w) => {
    if (n === 2 && w === 2) out.message = r.string();
    else if (n === 3 && w === 0) out.code = r.uint();
    else return false;
    return true;
  });
  return out;
}

function span(r: Reader): Json {
  const out: Json = { traceId: '', spanId: '', name: '', kind: 0, startTimeUnixNano: '0', endTimeUnixNano: '0', attributes: [] as Json[], status: { code: 0 } };
  const events: Json[] = [];
  const links: Json[] = [];
  r.each((n, w) => {
    if (n === 1 && w === 2) out.traceId = hex(r.bytes());
    else if (n === 2 && w === 2) out.spanId = hex(r.bytes());
    else if (n === 4 && w === 2) out.parentSpanId = hex(r.bytes());
    else if (n === 5 && w === 2) out.name = r.string();
    else if (n === 6 && w === 0) out.kind = r.uint();
    else if (n === 7 && w === 1) out.startTimeUnixNano = r.fixed64().toString();
    else if (n === 8 && w === 1) out.endTimeUnixNano = r.fixed64().toString();
    else if (n === 9 && w === 2) (out.attributes as Json[]).push(keyValue(r.message()));
    else if (n === 10 && w === 0) out.droppedAttributesCount = r.uint();
    else if (n === 11 && w === 2) events.push(event(r.message()));
    else if (n === 12 && w === 0) out.droppedEventsCount = r.uint();
    else if (n === 13 && w === 2) links.push(link(r.message()));
    else if (n === 14 && w === 0) out.droppedLinksCount = r.uint();
    else if (n === 15 && w === 2) out.status = status(r.message());
    else return false;
    return true;
  });
  if (events.length) out.events = events;
  if (links.length) out.links = links;
  return out;
}

function scopeSpans(r: Reader): Json {
  const out: Json = { scope: { name: '' }, spans: [] as Json[] };
  r.each((n, w) => {
    if (n === 1 && w === 2) {
      const scope: Json = { name: '' };
      const inner = r.message();
      inner.each((m, v) => {
        if (m === 1 && v === 2) scope.name = inner.string();
        else if (m === 2 && v === 2) scope.version = inner.string();
        else return false;
        return true;
      });
      out.scope = scope;
    } else if (n === 2 && w === 2) (out.spans as Json[]).push(span(r.message()));
    else return false;
    return true;
  });
  return out;
}

function resourceSpans(r: Reader): Json {
  const out: Json = { resource: { attributes: [] as Json[] }, scopeSpans: [] as Json[] };
  r.each((n, w) => {
    if (n === 1 && w === 2) out.resource = { attributes: repeated(r.message(), 1, keyValue) };
    else if (n === 2 && w === 2) (out.scopeSpans as Json[]).push(scopeSpans(r.message()));
    else return false;
    return true;
  });
  return out;
}

/** An ExportTraceServiceRequest as OTLP/JSON-shaped objects; throws ProtobufError on malformed input. */
export function decodeTraceRequest(body: Uint8Array): { resourceSpans: Json[] } {
  const r = new Reader(body);
  return { resourceSpans: repeated(r, 1, resourceSpans) };
}

/** An ExportTraceServiceResponse, with partial_success when some spans were rejected or changed. */
export function encodeTraceResponse(partial?: { rejectedSpans: number; errorMessage: string }): Uint8Array {
  if (!partial) return new Uint8Array(0);
  const message = new TextEncoder().encode(partial.errorMessage);
  const inner = [...(partial.rejectedSpans ? [0x08, ...varint(partial.rejectedSpans)] : []), 0x12, ...varint(message.length), ...message];
  return Uint8Array.from([0x0a, ...varint(inner.length), ...inner]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
