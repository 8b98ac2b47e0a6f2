/** Which NATS a command talks to, and the state of a running sandbox fleet. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { explainNatsError, natsConnectionOptions } from '../common/natsOptions';
import { redactUrl } from '../protocol/settings';

export interface FleetState {
  pid: number;
  nats: string;
  startedAt: number;
  stateDir: string;
  pods: { pod: string; service: string; pid: number; httpPort: number }[];
}

export function defaultFleetDir(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'streamgate', 'fleet');
}

export function readFleetState(stateDir = defaultFleetDir()): FleetState | undefined {
  const file = join(stateDir, 'fleet.json');
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as FleetState;
    process.kill(state.pid, 0); // throws when the fleet's process is gone
    // A crashed fleet leaves its file behind and the pid may be reused: make sure it is still `sg fleet up`.
    if (existsSync('/proc')) {
      const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').split('\0');
      if (!(cmdline.includes('fleet') && cmdline.includes('up'))) return undefined;
    }
    return state;
  } catch {
    return undefined;
  }
}

/** --nats, else $STREAMGATE_NATS_URL, else the running sandbox fleet's, else the default local server. */
export function resolveNatsUrl(flag: string | undefined): string {
  return flag ?? process.env.STREAMGATE_NATS_URL ?? readFleetState()?.nats ?? 'nats://127.0.0.1:4222';
}

export async function connectCli(url: string, creds?: string): Promise<NatsConnection> {
  try {
    return await connect({ ...natsConnectionOptions({ url, ...(creds ? { credentialsFile: creds } : {}) }, 'sg cli'), timeout: 5000 });
  } catch (error) {
    throw new Error(explainNatsError(error, redactUrl(url)));
  }
}

/** "30s", "5m", "1h30m", "250ms" or a plain number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text.trim();
  if (!rest) throw new Error('a duration cannot be empty');
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`"${text}" is not a duration: use 30s, 5m, 1h or 1h30m`);
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}
