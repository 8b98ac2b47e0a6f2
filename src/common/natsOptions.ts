/**
 * Turns NatsSettings into options for the `nats` client: the one place credentials files, tokens, user and
 * password, and TLS are understood, so the server, the adapter, the agent and the CLI all accept the same.
 */
import { readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions } from 'nats';
import type { NatsSettings } from '../protocol/settings';

export function natsConnectionOptions(settings: NatsSettings, name: string): ConnectionOptions {
  // nats://user:password@host (or nats://token@host) works like the separate settings; the URL's wins only where
  // no setting is given.
  let fromUrl: { user?: string; pass?: string } = {};
  const servers = settings.url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((server) => {
      const at = /^([a-z]+:\/\/)([^@/]+)@(.+)$/i.exec(server);
      if (!at) return server;
      const [user, ...rest] = at[2]!.split(':');
      fromUrl = { user: decodeURIComponent(user!), ...(rest.length ? { pass: decodeURIComponent(rest.join(':')) } : {}) };
      return `${at[1]}${at[3]}`;
    });
  const options: ConnectionOptions = { servers, name };
  if (fromUrl.user !== undefined && !settings.user && !settings.token) {
    if (fromUrl.pass === undefined) options.token = fromUrl.user;
    else {
      options.user = fromUrl.user;
      options.pass = fromUrl.pass;
    }
  }
  if (settings.credentialsFile) {
    options.authenticator = credsAuthenticator(readFileOrExplain(settings.credentialsFile, 'NATS credentials file'));
  }
  if (settings.token) options.token = settings.token;
  if (settings.user) {
    options.user = settings.user;
    if (settings.password !== undefined) options.pass = settings.password;
  }
  const tls = settings.tls;
  if (tls && (tls.caFile || tls.certFile || tls.keyFile)) {
    options.tls = {
      ...(tls.caFile ? { caFile: mustExist(tls.caFile, 'TLS CA file') } : {}),
      ...(tls.certFile ? { certFile: mustExist(tls.certFile, 'TLS certificate file') } : {}),
      ...(tls.keyFile ? { keyFile: mustExist(tls.keyFile, 'TLS key file') } : {}),
    };
  } else if (servers.some((s) => s.startsWith('tls://'))) {
    options.tls = {};
  }
  return options;
}

function readFileOrExplain(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function mustExist(path: string, what: string): string {
  readFileOrExplain(path, what);
  return path;
}

/** The client's errors say "CONNECTION_REFUSED" and the like; this says what to do about it. */
export function explainNatsError(error: unknown, url: string): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'CONNECTION_REFUSED':
      return `no NATS server answers at ${url} (connection refused): start one (nats-server -js) or check the URL`;
    case 'AUTHORIZATION_VIOLATION':
      return `NATS at ${url} refused the credentials: check the credentials file, token or user/password`;
    case 'TIMEOUT':
      return `NATS at ${url} did not answer in time`;
    default:
      return `NATS at ${url}: ${message}`;
  }
}
