#!/usr/bin/env node
// `npm run build:packages`: the npm packages a user installs, built from the same sources as the extension.
//   packages/agent  @streamgate/agent — the pod agent (one bundled file, its types in one index.d.ts)
//   packages/cli    @streamgate/cli   — `sg` (one bundled file, the sandbox's pods beside it)
//   --pack          also `npm pack` each into dist-packages/ (the tarballs the tests install)
// The agent's major version is the NATS protocol version it speaks (PROTOCOL_VERSION in src/protocol/nats.ts);
// the CLI's version is the extension's. Both are checked here, so a release cannot ship them out of step.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { packageJson, root } from './lib/bootstrap.mjs';
import { writeDeclarations } from './lib/declarations.mjs';

const pack = process.argv.includes('--pack');
const readJson = (file) => JSON.parse(readFileSync(join(root, file), 'utf8'));

/** The protocol version the sources speak, read from the one place it is declared. */
export function protocolVersion() {
  const match = /^export const PROTOCOL_VERSION = (\d+);$/m.exec(readFileSync(join(root, 'src', 'protocol', 'nats.ts'), 'utf8'));
  if (!match) throw new Error('src/protocol/nats.ts declares no PROTOCOL_VERSION');
  return Number(match[1]);
}

const agent = readJson('packages/agent/package.json');
const cli = readJson('packages/cli/package.json');
const protocol = protocolVersion();
if (Number(agent.version.split('.')[0]) !== protocol || agent.streamgate?.protocolVersion !== protocol) {
  throw new Error(`packages/agent is ${agent.version} (protocolVersion ${agent.streamgate?.protocolVersion}) but the sources speak NATS protocol ${protocol}: its major version and streamgate.protocolVersion must be ${protocol}`);
}
if (cli.version !== packageJson().version) throw new Error(`packages/cli is ${cli.version} but the extension is ${packageJson().version}: release them together`);
if (cli.peerDependencies['@duckdb/node-api'] !== packageJson().dependencies['@duckdb/node-api']) throw new Error('packages/cli must name the @duckdb/node-api version the extension uses');

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', keepNames: true, legalComments: 'none', logLevel: 'warning' };

process.chdir(root);
rmSync(join(root, 'packages', 'agent', 'dist'), { recursive: true, force: true });
rmSync(join(root, 'packages', 'cli', 'dist'), { recursive: true, force: true });

// The agent: readable (its frames show up in users' profiles and stack traces), NATS and the OpenTelemetry API
// left to npm since they are part of its API and a service usually has them already.
await esbuild.build({
  ...common,
  entryPoints: ['src/agent/index.ts'],
  outfile: 'packages/agent/dist/index.js',
  external: Object.keys(agent.dependencies),
  define: { __SG_VERSION__: JSON.stringify(agent.version) },
});
const imported = writeDeclarations('src/agent/index.ts', join(root, 'packages', 'agent', 'dist', 'index.d.ts'));
const allowed = new Set([...Object.keys(agent.dependencies), ...Object.keys(agent.peerDependencies), 'node:http']);
const stray = imported.filter((m) => !allowed.has(m));
if (stray.length) throw new Error(`the agent's types import ${stray.join(', ')}, which its package.json does not provide`);

// The CLI: minified; DuckDB (only `sg server` with a DuckDB store needs it) is an optional peer the user adds.
await esbuild.build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'packages/cli/dist/cli.js',
  minify: true,
  external: ['@duckdb/node-api', '@duckdb/node-bindings'],
  define: { __SG_VERSION__: JSON.stringify(cli.version) },
  banner: { js: '#!/usr/bin/env node' },
});
for (const bundle of ['gateway', 'loadgen']) {
  await esbuild.build({
    ...common,
    entryPoints: [`demo/${bundle}/main.ts`],
    outfile: `packages/cli/dist/demo/${bundle}.js`,
    define: { __SG_VERSION__: JSON.stringify(cli.version) },
  });
}
mkdirSync(join(root, 'packages', 'cli', 'demo', 'gopod'), { recursive: true });
for (const file of ['go.mod', 'main.go']) cpSync(join(root, 'demo', 'gopod', file), join(root, 'packages', 'cli', 'demo', 'gopod', file));
for (const dir of ['agent', 'cli']) cpSync(join(root, 'LICENSE'), join(root, 'packages', dir, 'LICENSE'));

for (const dir of ['agent', 'cli']) {
  const size = statSync(join(root, 'packages', dir, 'dist', dir === 'agent' ? 'index.js' : 'cli.js')).size;
  console.log(`packages/${dir}: ${(size / 1024).toFixed(0)} KiB bundle`);
}

if (pack) {
  const out = join(root, 'dist-packages');
  mkdirSync(out, { recursive: true });
  for (const dir of ['agent', 'cli']) {
    const file = execFileSync('npm', ['pack', '--pack-destination', out, '--silent'], { cwd: join(root, 'packages', dir), encoding: 'utf8' }).trim().split('\n').pop();
    console.log(join(out, file));
  }
}
