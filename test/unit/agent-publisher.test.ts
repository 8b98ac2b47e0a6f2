/**
 * The agent's publisher and its byte encoding. The NATS client is replaced by a recording stand-in here (it
 * keeps what it is handed and fails publishes on demand, which a real server will not do at a chosen moment);
 * test/integration/agent.test.ts runs the same publisher against a real nats-server with JetStream.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from 'nats';
import { JsonBytes } from '../../src/agent/jsonBytes';
import { TelemetryPublisher } from '../../src/agent/publisher';
import { EventBatchSchema, LogBatchSchema, SpanBatchSchema, TelemetryMessageSchema, type EventBatch, type LogBatch, type SpanBatch } from '../../src/protocol/nats';
import { check } from '../../src/protocol/schema';

interface Published {
  subject: string;
  msgID: string | undefined;
  /** What the bytes were when handed over. */
  bytes: Buffer;
  /** The array handed over, to see later whether it was reused. */
  handed: Uint8Array;
}

/** Stand-in for the JetStream client: records every publish and rejects the next `failNext` of them. */
class RecordingJetStream {
  readonly published: Published[] = [];
  failNext = 0;
  failWith: Error = Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' });

  publish(subject: string, data: Uint8Array, options: Partial<JetStreamPublishOptions>): Promise<PubAck> {
    this.published.push({ subject, msgID: options.msgID, bytes: Buffer.from(data), handed: data });
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(this.failWith);
    }
    return Promise.resolve({ stream: 'SG_TELEMETRY', seq: this.published.length, duplicate: false, domain: '' });
  }

  messages(): { subject: string; msgID: string | undefined; body: unknown }[] {
    return this.published.map((p) => ({ subject: p.subject, msgID: p.msgID, body: JSON.parse(p.bytes.toString('utf8')) as unknown }));
  }
}

/** The message validated by its schema, or a failed assertion naming what is wrong. */
function valid<T>(schema: Parameters<typeof check<T>>[0], body: unknown): T {
  const parsed = check(schema, body);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
}

function publisherWith(js: RecordingJetStream, options: Partial<ConstructorParameters<typeof TelemetryPublisher>[0]> = {}, maxPayload?: number): TelemetryPublisher {
  const publisher = new TelemetryPublisher({ service: 'svc', pod: 'pod-1', bootId: 'b00t', ...options });
  publisher.attach(js as unknown as JetStreamClient, maxPayload);
  return publisher;
}

const TRICKY_STRINGS = [
  '',
  'plain ascii',
  'quote " and backslash \\ and slash /',
  Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join(''),
  'delete \u007f',
  'accents: é à ü ß',
  'CJK: 中文 日本語',
  'emoji: 😀👍🏽',
  'lone high \ud800 surrogate',
  'lone low \udc00 surrogate',
  'high at the end \udbff',
  '\u2028 line and paragraph \u2029 separators',
  'x'.repeat(5000),
];

describe('JsonBytes', () => {
  it('writes strings exactly as JSON.stringify does, escapes and UTF-8 included', () => {
    const w = new JsonBytes();
    const buf = Buffer.alloc(64 * 1024);
    for (const s of TRICKY_STRINGS) {
      w.reset(buf, 0, buf.length);
      w.string(s);
      assert.equal(w.overflow, false);
      assert.equal(buf.toString('utf8', 0, w.pos), JSON.stringify(s), `string ${JSON.stringify(s).slice(0, 40)}`);
    }
  });

  it('writes numbers as JSON.stringify does, and integers in base 36 as toString(36)', () => {
    const w = new JsonBytes();
    const buf = Buffer.alloc(256);
    for (const n of [0, -0, 1, -1, 42, 2 ** 53 - 1, -(2 ** 53 - 1), 1.5, -0.25, 1e21, 1e-7, 2 ** 60, NaN, Infinity, -Infinity, Date.now()]) {
      w.reset(buf, 0, buf.length);
      w.number(n);
      assert.equal(buf.toString('utf8', 0, w.pos), JSON.stringify(n), `number ${n}`);
    }
    for (const n of [0, 35, 36, 1295, 1296, 123_456_789, 2 ** 53 - 1]) {
      w.reset(buf, 0, buf.length);
      w.integer(n, 36);
      assert.equal(buf.toString('latin1', 0, w.pos), n.toString(36));
    }
  });

  it('never writes past its limit, and says it overflowed', () => {
    const w = new JsonBytes();
    const buf = Buffer.alloc(64, 0xee);
    for (const s of ['a'.repeat(40), 'é'.repeat(20), '😀'.repeat(10), '\u0001'.repeat(10)]) {
      buf.fill(0xee);
      w.reset(buf, 0, 32);
      w.string(s);
      assert.equal(w.overflow, true, JSON.stringify(s));
      assert.ok(buf.subarray(32).every((b) => b === 0xee), 'nothing written beyond the limit');
    }
    w.reset(buf, 30, 32);
    w.integer(123_456);
    assert.equal(w.overflow, true);
  });
});

describe('TelemetryPublisher', () => {
  it('encodes events, logs and spans into messages that match the protocol schemas, item by item', async () => {
    const js = new RecordingJetStream();
    const publisher = publisherWith(js, { maxBatchItems: 100 });
    const ids: string[] = [];
    const sent: Record<string, unknown>[] = [];
    for (let i = 0; i < 250; i++) {
      const fields = { tenant: TRICKY_STRINGS[i % TRICKY_STRINGS.length]!.slice(0, 100), session: `s${i}`, stream: 'orders', attrs: { bytes: i, ratio: i / 7, ok: i % 2 === 0, plan: 'team "pro"' } };
      ids.push(publisher.enqueueEvent('stream.opened', fields, i % 3 ? 'a'.repeat(32) : undefined));
      sent.push({ type: 'stream.opened', ...fields, ...(i % 3 ? { traceId: 'a'.repeat(32) } : {}) });
    }
    publisher.enqueueEvent('session.started', {}, undefined);
    publisher.enqueueLog('warn', 'upstream "slow"\n', { upstream: 'billing', ms: 12.5, retried: true, tags: ['a', 'b'], none: undefined, nothing: null as unknown as string, nan: NaN }, { traceId: 'b'.repeat(32), spanId: 'c'.repeat(16) });
    publisher.enqueueLog('info', 'no attributes', undefined, {});
    publisher.enqueueSpan(
      { name: 'scope-a', version: '1.0.0' },
      { traceId: 'd'.repeat(32), spanId: 'e'.repeat(16), name: 'GET /x', kind: 2, startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [{ key: 'k', value: { stringValue: 'v' } }], status: { code: 0 } },
    );
    publisher.enqueueSpan({ name: 'scope-b' }, { traceId: 'd'.repeat(32), spanId: 'f'.repeat(16), parentSpanId: 'e'.repeat(16), name: 'child', kind: 1, startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [], status: { code: 2, message: 'boom' } });
    assert.equal(await publisher.settled(5000), true);

    const messages = js.messages();
    const events: EventBatch['events'] = [];
    const logs: LogBatch['logs'] = [];
    const spans: SpanBatch['resourceSpans'] = [];
    const seqs: Record<string, number[]> = {};
    for (const m of messages) {
      const parsed = check(TelemetryMessageSchema, m.body);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
      const message = parsed.value;
      assert.equal(m.msgID, message.id, 'the Nats-Msg-Id is the message id');
      assert.equal(m.subject, `sg.tel.${message.kind}.svc.pod-1`);
      assert.equal(message.id, `pod-1.${message.kind}.b00t.${message.seq}`);
      (seqs[message.kind] ??= []).push(message.seq);
      if (message.kind === 'events') events.push(...valid(EventBatchSchema, m.body).events);
      if (message.kind === 'logs') logs.push(...valid(LogBatchSchema, m.body).logs);
      if (message.kind === 'spans') spans.push(...valid(SpanBatchSchema, m.body).resourceSpans);
    }
    assert.deepEqual(seqs.events, [0, 1, 2], '251 events in messages of at most 100, numbered in order');
    assert.equal(events.length, 251);
    assert.deepEqual(events.slice(0, 250).map((e) => e.id), ids, 'ids as returned, in order');
    for (let i = 0; i < 250; i++) {
      const { id, ts, ...rest } = events[i]!;
      assert.ok(id.startsWith('pod-1.b00t.'));
      assert.ok(Math.abs(ts - Date.now()) < 60_000);
      assert.deepEqual(rest, sent[i]);
    }
    assert.deepEqual(events[250]!.type, 'session.started');
    assert.deepEqual(logs.map(({ id: _id, ts: _ts, ...rest }) => rest), [
      { level: 'warn', msg: 'upstream "slow"\n', traceId: 'b'.repeat(32), spanId: 'c'.repeat(16), attrs: { upstream: 'billing', ms: 12.5, retried: true, tags: '["a","b"]', nan: 'NaN' } },
      { level: 'info', msg: 'no attributes' },
    ]);
    assert.deepEqual(
      spans.map((r) => ({ resource: r.resource.attributes.map((a) => `${a.key}=${a.value.stringValue}`), scopes: r.scopeSpans.map((s) => ({ scope: s.scope, spans: s.spans.map((x) => x.name) })) })),
      [
        { resource: ['service.name=svc', 'service.instance.id=pod-1'], scopes: [{ scope: { name: 'scope-a', version: '1.0.0' }, spans: ['GET /x'] }] },
        { resource: ['service.name=svc', 'service.instance.id=pod-1'], scopes: [{ scope: { name: 'scope-b' }, spans: ['child'] }] },
      ],
    );
    const stats = publisher.snapshot();
    assert.deepEqual([stats.published.events, stats.published.logs, stats.published.spans, stats.buffered], [251, 2, 2, 0]);
  });

  it('retries a failed publish with the same id and the same bytes, which it does not reuse meanwhile', async () => {
    const js = new RecordingJetStream();
    const publisher = publisherWith(js);
    js.failNext = 1;
    for (let i = 0; i < 10; i++) publisher.enqueueEvent('stream.opened', { stream: `first-${i}` }, undefined);
    await publisher.flush();
    // While the first message waits for its retry, more events are encoded (into other buffers).
    for (let i = 0; i < 500; i++) publisher.enqueueEvent('stream.opened', { stream: `later-${i}` }, undefined);
    assert.equal(await publisher.settled(5000), true);
    const first = js.published[0]!;
    const retries = js.published.filter((p) => p.msgID === first.msgID);
    assert.equal(retries.length, 2, 'published twice under one id');
    assert.ok(retries[1]!.bytes.equals(first.bytes), 'the retry sends the same bytes');
    assert.ok(Buffer.from(first.handed).equals(first.bytes), 'the failed message was not overwritten while it waited');
    const stats = publisher.snapshot();
    assert.equal(stats.published.events, 510);
    assert.equal(stats.publishErrors, 1);
    assert.equal(stats.dropped.events, 0);
    const eventIds = js.messages().flatMap((m) => (m.body as EventBatch).events.map((e) => e.id));
    assert.equal(new Set(eventIds).size, 510);
  });

  it('drops the oldest items beyond its buffer, counting exactly, and sends the newest', async () => {
    const js = new RecordingJetStream();
    const publisher = publisherWith(js, { maxBufferedItems: 150, maxBatchItems: 40 });
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) ids.push(publisher.enqueueEvent('stream.opened', { stream: `s${i}` }, undefined));
    assert.equal(publisher.snapshot().buffered, 150);
    assert.equal(await publisher.settled(5000), true);
    const stats = publisher.snapshot();
    assert.equal(stats.dropped.events, 850);
    assert.equal(stats.published.events, 150);
    const sent = js.messages().flatMap((m) => (m.body as EventBatch).events.map((e) => e.id));
    assert.deepEqual(sent, ids.slice(850));
  });

  it('cuts messages to the server\'s max payload and drops, counts and explains a record larger than it', async () => {
    const js = new RecordingJetStream();
    const publisher = publisherWith(js, {}, 2048);
    for (let i = 0; i < 20; i++) publisher.enqueueLog('info', `record ${i} ${'x'.repeat(300)}`, undefined, {});
    publisher.enqueueLog('info', 'y'.repeat(3000), undefined, {});
    publisher.enqueueLog('info', 'after the big one', undefined, {});
    assert.equal(await publisher.settled(5000), true);
    const stats = publisher.snapshot();
    assert.equal(stats.published.logs, 21);
    assert.equal(stats.dropped.logs, 1);
    assert.match(stats.lastPermanentError ?? '', /larger than the server's limit/);
    assert.ok(js.published.length >= 5, `${js.published.length} messages`);
    for (const p of js.published) assert.ok(p.bytes.length <= 2048, `a message of ${p.bytes.length} bytes`);
    const msgs = js.messages().flatMap((m) => valid(LogBatchSchema, m.body).logs.map((l) => l.msg));
    assert.equal(msgs.at(-1), 'after the big one');
  });

  it('gives a record larger than a pooled buffer a buffer of its own', async () => {
    const js = new RecordingJetStream();
    const publisher = publisherWith(js);
    const big = 'z'.repeat(200 * 1024);
    publisher.enqueueLog('info', 'small', undefined, {});
    publisher.enqueueLog('info', big, undefined, {});
    publisher.enqueueLog('info', 'small again', undefined, {});
    assert.equal(await publisher.settled(5000), true);
    const msgs = js.messages().flatMap((m) => valid(LogBatchSchema, m.body).logs.map((l) => l.msg));
    assert.deepEqual(msgs, ['small', big, 'small again']);
  });

  it('gives up on a message the server refuses as too large, counting its items', async () => {
    const js = new RecordingJetStream();
    js.failNext = 1;
    js.failWith = Object.assign(new Error('MAX_PAYLOAD_EXCEEDED'), { code: 'MAX_PAYLOAD_EXCEEDED' });
    const publisher = publisherWith(js);
    for (let i = 0; i < 7; i++) publisher.enqueueEvent('auth.failed', {}, undefined);
    assert.equal(await publisher.settled(5000), true);
    const stats = publisher.snapshot();
    assert.equal(stats.dropped.events, 7);
    assert.equal(js.published.length, 1, 'not retried');
  });
});
