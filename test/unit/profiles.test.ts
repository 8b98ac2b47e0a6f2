/**
 * Profile decoding on bad input, selections that keep going past a bad file, exports that round-trip, V8
 * .cpuprofile import from a real `node --cpu-prof` run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Function as PprofFunction, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { decodeProfile, ProfileDecodeError, readProfileFile } from '../../src/server/profiles/decode';
import { toPprofGzip, toSpeedscope } from '../../src/server/profiles/export';
import { loadProfileFiles } from '../../src/server/profiles/load';
import { mergeProfiles } from '../../src/server/profiles/merge';
import { defaultSampleIndex } from '../../src/server/profiles/profileData';
import { topTable } from '../../src/server/profiles/top';

const goDir = join(__dirname, '../../../test/fixtures/profiles/go');
const cpu1 = join(goDir, 'cpu-1.pb.gz');
const cpu2 = join(goDir, 'cpu-2.pb.gz');
const scratch = () => mkdtempSync(join(tmpdir(), 'sg-profiles-'));

function decodeError(bytes: Uint8Array, source = 'bad.pb.gz', limits?: Parameters<typeof decodeProfile>[2]): string {
  try {
    decodeProfile(bytes, source, limits);
  } catch (error) {
    assert.ok(error instanceof ProfileDecodeError, `a ProfileDecodeError, not ${String(error)}`);
    assert.ok(error.message.startsWith(`${source}: `), `the message names the file: ${error.message}`);
    return error.message;
  }
  assert.fail('decoding succeeded');
}

/** A small valid profile built with pprof-format, which a test then breaks in one place. */
function handmade(edit: (parts: { strings: StringTable; fns: PprofFunction[]; locs: Location[]; samples: Sample[] }) => void = () => {}): Uint8Array {
  const strings = new StringTable();
  const fns = [new PprofFunction({ id: 1, name: strings.dedup('main.work'), filename: strings.dedup('main.go') })];
  const locs = [new Location({ id: 1, line: [{ functionId: 1, line: 10 }] })];
  const samples = [new Sample({ locationId: [1], value: [5] })];
  edit({ strings, fns, locs, samples });
  return new Profile({ sampleType: [new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') })], sample: samples, location: locs, function: fns, stringTable: strings }).encode();
}

describe('decoding bad profiles gives a clear error naming the file', () => {
  const good = readFileSync(cpu1);
  const raw = gunzipSync(good);

  it('decodes the good ones', () => {
    assert.ok(decodeProfile(good, 'cpu-1.pb.gz').sampleCount > 10);
    assert.ok(decodeProfile(raw, 'cpu-1.pb').sampleCount > 10, 'not gzipped');
    assert.equal(decodeProfile(handmade(), 'h.pb').sampleCount, 1);
  });

  it('truncated gzip', () => assert.match(decodeError(good.subarray(0, good.length >> 1)), /not valid gzip .*truncated or corrupt/));
  it('truncated protobuf', () => assert.match(decodeError(raw.subarray(0, Math.floor(raw.length * 0.6))), /truncated|says \d+ bytes follow/));
  it('corrupt protobuf (an invalid wire type)', () => {
    const bad = Buffer.from(raw);
    bad[0] = 0x0f; // field 1 with wire type 7
    assert.match(decodeError(bad), /wire type 7/);
  });
  it('empty file', () => assert.match(decodeError(new Uint8Array()), /is empty/));
  it('text that is not a profile', () => assert.match(decodeError(Buffer.from('goroutine profile: total 23\n1 @ 0x43\n')), /is text, not a pprof protobuf/));
  it('random bytes', () => {
    const noise = Buffer.alloc(4096);
    let x = 12345;
    for (let i = 0; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    assert.match(decodeError(noise), /bad\.pb\.gz: /);
  });
  it('a decompression bomb stops at the inflated-size cap', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    assert.ok(bomb.length < 200_000);
    assert.match(decodeError(bomb, 'bomb.pb.gz', { maxInputBytes: 1 << 20, maxInflatedBytes: 4 << 20 }), /inflates to more than 4194304 bytes/);
  });
  it('an oversized file', () => assert.match(decodeError(good, 'big.pb.gz', { maxInputBytes: 100, maxInflatedBytes: 1 << 20 }), /over the 100-byte limit/));
  it('a location naming a missing function', () => {
    assert.match(decodeError(handmade(({ locs }) => locs.push(new Location({ id: 2, line: [{ functionId: 99, line: 1 }] })))), /location 2 refers to function 99, which is not in the profile/);
  });
  it('a sample naming a missing location', () => {
    assert.match(decodeError(handmade(({ samples }) => samples.push(new Sample({ locationId: [7], value: [1] })))), /sample 1 refers to location 7/);
  });
  it('a string index past the table', () => {
    assert.match(decodeError(handmade(({ fns }) => (fns[0]!.name = 999))), /function 1's name is string 999, but the string table has \d+ strings/);
  });
  it('a sample with the wrong number of values', () => {
    assert.match(decodeError(handmade(({ samples }) => (samples[0]!.value = [1, 2]))), /sample 0 has 2 values but the profile has 1 sample types/);
  });
  it('a duplicated id', () => {
    assert.match(decodeError(handmade(({ fns, strings }) => fns.push(new PprofFunction({ id: 1, name: strings.dedup('again') })))), /function id 1 appears twice/);
  });
});

describe('a selection with bad files still merges the rest', () => {
  it('reports each bad file by name and merges the good ones', () => {
    const dir = scratch();
    const truncated = join(dir, 'truncated.pb.gz');
    writeFileSync(truncated, readFileSync(cpu1).subarray(0, 100));
    const missing = join(dir, 'missing.pb.gz');
    const heap = join(goDir, 'heap.pb.gz'); // shares no sample type with a CPU profile
    const loaded = loadProfileFiles([cpu1, truncated, missing, cpu2, heap]);
    assert.equal(loaded.merged, 2);
    assert.deepEqual(loaded.problems.map((p) => p.source), [truncated, missing, heap]);
    assert.match(loaded.problems[1]!.message, /missing\.pb\.gz: cannot read it \(ENOENT\)/);
    assert.match(loaded.problems[2]!.message, /heap\.pb\.gz: has sample types .*inuse_space\/bytes.* it cannot merge/);
    const expected = topTable(mergeProfiles([readProfileFile(cpu1), readProfileFile(cpu2)]));
    assert.deepEqual(topTable(loaded.profile!), expected);
  });
});

describe('exports', () => {
  const merged = mergeProfiles([readProfileFile(cpu1), readProfileFile(cpu2)]);

  it('pprof round-trips: the same top tables at every granularity and sample type', () => {
    const back = decodeProfile(toPprofGzip(merged), 'export.pb.gz');
    assert.deepEqual(back.sampleTypes, merged.sampleTypes);
    for (const by of ['function', 'filefunction', 'line'] as const) {
      for (const sampleIndex of ['samples', 'cpu']) assert.deepEqual(topTable(back, { by, sampleIndex }), topTable(merged, { by, sampleIndex }));
    }
  });

  it('speedscope: one sampled profile per sample type, weights adding up to the total, stacks root first', () => {
    const file = toSpeedscope(merged, 'gohot');
    assert.equal(file.profiles.length, 2);
    assert.equal(file.activeProfileIndex, defaultSampleIndex(merged));
    const cpu = file.profiles[1]!;
    assert.equal(cpu.unit, 'nanoseconds');
    assert.equal(cpu.weights.reduce((a, b) => a + b, 0), topTable(merged).total);
    assert.equal(cpu.endValue, topTable(merged).total);
    assert.equal(cpu.samples.length, cpu.weights.length);
    const frames = file.shared.frames;
    for (const stack of cpu.samples) for (const f of stack) assert.ok(frames[f], `frame ${f} exists`);
    // Root first: the goroutine's function comes before what it calls.
    const loop = frames.findIndex((f) => f.name === 'main.cpuLoop');
    const hash = frames.findIndex((f) => f.name === 'main.hashBlocks');
    const stack = cpu.samples.find((s) => s.includes(hash))!;
    assert.equal(frames[stack[0]!]!.name, 'main.cpuLoop');
    assert.ok(stack.indexOf(loop) < stack.indexOf(hash));
    assert.ok(frames.some((f) => f.file === 'streamgate.invalid/gohot/main.go' && f.line && f.line > 0));
  });
});

describe('V8 .cpuprofile import', () => {
  it('reads a real node --cpu-prof profile: the hot functions lead the table', () => {
    const dir = scratch();
    const script = join(dir, 'busy.js');
    writeFileSync(
      script,
      [
        'function sqrtLoop(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i); return x; }',
        'function trigLoop(n) { let y = 0; for (let i = 0; i < n; i++) y += Math.sin(i) * Math.cos(i); return y; }',
        'const end = Date.now() + 400; let s = 0;',
        'while (Date.now() < end) { s += sqrtLoop(2e4) + trigLoop(6e4); }',
        'console.log(s > 0);',
      ].join('\n'),
    );
    execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '200', script]);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
    const profile = readProfileFile(join(dir, file));
    assert.deepEqual(profile.sampleTypes.map((t) => t.type), ['samples', 'cpu']);
    const top = topTable(profile);
    assert.equal(top.sampleType, 'cpu');
    const names = top.rows.slice(0, 3).map((r) => r.name);
    assert.ok(names.includes('trigLoop'), `trigLoop near the top: ${names.join(', ')}`);
    const trig = top.rows.find((r) => r.name === 'trigLoop')!;
    const sqrt = top.rows.find((r) => r.name === 'sqrtLoop')!;
    assert.ok(trig.flat > sqrt.flat, 'three times the work costs more');
    assert.equal(trig.file, script);
    // Gzipped .cpuprofile files read too.
    const gz = join(dir, 'busy.cpuprofile.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(dir, file))));
    assert.deepEqual(topTable(readProfileFile(gz)), top);
  });

  it('names what is wrong in a broken one', () => {
    const node = (id: number, children: number[]) => ({ id, callFrame: { functionName: `f${id}`, url: '', lineNumber: 0, columnNumber: 0 }, children });
    const json = (o: unknown) => Buffer.from(JSON.stringify(o));
    assert.match(decodeError(json({ nodes: [node(1, [2])], startTime: 0, endTime: 1 }), 'a.cpuprofile'), /node 1 has child 2, which is not in the profile/);
    assert.match(decodeError(json({ nodes: [node(1, [])], startTime: 0, endTime: 1, samples: [4], timeDeltas: [1] }), 'a.cpuprofile'), /sample 0 is node 4/);
    assert.match(decodeError(json({ nodes: 'no', startTime: 0, endTime: 1 }), 'a.cpuprofile'), /not a V8 \.cpuprofile: nodes/);
    assert.match(decodeError(Buffer.from('{"nodes": ['), 'a.cpuprofile'), /is not valid JSON/);
  });
});
