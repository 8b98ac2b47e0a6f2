import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { evalDataDir, repoRoot } from '../support/evalData';

const cli = join(repoRoot, 'dist', 'cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'sg-eval-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function sg(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'eval', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small NAB-shaped folder: one file of `rows` rows with one window. */
function nabFolder(name: string, rows = 400): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'data', 'sub'), { recursive: true });
  mkdirSync(join(dir, 'labels'), { recursive: true });
  const ts = (i: number) => new Date(Date.UTC(2020, 0, 1) + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
  const lines = ['timestamp,value', ...Array.from({ length: rows }, (_, i) => `${ts(i)},${i === 300 ? 500 : 10 + (i % 7)}`)];
  writeFileSync(join(dir, 'data', 'sub', 'a.csv'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'labels', 'combined_windows.json'), JSON.stringify({ 'sub/a.csv': [[`${ts(290)}.000000`, `${ts(310)}.000000`]] }));
  return dir;
}

describe('sg eval: bad folders get a clear error naming the file', () => {
  it('nab: a folder that does not exist', () => {
    const r = sg('nab', '--data', join(scratch, 'nope'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sg eval: .*nope: not a folder/);
  });
  it('nab: no labels file', () => {
    const dir = nabFolder('nolabels');
    rmSync(join(dir, 'labels'), { recursive: true });
    const r = sg('nab', '--data', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /labels\/combined_windows\.json: missing/);
  });
  it('nab: a malformed CSV row, by file and line', () => {
    const dir = nabFolder('badrow');
    writeFileSync(join(dir, 'data', 'sub', 'a.csv'), 'timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,abc\n');
    const r = sg('nab', '--data', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /data\/sub\/a\.csv:3: "value" is not a number \("abc"\)/);
  });
  it('nab: a data file the labels do not know', () => {
    const dir = nabFolder('unlabelled');
    writeFileSync(join(dir, 'data', 'sub', 'b.csv'), 'timestamp,value\n2020-01-01 00:00:00,1\n');
    const r = sg('nab', '--data', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /combined_windows\.json: has no entry for sub\/b\.csv/);
  });
  it('nab: a bad --profile is a usage error', () => {
    const r = sg('nab', '--data', nabFolder('profile'), '--profile', 'lenient');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--profile must be one of standard, reward_low_FP_rate, reward_low_FN_rate/);
  });
  it('m4: no test file', () => {
    const dir = join(scratch, 'm4-notest');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Hourly-train.csv'), 'H1,1,2,3\n');
    const r = sg('m4', '--data', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Hourly-test\.csv: missing/);
  });
  it('m4: a value that is not a number, by file, line and series', () => {
    const dir = join(scratch, 'm4-bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Hourly-train.csv'), 'H1,1,2,3\nH3,4,x,6\n');
    writeFileSync(join(dir, 'Hourly-test.csv'), 'H1,4\nH3,7\n');
    const r = sg('m4', '--data', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Hourly-train\.csv:2: series H3: value 2 is not a number \("x"\)/);
  });
  it('m4: series that do not match between the files', () => {
    const dir = join(scratch, 'm4-mismatch');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Hourly-train.csv'), 'H1,1,2,3\nH3,4,5,6\n');
    writeFileSync(join(dir, 'Hourly-test.csv'), 'H1,4\nH5,7\n');
    const r = sg('m4', '--data', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Hourly-test\.csv: no line for series H3/);
  });
  it('requires --data', () => {
    const r = sg('m4');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--data DIR is required/);
  });
});

describe('sg eval on small good folders', () => {
  it('nab --json prints exactly the documented keys, and finds the planted spike', () => {
    const r = sg('nab', '--data', nabFolder('good'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(out), ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate', 'files']);
    assert.equal(out.files, 1);
    assert.ok(out.standard! > 90, `standard ${out.standard}`);
  });
  it('m4 --json prints exactly the documented keys on a copy of ten real series', () => {
    const dir = join(scratch, 'm4-small');
    mkdirSync(dir, { recursive: true });
    for (const name of ['Hourly-train.csv', 'Hourly-test.csv']) cpSync(join(evalDataDir(), 'm4-hourly', name), join(dir, name));
    for (const name of ['Hourly-train.csv', 'Hourly-test.csv']) {
      const text = spawnSync('head', ['-n', '10', join(dir, name)], { encoding: 'utf8' }).stdout;
      writeFileSync(join(dir, name), text);
    }
    const r = sg('m4', '--data', dir, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(out), ['smape', 'mase', 'owa', 'series']);
    assert.equal(out.series, 10);
    assert.ok(out.smape! > 0 && out.smape! < 30 && out.owa! > 0 && out.owa! < 1, r.stdout);
    assert.match(r.stderr, /m4: 10 series in/);
  });
});
