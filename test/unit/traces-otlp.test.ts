/** OTLP requests into span messages: protobuf wire format, id forms, enums, chunking, dedupe ids, bad spans. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanBatchSchema, TELEMETRY_STREAM_SPEC } from '../../src/protocol/nats';
import { decodeTraceRequest, encodeTraceResponse, ProtobufError } from '../../src/server/traces/otlpProtobuf';
import { toSpanMessages } from '../../src/server/traces/otlpReceiver';

const NOW = 1_700_000_000_000;

function jsonSpan(i: number, extra: Record<string, unknown> = {}) {
  return {
    traceId: 'ABCDEF0123456789ABCDEF0123456789',
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: `span ${i}`,
    kind: 'SPAN_KIND_SERVER',
    startTimeUnixNano: String(BigInt(NOW) * 1_000_000n),
    endTimeUnixNano: String(BigInt(NOW + 5) * 1_000_000n),
    attributes: [{ key: 'blob', value: { stringValue: 'z'.repeat(2000) } }],
    status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
    ...extra,
  };
}

function request(spans: unknown[], service = 'shop') {
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 's' }, spans }] }] };
}

describe('OTLP spans into telemetry messages', () => {
  it('normalises ids, enums and times, and every message is a valid span message under the size limit', () => {
    let seq = 0;
    const out = toSpanMessages(request(Array.from({ length: 600 }, (_, i) => jsonSpan(i))), () => seq++, NOW);
    assert.ok(!('error' in out));
    assert.equal(out.spans, 600);
    assert.ok(out.messages.length > 1, 'split into several messages');
    for (const { subject, message } of out.messages) {
      assert.equal(subject, 'sg.tel.spans.shop.otlp');
      assert.ok(SpanBatchSchema.safeParse(message).success);
      assert.ok(Buffer.byteLength(JSON.stringify(message)) < TELEMETRY_STREAM_SPEC.maxMsgSize);
    }
    const first = out.messages[0]!.message.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(first.traceId, 'abcdef0123456789abcdef0123456789');
    assert.equal(first.kind, 2);
    assert.deepEqual(first.status, { code: 2, message: 'boom' });
    assert.equal(out.messages.reduce((n, m) => n + m.message.resourceSpans[0]!.scopeSpans.reduce((k, s) => k + s.spans.length, 0), 0), 600);
  });

  it('gives the same request the same message ids, so a retried export is stored once', () => {
    const a = toSpanMessages(request([jsonSpan(1)]), () => 0, NOW);
    const b = toSpanMessages(request([jsonSpan(1)]), () => 7, NOW + 5000);
    const c = toSpanMessages(request([jsonSpan(2)]), () => 0, NOW);
    assert.ok(!('error' in a) && !('error' in b) && !('error' in c));
    assert.equal(a.messages[0]!.message.id, b.messages[0]!.message.id);
    assert.notEqual(a.messages[0]!.message.id, c.messages[0]!.message.id);
  });

  it('reads base64 ids (proto3 JSON) and numeric times', () => {
    const span = jsonSpan(0, { traceId: Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64'), spanId: Buffer.from('0102030405060708', 'hex').toString('base64'), startTimeUnixNano: NOW * 1e6, endTimeUnixNano: (NOW + 1) * 1e6 });
    const out = toSpanMessages(request([span]), () => 0, NOW);
    assert.ok(!('error' in out));
    const s = out.messages[0]!.message.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(s.traceId, '00112233445566778899aabbccddeeff');
    assert.equal(s.spanId, '0102030405060708');
    assert.match(s.startTimeUnixNano, /^\d{19}$/);
  });

  it('rejects bad spans one by one, naming them, and keeps the good ones', () => {
    const out = toSpanMessages(request([jsonSpan(0), jsonSpan(1, { spanId: 'xyz' }), null, jsonSpan(2, { traceId: 'a'.repeat(31) })]), () => 0, NOW);
    assert.ok(!('error' in out));
    assert.equal(out.spans, 1);
    assert.equal(out.rejected.length, 3);
    assert.match(out.rejected[0]!, /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\] \(span 1\): .*spanId must be 16 hex digits/);
    assert.match(out.rejected[2]!, /spans\[3\] \(span 2\): .*traceId must be 32 hex digits/);
    assert.deepEqual(toSpanMessages('nope', () => 0, NOW), { error: 'the body is not an ExportTraceServiceRequest object' });
  });

  it('shortens attribute values too long for a message and notes it on the span', () => {
    const out = toSpanMessages(request([jsonSpan(0, { attributes: [{ key: 'huge', value: { stringValue: 'q'.repeat(3_000_000) } }] })]), () => 0, NOW);
    assert.ok(!('error' in out));
    assert.equal(out.shortened, 1);
    const s = out.messages[0]!.message.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.deepEqual(s.attributes.find((a) => a.key === 'sg.shortened_attributes')?.value, { stringValue: 'huge (3000000 characters)' });
  });
});

describe('OTLP protobuf', () => {
  /** Hand-encoded: resource_spans { resource { attributes { key "service.name" value { string "pay" } } } scope_spans { spans { … } } } */
  function encoded(): Uint8Array {
    const bytes: number[] = [];
    const field = (n: number, wire: number) => bytes.push((n << 3) | wire);
    const len = (content: number[]) => [...varint(content.length), ...content];
    const str = (text: string) => len([...Buffer.from(text)]);
    const fixed64 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
    const kv = (key: string, value: number[]) => [0x0a, ...str(key), 0x12, ...len(value)];
    const span = [
      0x0a, ...len([...Buffer.from('0123456789abcdef0123456789abcdef', 'hex')]),
      0x12, ...len([...Buffer.from('1122334455667788', 'hex')]),
      0x22, ...len([...Buffer.from('8877665544332211', 'hex')]),
      0x2a, ...str('GET /pay'),
      0x30, 2,
      0x39, ...fixed64(1_700_000_000_123_456_789n),
      0x41, ...fixed64(1_700_000_000_223_456_789n),
      0x4a, ...len(kv('n', [0x18, ...varint(42)])),
      0x4a, ...len(kv('neg', [0x18, ...varint(2n ** 64n - 5n)])),
      0x4a, ...len(kv('ok', [0x10, 1])),
      0x4a, ...len(kv('list', [0x2a, ...len([0x0a, ...len([0x0a, ...str('a')])])])),
      0x7a, ...len([0x12, ...str('bad'), 0x18, 2]),
      0x98, 0x01, 9, // unknown field 19 (varint): skipped
    ];
    const scopeSpans = [0x0a, ...len([0x0a, ...str('lib')]), 0x12, ...len(span)];
    const resource = [0x0a, ...len(kv('service.name', [0x0a, ...str('pay')]))];
    field(1, 2);
    bytes.push(...len([0x0a, ...len(resource), 0x12, ...len(scopeSpans)]));
    return Uint8Array.from(bytes);
  }

  it('decodes every field the product reads, exactly, and skips unknown ones', () => {
    const decoded = decodeTraceRequest(encoded());
    const out = toSpanMessages(decoded, () => 0, NOW);
    assert.ok(!('error' in out));
    assert.equal(out.messages[0]!.subject, 'sg.tel.spans.pay.otlp');
    const s = out.messages[0]!.message.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(s.traceId, '0123456789abcdef0123456789abcdef');
    assert.equal(s.spanId, '1122334455667788');
    assert.equal(s.parentSpanId, '8877665544332211');
    assert.equal(s.name, 'GET /pay');
    assert.equal(s.kind, 2);
    assert.equal(s.startTimeUnixNano, '1700000000123456789');
    assert.equal(s.endTimeUnixNano, '1700000000223456789');
    assert.deepEqual(s.status, { code: 2, message: 'bad' });
    assert.deepEqual(
      s.attributes.map((a) => [a.key, a.value]),
      [
        ['n', { intValue: '42' }],
        ['neg', { intValue: '-5' }],
        ['ok', { boolValue: true }],
        ['list', { arrayValue: { values: [{ stringValue: 'a' }] } }],
      ],
    );
  });

  it('refuses truncated input with the reason', () => {
    const bytes = encoded();
    assert.throws(() => decodeTraceRequest(bytes.subarray(0, bytes.length - 20)), ProtobufError);
    assert.throws(() => decodeTraceRequest(Uint8Array.from([0x0a, 0x05, 0x01])), /runs past the end/);
    assert.deepEqual(decodeTraceRequest(new Uint8Array(0)), { resourceSpans: [] });
  });

  it('encodes a partial success answer', () => {
    assert.equal(encodeTraceResponse().length, 0);
    const bytes = encodeTraceResponse({ rejectedSpans: 2, errorMessage: 'x' });
    assert.deepEqual([...bytes], [0x0a, 5, 0x08, 2, 0x12, 1, 0x78]);
  });
});

function varint(n: number | bigint): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
