import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { startHeadless } from '../../server/headless';
import { parseStoreSpec, type ServerSettings } from '../../protocol/settings';
import { UsageError, type CliCommand } from '../command';

export const serverCommand: CliCommand = {
  name: 'server',
  summary: 'run the language server\'s backend headless (NATS ingest and store)',
  usage: `sg server [--nats URL] [--store duckdb:PATH|clickhouse:URL[#db]] [--no-ingest] [--port N] [--creds FILE]

  --nats URL      NATS server of the fleet (default: $STREAMGATE_NATS_URL, else not connected)
  --creds FILE    NATS credentials file
  --store SPEC    duckdb:PATH (default ~/.streamgate/streamgate.duckdb) or clickhouse:http://host:8123#database
  --no-ingest     answer queries (live windows and the store) without writing telemetry to the store: for a
                  server beside the ingesting ones of a shared ClickHouse
  --port N        loopback port for GET /status, /healthz and /metrics (default: a free port, printed)

  Several servers with the same --store clickhouse:… share the ingest (no row twice, none lost when one stops)
  and answer the CLI and editors in shared mode through the sg-server NATS service (docs/analytics.md).`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        nats: { type: 'string' },
        creds: { type: 'string' },
        store: { type: 'string' },
        port: { type: 'string' },
        'no-ingest': { type: 'boolean', default: false },
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
    const settings: ServerSettings = {
      nats: natsUrl ? { url: natsUrl, ...(values.creds ? { credentialsFile: values.creds } : {}) } : null,
      store,
      ...(values['no-ingest'] ? { ingest: false } : {}),
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
