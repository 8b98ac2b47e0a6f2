/**
 * A headless `sg server` (embedded DuckDB) under sustained load, for its memory: pods emit business events at
 * BENCH_RATE events/s (default 20 000) for BENCH_SECONDS (default 600) into a real NATS while a client holds
 * the live 15-minute dashboard open through the sg-server service (pushed once a second, as an editor's webview
 * is). Every 5 s the server's GET /status gives its memory: resident set, JavaScript heap, and the rest (native:
 * DuckDB's memory up to its limit, buffers). Printed per minute, with the count the dashboard showed last
 * against what the pods emitted.
 *
 *   npm run bench -- serverSoak        (BENCH_RATE, BENCH_SECONDS, BENCH_STORE_MB: DuckDB's memory limit)
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import { ensureStreamsAt } from '../src/common/streams';
import { startNatsServer } from '../src/launch/nats';
import { freePort, spawnService } from '../src/launch/process';
import type { DashboardData } from '../src/protocol/analytics';
import { DUCKDB_MEMORY_LIMIT_MB } from '../src/protocol/settings';
import type { ServerStatus } from '../src/protocol/status';
import { RemoteAnalytics } from '../src/server/sharedClient';
import { tempDirectory } from './support';

const RATE = Number(process.env.BENCH_RATE ?? 20_000);
/** DuckDB's memory limit for the server, MB. */
const STORE_MB = Number(process.env.BENCH_STORE_MB ?? DUCKDB_MEMORY_LIMIT_MB);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 600);
const root = join(__dirname, '..', '..');
const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const nats = await startNatsServer();
  await ensureStreamsAt(nats.url);
  const dir = tempDirectory('sg-bench-soak-');
  const port = await freePort();
  const server = spawnService('sg-server', process.execPath, [join(root, 'dist', 'cli.js'), 'server', '--nats', nats.url, '--store', `duckdb:${join(dir, 'soak.duckdb')}`, '--store-memory', String(STORE_MB), '--port', String(port), '--no-profiling'], {
    logFile: join(dir, 'server.log'),
  });
  const nc = await connect({ servers: nats.url });
  try {
    const status = async () => (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as ServerStatus;
    for (let i = 0; ; i++) {
      const ok = await status().then((s) => s.store.state === 'ready' && s.ingest?.state === 'running', () => false);
      if (ok) break;
      if (i > 300) throw new Error(`the server did not start (${join(dir, 'server.log')})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const analytics = new RemoteAnalytics(nc);
    let last: DashboardData | undefined;
    let pushes = 0;
    let errors = 0;
    const unsubscribe = analytics.subscribe(
      { live: true, rangeMs: 15 * 60_000, filters: {} },
      (data) => {
        last = data;
        pushes++;
      },
      () => errors++,
    );
    const samples: { at: number; s: ServerStatus }[] = [];
    const started = Date.now();
    const sampler = setInterval(() => void status().then((s) => samples.push({ at: Date.now() - started, s }), () => undefined), 5000);
    const emitLog = join(dir, 'emitted.log');
    writeFileSync(emitLog, '');
    // The same pods as the event-to-dashboard benchmark: 4 agents in a process of their own.
    const producer = spawn(process.execPath, [join(root, 'out', 'bench', 'eventToDashboard.js'), '--produce', nats.url, emitLog], { stdio: 'inherit', env: { ...process.env, BENCH_RATE: String(RATE), BENCH_SECONDS: String(SECONDS) } });
    await new Promise((resolve) => producer.once('exit', resolve));
    await new Promise((r) => setTimeout(r, 5000));
    clearInterval(sampler);
    unsubscribe();
    const lines = readFileSync(emitLog, 'utf8').trim().split('\n');
    const emitted = Number(lines[lines.length - 1]!.split(' ')[1]);
    const shown = last?.users.funnel.connect ?? 0;
    const final = samples[samples.length - 1]!.s;
    console.log(`${RATE.toLocaleString('en')} events/s for ${SECONDS} s from 4 pods → NATS → sg server (embedded DuckDB, memory limit ${STORE_MB} MB), live dashboard pushed to a client throughout`);
    console.log(`events emitted ${emitted.toLocaleString('en')}; stored ${final.ingest?.rows.toLocaleString('en')} rows from ${final.ingest?.messages.toLocaleString('en')} messages; the last push counted ${shown.toLocaleString('en')} session starts in its 15 minutes; ${pushes} pushes, ${errors} errors`);
    console.log('| minute | RSS max | JS heap max | native (RSS − heap) max |');
    console.log('|---|---|---|---|');
    const minutes = Math.ceil(samples[samples.length - 1]!.at / 60_000);
    for (let m = 0; m < minutes; m++) {
      const inMinute = samples.filter((x) => x.at >= m * 60_000 && x.at < (m + 1) * 60_000).map((x) => x.s.memory);
      if (!inMinute.length) continue;
      const max = (f: (x: ServerStatus['memory']) => number) => (Math.max(...inMinute.map(f)) / MiB).toFixed(0);
      console.log(`| ${m + 1} | ${max((x) => x.rssBytes)} MiB | ${max((x) => x.heapUsedBytes)} MiB | ${max((x) => x.rssBytes - x.heapUsedBytes)} MiB |`);
    }
  } finally {
    await nc.close();
    await server.stop();
    await nats.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
