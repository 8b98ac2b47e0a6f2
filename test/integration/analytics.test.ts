/**
 * Real-time analytics against real NATS, DuckDB and ClickHouse, with pods whose every observation the test
 * knows: counters equal the exact counts, merged quantiles are within 1 % of the exact quantiles of the raw
 * values, rows are stored exactly once, bad messages are dead-lettered with their reason and never stop ingest.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { startAgent, type Agent } from '../../src/agent';
import { createLogger } from '../../src/common/logger';
import { ensureStreamsAt } from '../../src/common/streams';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_STREAM } from '../../src/protocol/nats';
import type { AnalyticsMetrics, ServerSettings } from '../../src/protocol/settings';
import { bucketStore, toResult } from '../../src/server/analytics/series';
import { Backend } from '../../src/server/backend';
import { distributionOf } from '../../src/server/telemetry/histogram';
import { eventually, ownNats, sharedClickHouse, tempDir, type Shared } from '../support/services';
import type { NatsServer } from '../../src/launch/nats';

const METRICS: AnalyticsMetrics = {
  requests: 't_requests_total',
  latency: 't_latency_ms',
  activeSessions: 't_sessions',
  activeStreams: 't_streams',
  messages: 't_messages_total',
  bytes: 't_bytes_total',
};

/** A reproducible log-normal-ish latency in ms. */
function latencies(seed: number, n: number): number[] {
  let a = seed;
  const random = () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return a / 2 ** 31;
  };
  return Array.from({ length: n }, () => Math.exp(1 + random() * 4) * (random() < 0.02 ? 20 : 1));
}

function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function quietBackend(): Backend {
  return new Backend(createLogger(() => {}, 'error'));
}

interface Sent {
  requests: Map<string, number>;
  latency: number[];
  events: number;
}

/** Two pods of a test service record known requests, latencies and events, then flush. */
async function produce(natsUrl: string, service: string): Promise<{ agents: Agent[]; sent: Sent }> {
  const agents = await Promise.all(
    ['a', 'b'].map((pod) => startAgent({ nats: natsUrl, service, pod: `${service}-${pod}`, version: '1.0.0', metricsIntervalMs: 200, heapIntervalBytes: 0 })),
  );
  const sent: Sent = { requests: new Map(), latency: [], events: 0 };
  const values = latencies(service.length * 7919, 6000);
  values.forEach((v, i) => {
    const agent = agents[i % 2]!;
    const route = i % 3 === 0 ? 'POST /x' : 'GET /y';
    const code = i % 50 === 0 ? '500' : '200';
    agent.counter('t_requests_total', { route, code }).inc();
    agent.histogram('t_latency_ms', { route }).record(v);
    sent.requests.set(`${route} ${code}`, (sent.requests.get(`${route} ${code}`) ?? 0) + 1);
    sent.latency.push(v);
    if (i % 10 === 0) {
      agent.event('session.started', { tenant: i % 20 === 0 ? 'acme' : 'globex', session: `s${i}`, attrs: { client: `c${i % 7}` } });
      sent.events++;
    }
  });
  agents[0]!.gauge('t_sessions').set(7);
  agents[1]!.gauge('t_sessions').set(5);
  for (const agent of agents) assert.equal(await agent.flush(10_000), true, 'the agent flushed everything');
  return { agents, sent };
}

/**
 * Session starts of tenant "ret" as a pod would publish them, 10 and 2 minutes ago: clients c1–c3 first, c1 and
 * c2 again later, so retention over any range whose first half holds the first and second half the second is 2/3.
 */
async function publishReturningClients(nc: NatsConnection, service: string): Promise<void> {
  const now = Date.now();
  const events = [
    ...['c1', 'c2', 'c3'].map((client, i) => ({ id: `ret-early-${i}`, ts: now - 10 * 60_000 + i, type: 'session.started', tenant: 'ret', session: `re${i}`, attrs: { client } })),
    ...['c1', 'c2'].map((client, i) => ({ id: `ret-late-${i}`, ts: now - 2 * 60_000 + i, type: 'session.started', tenant: 'ret', session: `rl${i}`, attrs: { client } })),
  ];
  const message = { v: 1, kind: 'events', id: `${service}-ret-${now}`, service, pod: `${service}-a`, ts: now, seq: 1_000_000, events };
  await nc.jetstream().publish(`sg.tel.events.${service}.${service}-a`, new TextEncoder().encode(JSON.stringify(message)), { msgID: message.id });
}

async function rowCount(backend: Backend, table: string, where = ''): Promise<number> {
  const rows = await backend.requireStore().query({ text: `SELECT count(*) AS n FROM ${table}${where}`, params: [] });
  return Number(rows[0]?.n ?? 0);
}

function settingsFor(natsUrl: string, store: ServerSettings['store']): ServerSettings {
  return { nats: { url: natsUrl }, store, analytics: { metrics: METRICS } };
}

for (const engine of ['duckdb', 'clickhouse'] as const) {
  describe(`analytics on ${engine}`, () => {
    let nats: NatsServer;
    let clickhouse: Shared | undefined;
    let backend: Backend;
    let agents: Agent[] = [];
    let sent: Sent;
    const service = `svc${engine}`;

    before(async () => {
      nats = await ownNats();
      await ensureStreamsAt(nats.url);
      let store: ServerSettings['store'] = { kind: 'duckdb', path: join(tempDir(), 'a.duckdb') };
      if (engine === 'clickhouse') {
        clickhouse = await sharedClickHouse();
        store = { kind: 'clickhouse', url: clickhouse.url, database: `sg_analytics_${process.pid}` };
      }
      backend = quietBackend();
      const status = await backend.configure(settingsFor(nats.url, store));
      assert.equal(status.store.state, 'ready', status.store.error);
      ({ agents, sent } = await produce(nats.url, service));
      const nc = await connect({ servers: nats.url });
      await publishReturningClients(nc, service);
      await nc.close();
      await eventually('every event stored', async () => (await rowCount(backend, 'events')) === sent.events + 5, 30_000);
      await eventually(
        'every request counted in the store',
        async () => {
          const rows = await backend.requireStore().query({ text: `SELECT sum(value) AS n FROM metrics WHERE name = 't_requests_total'`, params: [] });
          return Number(rows[0]?.n ?? 0) === 6000;
        },
        30_000,
      );
      // Views end at the last whole second (the current one is still arriving): let the burst's second pass.
      const producedAt = Date.now();
      await eventually('the produced second to be settled', () => Date.now() >= producedAt + 1000);
    });
    after(async () => {
      for (const agent of agents) await agent.stop();
      await backend.dispose();
      await nats.stop();
      await clickhouse?.stop();
    });

    it('counts every request exactly, from the live windows and from the store', async () => {
      const now = Date.now();
      const live = await backend.api.series({ metric: 't_requests_total', from: now - 120_000, to: now + 1000, stepMs: 10_000, by: ['route', 'code'] });
      const stored = await backend.api.series({ metric: 't_requests_total', from: now - 30 * 60_000, to: now + 1000, stepMs: 60_000, by: ['route', 'code'] });
      assert.equal(live.source, 'live');
      assert.equal(stored.source, 'store');
      for (const result of [live, stored]) {
        assert.equal(result.kind, 'counter');
        const totals = new Map(result.series.map((s) => [`${s.labels.route} ${s.labels.code}`, s.total]));
        assert.deepEqual(totals, new Map([...sent.requests].map(([k, v]) => [k, v])), `${result.source}: totals per route and code`);
      }
    });

    it('merges the pods\' sketches into quantiles within 1 % of the exact ones', async () => {
      const now = Date.now();
      for (const [from, step] of [
        [now - 120_000, 121_000],
        [now - 30 * 60_000, 30 * 60_000 + 1000],
      ] as const) {
        for (const q of [0.5, 0.95, 0.99]) {
          const result = await backend.api.series({ metric: 't_latency_ms', from, to: from + step, stepMs: step, stat: `p${q * 100}` as 'p50' });
          const got = result.series[0]?.points.find(([, v]) => v !== null)?.[1];
          const exact = exactQuantile(sent.latency, q);
          assert.ok(typeof got === 'number', `${result.source}: a p${q * 100}`);
          assert.ok(Math.abs(got - exact) / exact <= 0.01, `${result.source} p${q * 100}: ${got} vs exact ${exact}`);
        }
      }
    });

    it('finds each step\'s quantile in SQL in the same bin as the merged sketches, with groups and zeros', async () => {
      // Two minutes of a histogram of three routes on two pods, a tenth of it zeros, written to the store directly.
      const store = backend.requireStore();
      const end = Math.floor(Date.now() / 1000) * 1000 - 60 * 60_000;
      const values = latencies(engine.length, 120 * 6 * 30);
      const rows = [];
      let i = 0;
      for (let ts = end - 120_000; ts < end; ts += 1000) {
        for (const route of ['a', 'b', 'c']) {
          for (const pod of ['p1', 'p2']) {
            const d = distributionOf(values.slice(i, (i += 30)).map((v, j) => (j % 10 === 0 ? 0 : v)));
            rows.push({ ts, service, pod, msg_id: `q.${pod}.${route}.${ts}`, name: 'q_latency_ms', kind: 'histogram', label_keys: ['route'], label_values: [route], value: d.count, total: 0, count: d.count, sum: d.sum, min: d.min, max: d.max, zero: d.zero, bin_keys: Array.from(d.keys), bin_counts: Array.from(d.counts) });
          }
        }
      }
      await store.write({ metrics: rows });
      let compared = 0;
      for (const by of [[], ['route'], ['route', 'pod']]) {
        for (const stat of ['p50', 'p90', 'p99'] as const) {
          for (const stepMs of [1000, 7000]) {
            const q = { metric: 'q_latency_ms', from: end - 120_000, to: end, stepMs, by, stat };
            const fromSql = toResult(q, await bucketStore(store, q, 'stat'), 'store');
            const fromBins = toResult(q, await bucketStore(store, q, 'all'), 'store');
            assert.equal(fromSql.series.length, fromBins.series.length, `${stat} by ${by.join(',')}: series`);
            assert.ok(fromBins.series.length > 0, `${stat} by ${by.join(',')}: some series`);
            fromBins.series.forEach((series, s) => assert.deepEqual(fromSql.series[s]!.points, series.points, `${stat} by ${by.join(',')} every ${stepMs} ms: ${JSON.stringify(series.labels)}`));
            compared += fromBins.series.reduce((n, series) => n + series.points.filter(([, v]) => v !== null).length, 0);
          }
        }
      }
      assert.equal(compared, 3 * (120 + 18) * (1 + 3 + 6), `quantiles compared: every step of every series`);
    });

    it('answers the summary with the configured metrics: rates, error share and sessions', async () => {
      const summary = await backend.api.summary({ windowMs: 15 * 60_000 });
      const svc = summary.services.find((s) => s.service === service);
      assert.ok(svc, `the summary lists ${service}`);
      assert.deepEqual(svc.pods.map((p) => p.pod).sort(), [`${service}-a`, `${service}-b`]);
      const errors = [...sent.requests].filter(([k]) => k.endsWith(' 500')).reduce((n, [, v]) => n + v, 0);
      assert.ok(Math.abs(svc.errorRate - errors / 6000) < 1e-9, `error rate ${svc.errorRate}: ${JSON.stringify(summary)}`);
      assert.ok(Math.abs(svc.rps * 900 - 6000) < 1e-6, `rps × window = every request (${svc.rps})`);
      assert.equal(summary.totals.activeSessions, 12);
    });

    it('builds the dashboard from the store for an older range and from the windows for a live one', async () => {
      const live = await backend.api.dashboard({ live: true, rangeMs: 15 * 60_000, filters: {} });
      const stored = await backend.api.dashboard({ live: false, rangeMs: 20 * 60_000, to: Date.now() + 60_000, filters: {} });
      assert.equal(live.source, 'live');
      assert.equal(stored.source, 'store');
      for (const view of [live, stored]) {
        assert.equal(view.users.funnel.connect, sent.events + 5, `${view.source}: every session start in the funnel`);
        assert.deepEqual(view.users.retention.find((r) => r.tenant === 'ret'), { tenant: 'ret', clients: 3, returning: 2, retention: 2 / 3 }, `${view.source}: retention`);
        assert.ok(!view.users.retention.some((r) => r.tenant === 'acme' && r.clients > 0), `${view.source}: acme's clients all came in the second half`);
        const routes = new Map(view.performance.routes.map((r) => [r.route, r]));
        assert.deepEqual([...routes.keys()].sort(), ['GET /y', 'POST /x']);
        assert.ok(Math.abs(routes.get('POST /x')!.rps * (view.to - view.from) / 1000 - 2000) < 1e-6, `${view.source}: POST /x rate × range = 2000 requests`);
        assert.deepEqual(view.overview.pods.map((p) => p.pod).sort(), [`${service}-a`, `${service}-b`]);
      }
    });

    it('dead-letters malformed messages with the reason, counts them, and keeps ingesting', async () => {
      const nc: NatsConnection = await connect({ servers: nats.url });
      try {
        const js = nc.jetstream();
        const enc = new TextEncoder();
        const bad: [string, string][] = [
          ['sg.tel.events.svc.p1', '{not json'],
          ['sg.tel.events.svc.p1', JSON.stringify({ v: 1, kind: 'events', id: 'x1', service: 'svc', pod: 'p1', ts: Date.now(), seq: 0, events: [{ id: 'e', ts: 'soon', type: 'session.started' }] })],
          ['sg.tel.logs.svc.p1', JSON.stringify({ v: 1, kind: 'events', id: 'x2', service: 'svc', pod: 'p1', ts: Date.now(), seq: 0, events: [] })],
          ['sg.tel.events.svc.p1', JSON.stringify({ v: 1, kind: 'events', id: 'x3', service: 'other', pod: 'p1', ts: Date.now(), seq: 0, events: [] })],
          ['sg.tel.metrics.svc.p1', JSON.stringify({ v: 1, kind: 'metrics', id: 'x4', service: 'svc', pod: 'p1', ts: Date.now(), seq: 0, intervalMs: 1000, counters: [], gauges: [], histograms: [{ name: 'h', count: 1, sum: 1, min: 1, max: 1, p50: 1, p90: 1, p99: 1, sketch: 'AAAA' }] })],
        ];
        const before = backend.status().ingest?.deadLettered ?? 0;
        for (const [subject, body] of bad) await js.publish(subject, enc.encode(body));
        const good = { v: 1, kind: 'events', id: `good-${Date.now()}`, service: 'svc', pod: 'p1', ts: Date.now(), seq: 1, events: [{ id: `after-bad-${Date.now()}`, ts: Date.now(), type: 'auth.failed' }] };
        await js.publish('sg.tel.events.svc.p1', enc.encode(JSON.stringify(good)), { msgID: good.id });
        await eventually('the good message after the bad ones is stored', async () => (await rowCount(backend, 'events', ` WHERE id = '${good.events[0]!.id}'`)) === 1, 20_000);
        assert.equal((backend.status().ingest?.deadLettered ?? 0) - before, bad.length);
        const jsm = await nc.jetstreamManager();
        const reasons: string[] = [];
        const consumer = await js.consumers.get(DEAD_LETTER_STREAM);
        const messages = await consumer.fetch({ max_messages: 100, expires: 2000 });
        for await (const m of messages) {
          reasons.push(`${m.subject} ${m.headers?.get(DEAD_LETTER_HEADERS.reason)}`);
          if (m.info.pending === 0) break;
        }
        assert.equal((await jsm.streams.info(DEAD_LETTER_STREAM)).state.messages >= bad.length, true);
        assert.ok(reasons.some((r) => /not JSON/.test(r)), reasons.join('\n'));
        assert.ok(reasons.some((r) => /events\.0\.ts/.test(r)), reasons.join('\n'));
        assert.ok(reasons.some((r) => /kind "events" but its subject says "logs"/.test(r)), reasons.join('\n'));
        assert.ok(reasons.some((r) => /says other\/p1 but its subject says svc\/p1/.test(r)), reasons.join('\n'));
        assert.ok(reasons.some((r) => /^sg\.dlq\.metrics\.svc\.p1 histograms\[0\] \(h\)/.test(r)), reasons.join('\n'));
      } finally {
        await nc.close();
      }
    });
  });
}
