/** A real nats-server with JetStream on a loopback port, for tests, `npm start` and `sg fleet up`. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freePort, spawnService, waitUntil, type ServiceProcess } from './process';

export interface NatsServerOptions {
  port?: number;
  /** JetStream storage; a fresh temp folder when absent. Restarting with the same folder keeps streams. */
  storeDir?: string;
  logFile?: string;
  /** Extra nats-server arguments (auth, TLS) for tests of those features. */
  extraArgs?: string[];
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly process: ServiceProcess;
  stop(): Promise<void>;
  /** Kill -9 and start again on the same port and store: the fault the agent and server must survive. */
  restart(opts?: { downMs?: number }): Promise<void>;
}

export const NATS_INSTALL_HINT =
  'nats-server was not found. On Debian or Ubuntu: sudo apt-get install nats-server (or download it from nats.io), or pass --nats URL of a running server.';

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = findExecutable('nats-server');
  if (!binary) throw new Error(NATS_INSTALL_HINT);
  const port = options.port ?? (await freePort());
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'sg-nats-'));
  mkdirSync(storeDir, { recursive: true });
  const logFile = options.logFile ?? join(storeDir, 'nats-server.log');
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...(options.extraArgs ?? [])];

  const launch = async () => {
    const service = spawnService('nats-server', binary, args, { logFile });
    await waitUntil(`nats-server on 127.0.0.1:${port}`, () => speaksNats(port), { service, timeoutMs: 15_000, intervalMs: 50 });
    return service;
  };

  let service = await launch();
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get process() {
      return service;
    },
    stop: () => service.stop(),
    async restart({ downMs = 500 } = {}) {
      service.signal('SIGKILL');
      await service.exited;
      await new Promise((r) => setTimeout(r, downMs));
      service = await launch();
    },
  };
  return server;
}

/** True when something on the port greets us with NATS's INFO line. */
function speaksNats(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('data', (data) => finish(data.toString('utf8').startsWith('INFO')));
  });
}
