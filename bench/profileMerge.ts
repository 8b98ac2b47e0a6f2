/**
 * Merge speed against `go tool pprof` on the same input, in one run: the real Go CPU profiles of
 * test/fixtures/profiles/go merged into one top table, by
 *   - `go tool pprof -top` (the baseline; a Go process: decode, merge, report),
 *   - `sg profile top --json` (a Node process doing the same),
 *   - our library in-process (decode + merge + top table: what the server does per query).
 * Inputs: the 3 captured profiles, and 60 (the 3 twenty times over: an hour of one-minute profiles of a pod).
 * Runs are interleaved round by round; medians reported. The same rows come out of every arm (checked).
 *
 *   npm run bench -- profileMerge      (SG_BENCH_ROUNDS=15)
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadProfileFiles } from '../src/server/profiles/load';
import { topTable, type TopTable } from '../src/server/profiles/top';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const dir = join(root, 'test', 'fixtures', 'profiles', 'go');
const ROUNDS = Number(process.env.SG_BENCH_ROUNDS ?? 15);
const base = [1, 2, 3].map((n) => join(dir, `cpu-${n}.pb.gz`));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function timed<T>(fn: () => T): [number, T] {
  const start = performance.now();
  const out = fn();
  return [performance.now() - start, out];
}

function goTop(files: string[]): string {
  return execFileSync('go', ['tool', 'pprof', '-top', '-nodefraction=0', '-nodecount=1000000', '-unit=ns', ...files], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
}

function sgTop(files: string[]): TopTable {
  return JSON.parse(execFileSync(process.execPath, [cli, 'profile', 'top', '--json', ...files], { encoding: 'utf8', maxBuffer: 64 << 20 })) as TopTable;
}

function inProcess(files: string[]): TopTable {
  return topTable(loadProfileFiles(files).profile!);
}

/** The flat column pprof printed, to check every arm computed the same thing. */
function goFlats(text: string): number[] {
  return text.split('\n').flatMap((l) => {
    const m = /^\s*(-?\d+)(?:ns)?\s+\S+\s+\S+\s+(-?\d+)(?:ns)?\s/.exec(l);
    return m ? [Number(m[1])] : [];
  });
}

function run(label: string, files: string[]): void {
  const go: number[] = [];
  const sg: number[] = [];
  const lib: number[] = [];
  // Warm-up and the cross-check.
  const goText = goTop(files);
  const ours = inProcess(files);
  if (JSON.stringify(goFlats(goText)) !== JSON.stringify(ours.rows.map((r) => r.flat))) throw new Error(`${label}: our rows differ from go tool pprof's`);
  if (JSON.stringify(sgTop(files)) !== JSON.stringify(ours)) throw new Error(`${label}: sg profile top differs from the library`);
  for (let r = 0; r < ROUNDS; r++) {
    go.push(timed(() => goTop(files))[0]);
    sg.push(timed(() => sgTop(files))[0]);
    lib.push(timed(() => inProcess(files))[0]);
  }
  const g = median(go);
  const s = median(sg);
  const l = median(lib);
  console.log(
    `${label.padEnd(26)} go tool pprof ${g.toFixed(1).padStart(7)} ms | sg profile top ${s.toFixed(1).padStart(7)} ms (×${(s / g).toFixed(2)}) | in-process ${l.toFixed(1).padStart(7)} ms (×${(l / g).toFixed(3)}) | ${ours.rows.length} rows`,
  );
}

console.log(`go tool pprof vs ours on real Go CPU profiles, median of ${ROUNDS} interleaved rounds (ratio: ours / go tool pprof, lower is faster)`);
run('3 profiles (27 KB)', base);
run('60 profiles (0.5 MB)', Array.from({ length: 20 }, () => base).flat());
