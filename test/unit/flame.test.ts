/** The flame model: its numbers agree with the top table, folding hides nothing, transforms do what they say. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FRAME_KINDS, functionKey, type FlameData } from '../../src/protocol/flamegraph';
import { readProfileFile } from '../../src/server/profiles/decode';
import { buildDiffTree, buildFlameTree, buildSandwich, classifyFrame, flameData, flameTop } from '../../src/server/profiles/flame';
import { mergeProfiles } from '../../src/server/profiles/merge';
import { neighbours, topTable } from '../../src/server/profiles/top';

const dir = join(__dirname, '../../../test/fixtures/profiles/go');
const cpu = mergeProfiles([1, 2, 3].map((n) => readProfileFile(join(dir, `cpu-${n}.pb.gz`))));
const folded = FRAME_KINDS.indexOf('folded');

/** Per node: total = self + children's totals; children lie inside the parent; preorder ranges nest. */
function assertConsistent(data: FlameData): void {
  const n = data.total.length;
  const childSum = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    let p = i - 1;
    while (p >= 0 && !(data.depth[p] === data.depth[i]! - 1 && data.subtreeEnd[p]! > i)) p--;
    assert.ok(p >= 0, `node ${i} has a parent`);
    childSum[p]! += data.total[i]!;
    assert.ok(data.start[i]! >= data.start[p]! - 1e-6 && data.start[i]! + data.total[i]! <= data.start[p]! + data.total[p]! + 1e-6, `node ${i} lies inside its parent`);
  }
  for (let i = 0; i < n; i++) {
    if (data.kind[i] === folded) continue; // a leaf that stands for whole subtrees: its total is theirs
    assert.ok(Math.abs(data.total[i]! - data.self[i]! - childSum[i]!) < 1e-6, `node ${i}: total = self + children`);
  }
}

describe('flame model', () => {
  it('agrees with the top table by file and function: self is flat, total is cum', () => {
    const tree = buildFlameTree(cpu);
    const top = topTable(cpu, { by: 'filefunction' });
    const flame = new Map(flameTop(tree, 100_000).map((r) => [`${r.name} ${r.file}`, r]));
    assert.equal(tree.total[0], top.total);
    for (const row of top.rows) {
      const f = flame.get(`${row.name} ${row.file}`)!;
      assert.ok(f, row.name);
      assert.equal(f.self, row.flat, `${row.name} self`);
      assert.equal(f.total, row.cum, `${row.name} total`);
    }
    assertConsistent(flameData(tree).data);
  });

  it('folds the lightest subtrees into counted folded nodes, and expanding a node brings its frames back', () => {
    const tree = buildFlameTree(cpu);
    const full = tree.total.length;
    const { data, foldedNodes } = flameData(tree, { maxNodes: 60 });
    assert.ok(data.total.length <= 60 + 60, `${data.total.length} nodes sent`);
    assert.ok(foldedNodes > 0);
    assertConsistent(data);
    assert.equal(data.total[0], tree.total[0], 'nothing is lost: the root keeps its total');
    // Every full-tree node is either sent or counted in a folded node.
    let foldedCount = 0;
    let sent = 0;
    for (let i = 0; i < data.kind.length; i++) {
      if (data.kind[i] === folded) foldedCount += data.folded[i]!;
      else sent++;
    }
    assert.equal(sent + foldedCount, full);
    // Expanding a node under a folded one: its subtree comes back.
    const foldedAt = Array.from(data.kind).findIndex((k) => k === folded);
    const parentId = data.id[foldedAt]!; // a folded node carries its parent's full id
    const expanded = flameData(tree, { maxNodes: 60, expandedId: parentId }).data;
    const childrenBack = Array.from(expanded.id).filter((id, i) => expanded.kind[i] !== folded && tree.parent[id] === parentId).length;
    const childrenBefore = Array.from(data.id).filter((id, i) => data.kind[i] !== folded && tree.parent[id] === parentId).length;
    assert.ok(childrenBack > childrenBefore, `${childrenBack} > ${childrenBefore} children of the expanded node`);
  });

  it('renders a profile 5,000 frames deep (no recursion in the builder)', () => {
    const frames = Array.from({ length: 5000 }, (_, i) => ({ name: `f${i}`, systemName: '', file: 'deep.go', line: i + 1, column: 0, startLine: i + 1, fn: i }));
    const stack = Uint32Array.from({ length: 5000 }, (_, i) => 4999 - i);
    const deep = { ...cpu, source: 'deep', frames, sampleCount: 1, stackStart: Uint32Array.of(0, 5000), stackFrames: stack, values: Float64Array.of(1, 10), labels: [undefined] };
    const { data } = flameData(buildFlameTree(deep));
    assert.equal(data.maxDepth, 5000);
    assert.equal(data.total.length, 5001);
  });

  it('only my code collapses runs of library and runtime frames into one frame per package', () => {
    const tree = buildFlameTree(cpu, { transform: { onlyMyCode: true } });
    const names = new Set(Array.from(tree.name, (i) => tree.names[i]!));
    assert.ok(names.has('Go standard library'));
    assert.ok(names.has('main.hashBlocks'));
    assert.ok(!names.has('crypto/sha256.block'));
    assert.equal(tree.total[0], buildFlameTree(cpu).total[0], 'collapsing loses no value');
    // No path has two collapsed frames of one group in a row.
    for (let i = 1; i < tree.total.length; i++) {
      const p = tree.parent[i]!;
      if (p > 0 && tree.kind[i] === FRAME_KINDS.indexOf('collapsed')) assert.notEqual(tree.name[p], tree.name[i]);
    }
    assert.equal(classifyFrame({ name: 'x', file: '/app/node_modules/@nats-io/nkeys/lib/a.js' }).group, 'node_modules: @nats-io/nkeys');
    assert.equal(classifyFrame({ name: 'readFileUtf8', file: 'node:fs' }).kind, 'runtime');
    assert.equal(classifyFrame({ name: 'handle', file: '/work/demo/gateway/server.ts' }).kind, 'user');
  });

  it('hiding a frame gives its callees to its caller; focusing roots every stack at a function', () => {
    const encode = cpu.frames.find((f) => f.name === 'main.encodeRecords')!;
    const key = functionKey(encode.name, encode.file);
    const hidden = buildFlameTree(cpu, { transform: { hidden: [key] } });
    assert.ok(!Array.from(hidden.name).some((i) => hidden.names[i] === 'main.encodeRecords'));
    assert.equal(hidden.total[0], buildFlameTree(cpu).total[0]);
    const focused = buildFlameTree(cpu, { transform: { focus: key } });
    assert.equal(focused.total[0], neighbours(cpu, 'main.encodeRecords')!.function.cum);
    assert.equal(focused.names[focused.name[1]!], 'main.encodeRecords');
    assert.equal(focused.depth.filter((d) => d === 1).length, 1, 'one child of the root: the function');
  });

  it('sandwich: callers and callees of a function, each totalling its cum', () => {
    const encode = cpu.frames.find((f) => f.name === 'main.encodeRecords')!;
    const { callers, callees } = buildSandwich(cpu, encode.name, encode.file);
    const peek = neighbours(cpu, 'main.encodeRecords')!;
    assert.equal(callers.total[0], peek.function.cum);
    assert.equal(callees.total[0], peek.function.cum);
    assert.equal(callers.names[callers.name[1]!], 'main.cpuLoop', 'the caller is the first level of the callers tree');
  });

  it('diff: one tree with both sides; each side totals its profile', () => {
    const base = readProfileFile(join(dir, 'cpu-1.pb.gz'));
    const current = readProfileFile(join(dir, 'cpu-2.pb.gz'));
    const tree = buildDiffTree(base, current);
    assert.equal(tree.total[0], topTable(current).total);
    assert.equal(tree.base!.total[0], topTable(base).total);
    const { data } = flameData(tree);
    assert.equal(data.base!.rootTotal, topTable(base).total);
    // The base layout nests too.
    for (let i = 1; i < data.total.length; i++) assert.ok(data.base!.start[i]! >= 0 && data.base!.start[i]! + data.base!.total[i]! <= data.base!.rootTotal + 1e-6);
  });
});
