/**
 * Continuous profiling with real processes: the sandbox fleet (gateway pods with the agent, the Go pod, simulated
 * users at the evening peak) and two headless servers on one NATS and one ClickHouse (18.16), profiling every
 * 6 seconds. Checks: every pod's round is collected by one server only, the Go pod is scraped over HTTP, quiet
 * data raises no regression, and with the cpu-hotspot and memory-leak incidents on, the regressions name the
 * injected function within two collection rounds — through the sg-server service and `sg profile` as a process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { requestPod } from '../../src/common/podClient';
import { startSandbox, type Sandbox } from '../../src/launch/sandbox';
import { startHeadless, type HeadlessServer } from '../../src/server/headless';
import { RemoteProfiles } from '../../src/server/profiles/profileClient';
import { decodeProfile } from '../../src/server/profiles/decode';
import { topTable } from '../../src/server/profiles/top';
import type { ServerSettings } from '../../src/protocol/settings';
import { eventually, repoRoot, sharedClickHouse, sharedNats, tempDir, type Shared } from '../support/services';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli.js');
const INTERVAL_S = 6;

describe('continuous profiling of the sandbox fleet', { timeout: 300_000 }, () => {
  let nats: Shared | undefined;
  let clickhouse: Shared | undefined;
  let sandbox: Sandbox | undefined;
  let servers: HeadlessServer[] = [];
  let nc: NatsConnection | undefined;
  let api: RemoteProfiles;
  const database = `sg_profiling_${process.pid}`;

  before(async () => {
    const n = (nats = await sharedNats());
    const ch = (clickhouse = await sharedClickHouse());
    sandbox = await startSandbox({
      natsUrl: n.url,
      stateDir: tempDir('sg-profiling-fleet-'),
      distDir: join(repoRoot, 'dist'),
      goSourceDir: join(repoRoot, 'demo', 'gopod'),
      loadgenArgs: ['--start-hour', '19.9', '--day-minutes', '600', '--quiet'],
    });
    const settings: ServerSettings = {
      nats: { url: n.url },
      store: { kind: 'clickhouse', url: ch.url, database },
      profiling: { intervalSeconds: INTERVAL_S, cpuSeconds: 3 },
    };
    // Two ingesting servers on one store, as a team scales out.
    for (let i = 0; i < 2; i++) servers.push(await startHeadless(settings, { logLevel: 'warn' }));
    nc = await connect({ servers: n.url });
    api = new RemoteProfiles(nc);
  });

  after(async () => {
    await nc?.close();
    for (const s of servers) await s.close();
    servers = [];
    await sandbox?.stop();
    await clickhouse?.stop();
    await nats?.stop();
  });

  const topOf = async (type: 'cpu' | 'heap', pod: string, from: number, to: number) => {
    const { pprof, summary } = await api.select({ type, from, to, where: { pod } });
    if (!pprof) return 'nothing';
    return `${summary.profiles} profiles: ${topTable(decodeProfile(pprof, 'top')).rows.slice(0, 4).map((r) => `${r.name} ${r.flatPercent.toFixed(1)}%`).join(', ')}`;
  };
  const gateways = () => sandbox!.pods.filter((p) => p.runtime === 'node').map((p) => p.pod);
  const cpuProfilesOf = async (pod: string, from: number) => (await servers[0]!.backend.profiling.store.list('cpu', from, Date.now() + 60_000, { pod })).filter((m) => m.from >= from);

  it('collects every pod once per round, spread over both servers, Go over HTTP', async () => {
    const start = Date.now();
    await eventually('three CPU profiles of every gateway pod', async () => (await Promise.all(gateways().map((p) => cpuProfilesOf(p, start)))).every((l) => l.length >= 3), 120_000);
    const store = servers[0]!.backend.profiling.store;
    for (const pod of gateways()) {
      const cpu = await cpuProfilesOf(pod, start);
      const rounds = cpu.map((m) => Math.floor(m.from / (INTERVAL_S * 1000)));
      assert.equal(new Set(rounds).size, rounds.length, `${pod}: one CPU profile per round (${cpu.map((m) => m.id).join(', ')})`);
      assert.ok(cpu.every((m) => m.hasTimeline && m.samples > 0 && m.service === 'gateway'), `${pod}: CPU profiles with timelines`);
      const heap = await store.list('heap', start, Date.now(), { pod });
      assert.ok(heap.length >= 2, `${pod}: heap profiles too`);
    }
    const go = sandbox!.pods.find((p) => p.runtime === 'go');
    assert.ok(go, 'the Go pod runs (golang-go is installed)');
    await eventually('the Go pod scraped', async () => (await store.list('goroutine', start, Date.now(), { pod: go.pod })).length > 0, 60_000);
    // The sandbox's Go pod does not enable block or mutex profiling: none is stored.
    assert.equal((await store.list('block', 0, Date.now() + 1, { pod: go.pod })).length, 0);
    const statuses = servers.map((s) => s.backend.status().profiling!);
    assert.ok(statuses.every((s) => s.rounds > 0), `both servers collect: ${JSON.stringify(statuses)}`);
    assert.ok(statuses.some((s) => s.leasedElsewhere > 0), 'rounds the other server took are skipped');
  });

  it('raises no regression on quiet data', async () => {
    const to = Date.now();
    for (const type of ['cpu', 'heap'] as const) {
      const { regressions } = await api.regressions({ type, from: to - 2 * INTERVAL_S * 1000, to });
      assert.deepEqual(regressions, [], `${type}: ${JSON.stringify(regressions)}`);
    }
  });

  it('names the cpu-hotspot function within two rounds, in sg profile regressions --json too', async () => {
    const pod = gateways()[0]!;
    const reply = (await requestPod(nc!, pod, 'incident', { type: 'cpu-hotspot', durationMs: 120_000 })) as { start: number };
    await eventually('two CPU profiles of the pod after the incident started', async () => (await cpuProfilesOf(pod, reply.start)).length >= 2, 60_000);
    const to = Date.now();
    const { regressions } = await api.regressions({ type: 'cpu', from: reply.start, to });
    assert.equal(regressions[0]?.function, 'contentSignatureSlow', `${JSON.stringify(regressions)}; the pod's top now: ${await topOf('cpu', pod, reply.start, to)}; before: ${await topOf('cpu', pod, 2 * reply.start - to, reply.start)}`);
    assert.match(regressions[0].file, /demo\/gateway\/signature\.ts$/);
    assert.ok(regressions[0].line > 0);

    const { stdout } = await run(process.execPath, [cli, 'profile', 'regressions', '--since', `${Math.ceil((Date.now() - reply.start) / 1000)}s`, '--json', '--nats', nats!.url]);
    const printed = JSON.parse(stdout) as { regressions: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(printed), ['regressions']);
    assert.equal(printed.regressions[0]?.function, 'contentSignatureSlow');
    assert.deepEqual(Object.keys(printed.regressions[0]), ['type', 'function', 'file', 'line', 'baselinePercent', 'currentPercent', 'evidence']);

    // The pod's own selection puts it on top; another pod's does not have it.
    const top = await run(process.execPath, [cli, 'profile', 'top', '--since', '15s', '--where', `pod=${pod}`, '--json', '--nats', nats!.url]);
    assert.equal((JSON.parse(top.stdout) as { rows: { name: string }[] }).rows[0]?.name, 'contentSignatureSlow');
    const other = await api.select({ type: 'cpu', from: reply.start, to: Date.now(), where: { pod: gateways()[1]! } });
    assert.ok(other.pprof && !topTable(decodeProfile(other.pprof, 'other')).rows.some((r) => r.name === 'contentSignatureSlow'));

    // A slow span's time on the pod: the samples of that range only.
    const range = await api.range({ pod, from: reply.start + 1000, to: Date.now() });
    assert.ok(range.pprof && range.summary.samples > 0 && range.summary.coveredMs > 0, JSON.stringify(range.summary));
    assert.equal(topTable(decodeProfile(range.pprof, 'range')).rows[0]?.name, 'contentSignatureSlow');
    await requestPod(nc!, pod, 'incident', { type: 'cpu-hotspot', durationMs: 1000 }).catch(() => {});
  });

  it('names the memory-leak allocation site within two rounds', async () => {
    const pod = gateways()[1]!;
    const reply = (await requestPod(nc!, pod, 'incident', { type: 'memory-leak', durationMs: 120_000 })) as { start: number };
    await eventually('two heap profiles of the pod after the leak started', async () => (await servers[0]!.backend.profiling.store.list('heap', reply.start, Date.now(), { pod })).filter((m) => m.from >= reply.start).length >= 2, 60_000);
    const to = Date.now();
    const { regressions } = await api.regressions({ type: 'heap', from: reply.start, to });
    // The leak's site is named. Its caller grows with it (publish, which hands retain each frame, was seen ranked
    // above it once), so the site need not be the first.
    const leak = regressions.find((r) => r.function === 'retain');
    assert.ok(leak, `${JSON.stringify(regressions)}; the pod's top now: ${await topOf('heap', pod, reply.start, to)}`);
    assert.match(leak.file, /demo\/gateway\/incidents\.ts$/);
  });
});
