import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { buildSync, transformSync } from 'esbuild';
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

describe('a minified one-line bundle', () => {
  it('maps each function by the column V8 reports to its own source file, line and name, and records the column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-minified-'));
    const alpha = ['export function alphaWork(n: number): number {', '  let x = 0;', '  for (let i = 0; i < n; i++) x += Math.sqrt(i);', '  return x;', '}', ''];
    const beta = ['// beta', '', 'export function betaWork(n: number): number {', '  let y = 0;', '  for (let i = 0; i < n; i++) y += Math.sin(i) * Math.cos(i);', '  return y;', '}', ''];
    writeFileSync(join(dir, 'alpha.ts'), alpha.join('\n'));
    writeFileSync(join(dir, 'beta.ts'), beta.join('\n'));
    writeFileSync(
      join(dir, 'main.ts'),
      "import { alphaWork } from './alpha';\nimport { betaWork } from './beta';\nconst end = Date.now() + 300;\nlet s = 0;\nwhile (Date.now() < end) s += alphaWork(3e4) + betaWork(3e4);\nconsole.log(s > 0);\n",
    );
    const bundle = join(dir, 'bundle.js');
    buildSync({ entryPoints: [join(dir, 'main.ts')], bundle: true, minify: true, sourcemap: 'inline', platform: 'node', outfile: bundle, logLevel: 'error' });
    const code = readFileSync(bundle, 'utf8').split('\n');
    assert.equal(code.filter((l) => !l.startsWith('//#')).filter(Boolean).length, 1, 'the bundle is one line of code');
    // A real V8 CPU profile of the bundle.
    execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '250', bundle]);
    const v8 = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!), 'utf8')) as V8CpuProfile;
    const inBundle = v8.nodes.filter((n) => n.callFrame.url.endsWith('bundle.js') && n.callFrame.functionName);
    assert.ok(inBundle.length >= 2 && inBundle.every((n) => n.callFrame.lineNumber === 0), 'V8 puts both functions on line 1 of the bundle');
    assert.ok(inBundle.every((n) => !/Work$/.test(n.callFrame.functionName)), 'V8 reports the minified names');

    const decoded = Profile.decode(cpuProfileToPprof(v8, new SourceMapper()).encode());
    const strings = decoded.stringTable.strings;
    const byName = new Map(decoded.function.map((f) => [strings[Number(f.name)]!, f]));
    const alphaFn = byName.get('alphaWork');
    const betaFn = byName.get('betaWork');
    assert.ok(alphaFn && betaFn, `original names from the source map: ${[...byName.keys()].join(', ')}`);
    assert.equal(strings[Number(alphaFn.filename)], join(dir, 'alpha.ts'));
    assert.equal(Number(alphaFn.startLine), 1);
    assert.equal(strings[Number(betaFn.filename)], join(dir, 'beta.ts'));
    assert.equal(Number(betaFn.startLine), 3);
    for (const fn of [alphaFn, betaFn]) {
      const lines = decoded.location.flatMap((l) => l.line).filter((l) => l.functionId === fn.id);
      assert.ok(lines.length > 0);
      for (const line of lines) {
        assert.equal(Number(line.line), Number(fn.startLine), 'V8 gives no column per tick: the function\'s line');
        assert.ok(Number(line.column) > 0, 'the column is recorded');
      }
    }
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
