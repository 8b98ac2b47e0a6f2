/**
 * Traces into the server over OTLP/HTTP, as any OpenTelemetry-instrumented service sends them: the real
 * OTLP exporters (JSON and protobuf) against `sg server`'s listener, then search, assembly and the `sg traces`
 * command through the sg-server service. Both stores: DuckDB and the run's ClickHouse (18.16 here).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TraceJson } from '../../src/protocol/traces';
import { startHeadless, type HeadlessServer } from '../../src/server/headless';
import { eventually, repoRoot, sharedClickHouse, sharedNats, tempDir, type Shared } from '../support/services';

const cli = join(repoRoot, 'dist', 'cli.js');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A checkout request as a real SDK records it: server span, a client call, an internal step that fails. */
async function sendTrace(exporter: SpanExporter, service: string): Promise<string> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-1` }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('otlp-test', '1.0.0');
  const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'http.route': 'POST /checkout', 'http.method': 'POST' } });
  const ctx = trace.setSpan(context.active(), root);
  const call = tracer.startSpan('GET inventory', { kind: SpanKind.CLIENT, attributes: { 'code.filepath': '/srv/shop/inventory.ts', 'code.lineno': 42, tags: 'a' } }, ctx);
  call.addEvent('retry', { attempt: 2 });
  await new Promise((r) => setTimeout(r, 5));
  call.end();
  const step = tracer.startSpan('charge card', { kind: SpanKind.INTERNAL }, ctx);
  step.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
  step.end();
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
  return root.spanContext().traceId;
}

for (const engine of ['duckdb', 'clickhouse'] as const) {
  describe(`OTLP/HTTP traces into sg server (${engine})`, () => {
    let nats: Shared;
    let clickhouse: Shared | undefined;
    let server: HeadlessServer;

    before(async () => {
      nats = await sharedNats();
      const store =
        engine === 'duckdb'
          ? { kind: 'duckdb' as const, path: join(tempDir(), 'traces.duckdb') }
          : { kind: 'clickhouse' as const, url: (clickhouse = await sharedClickHouse()).url, database: `sg_traces_${process.pid}` };
      server = await startHeadless({ nats: { url: nats.url }, store, mode: 'embedded' }, { logLevel: 'warn' });
      await eventually('ingest running', () => server.backend.status().ingest?.state === 'running', 30_000);
    });

    after(async () => {
      await server.close();
      await clickhouse?.stop();
      await nats.stop();
    });

    it('takes a trace from the real OTLP/JSON exporter and assembles it', async () => {
      const traceId = await sendTrace(new JsonExporter({ url: `${server.url}/v1/traces` }), 'checkout');
      let found = false;
      await eventually('the trace in the search', async () => {
        const result = await server.backend.traces.search({ service: 'checkout' });
        found = result.traces.some((t) => t.traceId === traceId);
        return found;
      });
      const summary = (await server.backend.traces.search({ service: 'checkout' })).traces.find((t) => t.traceId === traceId)!;
      assert.equal(summary.spans, 3);
      assert.equal(summary.errors, 1);
      assert.equal(summary.route, 'POST /checkout');
      assert.ok(summary.hasRoot);
      // The id in upper case finds the same trace.
      const assembled = await server.backend.traces.get(traceId.toUpperCase());
      assert.equal(assembled.traceId, traceId);
      assert.deepEqual(assembled.spans.map((s) => [s.depth, s.name]), [
        [0, 'POST /checkout'],
        [1, 'GET inventory'],
        [1, 'charge card'],
      ]);
      const call = assembled.spans[1]!;
      assert.equal(call.attributes['code.filepath'], '/srv/shop/inventory.ts');
      assert.equal(call.attributes['code.lineno'], 42);
      assert.equal(call.kind, 3);
      assert.deepEqual(call.events.map((e) => [e.name, e.attributes.attempt]), [['retry', 2]]);
      assert.equal(assembled.spans[2]!.status, 'error');
      assert.equal(assembled.spans[2]!.statusMessage, 'card declined');
      assert.ok(assembled.criticalPath.length > 0, 'a critical path');
      assert.ok(call.criticalMs > 0, 'the 5 ms call is on the critical path');
      assert.deepEqual(assembled.stats.byService.map((s) => [s.service, s.count]), [['checkout', 3]]);
      // Another service is not matched.
      const other = await server.backend.traces.search({ service: 'nobody' });
      assert.equal(other.traces.filter((t) => t.traceId === traceId).length, 0);
    });

    it('takes a trace from the real OTLP/protobuf exporter', async () => {
      const traceId = await sendTrace(new ProtoExporter({ url: `${server.url}/v1/traces` }), 'billing');
      await eventually('the protobuf trace in the search', async () => (await server.backend.traces.search({ service: 'billing' })).traces.some((t) => t.traceId === traceId));
      const assembled = await server.backend.traces.get(traceId);
      assert.deepEqual(assembled.spans.map((s) => s.name), ['POST /checkout', 'GET inventory', 'charge card']);
      assert.equal(assembled.spans[1]!.attributes['code.lineno'], 42);
      assert.equal(assembled.spans[1]!.pod, 'billing-1');
    });

    it('accepts ids in upper case, shortens a huge attribute, rejects a bad span and says so', async () => {
      const traceId = 'ABCDEF0123456789ABCDEF0123456789';
      const now = BigInt(Date.now()) * 1_000_000n;
      const span = (spanId: string, parent: string | undefined, extra: Record<string, unknown> = {}) => ({
        traceId,
        spanId,
        ...(parent ? { parentSpanId: parent } : {}),
        name: `span ${spanId.slice(0, 4)}`,
        kind: 2,
        startTimeUnixNano: String(now),
        endTimeUnixNano: String(now + 2_000_000n),
        attributes: [{ key: 'http.route', value: { stringValue: 'GET /big' } }],
        status: { code: 0 },
        ...extra,
      });
      const huge = 'x'.repeat(200_000);
      const body = {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'upper' } }] },
            scopeSpans: [
              {
                scope: { name: 'raw' },
                spans: [
                  span('AAAAAAAAAAAAAAAA', undefined),
                  span('BBBBBBBBBBBBBBBB', 'AAAAAAAAAAAAAAAA', { attributes: [{ key: 'payload', value: { stringValue: huge } }, { key: 'list', value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'two' }] } } }] }),
                  span('not-an-id', 'AAAAAAAAAAAAAAAA'),
                ],
              },
            ],
          },
        ],
      };
      const response = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(response.status, 200);
      const answer = (await response.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
      assert.equal(answer.partialSuccess.rejectedSpans, '1');
      assert.match(answer.partialSuccess.errorMessage, /spans\[2\] \(span not-\): .*spanId must be 16 hex digits/);
      assert.match(answer.partialSuccess.errorMessage, /1 attribute value\(s\) longer than 65536 characters were shortened/);
      await eventually('the raw trace stored', async () => (await server.backend.traces.search({ service: 'upper' })).traces.length === 1);
      const assembled = await server.backend.traces.get(traceId.toLowerCase());
      assert.deepEqual(assembled.spans.map((s) => [s.spanId, s.parentSpanId]), [
        ['aaaaaaaaaaaaaaaa', ''],
        ['bbbbbbbbbbbbbbbb', 'aaaaaaaaaaaaaaaa'],
      ]);
      const big = assembled.spans[1]!.attributes;
      assert.equal((big.payload as string).length, 65_536 + '… [shortened by the StreamGate server from 200000 characters]'.length);
      assert.equal(big['sg.shortened_attributes'], 'payload (200000 characters)');
      assert.equal(big.list, '[1,"two"]');
      assert.equal(assembled.problems.longAttributes, 1);
    });

    it('answers bad requests with a clear status', async () => {
      const get = await fetch(`${server.url}/v1/traces`);
      assert.equal(get.status, 405);
      const text = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
      assert.equal(text.status, 415);
      assert.match(((await text.json()) as { message: string }).message, /content-type must be application\/json or application\/x-protobuf/);
      const notJson = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
      assert.equal(notJson.status, 400);
      const badProto = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array([0x0a, 0x7f, 0x01]) });
      assert.equal(badProto.status, 400);
      assert.match(((await badProto.json()) as { message: string }).message, /not an OTLP protobuf ExportTraceServiceRequest: a message of 127 bytes runs past the end/);
    });

    if (engine === 'duckdb') {
      it('sg traces search and show print the documented JSON', async () => {
        await eventually('a checkout trace', async () => (await server.backend.traces.search({ service: 'checkout' })).traces.length > 0);
        const search = await runCli(['traces', 'search', '--service', 'checkout', '--errors', '--json', '--nats', nats.url]);
        assert.equal(search.code, 0, search.stderr);
        const found = JSON.parse(search.stdout) as { traces: { traceId: string; errors: number }[] };
        assert.ok(found.traces.length >= 1);
        const id = found.traces[0]!.traceId;
        const show = await runCli(['traces', 'show', id.toUpperCase(), '--json', '--nats', nats.url]);
        assert.equal(show.code, 0, show.stderr);
        const json = JSON.parse(show.stdout) as TraceJson;
        assert.deepEqual(Object.keys(json), ['traceId', 'spans']);
        assert.equal(json.traceId, id);
        assert.equal(json.spans.length, 3);
        for (const span of json.spans) assert.deepEqual(Object.keys(span), ['spanId', 'parentSpanId', 'service', 'name', 'start', 'durationMs', 'status', 'attributes']);
        assert.equal(json.spans[0]!.parentSpanId, null);
        assert.equal(json.spans[1]!.parentSpanId, json.spans[0]!.spanId);
        assert.deepEqual(json.spans.map((s) => s.status), ['unset', 'unset', 'error']);
        const text = await runCli(['traces', 'show', id, '--nats', nats.url]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /^trace [0-9a-f]{32} · POST \/checkout · .* · 3 spans · 1 services · 1 errors/);
        assert.match(text.stdout, /\* checkout\s+POST \/checkout/);
        assert.match(text.stdout, /self time per service and operation/);
        const missing = await runCli(['traces', 'show', '0'.repeat(32), '--nats', nats.url]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /no trace 0{32} in the store/);
        const bad = await runCli(['traces', 'show', 'xyz', '--nats', nats.url]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /"xyz" is not a trace id/);
      });
    }
  });
}
