/**
 * Ingest throughput, end to end: telemetry already in JetStream → the server's durable consumer → validation
 * → rows → the store, acknowledged. Compared in the same run with the store's own bare write of exactly the same
 * rows (DuckDB's appender; ClickHouse's JSONEachRow insert), which is the ceiling the ingest can approach.
 *
 *   npm run bench -- ingest            (BENCH_EVENTS=500000 by default)
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'nats';
import { createLogger } from '../src/common/logger';
import { ensureStreamsAt } from '../src/common/streams';
import { startClickHouse, type ClickHouseServer } from '../src/launch/clickhouse';
import { startNatsServer, type NatsServer } from '../src/launch/nats';
import { PROTOCOL_VERSION, type EventBatch } from '../src/protocol/nats';
import type { StoreSettings } from '../src/protocol/settings';
import { TelemetryIngest } from '../src/server/ingest';
import { createStore } from '../src/server/store';
import { emptyBatch, rowsOf, type RowBatch } from '../src/server/store/rows';
import { TABLES } from '../src/server/store/schema';
import { decodeTelemetry } from '../src/server/telemetry/decode';
import { metricPoints } from '../src/server/telemetry/points';
import { tempDirectory } from './support';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 500_000);
const PER_MESSAGE = 100;
const MESSAGES = Math.ceil(EVENTS / PER_MESSAGE);
const BATCH_MESSAGES = 1000;
const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'vandelay', 'stark', 'wayne'];
const TYPES = ['session.started', 'stream.opened', 'session.subscribed', 'session.published', 'stream.closed', 'session.ended'] as const;

/** What a busy fleet sends: 8 pods, batches of 100 business events with tenants, sessions and attributes. */
function messages(): { subject: string; data: Uint8Array; id: string }[] {
  const out: { subject: string; data: Uint8Array; id: string }[] = [];
  const now = Date.now();
  const enc = new TextEncoder();
  for (let m = 0; m < MESSAGES; m++) {
    const pod = `gw-${(m % 8) + 1}`;
    const events: EventBatch['events'] = [];
    for (let i = 0; i < PER_MESSAGE; i++) {
      const type = TYPES[(m + i) % TYPES.length]!;
      events.push({
        id: `${pod}.bench.${m}.${i}`,
        ts: now - 60_000 + ((m * PER_MESSAGE + i) % 60_000),
        type,
        tenant: TENANTS[i % TENANTS.length]!,
        session: randomUUID(),
        ...(type.startsWith('stream') ? { stream: 'orders' } : {}),
        attrs: type === 'session.ended' || type === 'stream.closed' ? { durationMs: 1000 + i * 37 } : { plan: 'team', client: `c${i % 40}` },
      });
    }
    const body: EventBatch = { v: PROTOCOL_VERSION, kind: 'events', id: `${pod}.events.bench.${m}`, service: 'gateway', pod, ts: now, seq: m, events };
    out.push({ subject: `sg.tel.events.gateway.${pod}`, data: enc.encode(JSON.stringify(body)), id: body.id });
  }
  return out;
}

async function publish(nats: NatsServer, all: { subject: string; data: Uint8Array; id: string }[]): Promise<void> {
  const nc = await connect({ servers: nats.url });
  const js = nc.jetstream();
  const inFlight = new Set<Promise<unknown>>();
  for (const m of all) {
    const p = js.publish(m.subject, m.data, { msgID: m.id }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await nc.close();
}

/** The store writing the same rows, in the same batches, with nothing around it. */
async function bareWrite(settings: StoreSettings, all: { subject: string; data: Uint8Array }[]): Promise<number> {
  const batches: RowBatch[] = [];
  for (let i = 0; i < all.length; i += BATCH_MESSAGES) {
    const rows = emptyBatch();
    for (const m of all.slice(i, i + BATCH_MESSAGES)) {
      const decoded = decodeTelemetry(m.subject, m.data);
      if (!decoded.ok) throw new Error(decoded.reason);
      const tables = rowsOf(decoded.message, metricPoints(decoded.message, decoded.distributions));
      for (const t of TABLES) rows[t].push(...(tables[t] ?? []));
    }
    batches.push(rows);
  }
  const store = createStore(settings);
  await store.open();
  const started = performance.now();
  for (const rows of batches) await store.write(rows);
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return seconds;
}

async function ingest(nats: NatsServer, settings: StoreSettings): Promise<number> {
  const nc = await connect({ servers: nats.url });
  const jsm = await nc.jetstreamManager();
  // A fresh consumer per arm: each ingest reads the whole stream from the start.
  await jsm.consumers.delete('SG_TELEMETRY', 'sg-ingest').catch(() => false);
  const store = createStore(settings);
  await store.open();
  const run = new TelemetryIngest(nc, store, createLogger(() => {}, 'error'));
  const started = performance.now();
  await run.start();
  while (run.status.messages < MESSAGES) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - started) / 1000;
  await run.stop();
  await store.close();
  await nc.close();
  return seconds;
}

async function main(): Promise<void> {
  const nats = await startNatsServer();
  let clickhouse: ClickHouseServer | undefined;
  try {
    await ensureStreamsAt(nats.url);
    const all = messages();
    await publish(nats, all);
    const dir = tempDirectory('sg-bench-ingest-');
    const results: string[] = [];
    const row = (name: string, bare: number, full: number) => {
      const bareRate = EVENTS / bare;
      const fullRate = EVENTS / full;
      results.push(`| ${name} | ${Math.round(bareRate).toLocaleString('en')} | ${Math.round(fullRate).toLocaleString('en')} | **${(fullRate / bareRate).toFixed(2)}** |`);
    };
    // Interleaved rounds, medians: the machine is shared.
    const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
    const duck = { bare: [] as number[], full: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      duck.bare.push(await bareWrite({ kind: 'duckdb', path: join(dir, `bare-${r}.duckdb`) }, all));
      duck.full.push(await ingest(nats, { kind: 'duckdb', path: join(dir, `full-${r}.duckdb`) }));
    }
    row('DuckDB (appender)', median(duck.bare), median(duck.full));
    clickhouse = await startClickHouse();
    const ch = { bare: [] as number[], full: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      ch.bare.push(await bareWrite({ kind: 'clickhouse', url: clickhouse.url, database: `bare_${r}` }, all));
      ch.full.push(await ingest(nats, { kind: 'clickhouse', url: clickhouse.url, database: `full_${r}` }));
    }
    row('ClickHouse 18.16 (JSONEachRow insert)', median(ch.bare), median(ch.full));
    console.log(`ingest of ${EVENTS.toLocaleString('en')} events (${MESSAGES} messages of ${PER_MESSAGE}) from JetStream, median of ${rounds} interleaved rounds`);
    console.log('| store | bare write of the same rows, events/s | ingest end to end, events/s | ratio |');
    console.log('|---|---|---|---|');
    for (const line of results) console.log(line);
    console.log(`rounds, seconds: DuckDB bare ${fmt(duck.bare)} ingest ${fmt(duck.full)}; ClickHouse bare ${fmt(ch.bare)} ingest ${fmt(ch.full)}`);
  } finally {
    await clickhouse?.stop();
    await nats.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function fmt(values: number[]): string {
  return values.map((v) => v.toFixed(2)).join(', ');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
