/**
 * A StreamGate gateway pod: `node dist/demo/gateway.js --pod gw-1 --nats nats://… [--port N]`. It prints
 * `GATEWAY_READY {"pod","port"}` once it serves. `--no-agent` runs it without any instrumentation (the
 * baseline of bench/agentOverhead.ts).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trace } from '@opentelemetry/api';
import { connect, type NatsConnection } from 'nats';
import { ControlRequestError, setupTracing, startAgent, type Agent } from '../../src/agent';
import { check } from '../../src/protocol/schema';
import { POD_READY_PREFIX, type PodReady } from '../../src/protocol/cli';
import { IncidentRequestSchema } from '../../src/protocol/nats';
import { Fanout } from './fanout';
import { Incidents } from './incidents';
import { Gateway } from './server';
import { MessageStore } from './storage';
import { NoTelemetry, type Telemetry } from './telemetry';

export const GATEWAY_VERSION = '1.4.2';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pod: { type: 'string', default: `gw-${process.pid}` },
      port: { type: 'string', default: '0' },
      nats: { type: 'string' },
      'no-agent': { type: 'boolean', default: false },
      region: { type: 'string', default: 'eu-west' },
      zone: { type: 'string', default: 'eu-west-1a' },
      node: { type: 'string', default: 'node-1' },
      version: { type: 'string', default: GATEWAY_VERSION },
      'data-dir': { type: 'string' },
      'state-dir': { type: 'string' },
      'trace-sample': { type: 'string', default: '0.05' },
      'no-tracing': { type: 'boolean', default: false },
      'heap-sampling-bytes': { type: 'string' },
    },
  });
  const pod = values.pod;
  const dataDir = values['data-dir'] ?? join(tmpdir(), 'streamgate-gateway', pod);
  const stateDir = values['state-dir'] ?? join(tmpdir(), 'streamgate-gateway-state');
  mkdirSync(dataDir, { recursive: true });

  let agent: Agent | undefined;
  let nc: NatsConnection | undefined;
  let telemetry: Telemetry = NoTelemetry;
  let tracer = trace.getTracer('gateway');
  let shutdownTracing = async () => {};
  if (values.nats && !values['no-agent']) {
    agent = await startAgent({
      nats: values.nats,
      service: 'gateway',
      pod,
      version: values.version,
      labels: { region: values.region, zone: values.zone, node: values.node },
      ...(values['heap-sampling-bytes'] !== undefined ? { heapIntervalBytes: Number(values['heap-sampling-bytes']) } : {}),
    });
    nc = agent.nc;
    telemetry = agent;
    if (!values['no-tracing']) {
      // The gateway passes trace contexts explicitly, so it needs no async context manager (see server.ts).
      const tracing = setupTracing(agent.spanExporter, 'streamgate-gateway', values.version, { sampleRatio: Number(values['trace-sample']), contextManager: false });
      tracer = tracing.tracer;
      shutdownTracing = tracing.shutdown;
    }
  } else if (values.nats) {
    nc = await connect({ servers: values.nats, name: `gateway ${pod} (no agent)` });
  }

  const incidents = new Incidents(
    pod,
    stateDir,
    (incident) => agent?.truth(incident),
    (reason) => {
      telemetry.log('error', `pod ${pod} crashing: ${reason}`);
      void (agent?.flush(1000) ?? Promise.resolve()).finally(() => process.exit(70));
    },
  );
  const fanout = new Fanout(nc, tracer);
  fanout.start();
  const gateway = new Gateway({ pod, telemetry, tracer, fanout, store: new MessageStore(dataDir, incidents), incidents });
  const port = await gateway.listen(Number(values.port));

  agent?.addEndpoint('incident', async (request) => {
    const parsed = check(IncidentRequestSchema, request);
    if (!parsed.ok) throw new ControlRequestError(`bad incident request: ${parsed.error}`);
    telemetry.log('warn', `incident ${parsed.value.type} injected for ${parsed.value.durationMs} ms`);
    return incidents.start(parsed.value.type, parsed.value.durationMs);
  });
  incidents.resume();
  telemetry.log('info', `gateway ${pod} listening on 127.0.0.1:${port}`);
  const ready: PodReady = { pod, port };
  process.stdout.write(`${POD_READY_PREFIX}${JSON.stringify(ready)}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    incidents.stop();
    fanout.stop();
    await gateway.close();
    await shutdownTracing();
    await agent?.stop();
    if (!agent) await nc?.drain().catch(() => {});
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((error) => {
  process.stderr.write(`gateway: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
