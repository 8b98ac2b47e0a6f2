#!/usr/bin/env node
// Regenerates the Go profiles under test/fixtures/profiles/go and the `go tool pprof` outputs our profile
// maths is checked against (test/unit/profiles-golden.test.ts). Needs Debian's golang-go; builds offline
// (GOPROXY=off, standard library only). Run: node scripts/capture-go-profiles.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'test/fixtures/profiles/gohot');
const out = join(root, 'test/fixtures/profiles/go');
const golden = join(out, 'golden');
const build = mkdtempSync(join(tmpdir(), 'sg-gohot-'));
const binary = join(build, 'gohot');
const env = { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', GOCACHE: join(build, 'cache'), GOPATH: join(build, 'gopath') };

execFileSync('go', ['build', '-trimpath', '-o', binary, '.'], { cwd: source, env, stdio: 'inherit' });
const child = spawn(binary, ['-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let text = '';
  child.stdout.on('data', (chunk) => {
    text += chunk;
    const match = /GOHOT_READY (\d+)/.exec(text);
    if (match) resolve(Number(match[1]));
  });
  child.on('exit', (code) => reject(new Error(`gohot exited (${code})`)));
});

async function fetchProfile(path, file) {
  const response = await fetch(`http://127.0.0.1:${port}/debug/pprof/${path}`);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  writeFileSync(join(out, file), bytes);
  console.log(`${file}: ${bytes.length} bytes`);
}

try {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(golden, { recursive: true });
  await new Promise((r) => setTimeout(r, 2000)); // warm up
  for (const n of [1, 2, 3]) await fetchProfile('profile?seconds=4', `cpu-${n}.pb.gz`);
  await fetchProfile('heap', 'heap.pb.gz');
  await fetchProfile('allocs', 'allocs.pb.gz');
  await fetchProfile('goroutine', 'goroutine.pb.gz');
  await fetchProfile('block', 'block.pb.gz');
  await fetchProfile('mutex', 'mutex.pb.gz');
} finally {
  child.kill('SIGKILL');
}

/** Every node, no trimming, exact values: the golden holds every row a test compares. */
const EXACT = ['-nodefraction=0', '-edgefraction=0', '-nodecount=1000000'];
function pprof(name, args) {
  const text = execFileSync('go', ['tool', 'pprof', ...args], { cwd: out, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(join(golden, `${name}.txt`), `# go tool pprof ${args.join(' ')}\n${text}`);
}
const unitOf = { cpu: 'ns', heap: 'B', allocs: 'B', block: 'ns', mutex: 'ns' };
const cases = [];
for (const file of readdirSync(out).filter((f) => f.endsWith('.pb.gz')).sort()) {
  const base = file.replace(/\.pb\.gz$/, '');
  const kind = base.replace(/-\d+$/, '');
  const unit = unitOf[kind] ? [`-unit=${unitOf[kind]}`] : [];
  cases.push([`${base}.top`, ['-top', ...EXACT, ...unit, file]]);
}
cases.push(['cpu-1.filefunctions', ['-top', '-filefunctions', ...EXACT, '-unit=ns', 'cpu-1.pb.gz']]);
cases.push(['cpu-1.lines', ['-top', '-lines', ...EXACT, '-unit=ns', 'cpu-1.pb.gz']]);
cases.push(['cpu-1.samples', ['-top', '-sample_index=samples', ...EXACT, 'cpu-1.pb.gz']]);
cases.push(['cpu-merged.top', ['-top', ...EXACT, '-unit=ns', 'cpu-1.pb.gz', 'cpu-2.pb.gz', 'cpu-3.pb.gz']]);
cases.push(['cpu-diff.top', ['-top', ...EXACT, '-unit=ns', '-diff_base=cpu-1.pb.gz', 'cpu-2.pb.gz']]);
for (const index of ['alloc_space', 'alloc_objects', 'inuse_objects']) cases.push([`heap.${index}`, ['-top', `-sample_index=${index}`, ...EXACT, ...(index.endsWith('space') ? ['-unit=B'] : []), 'heap.pb.gz']]);
cases.push(['block.contentions', ['-top', '-sample_index=contentions', ...EXACT, 'block.pb.gz']]);
cases.push(['cpu-merged.peek-fib', ['-peek', '^main\\.fib$', ...EXACT, '-unit=ns', 'cpu-1.pb.gz', 'cpu-2.pb.gz', 'cpu-3.pb.gz']]);
cases.push(['cpu-merged.peek-encodeRecords', ['-peek', '^main\\.encodeRecords$', ...EXACT, '-unit=ns', 'cpu-1.pb.gz', 'cpu-2.pb.gz', 'cpu-3.pb.gz']]);
for (const [name, args] of cases) pprof(name, args);
writeFileSync(join(out, 'README.md'), `# Real Go profiles and their \`go tool pprof\` outputs

Captured by \`node scripts/capture-go-profiles.mjs\` from \`test/fixtures/profiles/gohot\` (${execFileSync('go', ['version'], { encoding: 'utf8' }).trim()})
through \`net/http/pprof\`: three 4-second CPU profiles, heap, allocs, goroutine, block and mutex.
\`golden/*.txt\` are \`go tool pprof\` outputs (the command is on each file's first line); the unit tests compare
our top tables, merges, diffs and callers/callees to them.
`);
rmSync(build, { recursive: true, force: true });
console.log(`golden outputs in ${golden}`);
