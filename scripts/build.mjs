#!/usr/bin/env node
// One build for every entry point: the extension, adapter, language server, CLI and agent for Node, each
// webview for the browser, and a plain transpile of src/test/bench into out/ for Node's test runner.
// `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const define = { __SG_VERSION__: JSON.stringify(pkg.version) };

/** Native or huge optional modules stay outside the bundles and are loaded from node_modules. */
const nodeExternal = ['vscode', '@duckdb/node-bindings', 'playwright-core'];

const nodeEntries = [
  { in: 'src/extension/main.ts', out: 'extension', banner: 'var __sgBundleStart = performance.now();' },
  { in: 'src/extension/lsp/languageClient.ts', out: 'lspClient' },
  { in: 'src/adapter/main.ts', out: 'adapter' },
  { in: 'src/server/main.ts', out: 'server' },
  { in: 'src/cli/main.ts', out: 'cli', banner: '#!/usr/bin/env node' },
];
const optionalEntries = [
  { in: 'src/agent/index.ts', out: 'agent' },
  { in: 'demo/gateway/main.ts', out: 'demo/gateway' },
  { in: 'demo/loadgen/main.ts', out: 'demo/loadgen' },
];
const webviewEntries = readdirSync(join(root, 'webviews'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'shared')
  .map((d) => d.name);

function exists(path) {
  try {
    statSync(join(root, path));
    return true;
  } catch {
    return false;
  }
}

function walk(dir, out = []) {
  if (!exists(dir)) return out;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const common = { logLevel: 'warning', define, sourcemap: 'linked', target: 'es2022', legalComments: 'none' };

const configs = [
  ...[...nodeEntries, ...optionalEntries.filter((e) => exists(e.in))].map((entry) => ({
    ...common,
    entryPoints: [{ in: entry.in, out: entry.out }],
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // The sandbox's code stays readable: profiles and stack traces of it are what users look at.
    minify: !entry.out.startsWith('demo/'),
    keepNames: true,
    external: nodeExternal,
    mainFields: ['module', 'main'],
    ...(entry.banner ? { banner: { js: entry.banner } } : {}),
  })),
  ...webviewEntries.map((name) => ({
    ...common,
    entryPoints: [{ in: `webviews/${name}/main.ts`, out: name }],
    outdir: 'dist/webviews',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    minify: true,
  })),
  {
    // The notebook renderer of query results: VS Code loads renderers as ES modules; its styles travel inside it.
    ...common,
    entryPoints: [{ in: 'webviews/query/renderer.ts', out: 'queryRenderer' }],
    outdir: 'dist/webviews',
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    loader: { '.css': 'text' },
  },
  {
    // Tests and benchmarks import modules one by one, so out/ mirrors the tree instead of bundling.
    ...common,
    sourcemap: 'inline',
    entryPoints: [...walk('src'), ...walk('test'), ...walk('bench'), ...walk('demo')],
    outdir: 'out',
    outbase: '.',
    bundle: false,
    platform: 'node',
    format: 'cjs',
  },
];

function copyAssets() {
  const target = join(root, 'dist/webviews');
  mkdirSync(join(target, 'codicons'), { recursive: true });
  const codicons = join(root, 'node_modules/@vscode/codicons/dist');
  for (const file of ['codicon.css', 'codicon.ttf']) cpSync(join(codicons, file), join(target, 'codicons', file));
  cpSync(join(root, 'webviews/shared/webview.css'), join(target, 'webview.css'));
  for (const name of webviewEntries) {
    const css = join(root, `webviews/${name}/${name}.css`);
    if (exists(relative(root, css))) cpSync(css, join(target, `${name}.css`));
  }
}

process.chdir(root);
if (watch) {
  const contexts = await Promise.all(configs.map((c) => esbuild.context(c)));
  copyAssets();
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching for changes (Ctrl-C to stop)');
} else {
  const started = Date.now();
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  rmSync(join(root, 'out'), { recursive: true, force: true });
  await Promise.all(configs.map((c) => esbuild.build(c)));
  copyAssets();
  console.log(`build: ${configs.length} bundles in ${Date.now() - started} ms`);
}
