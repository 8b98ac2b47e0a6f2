import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { transformSync } from 'esbuild';
import { Profile } from 'pprof-format';
import { cpuProfileToPprof, heapProfileToPprof, objectsPerSample, type V8CpuProfile } from '../../src/agent/pprof';
import { SourceMapper } from '../../src/agent/sourcemaps';

/** Flat (self) values per function name from a pprof, after an encode/decode round trip. */
function selfByFunction(profile: Profile, valueIndex: number): Map<string, number> {
  const decoded = Profile.decode(profile.encode());
  const strings = decoded.stringTable.strings;
  const out = new Map<string, number>();
  for (const sample of decoded.sample) {
    const location = decoded.location.find((l) => l.id === sample.locationId[0])!;
    const fn = decoded.function.find((f) => f.id === location.line[0]!.functionId)!;
    const name = strings[Number(fn.name)]!;
    out.set(name, (out.get(name) ?? 0) + Number(sample.value[valueIndex]));
  }
  return out;
}

const frame = (functionName: string, url: string, lineNumber: number) => ({ functionName, url, lineNumber, columnNumber: 0 });

describe('V8 CPU profile to pprof', () => {
  const profile: V8CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '', -1), children: [2, 5] },
      { id: 2, callFrame: frame('main', 'file:///app/main.js', 0), children: [3] },
      { id: 3, callFrame: frame('hot', 'file:///app/main.js', 9), children: [], positionTicks: [{ line: 11, ticks: 3 }, { line: 12, ticks: 1 }] },
      { id: 5, callFrame: frame('(idle)', '', -1), children: [] },
    ],
    startTime: 0,
    endTime: 7000,
    samples: [3, 3, 2, 3, 5, 3, 5],
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('counts samples per function, drops idle, and keeps the stack', () => {
    const pprof = cpuProfileToPprof(profile);
    const counts = selfByFunction(pprof, 0);
    assert.deepEqual(Object.fromEntries(counts), { hot: 4, main: 1 });
    const decoded = Profile.decode(pprof.encode());
    const strings = decoded.stringTable.strings;
    assert.deepEqual(decoded.sampleType.map((t) => `${strings[Number(t.type)]}/${strings[Number(t.unit)]}`), ['samples/count', 'cpu/nanoseconds']);
    // every sample of hot has main underneath it
    for (const sample of decoded.sample.filter((s) => s.locationId.length === 2)) {
      const caller = decoded.location.find((l) => l.id === sample.locationId[1])!;
      assert.equal(strings[Number(decoded.function.find((f) => f.id === caller.line[0]!.functionId)!.name)], 'main');
    }
  });

  it('splits a function\'s samples over its lines by position ticks', () => {
    const decoded = Profile.decode(cpuProfileToPprof(profile).encode());
    const byLine = new Map<number, number>();
    for (const sample of decoded.sample) {
      const leaf = decoded.location.find((l) => l.id === sample.locationId[0])!;
      byLine.set(Number(leaf.line[0]!.line), (byLine.get(Number(leaf.line[0]!.line)) ?? 0) + Number(sample.value[0]));
    }
    assert.equal(byLine.get(11), 3);
    assert.equal(byLine.get(12), 1);
  });

  it('reports cpu time that adds up to the sampled time', () => {
    const time = [...selfByFunction(cpuProfileToPprof(profile), 1).values()].reduce((a, b) => a + b, 0);
    assert.equal(time, 5 * 1000 * 1000); // five non-idle samples of 1 ms
  });

  it('maps generated positions back to the TypeScript source through a source map', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-pprof-'));
    const tsPath = join(dir, 'worker.ts');
    const source = ['export function busy(n: number): number {', '  let x: number = 0;', '  for (let i = 0; i < n; i++) x += i;', '  return x;', '}', ''].join('\n');
    writeFileSync(tsPath, source);
    const out = transformSync(source, { loader: 'ts', format: 'cjs', sourcemap: 'inline', sourcefile: tsPath });
    const jsPath = join(dir, 'worker.js');
    writeFileSync(jsPath, out.code);
    const jsLines = out.code.split('\n');
    const generatedLine = jsLines.findIndex((l) => l.includes('function busy')) + 1;
    const loopLine = jsLines.findIndex((l) => l.includes('for (let i')) + 1;
    const mapped = cpuProfileToPprof(
      {
        nodes: [
          { id: 1, callFrame: frame('(root)', '', -1), children: [2] },
          { id: 2, callFrame: { functionName: 'busy', url: pathToFileURL(jsPath).href, lineNumber: generatedLine - 1, columnNumber: 0 }, positionTicks: [{ line: loopLine, ticks: 2 }] },
        ],
        startTime: 0,
        endTime: 2000,
        samples: [2, 2],
        timeDeltas: [1000, 1000],
      },
      new SourceMapper(),
    );
    const decoded = Profile.decode(mapped.encode());
    const strings = decoded.stringTable.strings;
    const fn = decoded.function[0]!;
    assert.equal(strings[Number(fn.filename)], tsPath);
    assert.equal(Number(fn.startLine), 1);
    assert.equal(Number(decoded.location[0]!.line[0]!.line), 3, 'the loop is on line 3 of the TypeScript');
  });
});

describe('V8 heap profile to pprof', () => {
  it('reports live bytes and object counts per allocation site', () => {
    const pprof = heapProfileToPprof(
      {
        head: {
          id: 1,
          callFrame: frame('(root)', '', -1),
          selfSize: 0,
          children: [
            { id: 2, callFrame: frame('cacheFill', 'file:///app/cache.js', 4), selfSize: 4096, children: [] },
            { id: 3, callFrame: frame('parse', 'file:///app/parse.js', 1), selfSize: 1024, children: [] },
          ],
        },
        samples: [
          { size: 2048, nodeId: 2, ordinal: 1 },
          { size: 2048, nodeId: 2, ordinal: 2 },
          { size: 1024, nodeId: 3, ordinal: 3 },
        ],
      },
      512 * 1024,
    );
    assert.deepEqual(Object.fromEntries(selfByFunction(pprof, 1)), { cacheFill: 4096, parse: 1024 });
    // Each 2 KiB sample stands for ~256 objects at a 512 KiB interval: counts are estimates, like the bytes.
    const interval = 512 * 1024;
    assert.deepEqual(Object.fromEntries(selfByFunction(pprof, 0)), {
      cacheFill: Math.round(2 * objectsPerSample(2048, interval)),
      parse: Math.round(objectsPerSample(1024, interval)),
    });
    assert.ok(Math.abs(objectsPerSample(2048, interval) - interval / 2048) < 1, 'small objects: about interval/size each');
  });
});
