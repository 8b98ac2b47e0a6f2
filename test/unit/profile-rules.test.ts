/**
 * Every optimisation rule on real profiles (test/fixtures/profiles/rules/captured, made by
 * scripts/capture-rule-profiles.mjs): it fires on the profile of code that has its problem, naming the function
 * responsible, and stays silent on the profile of code that does the same work without it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeProfile } from '../../src/server/profiles/decode';
import { mergeDecoded } from '../../src/server/profiles/load';
import type { ProfileData } from '../../src/server/profiles/profileData';
import { recommend, RULES, type RuleInput } from '../../src/server/profiles/rules';
import { SourceLines } from '../../src/server/profiles/sourceLines';
import { repoRoot } from '../support/services';

const captured = join(repoRoot, 'test/fixtures/profiles/rules/captured');
const sources = new SourceLines([repoRoot]);
const read = (name: string): ProfileData => decodeProfile(readFileSync(join(captured, name)), name);

function input(rule: string, variant: 'bad' | 'good'): RuleInput {
  const sourceLine = (file: string, line: number) => sources.line(file, line);
  if (rule === 'large-allocation-site' || rule === 'heap-growth') {
    const series = [1, 2, 3].map((step) => read(`${rule}-${variant}.heap-${step}.pb.gz`));
    return { heap: series.at(-1)!, heapSeries: [series], sourceLine };
  }
  return { cpu: read(`${rule}-${variant}.cpu.pb.gz`), sourceLine };
}

/** Node rules: the finding names the workload's variant function (`bad`) in workloads.js. */
const NODE_RULES = ['json-hot-path', 'regexp-per-call', 'sync-fs', 'sync-zlib', 'sync-crypto', 'gc-share', 'buffer-concat', 'hot-logging', 'event-loop-sync-hash', 'large-allocation-site', 'heap-growth'];

describe('optimisation rules on real Node profiles', () => {
  for (const rule of NODE_RULES) {
    it(`${rule}: fires on code that has the problem and names it`, () => {
      const findings = recommend(input(rule, 'bad')).filter((r) => r.rule === rule);
      assert.ok(findings.length > 0, `${rule} found nothing in ${rule}-bad (all findings: ${JSON.stringify(recommend(input(rule, 'bad')).map((r) => [r.rule, r.function, r.percent.toFixed(1)]))})`);
      const top = findings[0]!;
      if (rule === 'gc-share') {
        // The collector runs on its own: a CPU profile cannot say whose garbage it is (the heap profile can).
        assert.equal(top.function, '(garbage collector)');
      } else {
        assert.match(top.file, /workloads\.js$/, `${rule}: blamed ${top.function} in ${top.file}`);
        assert.equal(top.function, 'bad');
        assert.ok(top.line > 0, 'the finding has a line');
      }
      assert.ok(top.evidence.length > 20 && /%/.test(top.evidence), `evidence with a share: ${top.evidence}`);
      assert.equal(top.fix, RULES.find((r) => r.id === rule)!.fix);
    });
    it(`${rule}: silent on the same work without the problem`, () => {
      const findings = recommend(input(rule, 'good')).filter((r) => r.rule === rule);
      assert.deepEqual(findings.map((f) => `${f.function} ${f.evidence}`), []);
    });
  }
});

describe('optimisation rules on real Go profiles', () => {
  const go = (mode: string, type: string) => read(`go-${mode}.${type}.pb.gz`);
  it('go-mallocgc: fires on allocation-heavy code, not on allocation-free code', () => {
    const bad = recommend({ cpu: go('alloc', 'cpu') }).filter((r) => r.rule === 'go-mallocgc');
    assert.ok(bad.length > 0);
    assert.equal(bad[0]!.function, 'main.allocHeavy');
    assert.deepEqual(recommend({ cpu: go('lean', 'cpu') }).filter((r) => r.rule === 'go-mallocgc'), []);
  });
  it('json-hot-path: fires on encoding/json in Go, not on code without it', () => {
    const bad = recommend({ cpu: go('json', 'cpu') }).filter((r) => r.rule === 'json-hot-path');
    assert.ok(bad.length > 0);
    assert.equal(bad[0]!.function, 'main.jsonHeavy');
    assert.deepEqual(recommend({ cpu: go('alloc', 'cpu') }).filter((r) => r.rule === 'json-hot-path'), []);
  });
  it('go-contention: fires on a contended mutex (mutex and block profiles), not on an uncontended one', () => {
    const bad = recommend({ mutex: go('contended', 'mutex'), block: go('contended', 'block'), seconds: 10 }).filter((r) => r.rule === 'go-contention');
    assert.ok(bad.length > 0);
    assert.ok(bad.every((r) => r.function.startsWith('main.')), bad.map((r) => r.function).join());
    assert.deepEqual(recommend({ mutex: go('uncontended', 'mutex'), block: go('uncontended', 'block'), seconds: 10 }).filter((r) => r.rule === 'go-contention'), []);
  });
  it('every rule is tested here', () => {
    const tested = new Set([...NODE_RULES, 'go-mallocgc', 'go-contention']);
    assert.deepEqual(RULES.map((r) => r.id).filter((id) => !tested.has(id)), []);
    assert.ok(RULES.length >= 10);
  });
  it('merging keeps a rule’s evidence (a selection of several profiles)', () => {
    const merged = mergeDecoded([read('sync-fs-bad.cpu.pb.gz'), read('sync-fs-good.cpu.pb.gz')]).profile!;
    assert.ok(recommend({ cpu: merged }).some((r) => r.rule === 'sync-fs'));
  });
});
