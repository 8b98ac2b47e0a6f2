/** What the editor shows of a profile: functions at their declarations, lines with their share, paths matched. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { bestSuffixMatch, sameFile, sharedSuffix } from '../../src/extension/profiles/pathMatch';
import { readProfileFile } from '../../src/server/profiles/decode';
import { hotCodeStats, lineHover } from '../../src/server/profiles/hotCode';
import { topTable } from '../../src/server/profiles/top';

const repo = join(__dirname, '../../..');
const gateway = readProfileFile(join(repo, 'test/fixtures/profiles/node/gateway-cpu.pb.gz'));

describe('hot code of a real gateway profile', () => {
  const stats = hotCodeStats(gateway);
  // The gateway's sources as they were when the profile was taken (see test/fixtures/profiles/node/README.md).
  const source = (file: string) => readFileSync(join(repo, 'test/fixtures/profiles/node/gateway-src', `${basename(file)}.txt`), 'utf8').split('\n');

  it('puts each named gateway function at the line that declares it', () => {
    const named = stats.functions.filter((f) => f.file.includes('/demo/gateway/') && !f.name.startsWith('('));
    assert.ok(named.length >= 5, `${named.length} named gateway functions`);
    for (const f of named) {
      const short = f.name.split('.').pop()!;
      const line = source(f.file)[f.startLine - 1] ?? '';
      assert.ok(line.includes(short), `${f.name} at ${basename(f.file)}:${f.startLine} — "${line.trim()}"`);
    }
  });

  it('keeps anonymous closures of one file apart, each at its own line', () => {
    const anonymous = stats.functions.filter((f) => f.name === '(anonymous)' && f.file.endsWith('/demo/gateway/server.ts'));
    assert.ok(anonymous.length >= 2);
    assert.equal(new Set(anonymous.map((f) => f.startLine)).size, anonymous.length);
  });

  it('line shares add up to the profile: self over all lines is the flat of the frames with a line', () => {
    const selfSum = stats.lines.reduce((a, l) => a + l.self, 0);
    const withLine = topTable(gateway, { by: 'line' }).rows.filter((r) => r.file && r.line).reduce((a, r) => a + r.flat, 0);
    assert.equal(selfSum, withLine);
    assert.ok(stats.lines.every((l) => l.samples > 0), 'CPU lines carry their sample counts');
  });

  it('a hover lists callers and a small callee flamegraph', () => {
    const f = stats.functions.find((x) => x.file.endsWith('/demo/gateway/server.ts') && x.total > 0 && !x.name.startsWith('('))!;
    const hover = lineHover(gateway, f.name, f.file);
    assert.ok(hover.flame.length >= 1);
    assert.equal(hover.flame[0]!.name, f.name);
    assert.ok(Math.abs(hover.flame[0]!.percent - 100) < 1e-9);
  });
});

describe('matching profile paths to local files', () => {
  it('by the longest shared run of trailing segments', () => {
    assert.equal(sharedSuffix('/srv/build/demo/gateway/server.ts', '/home/me/repo/demo/gateway/server.ts'), 3);
    assert.equal(sharedSuffix('a/b.ts', 'c/d.ts'), 0);
    assert.equal(bestSuffixMatch('/srv/build/demo/gateway/server.ts', ['/w/other/server.ts', '/w/demo/gateway/server.ts', '/w/x/gateway/server.ts']), '/w/demo/gateway/server.ts');
    assert.equal(bestSuffixMatch('x/y.ts', ['/w/a.ts']), undefined);
  });
  it('a document is the profile file when the name and its folder agree (or the profile gives only a name)', () => {
    assert.ok(sameFile('streamgate.invalid/gohot/main.go', '/ws/gohot/main.go'));
    assert.ok(!sameFile('streamgate.invalid/gohot/main.go', '/ws/other/main.go'));
    assert.ok(sameFile('main.go', '/ws/anything/main.go'));
    assert.ok(sameFile('C:\\\\build\\\\demo\\\\gateway\\\\auth.ts', '/ws/demo/gateway/auth.ts'));
  });
});
