/**
 * The SGQL TextMate grammar: its grammar tests (test/grammar/*.sgql, vscode-tmgrammar-test) pass, and the names
 * it colours as tables and functions are exactly the catalog's and the function table's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CATALOG } from '../../src/server/query/catalog';
import { FUNCTIONS } from '../../src/server/query/functions';
import { STEPS } from '../../src/server/query/reference';
import { repoRoot } from '../support/services';

interface Rule {
  name?: string;
  match?: string;
  patterns?: Rule[];
}
const grammar = JSON.parse(readFileSync(join(repoRoot, 'syntaxes/sgql.tmLanguage.json'), 'utf8')) as { repository: Record<string, Rule> };

function alternatives(rule: Rule | undefined): string[] {
  const match = /\\b\(([^)]*)\)\\b/.exec(rule?.match ?? '');
  assert.ok(match, `a rule with a list of words: ${JSON.stringify(rule)}`);
  return match[1]!.split('|').sort();
}

describe('the SGQL grammar', () => {
  it('passes its grammar tests', () => {
    const run = spawnSync(process.execPath, [join(repoRoot, 'node_modules/vscode-tmgrammar-test/dist/unit.js'), '-g', 'syntaxes/sgql.tmLanguage.json', 'test/grammar/*.sgql'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal((run.stdout.match(/run successfuly/g) ?? []).length, 2, run.stdout);
  });

  it('colours exactly the catalog\'s tables, the function table\'s functions and the steps', () => {
    assert.deepEqual(alternatives(grammar.repository.table), CATALOG.map((t) => t.name).sort());
    const [aggregate, scalar] = grammar.repository.function!.patterns!;
    assert.deepEqual(alternatives(aggregate), FUNCTIONS.filter((f) => f.kind === 'aggregate').map((f) => f.name).sort());
    assert.deepEqual(alternatives(scalar), FUNCTIONS.filter((f) => f.kind === 'scalar').map((f) => f.name).sort());
    const steps = /\(([a-z|]+)\)\\\\b/.exec(grammar.repository.step!.match!.replace(/\\b/g, '\\\\b'))?.[1]?.split('|').sort();
    assert.deepEqual(steps, [...STEPS.map((s) => s.keyword), 'order', 'limit'].sort());
  });
});
