/**
 * The profile store's two figures (issue 9), on DuckDB and on ClickHouse (Debian's 18.16):
 *
 * 1. From the end of a profile to stored and queryable (goal < 100 ms): a real CPU profile with its per-tick
 *    timeline (taken in this process by the agent's profiler) goes through ProfileStore.add — decode, fold the
 *    timeline, re-encode, write both forms — and is then found by a fresh store's query (list + load, no cache).
 *    Baseline in the same run: one telemetry row written and read back through the same store.
 * 2. Analysis of one hour of the sandbox fleet (goal < 1 s): an hour of one-minute rounds of three gateway pods
 *    (a CPU and a heap profile each: the gateway's real profiles in test/fixtures/profiles/node) and the Go pod
 *    (CPU, heap, goroutine: test/fixtures/profiles/go), 540 rows; then the hour's CPU selection merged with its
 *    top table (cold: a fresh server, nothing cached; warm: again), regressions of its last half against the
 *    first, and the recommendations. Baseline in the same run: `go tool pprof -top` merging the same 240 CPU
 *    profiles from files.
 *
 *   npm run bench -- profileStore      (SG_BENCH_ROUNDS=15; SG_BENCH_STORES=duckdb,clickhouse)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Profiler } from '../src/agent/profiler';
import { startClickHouse } from '../src/launch/clickhouse';
import type { StoredProfileType } from '../src/protocol/profiles';
import type { StoreSettings } from '../src/protocol/settings';
import { LocalProfiles } from '../src/server/profiles/fleetProfiles';
import { ProfileStore, type ProfileTarget } from '../src/server/profiles/profileStore';
import { decodeProfile } from '../src/server/profiles/decode';
import { topTable } from '../src/server/profiles/top';
import { createStore, type Store } from '../src/server/store';
import { tempDirectory } from './support';

const root = join(__dirname, '..', '..');
const ROUNDS = Number(process.env.SG_BENCH_ROUNDS ?? 15);
const STORES = (process.env.SG_BENCH_STORES ?? 'duckdb,clickhouse').split(',');
const HOUR = 3600_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const out = await fn();
  return [performance.now() - start, out];
}

/** A real CPU profile with its timeline: two seconds of this process hashing, through the agent's profiler. */
async function timelineProfile(): Promise<Buffer> {
  const profiler = new Profiler({ heapIntervalBytes: 0 });
  let running = true;
  let x = 0;
  const spin = () => {
    const until = Date.now() + 10;
    while (Date.now() < until) x = (x * 31 + Math.sqrt(x + 1)) % 1e9;
    if (running) setTimeout(spin, 2);
  };
  spin();
  const bytes = await profiler.cpu(2, undefined, { timeline: true });
  running = false;
  profiler.dispose();
  return bytes;
}

const gateway = (pod: string, region: string): ProfileTarget => ({ service: 'gateway', pod, version: '1.4.0', runtime: 'node', labels: { region } });
const goPod: ProfileTarget = { service: 'router', pod: 'go-1', version: '0.3.0', runtime: 'go', labels: { region: 'eu' } };

function fixtures() {
  const node = join(root, 'test', 'fixtures', 'profiles', 'node');
  const go = join(root, 'test', 'fixtures', 'profiles', 'go');
  return {
    nodeCpu: readFileSync(join(node, 'gateway-cpu.pb.gz')),
    nodeHeap: readFileSync(join(node, 'gateway-heap.pb.gz')),
    goCpu: [1, 2, 3].map((n) => readFileSync(join(go, `cpu-${n}.pb.gz`))),
    goHeap: readFileSync(join(go, 'heap.pb.gz')),
    goroutine: readFileSync(join(go, 'goroutine.pb.gz')),
  };
}

/** An hour of one-minute rounds of the sandbox fleet, ending now; the CPU profiles also as files for go tool pprof. */
async function fillHour(store: ProfileStore, end: number, dir: string): Promise<string[]> {
  const f = fixtures();
  const files: string[] = [];
  const targets = [gateway('gw-1', 'eu'), gateway('gw-2', 'us'), gateway('gw-3', 'eu'), goPod];
  for (let minute = 0; minute < 60; minute++) {
    const roundStart = end - HOUR + minute * 60_000;
    for (const [i, target] of targets.entries()) {
      // Staggered over the minute, as the collector spreads pods.
      const at = roundStart + i * 15_000;
      const items: [StoredProfileType, Buffer][] =
        target.runtime === 'node'
          ? [['heap', f.nodeHeap], ['cpu', f.nodeCpu]]
          : [['heap', f.goHeap], ['goroutine', f.goroutine], ['cpu', f.goCpu[minute % 3]!]];
      for (const [type, bytes] of items) {
        await store.add({ type, target, requestedAt: at, receivedAt: at + 10, source: target.runtime === 'node' ? 'nats' : 'http', bytes, collector: 'bench' });
        if (type === 'cpu') {
          const file = join(dir, `${target.pod}-${minute}.pb.gz`);
          writeFileSync(file, bytes);
          files.push(file);
        }
      }
    }
  }
  return files;
}

async function benchStore(kind: string, settings: StoreSettings): Promise<void> {
  const store: Store = createStore(settings);
  await store.open();
  try {
    // --- 1. end of a profile → stored and queryable -------------------------------------------------------
    const timeline = await timelineProfile();
    const adds: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const writer = new ProfileStore(() => store);
      const requestedAt = Date.now();
      const [took] = await timed(async () => {
        const meta = await writer.add({ type: 'cpu', target: gateway(`bench-${round}`, 'eu'), requestedAt, receivedAt: Date.now(), source: 'nats', bytes: timeline, collector: 'bench' });
        const reader = new ProfileStore(() => store);
        const found = await reader.list('cpu', meta.from, meta.to + 1, { pod: `bench-${round}` });
        const { loaded } = await reader.load(found);
        if (loaded.length !== 1 || loaded[0]!.profile.sampleCount === 0) throw new Error('the profile just stored was not found');
      });
      adds.push(took);
      const id = `bench-row-${round}-${Date.now()}`;
      const [plain] = await timed(async () => {
        await store.write({ metrics: [{ ts: Date.now(), service: 'bench', pod: 'bench', name: 'bench_metric', kind: 'gauge', label_keys: [], label_values: [], value: round, total: 0, count: 0, sum: 0, min: 0, max: 0, zero: 0, bin_keys: [], bin_counts: [], msg_id: id }] });
        if (!(await store.presentMessageIds('metrics', [id], Date.now() - 60_000)).has(id)) throw new Error('the row just written was not found');
      });
      baseline.push(plain);
    }
    const decoded = decodeProfile(timeline, 'timeline');
    console.log(`${kind}: end of a profile → stored and queryable (a ${timeline.length}-byte CPU profile with ${decoded.sampleCount} ticks, ${ROUNDS} rounds)`);
    console.log(`  profile: median ${ms(median(adds))}, p90 ${ms(p90(adds))}   (goal < 100 ms)`);
    console.log(`  baseline, one telemetry row written and read back: median ${ms(median(baseline))}  → ratio ×${(median(adds) / median(baseline)).toFixed(2)}`);

    // --- 2. an hour of the sandbox fleet ------------------------------------------------------------------
    const end = Date.now() + 1;
    const dir = tempDirectory('sg-bench-hour-');
    const [fillMs, files] = await timed(() => fillHour(new ProfileStore(() => store), end, dir));
    console.log(`${kind}: an hour of the sandbox fleet stored (540 profiles, ${(fillMs / 540).toFixed(1)} ms each to add)`);
    const hour = { type: 'cpu' as const, from: end - HOUR, to: end };
    const cold: number[] = [];
    const warm: number[] = [];
    const regressions: number[] = [];
    const recommendations: number[] = [];
    const pprof: number[] = [];
    let rows = 0;
    for (let round = 0; round < Math.min(ROUNDS, 7); round++) {
      const api = new LocalProfiles(new ProfileStore(() => store));
      const [c, first] = await timed(async () => topTable((await api.merged(hour)).profile!));
      const [w] = await timed(async () => topTable((await api.merged(hour)).profile!));
      const [r] = await timed(() => api.regressions({ type: 'cpu', from: end - HOUR / 2, to: end }));
      const [s] = await timed(() => api.recommendations({ from: end - HOUR, to: end }));
      const start = performance.now();
      const text = execFileSync('go', ['tool', 'pprof', '-top', '-nodefraction=0', '-nodecount=1000000', ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
      pprof.push(performance.now() - start);
      if (!text.includes('flat%')) throw new Error('go tool pprof printed no table');
      cold.push(c);
      warm.push(w);
      regressions.push(r);
      recommendations.push(s);
      rows = first.rows.length;
    }
    const base = median(pprof);
    console.log(`${kind}: analysis of that hour (${files.length} CPU profiles merged, ${rows} functions; medians of ${cold.length} rounds; goal < 1 s)`);
    console.log(`  CPU selection merged + top table, cold (fresh server): ${ms(median(cold))}  (×${(median(cold) / base).toFixed(2)} of go tool pprof)`);
    console.log(`  the same, warm (decoded profiles cached):              ${ms(median(warm))}  (×${(median(warm) / base).toFixed(2)})`);
    console.log(`  regressions, last 30 min against the 30 before (warm): ${ms(median(regressions))}`);
    console.log(`  recommendations over the hour (CPU, heap, block, mutex; cold for heap): ${ms(median(recommendations))}`);
    console.log(`  baseline: go tool pprof -top of the same ${files.length} files:  ${ms(base)}`);
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  if (STORES.includes('duckdb')) await benchStore('DuckDB', { kind: 'duckdb', path: join(tempDirectory('sg-bench-store-'), 'bench.duckdb') });
  if (STORES.includes('clickhouse')) {
    const ch = await startClickHouse();
    try {
      await benchStore('ClickHouse 18.16', { kind: 'clickhouse', url: ch.url, database: `sg_bench_${process.pid}` });
    } finally {
      await ch.stop();
    }
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
