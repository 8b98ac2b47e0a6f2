/**
 * A real VS Code for the browser: code-server 4.100.3 (VS Code 1.100.3), the newest that runs on Node 20.
 * Installed on first use into a cache folder shared by every clone, then started on a loopback port.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freePort, httpOk, spawnService, waitUntil, type ServiceProcess } from './process';

export const CODE_SERVER_VERSION = '4.100.3';
/** What code-server 4.100.3's bundled @vscode/ripgrep looks for before it tries GitHub (closed here). */
const RIPGREP_CACHE = { dir: 'vscode-ripgrep-cache-1.15.11', file: 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz' };

export function codeServerHome(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'streamgate-devtools', `code-server-${CODE_SERVER_VERSION}`);
}

export function codeServerBinary(): string {
  return join(codeServerHome(), 'node_modules', '.bin', 'code-server');
}

/** Installs code-server if it is not there yet; returns the binary. Takes about two minutes the first time. */
export function ensureCodeServer(log: (line: string) => void = () => {}): string {
  const home = codeServerHome();
  const marker = join(home, '.installed');
  if (existsSync(marker) && existsSync(codeServerBinary())) return codeServerBinary();

  const rg = findExecutable('rg');
  if (!rg) throw new Error('code-server needs ripgrep: sudo apt-get install ripgrep');
  if (!findExecutable('g++')) throw new Error('code-server compiles native modules: sudo apt-get install g++ make python3');
  // @vscode/ripgrep's postinstall would download from GitHub; a cached tarball of Debian's rg satisfies it.
  const tmp = process.env.TMPDIR || tmpdir();
  const cacheDir = join(tmp, RIPGREP_CACHE.dir);
  mkdirSync(cacheDir, { recursive: true });
  const stage = join(tmp, `sg-rg-${process.pid}`);
  mkdirSync(stage, { recursive: true });
  execFileSync('cp', [rg, join(stage, 'rg')]);
  execFileSync('tar', ['czf', join(cacheDir, RIPGREP_CACHE.file), '-C', stage, 'rg']);
  rmSync(stage, { recursive: true, force: true });

  log(`installing code-server ${CODE_SERVER_VERSION} into ${home} (first use only, about two minutes)…`);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'package.json'), JSON.stringify({ name: 'sg-code-server', private: true }));
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: home,
    stdio: ['ignore', 'inherit', 'inherit'],
    // node-pty's postinstall runs `npx node-gyp`; as root npm must also be allowed to run scripts.
    env: { ...process.env, npm_config_yes: 'true', npm_config_unsafe_perm: 'true', npm_config_update_notifier: 'false' },
  });
  if (!existsSync(codeServerBinary())) throw new Error(`code-server did not install into ${home}`);
  writeFileSync(marker, new Date().toISOString());
  return codeServerBinary();
}

export interface CodeServerOptions {
  /** Folder of the profile: user-data, extensions and a scratch HOME live under it. */
  profileDir: string;
  workspace: string;
  port?: number;
  /** User settings written before start. */
  settings?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  logFile?: string;
}

export interface CodeServer {
  readonly url: string;
  readonly port: number;
  readonly extensionsDir: string;
  readonly userDataDir: string;
  readonly process: ServiceProcess;
  stop(): Promise<void>;
}

export function profilePaths(profileDir: string) {
  return {
    userDataDir: join(profileDir, 'user-data'),
    extensionsDir: join(profileDir, 'extensions'),
    home: join(profileDir, 'home'),
  };
}

/** `code-server --install-extension` into the profile's extensions folder. */
export function installVsix(vsix: string, profileDir: string): string {
  const { extensionsDir, userDataDir, home } = profilePaths(profileDir);
  mkdirSync(extensionsDir, { recursive: true });
  return execFileSync(
    codeServerBinary(),
    ['--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsix, '--force'],
    { encoding: 'utf8', env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') } },
  );
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const binary = ensureCodeServer();
  const { userDataDir, extensionsDir, home } = profilePaths(options.profileDir);
  for (const dir of [join(userDataDir, 'User'), extensionsDir, home]) mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'security.workspace.trust.enabled': false,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'git.openRepositoryInParentFolders': 'never',
        ...options.settings,
      },
      null,
      2,
    ),
  );
  const port = options.port ?? (await freePort());
  const args = [
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    options.workspace,
  ];
  const service = spawnService('code-server', binary, args, {
    logFile: options.logFile ?? join(options.profileDir, 'code-server.log'),
    env: { ...process.env, ...options.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`code-server on ${url}`, () => httpOk(`${url}/healthz`), { service, timeoutMs: 60_000, intervalMs: 100 });
  return { url, port, extensionsDir, userDataDir, process: service, stop: () => service.stop() };
}
