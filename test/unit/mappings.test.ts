/**
 * The agent's own source-map lookups (src/agent/mappings.ts) give trace-mapping's answers, tie for tie,
 * on a real bundle's map: the gateway as `npm run build` bundles it (227 sources, 158k segments).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodedMappings, generatedPositionFor, GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND, originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { MappingIndex } from '../../src/agent/mappings';
import { prng } from '../../demo/loadgen/model';

const repoRoot = join(__dirname, '..', '..', '..');
const map = new TraceMap(readFileSync(join(repoRoot, 'dist', 'demo', 'gateway.js.map'), 'utf8'));
const index = new MappingIndex(encodedMappings(map));
const random = prng(7);

describe('source map lookups', () => {
  it('finds the generated position of a source line as generatedPositionFor does (column 0, least upper bound, up to 20 lines on)', () => {
    const server = map.sources.findIndex((s) => s?.endsWith('demo/gateway/server.ts'));
    assert.ok(server >= 0, 'the bundle has the gateway server');
    assert.equal(new Set(map.sources).size, map.sources.length, 'sources are unique (generatedPositionFor takes the first of equals)');
    const serverLines = readFileSync(join(repoRoot, 'demo', 'gateway', 'server.ts'), 'utf8').split('\n').length;
    const asked: [number, number][] = Array.from({ length: serverLines + 5 }, (_, i) => [server, i + 1]);
    for (let i = 0; i < 150; i++) asked.push([Math.floor(random() * map.sources.length), 1 + Math.floor(random() * 400)]);
    let found = 0;
    for (const [source, line] of asked) {
      let expected: { line: number; generatedLine: number; generatedColumn: number } | undefined;
      for (let l = line; l <= line + 20 && !expected; l++) {
        const p = generatedPositionFor(map, { source: map.sources[source]!, line: l, column: 0, bias: LEAST_UPPER_BOUND });
        if (p.line !== null) expected = { line: l, generatedLine: p.line, generatedColumn: p.column };
      }
      assert.deepEqual(index.generated(source, line, line + 20), expected, `${map.sources[source]}:${line}`);
      if (expected) found++;
    }
    assert.ok(found > serverLines / 2, `${found} of ${asked.length} lines have code`);
  });

  it('finds where a generated position comes from as originalPositionFor does, with either bias', () => {
    assert.equal(index.lines, 1 + (encodedMappings(map).match(/;/g)?.length ?? 0));
    let withSource = 0;
    let withName = 0;
    for (let i = 0; i < 3000; i++) {
      const line = 1 + Math.floor(random() * (index.lines + 2));
      const column = Math.floor(random() * (i % 3 === 0 ? 8 : 200));
      for (const [bias, name] of [[GREATEST_LOWER_BOUND, 'glb'], [LEAST_UPPER_BOUND, 'lub']] as const) {
        const p = originalPositionFor(map, { line: Math.min(line, index.lines + 1), column, bias });
        const mine = index.original(Math.min(line, index.lines + 1), column, name);
        assert.deepEqual(
          mine ? { source: map.resolvedSources[mine.source], line: mine.line, column: mine.column, name: mine.name === undefined ? null : map.names[mine.name] } : undefined,
          p.source === null ? undefined : { source: p.source, line: p.line, column: p.column, name: p.name },
          `${line}:${column} ${name}`,
        );
        if (mine) withSource++;
        if (mine?.name !== undefined) withName++;
      }
    }
    assert.ok(withSource > 1000, `${withSource} lookups had a source`);
    assert.ok(withName > 20, `${withName} lookups had a name`);
  });

  it('answers from lines whose segments are out of order as trace-mapping does after sorting them', () => {
    // One generated line, segments listed at columns 10, 0, 5 (each from source 0, lines 0, 1, 2), then a second
    // line; trace-mapping sorts a line's segments by column before it searches them.
    const raw = { version: 3, sources: ['a.ts'], names: [], mappings: 'UAAA,VACA,KACA;AACA' };
    const reference = new TraceMap(JSON.stringify(raw));
    const mine = new MappingIndex(raw.mappings);
    for (let column = 0; column <= 12; column++) {
      for (const [bias, name] of [[GREATEST_LOWER_BOUND, 'glb'], [LEAST_UPPER_BOUND, 'lub']] as const) {
        const p = originalPositionFor(reference, { line: 1, column, bias });
        const m = mine.original(1, column, name);
        assert.deepEqual(m ? { line: m.line, column: m.column } : undefined, p.source === null ? undefined : { line: p.line, column: p.column }, `1:${column} ${name}`);
      }
    }
  });

  it('says where bad mappings are instead of answering wrongly', () => {
    assert.throws(() => new MappingIndex('AAAA;AA!A'), /invalid source map mappings at character 7/);
  });
});
