/**
 * Starting and stopping the real services we depend on (nats-server, clickhouse-server, code-server, pods).
 * Each runs in its own process group so that stopping it also stops whatever it forked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createServer } from 'node:net';

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (or null after a signal) once the process has gone. */
  readonly exited: Promise<number | null>;
  /** SIGTERM to the whole group, then SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
  /** Send a signal to the whole group without waiting (fault tests use SIGKILL). */
  signal(signal: NodeJS.Signals): void;
  hasExited(): boolean;
  /** The last lines of the log, for error messages. */
  tail(lines?: number): string;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
}

export function spawnService(name: string, command: string, args: string[], options: SpawnOptions): ServiceProcess {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true, // setsid(): the service leads its own process group
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      done = true;
      resolve(code);
    });
    child.once('error', () => {
      done = true;
      resolve(-1);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command}): is it installed?`);
  const pid = child.pid;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* the group is already gone */
    }
  };
  return {
    name,
    pid,
    child,
    logFile: options.logFile,
    exited,
    hasExited: () => done,
    signal,
    tail: (lines = 20) => tailFile(options.logFile, lines),
    async stop(graceMs = 5000) {
      if (done) {
        signal('SIGKILL'); // children of an exited leader may linger
        return;
      }
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      signal('SIGKILL');
    },
  };
}

export function tailFile(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines - 1).join('\n').trim();
  } catch {
    return '';
  }
}

/** Polls `probe` until it returns true; fails early when `service` exits, with its log's tail. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  { timeoutMs = 30_000, intervalMs = 100, service }: { timeoutMs?: number; intervalMs?: number; service?: ServiceProcess } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service?.hasExited()) {
      throw new Error(`${service.name} exited before ${what}. Its log (${service.logFile}) ends:\n${service.tail()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      const log = service ? `\n${service.name}'s log (${service.logFile}) ends:\n${service.tail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${log}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Finds a program on PATH or in the sbin folders Debian installs servers into (often not on a user's PATH). */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

export async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  return response.ok;
}
