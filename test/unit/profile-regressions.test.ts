/**
 * The regression test on real Go profiles: three CPU profiles of one program are quiet against each other
 * (nothing flagged, in either order), and a profile of a different, allocation-heavy program against them
 * flags its hot function and nothing that merely shrank.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeProfile } from '../../src/server/profiles/decode';
import type { ProfileData } from '../../src/server/profiles/profileData';
import { attribute, detectRegressions, isRegression, testShares } from '../../src/server/profiles/regressions';
import { topTable } from '../../src/server/profiles/top';
import { repoRoot } from '../support/services';

const go = (name: string) => decodeProfile(readFileSync(join(repoRoot, 'test/fixtures/profiles/go', name)), name);
/** All on one pod. */
const pod = (profiles: ProfileData[]) => profiles.map((profile) => ({ profile, stratum: 'gohot' }));
const rules = (name: string) => decodeProfile(readFileSync(join(repoRoot, 'test/fixtures/profiles/rules/captured', name)), name);

describe('regressions', () => {
  const quiet = [go('cpu-1.pb.gz'), go('cpu-2.pb.gz'), go('cpu-3.pb.gz')];

  it('finds none between profiles of the same program, whichever is the baseline', () => {
    for (let i = 0; i < 3; i++) {
      const current = [quiet[i]!];
      const baseline = quiet.filter((_, k) => k !== i);
      assert.deepEqual(detectRegressions('cpu', pod(baseline), pod(current)), [], `cpu-${i + 1} against the others`);
      assert.deepEqual(detectRegressions('cpu', pod(current), pod(baseline)), [], `the others against cpu-${i + 1}`);
    }
  });

  it('names the function that took over, with the contract fields', () => {
    const current = rules('go-alloc.cpu.pb.gz');
    const found = detectRegressions('cpu', pod(quiet), pod([current]));
    assert.ok(found.length > 0);
    // The new program's heaviest function (self) is the largest rise: the old program never ran it.
    const heaviest = topTable(current, { by: 'filefunction' }).rows[0]!;
    assert.equal(found[0]!.function, heaviest.name);
    assert.ok(Math.abs(found[0]!.currentPercent - heaviest.flatPercent) < 1e-6);
    for (const r of found) {
      assert.deepEqual(Object.keys(r), ['type', 'function', 'file', 'line', 'baselinePercent', 'currentPercent', 'evidence']);
      assert.ok(r.currentPercent - r.baselinePercent >= 1);
      assert.match(r.evidence, /z = /);
    }
    // What the old program spent its time in shrank; a shrink is never a regression.
    assert.ok(!found.some((r) => r.function === 'main.clamp'));
  });

  it('weighs replicates: more agreeing profiles give a larger statistic', () => {
    const current = rules('go-alloc.cpu.pb.gz');
    const name = topTable(current, { by: 'filefunction' }).rows[0]!.name;
    const one = testShares([{ name: 'gohot', baseline: [attribute(quiet[0]!, 'cpu')], current: [attribute(current, 'cpu')] }]).find((t) => t.name === name)!;
    const three = testShares([{ name: 'gohot', baseline: quiet.map((p) => attribute(p, 'cpu')), current: [attribute(current, 'cpu')] }]).find((t) => t.name === name)!;
    assert.ok(isRegression(one) && isRegression(three));
    assert.ok(three.z > one.z, `${three.z} > ${one.z}`);
  });

  it('compares each pod with itself: a hot spot on one pod of several is found', () => {
    const current = rules('go-alloc.cpu.pb.gz');
    const name = topTable(current, { by: 'filefunction' }).rows[0]!.name;
    // Two pods: one keeps running the old program, the other switched; the switched pod's rise is what counts.
    const baseline = [...quiet.slice(0, 2).map((profile) => ({ profile, stratum: 'a' })), { profile: quiet[2]!, stratum: 'b' }, { profile: quiet[1]!, stratum: 'b' }];
    const now = [{ profile: quiet[0]!, stratum: 'a' }, { profile: quiet[2]!, stratum: 'a' }, { profile: current, stratum: 'b' }];
    const found = detectRegressions('cpu', baseline, now);
    assert.equal(found[0]?.function, name);
    assert.match(found[0].evidence, / on b /);
  });

  it('blames builtins on the code that called them (heap)', () => {
    const heap = rules('heap-growth-bad.heap-3.pb.gz');
    const a = attribute(heap, 'inuse_space');
    assert.ok([...a.functions.values()].every((f) => f.file !== '(native)'), [...a.functions.values()].map((f) => `${f.name} ${f.file}`).join());
  });
});
