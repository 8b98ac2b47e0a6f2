/**
 * What users download and wait for: the VSIX of every platform, the agent package installed into an empty
 * project (bytes on disk and the packages npm puts there), and sg's start to its first output — the packed CLI
 * installed from its tarball, against bare `node` started the same way, interleaved in the same run (the
 * ratio is the figure; the machine is shared). "Cold" here is a new process with the files in the page cache.
 *
 *   npm run bench -- packages
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startNatsServer } from '../src/launch/nats';

const root = join(__dirname, '..', '..');
const SAMPLES = Number(process.env.SG_BENCH_SAMPLES ?? 15);

interface VsixReport {
  target: string;
  bytes: number;
  files: number;
  problems: string[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

/** Bytes of the files under a folder, and every package (folder with a package.json directly in node_modules). */
function walk(dir: string): { bytes: number; packages: { name: string; bytes: number }[] } {
  let bytes = 0;
  const packages: { name: string; bytes: number }[] = [];
  const sizeOf = (path: string): number => {
    let total = 0;
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) total += sizeOf(full);
      else if (entry.isFile()) total += statSync(full).size;
    }
    return total;
  };
  const visitModules = (modules: string) => {
    for (const entry of readdirSync(modules, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const names = entry.name.startsWith('@') ? readdirSync(join(modules, entry.name)).map((n) => `${entry.name}/${n}`) : [entry.name];
      for (const name of names) {
        const size = sizeOf(join(modules, name));
        packages.push({ name, bytes: size });
        bytes += size;
      }
    }
  };
  visitModules(join(dir, 'node_modules'));
  return { bytes, packages: packages.sort((a, b) => b.bytes - a.bytes) };
}

/** Milliseconds from spawn to the first byte on stdout. */
function firstOutput(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let done = false;
    child.stdout.once('data', () => {
      done = true;
      resolve(performance.now() - start);
    });
    child.once('exit', (code) => {
      if (!done) reject(new Error(`${command} ${args.join(' ')} exited ${code} without output`));
    });
  });
}

async function main(): Promise<void> {
  // --- VSIX per platform ---------------------------------------------------------------------------------------
  execFileSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--all', '--no-build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const check = (await import(pathToFileURL(join(root, 'scripts', 'lib', 'vsixCheck.mjs')).href)) as { checkVsix(file: string): VsixReport };
  const vsixes = readdirSync(join(root, 'dist-vsix')).filter((f) => f.endsWith('.vsix'));
  console.log('VSIX per platform (npm run package -- --all):');
  for (const file of vsixes.sort()) {
    const r = check.checkVsix(join(root, 'dist-vsix', file));
    console.log(`  ${r.target.padEnd(13)} ${mb(r.bytes).padStart(8)}  ${r.files} files${r.problems.length ? `  PROBLEMS: ${r.problems.join('; ')}` : ''}`);
  }

  // --- The agent installed --------------------------------------------------------------------------------------
  const built = execFileSync(process.execPath, [join(root, 'scripts', 'build-packages.mjs'), '--pack'], { encoding: 'utf8' });
  const agentTarball = /^(\S+streamgate-agent-[\d.]+\.tgz)$/m.exec(built)?.[1];
  const cliTarball = /^(\S+streamgate-cli-[\d.]+\.tgz)$/m.exec(built)?.[1];
  if (!agentTarball || !cliTarball) throw new Error(`build-packages printed no tarballs:\n${built}`);
  const project = mkdtempSync(join(tmpdir(), 'sg-bench-agent-'));
  writeFileSync(join(project, 'package.json'), '{"name":"bench","version":"1.0.0","private":true}');
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', agentTarball], { cwd: project, stdio: 'ignore' });
  const installed = walk(project);
  console.log(`\n@streamgate/agent installed into an empty project: ${mb(installed.bytes)} on disk, ${installed.packages.length} packages (itself included):`);
  for (const p of installed.packages) console.log(`  ${p.name.padEnd(28)} ${(p.bytes / 1024).toFixed(0).padStart(6)} KiB`);
  console.log(`  tarball ${(statSync(agentTarball).size / 1024).toFixed(0)} KiB, CLI tarball ${(statSync(cliTarball).size / 1024).toFixed(0)} KiB`);

  // --- sg: start to first output ---------------------------------------------------------------------------------
  const cliProject = mkdtempSync(join(tmpdir(), 'sg-bench-cli-'));
  writeFileSync(join(cliProject, 'package.json'), '{"name":"bench-cli","version":"1.0.0","private":true}');
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', cliTarball], { cwd: cliProject, stdio: 'ignore' });
  const sg = join(cliProject, 'node_modules', '@streamgate', 'cli', 'dist', 'cli.js');
  const nats = await startNatsServer();
  try {
    const cases: [string, string, string[]][] = [
      ['node (baseline)', process.execPath, ['-e', 'process.stdout.write("x")']],
      ['sg --version', process.execPath, [sg, '--version']],
      ['sg --help', process.execPath, [sg, '--help']],
      ['sg pods (NATS, 0 pods)', process.execPath, [sg, 'pods', '--nats', nats.url]],
      ['npx sg --version', 'npx', ['--yes', '--prefer-offline', `--package=${cliTarball}`, '--', 'sg', '--version']],
    ];
    const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (const [, command, args] of cases) await firstOutput(command, args); // warm the page cache and npx's
    for (let i = 0; i < SAMPLES; i++) for (const [name, command, args] of cases) times.get(name)!.push(await firstOutput(command, args));
    const base = median(times.get('node (baseline)')!);
    console.log(`\nsg start to first output, median of ${SAMPLES} (interleaved):`);
    for (const [name] of cases) {
      const m = median(times.get(name)!);
      console.log(`  ${name.padEnd(24)} ${m.toFixed(0).padStart(5)} ms  ${(m / base).toFixed(2)}× bare node`);
    }
  } finally {
    await nats.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
