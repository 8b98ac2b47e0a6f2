import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { startHeadless } from '../../server/headless';
import { DUCKDB_MEMORY_LIMIT_MB, parseStoreSpec, PprofTargetSchema, ProfilingSettingsSchema, type ProfilingSettings, type ServerSettings } from '../../protocol/settings';
import { check } from '../../protocol/schema';
import { UsageError, type CliCommand } from '../command';

export const serverCommand: CliCommand = {
  name: 'server',
  summary: 'run the language server\'s backend headless (NATS ingest and store)',
  usage: `sg server [--nats URL] [--store duckdb:PATH|clickhouse:URL[#db]] [--store-memory MB] [--no-ingest] [--port N]
                 [--creds FILE] [--profile-every S] [--profile-seconds S] [--no-profiling] [--pprof-target URL,service,pod]...

  --nats URL      NATS server of the fleet (default: $STREAMGATE_NATS_URL, else not connected)
  --creds FILE    NATS credentials file
  --store SPEC    duckdb:PATH (default ~/.streamgate/streamgate.duckdb) or clickhouse:http://host:8123#database
  --store-memory MB  memory DuckDB may use before it evicts and spills to disk (default ${DUCKDB_MEMORY_LIMIT_MB})
  --no-ingest     answer queries (live windows and the store) without writing telemetry to the store: for a
                  server beside the ingesting ones of a shared ClickHouse
  --port N        loopback port for GET /status, /healthz and /metrics (default: a free port, printed)
  --profile-every S    continuous profiling: one round per pod every S seconds (default 60)
  --profile-seconds S  length of each round's CPU profile (default 10)
  --no-profiling       do not collect profiles (an ingesting server collects by default)
  --pprof-target URL,SERVICE,POD  a net/http/pprof target to scrape besides the pods that announce one (repeatable)

  Several servers with the same --store clickhouse:… share the ingest (no row twice, none lost when one stops)
  and answer the CLI and editors in shared mode through the sg-server NATS service (docs/analytics.md).`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        nats: { type: 'string' },
        creds: { type: 'string' },
        store: { type: 'string' },
        'store-memory': { type: 'string' },
        port: { type: 'string' },
        'no-ingest': { type: 'boolean', default: false },
        'profile-every': { type: 'string' },
        'profile-seconds': { type: 'string' },
        'no-profiling': { type: 'boolean', default: false },
        'pprof-target': { type: 'string', multiple: true },
      },
      strict: true,
    });
    const natsUrl = values.nats ?? process.env.STREAMGATE_NATS_URL;
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port}"`);
    let store: ServerSettings['store'];
    try {
      store = parseStoreSpec(values.store ?? `duckdb:${join(homedir(), '.streamgate', 'streamgate.duckdb')}`);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (values['store-memory'] !== undefined) {
      const mb = Number(values['store-memory']);
      if (store.kind !== 'duckdb') throw new UsageError('--store-memory sets DuckDB\'s memory; a ClickHouse store uses the ClickHouse server\'s');
      if (!Number.isInteger(mb) || mb < 64) throw new UsageError(`--store-memory must be a whole number of MB, at least 64, not "${values['store-memory']}"`);
      store = { ...store, memoryLimitMb: mb };
    }
    const settings: ServerSettings = {
      nats: natsUrl ? { url: natsUrl, ...(values.creds ? { credentialsFile: values.creds } : {}) } : null,
      store,
      ...(values['no-ingest'] ? { ingest: false } : {}),
      profiling: profilingSettings(values),
    };
    const server = await startHeadless(settings, { port });
    const status = server.backend.status();
    if (status.store.state === 'error') {
      await server.close();
      process.stderr.write(`sg server: ${status.store.error}\n`);
      return 1;
    }
    process.stdout.write(`StreamGate server ${status.version} ready: ${server.url}/status (store ${status.store.kind} at ${status.store.location}; NATS ${natsUrl ?? 'not configured'})\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
};

function seconds(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be a whole number of seconds, at least ${min}, not "${text}"`);
  return n;
}

function profilingSettings(values: { 'profile-every'?: string | undefined; 'profile-seconds'?: string | undefined; 'no-profiling'?: boolean | undefined; 'pprof-target'?: string[] | undefined }): ProfilingSettings {
  const targets = (values['pprof-target'] ?? []).map((spec) => {
    const [url, service, pod] = spec.split(',');
    const parsed = check(PprofTargetSchema, { url, service, pod });
    if (!parsed.ok) throw new UsageError(`--pprof-target ${spec}: ${parsed.error} (give URL,SERVICE,POD)`);
    return parsed.value;
  });
  const intervalSeconds = seconds(values['profile-every'], '--profile-every', 5);
  const cpuSeconds = seconds(values['profile-seconds'], '--profile-seconds', 1);
  const settings: ProfilingSettings = {
    ...(values['no-profiling'] ? { enabled: false } : {}),
    ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
    ...(cpuSeconds !== undefined ? { cpuSeconds } : {}),
    ...(targets.length ? { targets } : {}),
  };
  const parsed = check(ProfilingSettingsSchema, settings);
  if (!parsed.ok) throw new UsageError(parsed.error);
  return parsed.value;
}
