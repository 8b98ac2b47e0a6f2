import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listPods, requestPod } from '../../common/podClient';
import { LOAD_LEVEL_NAMES, startSandbox, type LoadLevel } from '../../launch/sandbox';
import { FLEET_READY_PREFIX } from '../../protocol/cli';
import { INCIDENT_KINDS, IncidentReplySchema, type IncidentKind } from '../../protocol/nats';
import { check } from '../../protocol/schema';
import { UsageError, type CliCommand } from '../command';
import { connectCli, defaultFleetDir, parseDuration, readFleetState, resolveNatsUrl, type FleetState } from '../target';

/** dist/ when running the bundle; the sandbox bundles and the demo source are found from here. */
const distDir = __dirname;

const USAGE = `sg fleet up [--pods N] [--nats URL] [--load light|normal|busy] [--no-loadgen] [--day-minutes M] [--state-dir DIR]
sg fleet down [--state-dir DIR]
sg fleet status [--state-dir DIR]
sg fleet incident <kind> [--pod ID] [--for DURATION] [--nats URL]

  up         start N gateway pods with the agent (default 3), a Go pod when Go is installed, and the load
             generator; starts nats-server with JetStream on a free port unless --nats is given. Runs until
             Ctrl-C or sg fleet down. Prints "${FLEET_READY_PREFIX.trim()} {json}" on stdout once up.
             --load: how busy the simulated users keep the pods at the daily peak: light (a few % of a
             core), normal (default: 20–40 % of a core per pod), busy (about twice normal)
  down       stop the running fleet
  status     the running fleet's NATS and pods
  incident   inject one of: ${INCIDENT_KINDS.join(', ')}
             into --pod (default: a random gateway pod) for --for (default 2m); its ground truth is published
             on sg.tel.truth.<service>.<pod>`;

export const fleetCommand: CliCommand = {
  name: 'fleet',
  summary: 'run the sandbox fleet: gateway pods, a Go pod and simulated users; inject incidents',
  usage: USAGE,
  async run(args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'up':
        return up(rest);
      case 'down':
        return down(rest);
      case 'status':
        return status(rest);
      case 'incident':
        return incident(rest);
      default:
        throw new UsageError(sub ? `unknown fleet command "${sub}"` : 'which fleet command? up, down, status or incident');
    }
  },
};

async function up(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      pods: { type: 'string', default: '3' },
      nats: { type: 'string' },
      'no-loadgen': { type: 'boolean', default: false },
      load: { type: 'string', default: 'normal' },
      'day-minutes': { type: 'string', default: '24' },
      'state-dir': { type: 'string' },
    },
    strict: true,
  });
  const pods = Number(values.pods);
  if (!Number.isInteger(pods) || pods < 1 || pods > 32) throw new UsageError(`--pods must be a whole number from 1 to 32, not "${values.pods}"`);
  const dayMinutes = Number(values['day-minutes']);
  if (!(dayMinutes > 0)) throw new UsageError(`--day-minutes must be a positive number, not "${values['day-minutes']}"`);
  if (!(LOAD_LEVEL_NAMES as readonly string[]).includes(values.load)) throw new UsageError(`--load is ${LOAD_LEVEL_NAMES.join(', ')}, not "${values.load}"`);
  const stateDir = values['state-dir'] ?? defaultFleetDir();
  const running = readFleetState(stateDir);
  if (running) throw new Error(`a sandbox fleet is already running (pid ${running.pid}, NATS ${running.nats}): sg fleet down first`);
  mkdirSync(stateDir, { recursive: true });
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} fleet ${line}\n`);
  const demoDir = join(distDir, '..', 'demo');
  // Signals are handled from the start: one during startup cancels it (stopping what already runs).
  const cancel = new AbortController();
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = () => {
      cancel.abort();
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  const fleet = await startSandbox({
    signal: cancel.signal,
    pods,
    ...(values.nats ? { natsUrl: values.nats } : {}),
    stateDir,
    distDir,
    ...(existsSync(join(demoDir, 'gopod')) ? { goSourceDir: join(demoDir, 'gopod'), sourceDir: demoDir } : {}),
    loadgen: !values['no-loadgen'],
    load: values.load as LoadLevel,
    loadgenArgs: ['--day-minutes', String(dayMinutes)],
    log,
  });
  const ready = fleet.ready();
  const state: FleetState = { pid: process.pid, nats: fleet.natsUrl, startedAt: Date.now(), stateDir, pods: ready.pods };
  const stateFile = join(stateDir, 'fleet.json');
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  process.stdout.write(`${FLEET_READY_PREFIX}${JSON.stringify(ready)}\n`);
  log(`up: NATS ${fleet.natsUrl}; logs in ${join(stateDir, 'logs')}; stop with Ctrl-C or sg fleet down`);
  await stopRequested;
  log('stopping…');
  await fleet.stop();
  rmSync(stateFile, { force: true });
  log('stopped');
  return 0;
}

async function down(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'state-dir': { type: 'string' } }, strict: true });
  const state = readFleetState(values['state-dir'] ?? defaultFleetDir());
  if (!state) {
    process.stderr.write('no sandbox fleet is running\n');
    return 0;
  }
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      process.kill(state.pid, 0);
    } catch {
      process.stderr.write(`sandbox fleet stopped (pid ${state.pid})\n`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.kill(state.pid, 'SIGKILL');
  rmSync(join(state.stateDir, 'fleet.json'), { force: true });
  process.stderr.write(`the fleet did not stop in 30 s; killed pid ${state.pid} (its pods may need sg fleet up/down again)\n`);
  return 1;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'state-dir': { type: 'string' } }, strict: true });
  const state = readFleetState(values['state-dir'] ?? defaultFleetDir());
  if (!state) {
    process.stdout.write('no sandbox fleet is running\n');
    return 1;
  }
  process.stdout.write(`sandbox fleet pid ${state.pid}, up since ${new Date(state.startedAt).toISOString()}\nNATS ${state.nats}\n`);
  for (const pod of state.pods) process.stdout.write(`  ${pod.pod.padEnd(6)} ${pod.service.padEnd(8)} http://127.0.0.1:${pod.httpPort}\n`);
  return 0;
}

async function incident(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { pod: { type: 'string' }, for: { type: 'string', default: '2m' }, nats: { type: 'string' } },
    strict: true,
  });
  const kind = positionals[0] as IncidentKind | undefined;
  if (!kind || !INCIDENT_KINDS.includes(kind)) throw new UsageError(`the incident kind is one of ${INCIDENT_KINDS.join(', ')}${kind ? `, not "${kind}"` : ''}`);
  let durationMs: number;
  try {
    durationMs = parseDuration(values.for);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (durationMs < 1000 || durationMs > 24 * 3600_000) throw new UsageError('--for must be between 1s and 24h');
  const nc = await connectCli(resolveNatsUrl(values.nats));
  try {
    let pod = values.pod;
    if (!pod) {
      const gateways = await listPods(nc, { selector: { service: 'gateway' } });
      if (gateways.length === 0) throw new Error('no gateway pods are running (sg fleet up)');
      pod = gateways[Math.floor(Math.random() * gateways.length)]!.pod;
    }
    const parsed = check(IncidentReplySchema, await requestPod(nc, pod, 'incident', { type: kind, durationMs }));
    if (!parsed.ok) throw new Error(`pod ${pod} answered with an unexpected shape: ${parsed.error}`);
    const r = parsed.value;
    process.stdout.write(`incident ${r.type} on ${r.pod} from ${new Date(r.start).toISOString()} to ${new Date(r.end).toISOString()} (id ${r.id})\n`);
    return 0;
  } finally {
    await nc.close();
  }
}
