/**
 * A real clickhouse-server (Debian's 18.16, or any newer one) with a config of our own: loopback only,
 * every path in one folder, so tests and the demo never touch /var/lib/clickhouse.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freePort, httpOk, spawnService, waitUntil, type ServiceProcess } from './process';

export interface ClickHouseServer {
  readonly url: string;
  readonly httpPort: number;
  readonly dir: string;
  readonly process: ServiceProcess;
  stop(): Promise<void>;
}

export const CLICKHOUSE_INSTALL_HINT =
  'clickhouse-server was not found. On Debian: sudo apt-get install clickhouse-server, or point streamgate.clickhouse.url at a running server.';

export async function startClickHouse(options: { dir?: string; httpPort?: number } = {}): Promise<ClickHouseServer> {
  const binary = findExecutable('clickhouse-server');
  if (!binary) throw new Error(CLICKHOUSE_INSTALL_HINT);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sg-clickhouse-'));
  const httpPort = options.httpPort ?? (await freePort());
  const tcpPort = await freePort();
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'config.xml'), serverConfig(dir, httpPort, tcpPort));
  writeFileSync(join(dir, 'users.xml'), USERS_XML);
  const service = spawnService('clickhouse-server', binary, [`--config-file=${join(dir, 'config.xml')}`], {
    cwd: dir,
    logFile: join(dir, 'log', 'stdout.log'),
  });
  const url = `http://127.0.0.1:${httpPort}`;
  await waitUntil(`clickhouse-server on ${url}`, () => httpOk(`${url}/ping`), { service, timeoutMs: 60_000, intervalMs: 100 });
  return { url, httpPort, dir, process: service, stop: () => service.stop(10_000) };
}

function serverConfig(dir: string, httpPort: number, tcpPort: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/error.log</errorlog></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <max_connections>256</max_connections>
  <max_concurrent_queries>64</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
