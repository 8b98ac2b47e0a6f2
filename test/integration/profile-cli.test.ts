/**
 * `sg profile top|peek|diff|export` as a user runs them on real Go profiles, with the exports read back by
 * the real `go tool pprof`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readProfileFile } from '../../src/server/profiles/decode';
import type { DiffTable } from '../../src/server/profiles/diff';
import type { SpeedscopeFile } from '../../src/server/profiles/export';
import { mergeProfiles } from '../../src/server/profiles/merge';
import { topTable, type Neighbours, type TopTable } from '../../src/server/profiles/top';
import { repoRoot, tempDir } from '../support/services';

const cli = join(repoRoot, 'dist', 'cli.js');
const go = join(repoRoot, 'test/fixtures/profiles/go');
const cpu = [1, 2, 3].map((n) => join(go, `cpu-${n}.pb.gz`));
const exec = promisify(execFile);

async function sg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, 'profile', ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sg profile', () => {
  it('top --json: exactly { total, unit, sampleType, rows } with rows { name, file, flat, flatPercent, cum, cumPercent }, by flat', async () => {
    const run = await sg(['top', ...cpu, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const table = JSON.parse(run.stdout) as TopTable;
    assert.deepEqual(Object.keys(table), ['total', 'unit', 'sampleType', 'rows']);
    assert.deepEqual(Object.keys(table.rows[0]!), ['name', 'file', 'flat', 'flatPercent', 'cum', 'cumPercent']);
    assert.deepEqual(table, topTable(mergeProfiles(cpu.map((f) => readProfileFile(f)))));
    for (let i = 1; i < table.rows.length; i++) assert.ok(Math.abs(table.rows[i - 1]!.flat) >= Math.abs(table.rows[i]!.flat));
    assert.equal(table.sampleType, 'cpu');
    assert.equal(table.unit, 'nanoseconds');
  });

  it('top --by line --json has a line on every row; --sample-index picks the type', async () => {
    const lines = JSON.parse((await sg(['top', cpu[0]!, '--by', 'line', '--json'])).stdout) as TopTable;
    assert.ok(lines.rows.every((r) => typeof r.line === 'number'));
    const heap = JSON.parse((await sg(['top', join(go, 'heap.pb.gz'), '--sample-index', 'alloc_space', '--json', '--limit', '3'])).stdout) as TopTable;
    assert.equal(heap.sampleType, 'alloc_space');
    assert.equal(heap.unit, 'bytes');
    assert.equal(heap.rows.length, 3);
  });

  it('names a bad file, merges the rest, and exits 3', async () => {
    const bad = join(tempDir(), 'broken.pb.gz');
    writeFileSync(bad, readFileSync(cpu[0]!).subarray(0, 64));
    const run = await sg(['top', cpu[0]!, bad, cpu[1]!, '--json']);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /skipped .*broken\.pb\.gz: is not valid gzip/);
    assert.deepEqual(JSON.parse(run.stdout), topTable(mergeProfiles([readProfileFile(cpu[0]!), readProfileFile(cpu[1]!)])));
    const none = await sg(['top', bad]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no profile could be read/);
  });

  it('rejects an unknown --by and --sample-index as usage errors', async () => {
    const by = await sg(['top', cpu[0]!, '--by', 'module']);
    assert.equal(by.code, 2);
    assert.match(by.stderr, /--by is function, filefunction, line, not "module"/);
    const index = await sg(['top', cpu[0]!, '--sample-index', 'inuse_space']);
    assert.equal(index.code, 2);
    assert.match(index.stderr, /no sample type "inuse_space" in .*cpu-1\.pb\.gz \(it has samples, cpu\)/);
  });

  it('peek --json: callers and callees of a function', async () => {
    const result = JSON.parse((await sg(['peek', ...cpu, '--function', 'main.encodeRecords', '--json'])).stdout) as Neighbours;
    assert.equal(result.function.name, 'main.encodeRecords');
    assert.deepEqual(result.callers.map((c) => c.name), ['main.cpuLoop']);
    assert.ok(result.callees.some((c) => c.name === 'encoding/json.Unmarshal'));
  });

  it('diff --json: per-function deltas with both sides', async () => {
    const run = await sg(['diff', cpu[0]!, `${cpu[1]},${cpu[2]}`, '--json']);
    const diff = JSON.parse(run.stdout) as DiffTable;
    assert.equal(diff.current.source, '2 profiles');
    const row = diff.rows[0]!;
    assert.equal(row.deltaFlat, row.currentFlat - row.baseFlat);
    assert.ok(diff.rows.some((r) => r.name === 'main.fib'));
  });

  it('export --format pprof is read by go tool pprof with the same top table', async () => {
    const out = join(tempDir(), 'merged.pb.gz');
    const run = await sg(['export', ...cpu, '--format', 'pprof', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const { stdout } = await exec('go', ['tool', 'pprof', '-top', '-nodefraction=0', '-nodecount=1000000', '-unit=ns', out], { env: { ...process.env, GOFLAGS: '' } });
    const ours = topTable(mergeProfiles(cpu.map((f) => readProfileFile(f))));
    const theirs = stdout.split('\n').flatMap((l) => {
      const m = /^\s*(-?\d+)ns\s+\S+\s+\S+\s+(-?\d+)ns\s+\S+\s+(.+)$/.exec(l) ?? /^\s*(0)\s+\S+\s+\S+\s+(-?\d+)ns\s+\S+\s+(.+)$/.exec(l);
      return m ? [{ name: m[3]!, flat: Number(m[1]), cum: Number(m[2]) }] : [];
    });
    assert.deepEqual(theirs, ours.rows.map((r) => ({ name: r.name, flat: r.flat, cum: r.cum })));
  });

  it('export --format speedscope writes speedscope\'s file format', async () => {
    const out = join(tempDir(), 'merged.speedscope.json');
    assert.equal((await sg(['export', ...cpu, '--format', 'speedscope', '--out', out])).code, 0);
    const file = JSON.parse(readFileSync(out, 'utf8')) as SpeedscopeFile;
    assert.equal(file.$schema, 'https://www.speedscope.app/file-format-schema.json');
    assert.equal(file.profiles[file.activeProfileIndex]!.unit, 'nanoseconds');
    assert.equal(file.profiles[file.activeProfileIndex]!.endValue, topTable(mergeProfiles(cpu.map((f) => readProfileFile(f)))).total);
  });
});
