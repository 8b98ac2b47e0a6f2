/** The pod agent in this process against a real nats-server with JetStream. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { context, trace } from '@opentelemetry/api';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { Profile } from 'pprof-format';
import { extractTraceContext, injectTraceHeaders, setupTracing, startAgent, type Agent } from '../../src/agent';
import { fetchProfile, listPods, PodError } from '../../src/common/podClient';
import { ensureStreamsAt } from '../../src/common/streams';
import { startNatsServer } from '../../src/launch/nats';
import { findExecutable, freePort, httpOk, spawnService, waitUntil } from '../../src/launch/process';
import { LOADTEST_TENANT } from '../../demo/gateway/tenants';
import { TelemetryMessageSchema, type EventBatch, type SpanBatch } from '../../src/protocol/nats';
import { check } from '../../src/protocol/schema';
import { eventually, ownNats, repoRoot, sharedNats, tempDir, type Shared } from '../support/services';
import { readTelemetry } from '../support/telemetry';

/** Real CPU work with a name a profile can find. */
function spinHotLoop(ms: number): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) for (let i = 0; i < 10_000; i++) x += Math.sqrt(i * x + 1);
  return x;
}

function topFunction(gzipped: Buffer): { name: string; file: string } {
  const profile = Profile.decode(gunzipSync(gzipped));
  const strings = profile.stringTable.strings;
  const self = new Map<string, number>();
  for (const sample of profile.sample) {
    const location = profile.location.find((l) => l.id === sample.locationId[0])!;
    const fn = profile.function.find((f) => f.id === location.line[0]!.functionId)!;
    const key = `${strings[Number(fn.name)]}\0${strings[Number(fn.filename)]}`;
    self.set(key, (self.get(key) ?? 0) + Number(sample.value[0]));
  }
  const [key] = [...self.entries()].sort((a, b) => b[1] - a[1])[0]!;
  const [name, file] = key.split('\0') as [string, string];
  return { name, file };
}

describe('pod agent', () => {
  let nats: Shared;
  let nc: NatsConnection;
  let agent: Agent;
  const pod = `agent-test-${process.pid}`;

  before(async () => {
    nats = await sharedNats();
    await ensureStreamsAt(nats.url);
    nc = await connect({ servers: nats.url });
    agent = await startAgent({ nats: nats.url, service: 'itest', pod, version: '2.3.4', labels: { region: 'eu-west', zone: 'eu-west-1b', node: 'n7' } });
  });
  after(async () => {
    await agent.stop();
    await nc.close();
    await nats.stop();
  });

  it('registers for discovery with its service, version and labels, and leaves when stopped', async () => {
    const pods = await listPods(nc, { selector: { service: 'itest' } });
    const me = pods.find((p) => p.pod === pod);
    assert.ok(me, `listed: ${pods.map((p) => p.pod).join(', ')}`);
    assert.equal(me.version, '2.3.4');
    assert.deepEqual(me.labels, { region: 'eu-west', zone: 'eu-west-1b', node: 'n7' });
    assert.ok(Date.now() - me.startedAt < 120_000);

    const other = await startAgent({ nats: nats.url, service: 'itest', pod: `${pod}-b`, version: '2.3.4', labels: { region: 'us-east' } });
    try {
      assert.deepEqual((await listPods(nc, { selector: { region: 'us-east' } })).map((p) => p.pod), [`${pod}-b`]);
    } finally {
      await other.stop();
    }
    assert.equal((await listPods(nc)).some((p) => p.pod === `${pod}-b`), false);
  });

  it('publishes telemetry that matches the protocol, with unique ids that are also the JetStream message ids', async () => {
    const tracing = setupTracing(agent.spanExporter, 'itest', '2.3.4', { sampleRatio: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 2000; i++) ids.push(agent.event('session.started', { tenant: `t${i % 7}`, session: `s${i}` }));
    for (let i = 0; i < 50; i++) agent.log(i % 10 ? 'info' : 'warn', `line ${i}`, { i });
    agent.counter('itest_requests_total', { route: '/a' }).inc(5);
    for (let i = 1; i <= 100; i++) agent.histogram('itest_latency_ms').record(i);
    const span = tracing.tracer.startSpan('itest.work');
    context.with(trace.setSpan(context.active(), span), () => agent.log('info', 'inside a span'));
    span.end();
    assert.equal(await agent.flush(), true, 'everything acknowledged');

    const messages = await readTelemetry(nc, `sg.tel.*.itest.${pod}`);
    assert.ok(messages.length > 0);
    const messageIds = new Set<string>();
    const eventIds = new Set<string>();
    for (const m of messages) {
      const parsed = check(TelemetryMessageSchema, m.body);
      assert.ok(parsed.ok, `${m.subject}: ${!parsed.ok ? parsed.error : ''}`);
      assert.equal(m.msgId, parsed.value.id, 'Nats-Msg-Id is the message id');
      assert.ok(!messageIds.has(parsed.value.id), `duplicate message id ${parsed.value.id}`);
      messageIds.add(parsed.value.id);
      assert.equal(m.subject, `sg.tel.${parsed.value.kind}.itest.${pod}`);
      if (parsed.value.kind === 'events') for (const e of (parsed.value).events) eventIds.add(e.id);
    }
    assert.equal(eventIds.size, 2000);
    for (const id of ids) assert.ok(eventIds.has(id), `event ${id} arrived`);

    const metrics = messages.map((m) => m.body as { kind: string; counters?: { name: string; total: number }[]; histograms?: { name: string; p99: number }[] }).filter((b) => b.kind === 'metrics');
    assert.ok(metrics.some((b) => b.counters?.some((c) => c.name === 'itest_requests_total' && c.total === 5)));
    const latency = metrics.flatMap((b) => b.histograms ?? []).find((h) => h.name === 'itest_latency_ms');
    assert.ok(latency && Math.abs(latency.p99 - 99) / 99 < 0.02, `p99 ${latency?.p99}`);
    for (const runtime of ['process_cpu_percent', 'process_rss_bytes', 'nodejs_heap_used_bytes', 'nodejs_eventloop_delay_p99_ms', 'nodejs_active_handles']) {
      assert.ok(metrics.some((b) => (b as { gauges?: { name: string }[] }).gauges?.some((g) => g.name === runtime)), `runtime metric ${runtime}`);
    }
    const logs = messages.flatMap((m) => ((m.body as { kind: string }).kind === 'logs' ? (m.body as { logs: { msg: string; traceId?: string }[] }).logs : []));
    assert.equal(logs.find((l) => l.msg === 'inside a span')?.traceId, span.spanContext().traceId, 'logs carry the trace id');
    const spans = messages.flatMap((m) => ((m.body as { kind: string }).kind === 'spans' ? (m.body as SpanBatch).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)) : []));
    assert.ok(spans.some((s) => s.name === 'itest.work' && s.traceId === span.spanContext().traceId));
  });

  it('carries W3C trace context between pods in NATS headers', async () => {
    const tracer = trace.getTracer('itest');
    const producer = tracer.startSpan('publish');
    const headers = injectTraceHeaders(natsHeaders(), trace.setSpan(context.active(), producer));
    assert.match(headers.get('traceparent'), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const consumer = tracer.startSpan('deliver', {}, extractTraceContext(headers));
    consumer.end();
    producer.end();
    await agent.flush();
    const spans = (await readTelemetry(nc, `sg.tel.spans.itest.${pod}`)).flatMap((m) => (m.body as SpanBatch).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    const deliver = spans.find((s) => s.name === 'deliver' && s.traceId === producer.spanContext().traceId);
    assert.ok(deliver, 'the consumer span joined the producer trace');
    assert.equal(deliver.parentSpanId, producer.spanContext().spanId);
  });

  it('drops the oldest items when its buffer is full, and counts them', async () => {
    const small = await startAgent({ nats: nats.url, service: 'itest', pod: `${pod}-small`, version: '1.0.0', maxBufferedItems: 100 });
    for (let i = 0; i < 1000; i++) small.event('stream.opened', { stream: `s${i}` });
    await small.flush();
    const health = small.health();
    assert.equal(health.dropped.events, 900);
    assert.equal(health.published.events, 100);
    await small.stop();
  });

  it('serves a CPU profile whose top function is the hot one, and a heap profile', async () => {
    const busy = setInterval(() => spinHotLoop(40), 50);
    try {
      const profile = await fetchProfile(nc, pod, { type: 'cpu', seconds: 2 });
      const top = topFunction(profile);
      assert.equal(top.name, 'spinHotLoop');
      assert.match(top.file, /test\/integration\/agent\.test\.ts$/, 'mapped to the TypeScript source');
    } finally {
      clearInterval(busy);
    }
    // Other agents in this process share its V8 isolate and may have restarted the heap sampler: make sure
    // it runs, then keep ~16 MB alive for it to see.
    await fetchProfile(nc, pod, { type: 'heap' });
    const retained = Array.from({ length: 64 }, (_, i) => Array.from({ length: 4000 }, (_, j) => ({ i, j, label: `object-${i}-${j}` })));
    const heap = Profile.decode(gunzipSync(await fetchProfile(nc, pod, { type: 'heap' })));
    assert.equal(retained.length, 64);
    const strings = heap.stringTable.strings;
    assert.deepEqual(heap.sampleType.map((t) => strings[Number(t.type)]), ['inuse_objects', 'inuse_space']);
    assert.ok(heap.sample.length > 0);
  });

  it('answers bad requests, a busy profiler and a gone pod with clear errors', async () => {
    await assert.rejects(fetchProfile(nc, pod, { type: 'cpu', seconds: 0 }), (e: unknown) => e instanceof PodError && e.code === 400 && /seconds must be at least 1/.test(e.message));
    await assert.rejects(fetchProfile(nc, pod, { type: 'goroutine' } as never), /profile type must be "cpu" or "heap"/);
    const first = fetchProfile(nc, pod, { type: 'cpu', seconds: 2 });
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(fetchProfile(nc, pod, { type: 'cpu', seconds: 1 }), (e: unknown) => e instanceof PodError && e.code === 409 && /already running/.test(e.message));
    await first;
    await assert.rejects(fetchProfile(nc, 'no-such-pod', { type: 'heap' }), /pod no-such-pod is not running/);
  });

  it('serves Go\'s /debug/pprof paths, which go tool pprof reads', async () => {
    const go = findExecutable('go');
    assert.ok(go, 'Go is installed by npm test (apt-get install golang-go)');
    const server: Server = createServer((req, res) => {
      if (!agent.handlePprof(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const busy = setInterval(() => spinHotLoop(40), 50);
    try {
      const bad = await fetch(`http://127.0.0.1:${port}/debug/pprof/profile?seconds=abc`);
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /bad seconds "abc"/);
      // The server is in this process: run go tool pprof without blocking the event loop.
      const pprof = (url: string) => promisify(execFile)(go, ['tool', 'pprof', '-top', url], { env: { ...process.env, HOME: tempDir(), PPROF_TMPDIR: tempDir() } });
      const { stdout: out } = await pprof(`http://127.0.0.1:${port}/debug/pprof/profile?seconds=2`);
      assert.match(out, /Type: cpu/);
      const firstRow = out.split('\n').find((l) => /^\s+[\d.]+m?s\s/.test(l));
      assert.match(firstRow ?? '', /spinHotLoop/, out);
      const { stdout: heapOut } = await pprof(`http://127.0.0.1:${port}/debug/pprof/heap`);
      assert.match(heapOut, /Type: inuse_space/);
    } finally {
      clearInterval(busy);
      server.close();
    }
  });
});

describe('pod agent faults', () => {
  it('refuses a version that is not semver before touching NATS, and lists no pods on an empty server', async () => {
    const server = await startNatsServer();
    try {
      await assert.rejects(startAgent({ nats: server.url, service: 's', pod: 'p', version: 'latest' }), /version must be a semantic version such as 1\.4\.2, not "latest"/);
      const nc = await connect({ servers: server.url });
      assert.deepEqual(await listPods(nc), []);
      await nc.close();
    } finally {
      await server.stop();
    }
  });

  it('sends profiles larger than the server\'s max payload in chunks that reassemble exactly', async () => {
    const dir = tempDir();
    const config = join(dir, 'small.conf');
    writeFileSync(config, 'max_payload: 1024\n');
    const server = await startNatsServer({ extraArgs: ['-c', config] });
    await ensureStreamsAt(server.url);
    const agent = await startAgent({ nats: server.url, service: 'itest', pod: 'chunky', version: '1.0.0', cpuIntervalMicros: 100 });
    const nc = await connect({ servers: server.url });
    // Varied work (JSON, regular expressions, sorting, hashing) makes a profile with many functions.
    const busy = setInterval(() => {
      const data = Array.from({ length: 2000 }, (_, i) => ({ i, s: `item-${i}`, tags: [i % 3, i % 5] }));
      JSON.parse(JSON.stringify(data)).sort((a: { s: string }, b: { s: string }) => a.s.localeCompare(b.s));
      for (const d of data) /item-(\d+)/.exec(d.s);
      new Map(data.map((d) => [d.s, d])).forEach(() => {});
    }, 5);
    try {
      assert.equal(nc.info?.max_payload, 1024);
      const profile = await fetchProfile(nc, 'chunky', { type: 'cpu', seconds: 2 });
      assert.ok(profile.length > 2048, `a profile of ${profile.length} bytes needs several chunks of 512`);
      assert.ok(Profile.decode(gunzipSync(profile)).sample.length > 0);

      // Telemetry is split to fit too; a single record larger than the server takes is dropped and counted.
      for (let i = 0; i < 5; i++) agent.log('info', `record ${i} ${'x'.repeat(300)}`);
      agent.log('info', 'y'.repeat(3000));
      assert.equal(await agent.flush(), true);
      const health = agent.health();
      assert.equal(health.published.logs, 5);
      assert.equal(health.dropped.logs, 1);
    } finally {
      clearInterval(busy);
      await agent.stop();
      await nc.close();
      await server.stop();
    }
  });

  it('loses nothing across a NATS kill and restart under 10 s', async () => {
    const server = await ownNats();
    await ensureStreamsAt(server.url);
    const agent = await startAgent({ nats: server.url, service: 'itest', pod: 'survivor', version: '1.0.0' });
    const nc0 = await connect({ servers: server.url, maxReconnectAttempts: -1 });
    const sent: string[] = [];
    const producer = setInterval(() => {
      for (let i = 0; i < 20; i++) sent.push(agent.event('stream.opened', { stream: `s${sent.length}` }));
    }, 50);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      await server.restart({ downMs: 3000 });
      await new Promise((r) => setTimeout(r, 1500));
      clearInterval(producer);
      await eventually('the agent to drain after the restart', async () => (await agent.flush(5000)) && agent.health().buffered === 0, 30_000);
      const health = agent.health();
      assert.deepEqual(health.dropped, { metrics: 0, spans: 0, events: 0, logs: 0, truth: 0 });
      const stored = await readTelemetry(nc0, 'sg.tel.events.itest.survivor');
      const ids = stored.flatMap((m) => (m.body as EventBatch).events.map((e) => e.id));
      assert.equal(new Set(ids).size, ids.length, 'no event stored twice');
      const missing = sent.filter((id) => !ids.includes(id));
      assert.deepEqual(missing, [], `${missing.length} of ${sent.length} events lost`);
      assert.ok(sent.length > 500);
    } finally {
      clearInterval(producer);
      await agent.stop();
      await nc0.close();
      await server.stop();
    }
  });
});

describe('tracing in the sandbox gateway', () => {
  it('joins a caller\'s sampled trace and passes it on to the fan-out, forwards an unsampled one, and traces nothing else', async () => {
    const nats = await sharedNats();
    await ensureStreamsAt(nats.url);
    const nc = await connect({ servers: nats.url });
    const port = await freePort();
    const dir = tempDir();
    const pod = `trace-gw-${process.pid}`;
    // Sampling ratio 0: only a caller's sampled trace may produce spans.
    const gateway = spawnService('gateway', process.execPath, [join(repoRoot, 'dist', 'demo', 'gateway.js'), '--pod', pod, '--port', String(port), '--nats', nats.url, '--data-dir', dir, '--state-dir', dir, '--trace-sample', '0'], { logFile: join(dir, 'gateway.log') });
    const fanout: { traceparent: string | undefined; stream: string }[] = [];
    const sub = nc.subscribe('gw.msg.>', { callback: (_e, m) => fanout.push({ traceparent: m.headers?.get('traceparent') || undefined, stream: m.subject.split('.').at(-1)! }) });
    try {
      await waitUntil('the gateway', () => httpOk(`http://127.0.0.1:${port}/healthz`), { service: gateway });
      const post = async (stream: string, traceparent?: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/v1/streams/${stream}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${LOADTEST_TENANT.apiKey}`, 'content-type': 'application/json', ...(traceparent ? { traceparent } : {}) },
          body: JSON.stringify({ hello: stream }),
        });
        assert.equal(res.status, 202);
      };
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      await post('sampled', `00-${traceId}-b7ad6b7169203331-01`);
      await post('unsampled', `00-${traceId.replace('0a', '1b')}-b7ad6b7169203331-00`);
      for (let i = 0; i < 20; i++) await post('untraced');
      await eventually('22 fan-out messages', () => fanout.length === 22);

      const unsampled = fanout.find((m) => m.stream === 'unsampled');
      assert.equal(unsampled?.traceparent, `00-${traceId.replace('0a', '1b')}-b7ad6b7169203331-00`, 'the caller\'s unsampled context goes on unchanged');
      assert.deepEqual(fanout.filter((m) => m.stream === 'untraced').map((m) => m.traceparent), Array(20).fill(undefined), 'no trace headers for untraced requests');
      const sampled = fanout.find((m) => m.stream === 'sampled');
      const [, outTrace, outParent, outFlags] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(sampled?.traceparent ?? '') ?? [];
      assert.equal(outTrace, traceId);
      assert.equal(outFlags, '01');

      // The gateway's spans reach the telemetry stream as OTLP: the server span is the caller's child, the
      // producer span the server span's child, and the fan-out carries the producer span's id.
      const spansOf = async () => (await readTelemetry(nc, `sg.tel.spans.gateway.${pod}`)).flatMap((m) => {
        const parsed = check(TelemetryMessageSchema, m.body);
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
        return (m.body as SpanBatch).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      });
      await eventually('the gateway to export its spans', async () => (await spansOf()).length >= 2);
      const spans = await spansOf();
      assert.deepEqual(new Set(spans.map((s) => s.traceId)), new Set([traceId]), 'spans of the sampled trace only');
      const server = spans.find((s) => s.name === 'POST /v1/streams/:stream/messages');
      const producer = spans.find((s) => s.name === 'fanout.publish');
      assert.equal(server?.parentSpanId, 'b7ad6b7169203331');
      assert.equal(server.kind, 2);
      assert.ok(server.attributes.some((a) => a.key === 'http.status_code' && a.value.intValue === 202));
      assert.equal(producer?.parentSpanId, server.spanId);
      assert.equal(outParent, producer.spanId);
    } finally {
      sub.unsubscribe();
      await gateway.stop();
      await nc.close();
      await nats.stop();
    }
  });
});
