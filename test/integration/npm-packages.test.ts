/**
 * The npm packages as a user gets them: `npm pack`ed, installed into scratch projects outside this repository
 * (from npm's cache: --prefer-offline, so a machine that has run `npm ci` here needs no network), the agent
 * README's own examples run as the user's services against a real NATS, and the packed `sg` run with npx
 * against the sandbox fleet it starts itself: the services appear in `sg pods`, send telemetry that matches the
 * protocol, and give profiles.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as readline from 'node:readline';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { Profile } from 'pprof-format';
import { FLEET_READY_PREFIX, FleetReadySchema, type FleetReady } from '../../src/protocol/cli';
import { EventBatchSchema, LogBatchSchema, MetricsBatchSchema, PROTOCOL_VERSION, type PodStatus } from '../../src/protocol/nats';
import { check } from '../../src/protocol/schema';
import { eventually, repoRoot } from '../support/services';
import { readTelemetry } from '../support/telemetry';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 32 * 1024 ** 2 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(result: Run, what: string): string {
  assert.equal(result.status, 0, `${what} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** A scratch project outside the repository, as a user's service would be. */
function scratchProject(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sg-user-${name}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `scratch-${name}`, version: '1.0.0', private: true }));
  return dir;
}

function npmInstall(dir: string, specs: string[]): void {
  ok(run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs], dir), `npm install ${specs.join(' ')}`);
}

/** A fenced code block of a README, by the heading above it. */
function example(readme: string, heading: string): string {
  const at = readme.indexOf(`## ${heading}`);
  assert.ok(at >= 0, `the README has a "${heading}" section`);
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(at))?.[1];
  assert.ok(block, `the "${heading}" section has a js example`);
  return block;
}

/** GET on a new connection (no keep-alive agent), with the whole body. */
function getFresh(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('npm packages, installed as users install them', () => {
  let agentTarball: string;
  let cliTarball: string;
  let userDir: string;
  let npxDir: string;
  let fleet: ChildProcess | undefined;
  let fleetStateDir: string;
  let ready: FleetReady;
  let nc: NatsConnection;
  const services: ChildProcess[] = [];
  const pod = `hello-${process.pid}`;
  const ordersPod = `orders-${process.pid}`;

  /** The packed sg, run with npx from its tarball. */
  const sg = (...args: string[]): Run => run('npx', ['--yes', '--prefer-offline', `--package=${cliTarball}`, '--', 'sg', ...args], npxDir);

  // Building, packing, installing and starting the fleet take a while on a loaded machine: the hook's own limit.
  before(async () => {
    const built = ok(run(process.execPath, [join(repoRoot, 'scripts', 'build-packages.mjs'), '--pack'], repoRoot), 'npm run build:packages -- --pack');
    agentTarball = /^(\S+streamgate-agent-[\d.]+\.tgz)$/m.exec(built)?.[1] ?? '';
    cliTarball = /^(\S+streamgate-cli-[\d.]+\.tgz)$/m.exec(built)?.[1] ?? '';
    assert.ok(existsSync(agentTarball) && existsSync(cliTarball), built);
    npxDir = mkdtempSync(join(tmpdir(), 'sg-npx-'));

    // The sandbox fleet, started by the packed sg (its own nats-server on a free port).
    const stateDir = mkdtempSync(join(tmpdir(), 'sg-user-fleet-'));
    fleetStateDir = stateDir;
    fleet = spawn('npx', ['--yes', '--prefer-offline', `--package=${cliTarball}`, '--', 'sg', 'fleet', 'up', '--pods', '2', '--load', 'light', '--state-dir', stateDir], {
      cwd: npxDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    fleet.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const line = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: fleet!.stdout! }).on('line', (l) => {
        if (l.startsWith(FLEET_READY_PREFIX)) resolve(l);
      });
      fleet!.once('exit', (code) => reject(new Error(`sg fleet up exited with ${code}: ${stderr}`)));
    });
    const parsed = check(FleetReadySchema, JSON.parse(line.slice(FLEET_READY_PREFIX.length)));
    assert.ok(parsed.ok, line);
    ready = parsed.value;
    nc = await connect({ servers: ready.nats });

    userDir = scratchProject('service');
    npmInstall(userDir, [agentTarball, 'express@5']);
  }, { timeout: 900_000 });

  after(async () => {
    await nc.close();
    await Promise.all(
      services.map((s) => {
        if (s.exitCode !== null || s.signalCode !== null) return Promise.resolve();
        const exited = new Promise<void>((resolve) => s.once('exit', () => resolve()));
        s.kill('SIGTERM');
        return exited;
      }),
    );
    if (fleet?.pid && fleet.exitCode === null) {
      // As a user stops it: sg fleet down signals the fleet and waits until it has stopped its pods and NATS.
      const exited = new Promise<void>((resolve) => fleet!.once('exit', () => resolve()));
      ok(sg('fleet', 'down', '--state-dir', fleetStateDir), 'sg fleet down');
      await exited;
    }
  });

  function startService(file: string, podName: string, port: number): ChildProcess {
    const child = spawn(process.execPath, [file], { cwd: userDir, env: { ...process.env, NATS_URL: ready.nats, HOSTNAME: podName, PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'] });
    services.push(child);
    return child;
  }

  function pods(): PodStatus[] {
    return JSON.parse(ok(sg('pods', '--nats', ready.nats, '--json'), 'sg pods --json')) as PodStatus[];
  }

  it('the agent package holds one bundle, its types and README, and depends on nats and the OpenTelemetry API only', () => {
    const installed = join(userDir, 'node_modules', '@streamgate', 'agent');
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; streamgate: { protocolVersion: number } };
    assert.equal(Number(pkg.version.split('.')[0]), PROTOCOL_VERSION);
    assert.equal(pkg.streamgate.protocolVersion, PROTOCOL_VERSION);
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['@opentelemetry/api', 'nats']);
    assert.deepEqual(readdirSync(installed).sort(), ['LICENSE', 'README.md', 'dist', 'package.json']);
    assert.deepEqual(readdirSync(join(installed, 'dist')).sort(), ['index.d.ts', 'index.js']);
    const types = readFileSync(join(installed, 'dist', 'index.d.ts'), 'utf8');
    assert.match(types, /export declare function startAgent\(options: AgentOptions\): Promise<Agent>;/);
    assert.doesNotMatch(types, /from ['"]zod/);
    assert.doesNotMatch(types, /vscode|\.\.\/server/);
    const code = readFileSync(join(installed, 'dist', 'index.js'), 'utf8');
    assert.deepEqual([...new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!).filter((m) => !/^(node:)?[a-z_]+(\/[a-z_]+)?$/.test(m) || m.startsWith('@') || m === 'nats'))].sort(), ['@opentelemetry/api', 'nats']);
  });

  it('the README\'s http example runs as a service: in sg pods, sending metrics, giving profiles', async () => {
    const readme = readFileSync(join(userDir, 'node_modules', '@streamgate', 'agent', 'README.md'), 'utf8');
    writeFileSync(join(userDir, 'server.js'), example(readme, 'A plain `http` server'));
    const port = 20_000 + (process.pid % 20_000);
    const service = startService('server.js', pod, port);
    await eventually(`${pod} in sg pods`, () => pods().some((p) => p.info.pod === pod), 60_000);
    const mine = pods().find((p) => p.info.pod === pod)!;
    assert.equal(mine.info.service, 'hello');
    assert.equal(mine.info.runtime, 'node');
    assert.equal(mine.info.version, '1.0.0');
    assert.match(mine.info.agentVersion, new RegExp(`^${PROTOCOL_VERSION}\\.`));
    assert.ok(mine.health, mine.healthError);
    // The fleet's own pods are there too, and nothing else is called hello.
    assert.ok(pods().some((p) => p.info.service === 'gateway'));
    assert.equal(pods().filter((p) => p.info.service === 'hello').length, 1);

    for (let i = 0; i < 25; i++) assert.equal(await (await fetch(`http://127.0.0.1:${port}/v1/x`)).text(), 'hello\n');
    await eventually('the 25 requests in the pod\'s metrics on JetStream', async () => {
      const messages = await readTelemetry(nc, `sg.tel.metrics.hello.${pod}`);
      return messages.some((m) => {
        const parsed = check(MetricsBatchSchema, m.body);
        assert.ok(parsed.ok, `a metrics message that breaks the protocol: ${parsed.ok ? '' : parsed.error}`);
        return parsed.value.counters.some((c) => c.name === 'http_requests_total' && c.labels?.route === '/v1/x' && c.total === 25);
      });
    });

    const profileFile = join(npxDir, 'cpu.pb.gz');
    ok(sg('profile', 'cpu', '--pod', pod, '--seconds', '2', '--out', profileFile, '--nats', ready.nats), 'sg profile cpu');
    const profile = Profile.decode(gunzipSync(readFileSync(profileFile)));
    assert.ok(profile.sample.length > 0, 'the CPU profile has samples');
    // A connection of its own: the keep-alive socket of the requests above may be closing (Node's 5 s idle
    // timeout) just as fetch would reuse it, which fails with "other side closed" through no fault of the pod's.
    const heap = await getFresh(`http://127.0.0.1:${port}/debug/pprof/heap`);
    assert.equal(heap.status, 200, `the heap profile: ${heap.status} (the service ${service.exitCode ?? service.signalCode ?? 'is running'})`);
    const heapProfile = Profile.decode(gunzipSync(heap.body));
    assert.ok(heapProfile.sampleType.length > 0);
  });

  it('the README\'s Express example runs as an ES module service: events, logs and labels arrive', async () => {
    const readme = readFileSync(join(userDir, 'node_modules', '@streamgate', 'agent', 'README.md'), 'utf8');
    writeFileSync(join(userDir, 'orders.mjs'), example(readme, 'Express'));
    const port = 40_000 + (process.pid % 20_000);
    startService('orders.mjs', ordersPod, port);
    await eventually(`${ordersPod} in sg pods --selector region=eu-west`, () => {
      const rows = JSON.parse(ok(sg('pods', '--nats', ready.nats, '--selector', 'service=orders,region=eu-west', '--json'), 'sg pods --selector')) as PodStatus[];
      return rows.some((p) => p.info.pod === ordersPod);
    }, 60_000);
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`http://127.0.0.1:${port}/orders`, { method: 'POST', headers: { 'x-tenant': 'acme' } })).status, 201);
    await eventually('three session.started events for acme and three logs', async () => {
      const events = (await readTelemetry(nc, `sg.tel.events.orders.${ordersPod}`)).flatMap((m) => {
        const parsed = check(EventBatchSchema, m.body);
        assert.ok(parsed.ok);
        return parsed.value.events;
      });
      const logs = (await readTelemetry(nc, `sg.tel.logs.orders.${ordersPod}`)).flatMap((m) => {
        const parsed = check(LogBatchSchema, m.body);
        assert.ok(parsed.ok);
        return parsed.value.logs;
      });
      return events.filter((e) => e.type === 'session.started' && e.tenant === 'acme').length === 3 && logs.filter((l) => l.msg === 'order placed').length === 3;
    });
  });

  it('types: a TypeScript service type-checks against the package, and a wrong option is named', () => {
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    npmInstall(userDir, ['@types/node@20']);
    const config = { compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: ['node'] } };
    writeFileSync(join(userDir, 'tsconfig.json'), JSON.stringify({ ...config, files: ['good.ts'] }));
    writeFileSync(
      join(userDir, 'good.ts'),
      `import { startAgent, setupTracing, type Agent, type AgentOptions } from '@streamgate/agent';
const options: AgentOptions = { nats: { url: 'nats://127.0.0.1:4222', credentialsFile: '/x.creds' }, service: 's', pod: 'p', version: '1.0.0', debug: { redactNames: ['pin'] } };
export async function main(): Promise<number> {
  const agent: Agent = await startAgent(options);
  setupTracing(agent.spanExporter, 's', '1.0.0', { sampleRatio: 0.1 });
  agent.histogram('ms', { route: '/' }).record(1);
  const id: string = agent.event('session.started', { tenant: 't' });
  return id.length + (await agent.cpuProfile(1)).length + agent.nc.info!.max_payload;
}
`,
    );
    ok(run(process.execPath, [tsc, '-p', 'tsconfig.json'], userDir), 'tsc on good.ts');
    writeFileSync(join(userDir, 'tsconfig.json'), JSON.stringify({ ...config, files: ['bad.ts'] }));
    writeFileSync(
      join(userDir, 'bad.ts'),
      `import { startAgent } from '@streamgate/agent';
void startAgent({ nats: 'nats://x:4222', service: 's', pod: 'p', version: '1.0.0', flushIntervalMs: '200' });
void startAgent({ nats: 'nats://x:4222', service: 's', pod: 'p', version: '1.0.0' }).then((a) => a.event('session.begun'));
`,
    );
    const bad = run(process.execPath, [tsc, '-p', 'tsconfig.json'], userDir);
    assert.equal(bad.status, 2, bad.stdout);
    assert.match(bad.stdout, /bad\.ts\(2,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    assert.match(bad.stdout, /bad\.ts\(3,\d+\): error TS2345: Argument of type '"session\.begun"' is not assignable/);
  });

  it('the packed sg: --version, --help, completion, and the sandbox it started', () => {
    const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(ok(sg('--version'), 'sg --version').trim(), version.version);
    assert.match(ok(sg('--help'), 'sg --help'), /^sg \d+\.\d+\.\d+ — StreamGate DevTools from a terminal/);
    assert.match(ok(sg('completion', 'bash'), 'sg completion bash'), /complete -o default -F _sg_completion sg/);
    const gateways = pods().filter((p) => p.info.service === 'gateway').map((p) => p.info.pod).sort();
    assert.deepEqual(gateways, ready.pods.filter((p) => p.service === 'gateway').map((p) => p.pod).sort());
    const table = ok(sg('pods', '--nats', ready.nats), 'sg pods');
    assert.match(table, /^POD\s+SERVICE\s+VERSION/);
    for (const name of gateways) assert.match(table, new RegExp(`^${name}\\s+gateway\\s`, 'm'));
    const unknown = sg('pods', '--nats', ready.nats, '--bogus');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Unknown option '--bogus'/);
  });

  it('the packed sg server without DuckDB installed says what to install; commands that need no store still work', () => {
    const server = sg('server', '--nats', ready.nats, '--store', `duckdb:${join(npxDir, 'x.duckdb')}`);
    assert.equal(server.status, 1);
    assert.match(server.stderr, /DuckDB, the embedded store, is not installed beside sg: npm install -g @duckdb\/node-api/);
    assert.match(ok(sg('streams', 'init', '--nats', ready.nats), 'sg streams init'), /^SG_TELEMETRY: (created|updated|unchanged)$/m);
  });
});
