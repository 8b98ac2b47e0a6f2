import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const root = join(__dirname, '..', '..', '..');
const cli = join(root, 'dist', 'cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'sg-eval-loghub-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function sg(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A Loghub-2k-shaped folder: one `<System>/<System>_2k.log_structured_corrected.csv` per entry. */
function dataset(name: string, systems: Record<string, string>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [system, csv] of Object.entries(systems)) {
    mkdirSync(join(dir, system), { recursive: true });
    writeFileSync(join(dir, system, `${system}_2k.log_structured_corrected.csv`), csv);
  }
  return dir;
}

const HEADER = 'LineId,Level,Content,EventId,EventTemplate\n';

describe('sg eval loghub', () => {
  it('prints GA and PA per system and their mean, --json in the documented shape', () => {
    const dir = dataset('good', {
      Alpha: `${HEADER}1,INFO,Connected to 10.0.0.1 port 22,E1,Connected to <*> port <*>\n2,INFO,Connected to 10.0.0.2 port 23,E1,Connected to <*> port <*>\n3,WARN,"Disk full on /dev/sda1, retrying",E2,"Disk full on <*>, retrying"\n`,
      Beta: `${HEADER}1,INFO,Request 1 ok,E1,Request <*> ok\n2,INFO,Request 2 ok,E2,Request 2 ok\n3,INFO,"Said ""bye"" to 10.0.0.3",E3,"Said ""bye"" to <*>"\n4,INFO,"Said ""bye"" to 10.0.0.4",E3,"Said ""bye"" to <*>"\n`,
    });
    const json = sg('eval', 'loghub', '--data', dir, '--json');
    assert.equal(json.status, 0, json.stderr);
    const result = JSON.parse(json.stdout) as unknown;
    // Beta: the two Request lines are two true groups the miner merges (GA 2/4), and one of them has the true text (PA 3/4).
    assert.deepEqual(result, {
      meanGA: (1 + 0.5) / 2,
      meanPA: (1 + 0.75) / 2,
      systems: [
        { system: 'Alpha', ga: 1, pa: 1, templates: 2 },
        { system: 'Beta', ga: 0.5, pa: 0.75, templates: 2 },
      ],
    });
    const text = sg('eval', 'loghub', '--data', dir);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^Alpha\s+3\s+2\s+2\s+1\.000\s+1\.000$/m);
    assert.match(text.stdout, /^Beta\s+4\s+2\s+3\s+0\.500\s+0\.750$/m);
    assert.match(text.stdout, /^mean\s+0\.750\s+0\.875$/m);
  });

  it('names the folder or file that is missing or malformed', () => {
    const missing = join(scratch, 'nowhere');
    const cases: [string[], RegExp][] = [
      [['--data', missing], new RegExp(`${missing}: no such folder`)],
      [['--data', dataset('empty', {})], /no system folders/],
      [['--data', dataset('unclosed', { Gamma: `${HEADER}1,INFO,"never closed,E1,x\n` })], /Gamma_2k\.log_structured_corrected\.csv:2: a quoted field is never closed/],
      [['--data', dataset('nocontent', { Delta: 'LineId,Message,EventTemplate\n1,hello,hello\n' })], /Delta_2k\.log_structured_corrected\.csv: no "Content" column/],
      [['--data', dataset('short', { Eps: `${HEADER}1,INFO,hello\n` })], /Eps_2k\.log_structured_corrected\.csv:2: 3 fields where the header has 5/],
      [['--data', dataset('headeronly', { Zeta: HEADER })], /Zeta_2k\.log_structured_corrected\.csv: no rows/],
    ];
    const stray = dataset('stray', { Eta: `${HEADER}1,INFO,hello,E1,hello\n` });
    mkdirSync(join(stray, 'Theta'));
    cases.push([['--data', stray], new RegExp(`${join(stray, 'Theta', 'Theta_2k.log_structured_corrected.csv')}: missing`)]);
    for (const [args, message] of cases) {
      const result = sg('eval', 'loghub', ...args);
      assert.equal(result.status, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    }
  });

  it('asks for --data', () => {
    const result = sg('eval', 'loghub');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--data DIR is required/);
  });
});
