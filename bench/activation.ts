/**
 * Activation cost and bundle size of the extension. Each sample is a fresh Node process that loads a bundle
 * and calls activate() against the vscode stub (bench/vscodeStub.ts, a named mock). Two baselines are timed
 * the same way, interleaved, in the same run so the ratios hold on a noisy machine: the lsp-sample shape
 * most LSP extensions have (bench/fixtures/lspSampleExtension.ts), and a one-command extension (the floor). The figure inside a real VS Code comes from the VS Code test tier
 * (test-results/activation.json) and is printed beside it when present.
 *
 *   npm run bench -- activation
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const root = join(__dirname, '..', '..');
const SAMPLES = Number(process.env.SG_BENCH_SAMPLES ?? 15);

const BASELINE = `
var __sgBundleStart = performance.now();
const vscode = require('vscode');
exports.activate = function (context) {
  context.subscriptions.push(vscode.commands.registerCommand('hello.world', () => {}));
  const item = vscode.window.createStatusBarItem();
  item.text = 'hello';
  item.show();
  return { activationMs: performance.now() - __sgBundleStart };
};`;

/** Runs in the child: load the bundle with `vscode` resolved to the stub, activate, print the time. */
const CHILD = `
const Module = require('module');
const { vscodeStub, contextStub } = require(process.argv[2]);
const stub = vscodeStub();
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? stub : load.call(this, request, ...rest); };
const start = performance.now();
const ext = require(process.argv[3]);
const context = contextStub();
const api = ext.activate(context);
const total = performance.now() - start;
process.stdout.write(JSON.stringify({ total, reported: api && api.activationMs }));
process.exit(0);
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function sample(bundle: string, stubModule: string, child: string): number {
  try {
    const out = execFileSync(process.execPath, [child, stubModule, bundle], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return (JSON.parse(out) as { total: number }).total;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? error);
    throw new Error(`activating ${bundle} under the stub failed:\n${stderr.split('\n').filter((l) => l.length < 300).slice(-12).join('\n')}`);
  }
}

export interface ActivationFigures {
  oursMs: number;
  lspSampleMs: number;
  minimalMs: number;
  bundleKb: number;
  lspSampleKb: number;
}

export function runActivationBench(): ActivationFigures {
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-activation-'));
  const minimal = join(dir, 'minimal.js');
  const lspSample = join(dir, 'lsp-sample.js');
  const child = join(dir, 'child.js');
  writeFileSync(minimal, BASELINE);
  writeFileSync(child, CHILD);
  buildSync({
    entryPoints: [join(root, 'bench', 'fixtures', 'lspSampleExtension.ts')],
    outfile: lspSample,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    banner: { js: 'var __sgBundleStart = performance.now();' },
    logLevel: 'error',
  });
  const stubModule = join(root, 'out', 'bench', 'vscodeStub.js');
  const ours = join(root, 'dist', 'extension.js');
  const samples = { ours: [] as number[], lspSample: [] as number[], minimal: [] as number[] };
  for (let i = 0; i < SAMPLES; i++) {
    // Interleaved so that load on the machine hits all three alike.
    samples.minimal.push(sample(minimal, stubModule, child));
    samples.lspSample.push(sample(lspSample, stubModule, child));
    samples.ours.push(sample(ours, stubModule, child));
  }
  return {
    oursMs: median(samples.ours),
    lspSampleMs: median(samples.lspSample),
    minimalMs: median(samples.minimal),
    bundleKb: statSync(ours).size / 1024,
    lspSampleKb: statSync(lspSample).size / 1024,
  };
}

if (require.main === module) {
  const r = runActivationBench();
  console.log(`activation (load + activate, vscode stub, median of ${SAMPLES} fresh processes)`);
  console.log(`  streamgate         ${r.oursMs.toFixed(1).padStart(6)} ms   (budget 150 ms)`);
  console.log(`  lsp-sample shape   ${r.lspSampleMs.toFixed(1).padStart(6)} ms   ratio streamgate/lsp-sample ${(r.oursMs / r.lspSampleMs).toFixed(2)}`);
  console.log(`  one-command floor  ${r.minimalMs.toFixed(1).padStart(6)} ms`);
  console.log(`bundle dist/extension.js ${r.bundleKb.toFixed(0)} kB (budget 500 kB; lsp-sample bundle ${r.lspSampleKb.toFixed(0)} kB, ratio ${(r.bundleKb / r.lspSampleKb).toFixed(2)})`);
  const real = join(root, 'test-results', 'activation.json');
  if (existsSync(real)) {
    const measured = JSON.parse(readFileSync(real, 'utf8')) as { activationMs: number; vscode: string };
    console.log(`in real VS Code ${measured.vscode} (last npm test): ${measured.activationMs.toFixed(1)} ms`);
  }
}
