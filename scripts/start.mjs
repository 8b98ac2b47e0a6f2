#!/usr/bin/env node
// `npm start`: build everything, start NATS (JetStream), the language server's backend headless, the
// sandbox fleet (3 gateway pods, a Go pod, simulated users) and a real VS Code (code-server) with the freshly
// packaged extension, opened on the sandbox's source. Prints the URL and runs until Ctrl-C, then stops
// everything it started.
//   --port N   code-server port (default 8080, or a free one if taken)
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build, ensureDebianPackages, ensureNodeModules, log, packageVsix, root } from './lib/bootstrap.mjs';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const stops = [];
let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  log('stopping everything npm start started…');
  for (const stop of stops.splice(0).reverse()) await stop().catch((e) => log(`  ${e.message}`));
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

try {
  ensureDebianPackages(['nats-server', 'rg', 'krb5-config', 'go']);
  ensureNodeModules();
  build();
  const vsix = packageVsix();

  const require = createRequire(import.meta.url);
  const { startNatsServer } = require(join(root, 'out/src/launch/nats.js'));
  const { spawnService, waitUntil, freePort, httpOk } = require(join(root, 'out/src/launch/process.js'));
  const { ensureCodeServer, installVsix, startCodeServer } = require(join(root, 'out/src/launch/codeServer.js'));

  const state = join(root, '.streamgate', 'dev');
  mkdirSync(state, { recursive: true });

  const nats = await startNatsServer({ storeDir: join(state, 'nats'), logFile: join(state, 'nats-server.log') });
  stops.push(() => nats.stop());
  log(`NATS with JetStream: ${nats.url}`);

  const serverPort = await freePort();
  const server = spawnService(
    'sg server',
    process.execPath,
    [join(root, 'dist/cli.js'), 'server', '--nats', nats.url, '--store', `duckdb:${join(state, 'server.duckdb')}`, '--port', String(serverPort)],
    { logFile: join(state, 'sg-server.log') },
  );
  stops.push(() => server.stop());
  await waitUntil('sg server', () => httpOk(`http://127.0.0.1:${serverPort}/healthz`), { service: server });
  log(`language server backend (headless): http://127.0.0.1:${serverPort}/status`);

  const { startSandbox } = require(join(root, 'out/src/launch/sandbox.js'));
  const fleet = await startSandbox({
    pods: 3,
    natsUrl: nats.url,
    stateDir: join(state, 'fleet'),
    distDir: join(root, 'dist'),
    goSourceDir: join(root, 'demo', 'gopod'),
    sourceDir: join(root, 'demo'),
    log: (line) => log(`fleet: ${line}`),
  });
  stops.push(() => fleet.stop());
  const workspace = join(root, 'demo');

  ensureCodeServer(log);
  const profileDir = join(state, 'vscode');
  installVsix(vsix, profileDir);
  const wanted = values.port ? Number(values.port) : 8080;
  const port = (await portFree(wanted)) ? wanted : await freePort();
  const vscode = await startCodeServer({
    profileDir,
    workspace,
    port,
    settings: { 'streamgate.nats.url': nats.url },
    logFile: join(state, 'code-server.log'),
  });
  stops.push(() => vscode.stop());

  process.stdout.write(`\n  StreamGate DevTools is running in VS Code: \x1b[1m${vscode.url}/?folder=${encodeURIComponent(workspace)}\x1b[0m\n`);
  process.stdout.write(`  NATS ${nats.url} · backend http://127.0.0.1:${serverPort}/status (Prometheus: /metrics) · logs in .streamgate/dev/\n`);
  process.stdout.write(`  Sandbox fleet: ${fleet.pods.map((p) => `${p.pod} http://127.0.0.1:${p.port}`).join(', ')}\n`);
  process.stdout.write(`  From a terminal: STREAMGATE_NATS_URL=${nats.url} node dist/cli.js pods\n`);
  process.stdout.write('  Press Ctrl-C to stop everything.\n\n');
  await new Promise(() => {});
} catch (error) {
  log(`\x1b[31mnpm start failed: ${error.message}\x1b[0m`);
  await stopAll(1);
}
