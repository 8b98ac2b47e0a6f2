/** The sandbox fleet as real processes: gateway pods with the agent, the Go pod, the load generator, the CLI. */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { connect, type NatsConnection } from 'nats';
import { Profile } from 'pprof-format';
import { fetchProfile, listPods, podHealth, requestPod } from '../../src/common/podClient';
import { startSandbox, type Sandbox } from '../../src/launch/sandbox';
import { findExecutable, spawnService } from '../../src/launch/process';
import { TENANTS } from '../../demo/gateway/tenants';
import type { EventBatch, IncidentTruth, MetricsBatch, PodInfo, PodStatus } from '../../src/protocol/nats';
import { eventually, repoRoot, sharedNats, tempDir, type Shared } from '../support/services';
import { readTelemetry } from '../support/telemetry';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli.js');

function topSelf(gzipped: Buffer): { name: string; file: string; share: number } {
  const profile = Profile.decode(gunzipSync(gzipped));
  const strings = profile.stringTable.strings;
  const self = new Map<string, number>();
  let total = 0;
  for (const sample of profile.sample) {
    const location = profile.location.find((l) => l.id === sample.locationId[0])!;
    const fn = profile.function.find((f) => f.id === location.line[0]!.functionId)!;
    const key = `${strings[Number(fn.name)]}\0${strings[Number(fn.filename)]}`;
    const value = Number(sample.value[1] ?? sample.value[0]);
    self.set(key, (self.get(key) ?? 0) + value);
    total += value;
  }
  const [key, value] = [...self.entries()].sort((a, b) => b[1] - a[1])[0]!;
  const [name, file] = key.split('\0') as [string, string];
  return { name, file, share: value / total };
}

/** Publishes messages to one pod as fast as it answers, until stopped. */
function hammer(port: number, tenant = TENANTS[0]!): { stop(): Promise<number> } {
  let running = true;
  let sent = 0;
  const loop = (async () => {
    while (running) {
      const response = await fetch(`http://127.0.0.1:${port}/v1/streams/load/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'load', data: 'y'.repeat(1500), n: sent }),
      }).catch(() => undefined);
      await response?.arrayBuffer();
      sent++;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return sent;
    },
  };
}

describe('sandbox fleet', () => {
  let nats: Shared;
  let nc: NatsConnection;
  let fleet: Sandbox;
  const stateDir = tempDir('sg-fleet-');

  before(async () => {
    nats = await sharedNats();
    nc = await connect({ servers: nats.url });
    fleet = await startSandbox({
      pods: 2,
      natsUrl: nats.url,
      stateDir,
      distDir: join(repoRoot, 'dist'),
      goSourceDir: join(repoRoot, 'demo', 'gopod'),
      sourceDir: join(repoRoot, 'demo'),
      loadgenArgs: ['--day-minutes', '2', '--peak-sessions-per-second', '6', '--start-hour', '18'],
    });
  });
  after(async () => {
    await fleet.stop();
    await nc.close();
    await nats.stop();
  });

  it('lists its gateway pods and the Go pod in discovery', async () => {
    let pods: PodInfo[] = [];
    await eventually('three pods', async () => (pods = await listPods(nc)).filter((p) => ['gw-1', 'gw-2', 'go-1'].includes(p.pod)).length === 3);
    const go = pods.find((p) => p.pod === 'go-1')!;
    assert.equal(go.runtime, 'go');
    assert.match(go.pprof ?? '', /^http:\/\/127\.0\.0\.1:\d+\/debug\/pprof$/);
    const gw = pods.find((p) => p.pod === 'gw-1')!;
    assert.equal(gw.service, 'gateway');
    assert.equal(gw.labels.zone, 'eu-west-1a');
  });

  it('turns the simulated users\' real requests into business events and metrics', async () => {
    let events: EventBatch['events'] = [];
    await eventually(
      'sessions and streams from the load generator',
      async () => {
        const batches = await readTelemetry(nc, 'sg.tel.events.gateway.*');
        events = batches.flatMap((m) => (m.body as EventBatch).events);
        return events.some((e) => e.type === 'session.started') && events.some((e) => e.type === 'stream.opened') && events.some((e) => e.type === 'session.ended');
      },
      60_000,
    );
    const tenants = new Set(events.filter((e) => e.type === 'session.started').map((e) => e.tenant));
    assert.ok([...tenants].every((t) => TENANTS.some((known) => known.id === t)), 'events name real tenants');
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'event ids are unique');
    const metrics = await readTelemetry(nc, 'sg.tel.metrics.gateway.gw-1');
    const names = new Set(metrics.flatMap((m) => [...(m.body as MetricsBatch).counters.map((c) => c.name), ...(m.body as MetricsBatch).histograms.map((h) => h.name)]));
    for (const name of ['gw_http_requests_total', 'gw_http_request_duration_ms']) assert.ok(names.has(name), `metric ${name}`);
  });

  it('points a CPU profile at the injected hot spot, in the TypeScript source, and publishes its ground truth', async () => {
    const gw1 = fleet.pods.find((p) => p.pod === 'gw-1')!;
    const reply = (await requestPod(nc, 'gw-1', 'incident', { type: 'cpu-hotspot', durationMs: 20_000 })) as { id: string; end: number };
    const load = hammer(gw1.port);
    let profile: Buffer;
    try {
      profile = await fetchProfile(nc, 'gw-1', { type: 'cpu', seconds: 3 });
    } finally {
      await load.stop();
    }
    const top = topSelf(profile);
    assert.equal(top.name, 'contentSignatureSlow');
    assert.equal(top.file, join(repoRoot, 'demo', 'gateway', 'signature.ts'));
    assert.ok(top.share > 0.3, `the hot spot takes ${(top.share * 100).toFixed(0)} % of the CPU`);
    const truths = (await readTelemetry(nc, 'sg.tel.truth.gateway.gw-1')).map((m) => m.body as IncidentTruth);
    const start = truths.find((t) => t.incident.id === reply.id && t.incident.phase === 'start');
    assert.ok(start, 'ground truth of the incident start');
    assert.equal(start.incident.type, 'cpu-hotspot');
    assert.equal(start.incident.end, reply.end);
  });

  it('answers a request target that URL cannot parse with 400, and keeps serving', async () => {
    const gw1 = fleet.pods.find((p) => p.pod === 'gw-1')!;
    const { connect: tcp } = await import('node:net');
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tcp({ host: '127.0.0.1', port: gw1.port }, () => socket.end('GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.once('end', () => resolve(data));
      socket.once('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await fetch(`http://127.0.0.1:${gw1.port}/healthz`)).status, 200);
  });

  it('relays the Go pod\'s profiles over NATS, which go tool pprof reads', async () => {
    // The profile must contain main.scoreRoutes, so make the pod run it while it is profiled: its own
    // background work sleeps most of the time and a 2-second profile may catch only time.Sleep.
    const go = fleet.pods.find((p) => p.pod === 'go-1')!;
    let routing = true;
    const traffic = (async () => {
      for (let i = 0; routing; i++) await (await fetch(`http://127.0.0.1:${go.port}/v1/route/tenant-${i % 7}`)).arrayBuffer();
    })();
    let profile: Buffer;
    try {
      profile = await fetchProfile(nc, 'go-1', { type: 'cpu', seconds: 2 });
    } finally {
      routing = false;
      await traffic;
    }
    const file = join(tempDir(), 'go.pb.gz');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, profile);
    const { stdout } = await run(findExecutable('go')!, ['tool', 'pprof', '-top', file], { env: { ...process.env, HOME: tempDir() } });
    assert.match(stdout, /main\.scoreRoutes/);
  });

  it('reports the Go pod\'s measured health from its first answer, and leaves out what it cannot measure', async () => {
    const health = await podHealth(nc, 'go-1');
    assert.ok(health.cpuPercent > 0, `the Go pod's background work shows as CPU (${health.cpuPercent})`);
    assert.ok(health.rssBytes > 1024 * 1024, 'RSS from /proc');
    assert.ok(health.heapUsedBytes > 0, 'heap from the Go runtime (expvar memstats)');
    assert.equal(health.eventLoopDelayP99Ms, undefined, 'a Go pod has no event loop: not reported');
    const go = (await listPods(nc)).find((p) => p.pod === 'go-1')!;
    assert.deepEqual(go.labels, { region: 'us-east', zone: 'us-east-1a', node: 'node-c' });
  });

  it('answers health with real figures from a gateway pod\'s very first answer', async () => {
    // A pod that has just registered has not sampled its runtime yet: its first health answer must still be measured.
    const logFile = join(tempDir(), 'fresh.log');
    const fresh = spawnService('fresh', process.execPath, [join(repoRoot, 'dist', 'demo', 'gateway.js'), '--pod', 'fresh-1', '--nats', nats.url, '--data-dir', tempDir()], { logFile });
    try {
      let health: Awaited<ReturnType<typeof podHealth>> | undefined;
      await eventually('fresh-1 answers health', async () => {
        health = await podHealth(nc, 'fresh-1', 1000).catch(() => undefined);
        return health !== undefined;
      }, 20_000);
      assert.ok(health!.rssBytes > 10 * 1024 * 1024, `RSS ${health!.rssBytes}`);
      assert.ok(health!.heapUsedBytes > 1024 * 1024, `heap ${health!.heapUsedBytes}`);
      assert.ok(health!.cpuPercent > 0, `CPU ${health!.cpuPercent}`);
      assert.ok(health!.activeHandles! > 0, 'active handles');
    } finally {
      await fresh.stop();
    }
  });

  it('restarts a crash-looping pod and reports when the incident ends', async () => {
    const before = fleet.pods.find((p) => p.pod === 'gw-2')!;
    const reply = (await requestPod(nc, 'gw-2', 'incident', { type: 'crash-loop', durationMs: 4000 })) as { id: string };
    await eventually('gw-2 restarted', () => (fleet.pods.find((p) => p.pod === 'gw-2')?.restarts ?? 0) > before.restarts, 20_000);
    await eventually(
      'the crash loop\'s end in the ground truth',
      async () => (await readTelemetry(nc, 'sg.tel.truth.gateway.gw-2')).some((m) => (m.body as IncidentTruth).incident.id === reply.id && (m.body as IncidentTruth).incident.phase === 'end'),
      60_000,
    );
    await eventually('gw-2 back in discovery', async () => (await listPods(nc)).some((p) => p.pod === 'gw-2'), 20_000);
    assert.match(readFileSync(join(stateDir, 'logs', 'gw-2.log'), 'utf8'), /GATEWAY_READY/);
  });

  it('lists pods and takes profiles from the command line', async () => {
    const { stdout } = await run(process.execPath, [cli, 'pods', '--nats', nats.url]);
    assert.match(stdout, /^POD\s+SERVICE\s+VERSION/m);
    assert.match(stdout, /gw-1\s+gateway\s+1\.4\.2\s+node\s+eu-west/);
    assert.match(stdout, /go-1\s+router/);
    // The fleet places gw-1 and gw-2 in eu-west and the Go pod in us-east: each selector matches some pods
    // and not others, so a selector that filtered nothing (or everything) would fail.
    const select = async (selector: string) =>
      (JSON.parse((await run(process.execPath, [cli, 'pods', '--nats', nats.url, '--json', '--selector', selector])).stdout) as PodStatus[]).map((p) => p.info.pod).sort();
    assert.deepEqual(await select('region=us-east'), ['go-1']);
    assert.deepEqual(await select('region=eu-west'), ['gw-1', 'gw-2']);
    assert.deepEqual(await select('service=gateway,zone=eu-west-1b'), ['gw-2']);
    assert.deepEqual(await select('region=ap-south'), []);
    const out = join(tempDir(), 'heap.pb.gz');
    const profiled = await run(process.execPath, [cli, 'profile', 'heap', '--pod', 'gw-1', '--out', out, '--nats', nats.url]);
    assert.match(profiled.stderr, /wrote .*heap\.pb\.gz: \d+ bytes/);
    assert.ok(Profile.decode(gunzipSync(readFileSync(out))).sample.length > 0);
    await assert.rejects(run(process.execPath, [cli, 'profile', 'cpu', '--pod', 'gw-1', '--seconds', '0', '--out', out, '--nats', nats.url]), (e: { code: number; stderr: string }) => e.code === 2 && /--seconds must be a whole number from 1 to 300/.test(e.stderr));
    await assert.rejects(run(process.execPath, [cli, 'profile', 'cpu', '--pod', 'gone-pod', '--seconds', '1', '--out', out, '--nats', nats.url]), (e: { code: number; stderr: string }) => e.code === 1 && /pod gone-pod is not running/.test(e.stderr));
    await assert.rejects(run(process.execPath, [cli, 'fleet', 'incident', 'meteor-strike', '--nats', nats.url]), (e: { code: number; stderr: string }) => e.code === 2 && /one of latency-spike/.test(e.stderr));
  });

  it('drops a pod killed with SIGKILL from sg pods', async () => {
    const logFile = join(tempDir(), 'solo.log');
    const solo = spawnService('solo', process.execPath, [join(repoRoot, 'dist', 'demo', 'gateway.js'), '--pod', 'solo-1', '--nats', nats.url, '--data-dir', tempDir()], { logFile });
    try {
      const listed = async () => (JSON.parse((await run(process.execPath, [cli, 'pods', '--nats', nats.url, '--json'])).stdout) as PodStatus[]).some((p) => p.info.pod === 'solo-1');
      await eventually('solo-1 listed', listed, 20_000);
      solo.signal('SIGKILL');
      await solo.exited;
      // Discovery is a live question, not a cache: the first listing after the kill must not have it.
      assert.equal(await listed(), false);
    } finally {
      await solo.stop();
    }
  });
});

describe('sg fleet up', () => {
  it('starts its own NATS and the pods, prints the ready line, refuses a second fleet, and stops on sg fleet down', async () => {
    const stateDir = tempDir('sg-fleet-cli-');
    const child = spawn(process.execPath, [cli, 'fleet', 'up', '--pods', '1', '--no-loadgen', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await eventually('the ready line', () => stdout.includes('SG_FLEET_READY '), 60_000);
      const ready = JSON.parse(stdout.split('SG_FLEET_READY ')[1]!.split('\n')[0]!) as { nats: string; pods: { pod: string }[] };
      assert.match(ready.nats, /^nats:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(ready.pods.some((p) => p.pod === 'gw-1'));
      await assert.rejects(run(process.execPath, [cli, 'fleet', 'up', '--state-dir', stateDir]), /already running/);
      const status = await run(process.execPath, [cli, 'fleet', 'status', '--state-dir', stateDir]);
      assert.match(status.stdout, /gw-1\s+gateway/);
      await run(process.execPath, [cli, 'fleet', 'down', '--state-dir', stateDir]);
      assert.equal(await exited, 0, stderr);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
