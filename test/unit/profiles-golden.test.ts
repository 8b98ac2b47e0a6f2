/**
 * Our profile maths against `go tool pprof` on real Go profiles (test/fixtures/profiles/go, captured by
 * scripts/capture-go-profiles.mjs from a real Go program through net/http/pprof). Every row of every golden
 * output is compared: name, flat, cum, flat % and cum % (formatted as pprof formats them), in pprof's order.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readProfileFile } from '../../src/server/profiles/decode';
import { diffProfiles } from '../../src/server/profiles/diff';
import { mergeProfiles } from '../../src/server/profiles/merge';
import type { ProfileData } from '../../src/server/profiles/profileData';
import { neighbours, printableName, topTable, type Granularity } from '../../src/server/profiles/top';

const dir = join(__dirname, '../../../test/fixtures/profiles/go');
const load = (name: string): ProfileData => readProfileFile(join(dir, `${name}.pb.gz`));

interface GoldenRow {
  flat: number;
  flatPct: string;
  cum: number;
  cumPct: string;
  name: string;
}

interface Golden {
  type: string;
  total: number;
  rows: GoldenRow[];
  text: string;
}

/** "410000000ns", "25483728B", "14656", "-90000000ns" → the integer. */
function parseValue(text: string): number {
  const match = /^(-?\d+)(ns|B)?$/.exec(text);
  if (!match) throw new Error(`golden value "${text}" is not exact: capture with -unit`);
  return Number(match[1]);
}

function stripInline(name: string): string {
  return name.replace(/ \((partial-)?inline\)$/, '');
}

function readGolden(name: string): Golden {
  const text = readFileSync(join(dir, 'golden', `${name}.txt`), 'utf8');
  const type = /^Type: (\S+)$/m.exec(text)?.[1];
  const total = /of (-?\d+)(?:ns|B)? total$/m.exec(text)?.[1];
  assert.ok(type && total, `${name}: golden header`);
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^\s+flat\s+flat%\s+sum%\s+cum\s+cum%$/.test(l));
  const rows: GoldenRow[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+)$/.exec(line);
    if (!m) continue;
    rows.push({ flat: parseValue(m[1]!), flatPct: m[2]!, cum: parseValue(m[4]!), cumPct: m[5]!, name: stripInline(m[6]!) });
  }
  assert.ok(rows.length > 0, `${name}: golden rows`);
  return { type, total: Number(total), rows, text };
}

/** Go's %5.2g for a ratio below 1, as pprof's measurement.Percentage prints it (trimmed). */
function goG2(x: number): string {
  if (x === 0) return '0';
  const [mantissa, exponent] = x.toExponential(1).split('e') as [string, string];
  const e = Number(exponent);
  if (e < -4 || e >= 2) {
    const m = mantissa.replace(/\.0$/, '');
    return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return Number(x.toFixed(Math.max(0, 1 - e))).toString();
}

/** pprof's measurement.Percentage(value, total), trimmed. */
export function pprofPercentage(value: number, total: number): string {
  const ratio = total ? Math.abs(value / total) * 100 : 0;
  if (ratio >= 99.95 && ratio <= 100.05) return '100%';
  if (ratio >= 1) return `${ratio.toFixed(2)}%`;
  return `${goG2(ratio)}%`;
}

function assertRows(label: string, golden: Golden, ours: { name: string; flat: number; cum: number }[], total: number): void {
  assert.equal(total, golden.total, `${label}: total`);
  assert.equal(ours.length, golden.rows.length, `${label}: row count`);
  golden.rows.forEach((g, i) => {
    const o = ours[i]!;
    const where = `${label} row ${i + 1} (${g.name})`;
    assert.equal(o.name, g.name, `${where}: name`);
    assert.equal(o.flat, g.flat, `${where}: flat`);
    assert.equal(o.cum, g.cum, `${where}: cum`);
    assert.equal(pprofPercentage(o.flat, total), g.flatPct, `${where}: flat %`);
    assert.equal(pprofPercentage(o.cum, total), g.cumPct, `${where}: cum %`);
  });
}

function checkTop(goldenName: string, profile: ProfileData, by: Granularity = 'function', sampleIndex?: string): void {
  const golden = readGolden(goldenName);
  const table = topTable(profile, { by, ...(sampleIndex ? { sampleIndex } : {}) });
  assert.equal(table.sampleType, golden.type, `${goldenName}: sample type`);
  const named = table.rows.map((r) => ({ ...r, name: printableName({ name: r.name, file: r.file, line: r.line ?? 0 }, by) }));
  assertRows(goldenName, golden, named, table.total);
  // The percentages we report are the ones pprof prints, before formatting.
  for (const r of table.rows) assert.equal(pprofPercentage(r.flat, table.total), pprofPercentage((r.flatPercent / 100) * table.total, table.total));
}

describe('top tables equal go tool pprof -top on real Go profiles', () => {
  for (const name of ['cpu-1', 'cpu-2', 'cpu-3', 'heap', 'allocs', 'goroutine', 'block', 'mutex']) {
    it(`${name}: by function, default sample type`, () => checkTop(`${name}.top`, load(name)));
  }
  it('cpu-1 by file and function (-filefunctions)', () => checkTop('cpu-1.filefunctions', load('cpu-1'), 'filefunction'));
  it('cpu-1 by line (-lines)', () => checkTop('cpu-1.lines', load('cpu-1'), 'line'));
  it('cpu-1 with -sample_index=samples', () => checkTop('cpu-1.samples', load('cpu-1'), 'function', 'samples'));
  for (const index of ['alloc_space', 'alloc_objects', 'inuse_objects']) {
    it(`heap with -sample_index=${index}`, () => checkTop(`heap.${index}`, load('heap'), 'function', index));
  }
  it('block with -sample_index=contentions', () => checkTop('block.contentions', load('block'), 'function', 'contentions'));
  it('three CPU profiles merged', () => checkTop('cpu-merged.top', mergeProfiles([load('cpu-1'), load('cpu-2'), load('cpu-3')])));

  it('the golden files hold distinct hot functions, inline frames and recursion', () => {
    const text = readGolden('cpu-merged.top').text;
    for (const fn of ['main.hashBlocks', 'main.encodeRecords', 'main.sortScores', 'main.matchRoutes', 'main.fib', 'main.checksum', 'main.clamp (inline)']) {
      assert.ok(text.includes(`  ${fn}\n`), `${fn} is in the golden`);
    }
  });
});

describe('diff equals go tool pprof -diff_base', () => {
  it('cpu-2 against cpu-1: per-function deltas, order and percentages of the base', () => {
    const golden = readGolden('cpu-diff.top');
    const diff = diffProfiles(load('cpu-1'), load('cpu-2'));
    // pprof leaves out nodes whose flat and cum both cancel; we keep them (a function that moved nothing is news too).
    const moved = diff.rows.filter((r) => r.deltaFlat !== 0 || r.deltaCum !== 0).map((r) => ({ name: r.name, flat: r.deltaFlat, cum: r.deltaCum }));
    assertRows('cpu-diff', golden, moved, diff.base.total);
    const row = diff.rows.find((r) => r.name === 'main.clamp')!;
    assert.equal(row.deltaFlatPercent, row.currentFlatPercent - row.baseFlatPercent);
    assert.equal(row.baseFlatPercent, (row.baseFlat / diff.base.total) * 100);
  });
});

describe('callers and callees equal go tool pprof -peek', () => {
  for (const fn of ['fib', 'encodeRecords']) {
    it(`main.${fn} in the merged CPU profiles`, () => {
      const text = readFileSync(join(dir, 'golden', `cpu-merged.peek-${fn}.txt`), 'utf8');
      const lines = text.split('\n');
      const self = lines.findIndex((l) => l.endsWith(`| main.${fn}`));
      const edge = (l: string) => {
        const m = /^\s+(\d+)ns\s+(\S+)\s+\|\s+(.+)$/.exec(l);
        return m ? { value: Number(m[1]), percent: m[2]!, name: stripInline(m[3]!) } : undefined;
      };
      const callers = lines.slice(0, self).map(edge).filter((e) => e !== undefined);
      const callees = lines.slice(self + 1).map(edge).filter((e) => e !== undefined);
      const selfRow = /^(\d+)ns\s+\S+\s+\S+\s+(\d+)ns/.exec(lines[self]!)!;
      const merged = mergeProfiles([load('cpu-1'), load('cpu-2'), load('cpu-3')]);
      const ours = neighbours(merged, `main.${fn}`)!;
      assert.equal(ours.function.flat, Number(selfRow[1]));
      assert.equal(ours.function.cum, Number(selfRow[2]));
      const compare = (mine: typeof ours.callers, theirs: typeof callers, what: string) => {
        assert.deepEqual(
          mine.map((e) => ({ value: e.value, percent: pprofPercentage(e.value, ours.function.cum), name: e.name })),
          theirs,
          `${fn} ${what}`,
        );
      };
      assert.ok(callers.length > 0);
      compare(ours.callers, callers, 'callers');
      compare(ours.callees, callees, 'callees');
      for (const e of ours.callers) assert.equal(pprofPercentage(e.value, ours.function.cum), pprofPercentage((e.percent / 100) * ours.function.cum, ours.function.cum));
    });
  }
});
