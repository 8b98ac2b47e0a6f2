import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TemplateMiner, type MinedLine } from '../../src/server/logs/templateMiner';
import { maskToken, tokenize } from '../../src/server/logs/tokens';

function addAll(miner: TemplateMiner, lines: (string | Uint8Array)[]): MinedLine[] {
  return lines.map((line) => miner.add(line));
}

describe('token masks', () => {
  const cases: [string, string | undefined, string[]][] = [
    ['blk_-6952295868487656571', '<*>', ['blk_-6952295868487656571']],
    ['10.251.73.220:50010', '<*>', ['10.251.73.220:50010']],
    ['/10.251.73.220:50010:Got', '<*>:Got', ['/10.251.73.220:50010']],
    ['rhost=218.188.2.4', 'rhost=<*>', ['218.188.2.4']],
    ['uid=0', 'uid=<*>', ['0']],
    ['(uid=0)', '(uid=<*>)', ['0']],
    ['core.3384', 'core.<*>', ['3384']],
    ['jetty-6.1.26', 'jetty-<*>', ['6.1.26']],
    ['0x00a3f', '<*>', ['0x00a3f']],
    ['3edec1e4-9678-4a3a-abcd-a145a4ee5e61', '<*>', ['3edec1e4-9678-4a3a-abcd-a145a4ee5e61']],
    ['hdfs://msra-sa-41:9000/tmp/x', '<*>', ['hdfs://msra-sa-41:9000/tmp/x']],
    ['msra-sa-41/10.190.173.170:9000', '<*>', ['msra-sa-41/10.190.173.170:9000']],
    ['[node7.corp.example.com:54883]', '[<*>]', ['node7.corp.example.com:54883']],
    ['/var/www/html/', '<*>', ['/var/www/html/']],
    ['chdir(./run/a)', 'chdir(<*>)', ['./run/a']],
    ['C:\\Users\\me\\tmp', '<*>', ['C:\\Users\\me\\tmp']],
    ['isEmpty=true', 'isEmpty=<*>', ['true']],
    ['phys_ram=64172MB', 'phys_ram=<*>', ['64172MB']],
    ['2017-05-16', '<*>', ['2017-05-16']],
    ['15:42:50.363', '<*>', ['15:42:50.363']],
    // Words with digits in them are text; so is a URL without digits.
    ['ssh2', undefined, []],
    ['jk2_init()', undefined, []],
    ['Slf4jLogger', undefined, []],
    ['http://wiki.apache.org/hadoop/NoRouteToHost', undefined, []],
    ['Calories:', undefined, []],
  ];
  for (const [token, text, values] of cases) {
    it(`${token} → ${text ?? '(unchanged)'}`, () => {
      const masked = maskToken(token);
      if (text === undefined) assert.equal(masked, undefined);
      else assert.deepEqual(masked, { text, values });
    });
  }

  it('splits at whitespace and control characters, counting the junk', () => {
    const line = tokenize('a\tb\u0000c  d\u0007', 256);
    assert.deepEqual(line.raw, ['a', 'b', 'c', 'd']);
    assert.equal(line.junkChars, 2);
  });

  it('caps the token count, keeping the rest of the line as the last token', () => {
    const line = tokenize('one two three four five', 3);
    assert.deepEqual(line.raw, ['one', 'two', 'three four five']);
    assert.deepEqual(line.masked, ['one', 'two', '<*>']);
    assert.equal(line.tokensCapped, true);
  });
});

describe('TemplateMiner', () => {
  it('groups lines of one statement, with their values as parameters', () => {
    const miner = new TemplateMiner();
    const results = addAll(miner, [
      'Connected to 10.0.0.1:22 in 5 ms',
      'Connected to db-1.corp.example.com:5432 in 17 ms',
      'Connected to 10.0.0.9:8080 in 250 ms',
    ]);
    assert.deepEqual(results.map((r) => r.templateId), [1, 1, 1]);
    assert.deepEqual(results.map((r) => r.isNew), [true, false, false]);
    assert.equal(results[2]!.template, 'Connected to <*> in <*> ms');
    assert.deepEqual(results[1]!.params, ['db-1.corp.example.com:5432', '17']);
    assert.deepEqual(results[2]!.params, ['10.0.0.9:8080', '250']);
  });

  it('keeps a template id while its text generalises, recording each version', () => {
    const miner = new TemplateMiner();
    const [first, second, third] = addAll(miner, ['Started job j-17a at node7', 'Started job j-22b at node9', 'Started job j-40c at node2']);
    assert.equal(first!.template, 'Started job j-<*> at node7');
    assert.equal(first!.version, 1);
    assert.equal(second!.templateId, first!.templateId);
    assert.equal(second!.template, 'Started job j-<*> at <*>');
    assert.equal(second!.version, 2);
    assert.equal(second!.changed, true);
    assert.deepEqual(second!.params, ['22b', 'node9']);
    assert.equal(third!.changed, false);
    const summary = miner.template(first!.templateId)!;
    assert.equal(summary.count, 3);
    assert.deepEqual(
      summary.versions.map((v) => [v.version, v.template, v.sinceCount]),
      [
        [1, 'Started job j-<*> at node7', 0],
        [2, 'Started job j-<*> at <*>', 1],
      ],
    );
  });

  it('keeps words that take few values as separate templates (GET / POST)', () => {
    const miner = new TemplateMiner();
    const lines = ['10.0.0.1 "GET /v2/servers HTTP/1.1" status: 200', '10.0.0.2 "POST /v2/events HTTP/1.1" status: 200', '10.0.0.3 "GET /v2/images HTTP/1.1" status: 404'];
    const [get, post, get2] = addAll(miner, lines);
    assert.notEqual(get!.templateId, post!.templateId);
    assert.equal(get2!.templateId, get!.templateId);
    assert.equal(post!.template, '<*> "POST <*> <*>" status: <*>');
    assert.equal(miner.stats().templates, 2);
  });

  it('merges word variants into the oldest template once a word takes too many values', () => {
    const miner = new TemplateMiner({ maxWordVariants: 4 });
    const users = ['alice', 'bob', 'carol', 'dave'];
    const before = users.map((u, i) => miner.add(`User ${u} logged in from 10.0.0.${i}`));
    assert.equal(new Set(before.map((r) => r.templateId)).size, 4, 'four users, four templates so far');
    const fifth = miner.add('User erin logged in from 10.0.0.9');
    assert.equal(fifth.templateId, before[0]!.templateId, 'the oldest id survives');
    assert.equal(fifth.template, 'User <*> logged in from <*>');
    assert.deepEqual(fifth.params, ['erin', '10.0.0.9']);
    assert.deepEqual([...fifth.merged].sort(), before.slice(1).map((r) => r.templateId).sort());
    for (const r of before) assert.equal(miner.resolve(r.templateId), fifth.templateId);
    const summary = miner.template(fifth.templateId)!;
    assert.equal(summary.count, 5);
    assert.deepEqual([...summary.absorbed].sort(), before.slice(1).map((r) => r.templateId).sort());
    assert.equal(miner.stats().templates, 1);
  });

  it('generalises key=value tokens to key=<*>', () => {
    const miner = new TemplateMiner({ maxWordVariants: 0 });
    addAll(miner, ['auth failure; uid=0 rhost=10.1.1.1 user=root', 'auth failure; uid=0 rhost=10.1.1.2 user=admin']);
    const third = miner.add('auth failure; uid=0 rhost=10.1.1.3 user=guest');
    assert.equal(third.template, 'auth failure; uid=<*> rhost=<*> user=<*>');
    assert.deepEqual(third.params, ['0', '10.1.1.3', 'guest']);
  });

  it('matches without learning', () => {
    const miner = new TemplateMiner();
    addAll(miner, ['Deleted file /tmp/a.txt after 3 s', 'Deleted file /tmp/b.txt after 4 s']);
    const matched = miner.match('Deleted file /var/c.log after 9 s');
    assert.ok(matched, 'the line matches the learnt template');
    assert.equal(matched.template, 'Deleted file <*> after <*> s');
    assert.deepEqual(matched.params, ['/var/c.log', '9']);
    assert.equal(miner.match('Something else entirely happened here'), undefined);
    assert.equal(miner.stats().lines, 2, 'match() does not count as a line');
  });

  it('keeps memory bounded: templates, versions, family size and aliases', () => {
    const miner = new TemplateMiner({ maxTemplates: 50, maxVersions: 3, maxFamilyTemplates: 8, maxAliases: 5 });
    const letters = (n: number) => n.toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[Number(d)]!);
    for (let i = 0; i < 2_000; i++) {
      const words = [letters(i), letters(i * 7 + 3), letters(i * 13 + 5), letters(i * 17 + 1)].slice(0, 1 + (i % 4));
      miner.add(`${words.join(' ')} ended`);
    }
    const stats = miner.stats();
    assert.ok(stats.templates <= 50, `${stats.templates} templates kept`);
    assert.ok(stats.treeNodes <= 4 * 50 + 1, `${stats.treeNodes} tree nodes`);
    assert.equal(stats.created - stats.evicted - stats.merged, stats.templates);
    assert.ok(stats.evicted > 0);
    const versions = new TemplateMiner({ maxVersions: 3 });
    const words = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    versions.add(`x ${words.join(' ')} end`);
    for (let i = 0; i < words.length; i++) versions.add(`x ${words.map((w, j) => (j <= i ? `${w}${i}` : w)).join(' ')} end`);
    const [only] = versions.templates();
    assert.ok(only!.versions.length <= 3);
    assert.equal(only!.versions[0]!.version, 1, 'the first version is kept');
    assert.equal(only!.versions.at(-1)!.version, only!.version, 'and the latest');
  });

  it('forgets the least recently used template first', () => {
    const miner = new TemplateMiner({ maxTemplates: 2 });
    const a = miner.add('alpha happened here');
    miner.add('beta went there quickly now');
    miner.add('alpha happened here');
    miner.add('gamma is something else entirely different');
    assert.ok(miner.template(a.templateId), 'recently used alpha stays');
    assert.equal(miner.stats().evicted, 1);
    assert.deepEqual(miner.templates().map((t) => t.template).sort(), ['alpha happened here', 'gamma is something else entirely different']);
  });

  it('takes junk without crashing and counts every repair', () => {
    const miner = new TemplateMiner({ maxLineChars: 4096, maxTokens: 64 });
    const binary = Uint8Array.from({ length: 200 }, (_, i) => (i * 37) % 32);
    const invalidUtf8 = Uint8Array.from([0x6f, 0x6b, 0x20, 0xff, 0xfe, 0x20, 0x64, 0x6f, 0x6e, 0x65]);
    const loneSurrogate = 'value \ud800 seen';
    const huge = `start ${'x'.repeat(5 * 1024 * 1024)} end`;
    const manyTokens = Array.from({ length: 500 }, (_, i) => `w${i}`).join(' ');
    const results = addAll(miner, [binary, invalidUtf8, loneSurrogate, huge, manyTokens, '', '   ', 'a normal line']);
    assert.deepEqual(
      results.map((r) => r.damage),
      [['binary'], ['invalid-utf8'], ['invalid-utf8'], ['truncated'], ['tokens-capped'], ['empty'], ['empty'], []],
    );
    assert.equal(results[0]!.template, '<binary>');
    assert.equal(results[0]!.params.length, 1);
    assert.ok(results[1]!.params.some((p) => p.includes('\uFFFD')), 'the bad bytes are kept as U+FFFD in a parameter');
    assert.equal(results[5]!.template, '<empty>');
    assert.ok(results[3]!.template.length <= 4096);
    const stats = miner.stats();
    assert.deepEqual(
      { binary: stats.binary, invalidUtf8: stats.invalidUtf8, truncated: stats.truncated, tokensCapped: stats.tokensCapped, empty: stats.empty, lines: stats.lines },
      { binary: 1, invalidUtf8: 2, truncated: 1, tokensCapped: 1, empty: 2, lines: 8 },
    );
    const counted = miner.templates().reduce((n, t) => n + t.count, 0);
    assert.equal(counted, 8, 'every line is in some template');
  });

  it('truncates a multi-megabyte byte line without splitting a character', () => {
    const miner = new TemplateMiner({ maxLineChars: 100 });
    const bytes = new TextEncoder().encode(`héllo ${'é'.repeat(3_000_000)}`);
    const result = miner.add(bytes);
    assert.deepEqual(result.damage, ['truncated']);
    assert.ok(!result.params.join('').includes('\uFFFD'));
  });

  it('refuses impossible options', () => {
    assert.throws(() => new TemplateMiner({ similarityThreshold: 1.5 }), /similarityThreshold/);
    assert.throws(() => new TemplateMiner({ maxTemplates: 0 }), /maxTemplates/);
  });
});

describe('TemplateMiner state', () => {
  const lines = [
    'User alice logged in from 10.0.0.1',
    'User bob logged in from 10.0.0.2',
    'Started job j-17a at node7',
    'Started job j-22b at node9',
    'User carol logged in from 10.0.0.3',
    'User dave logged in from 10.0.0.4',
    'User erin logged in from 10.0.0.5',
    '10.0.0.1 "GET /v2/servers HTTP/1.1" status: 200',
    '10.0.0.2 "POST /v2/events HTTP/1.1" status: 200',
  ];

  it('saves and restores as JSON, keeping ids, versions, merges, counts and what it learnt', () => {
    const original = new TemplateMiner();
    const before = addAll(original, lines);
    const restored = TemplateMiner.restore(JSON.parse(JSON.stringify(original.exportState())));
    assert.deepEqual(restored.templates(), original.templates());
    // The routing tree is rebuilt from the families, so only its size may differ.
    assert.deepEqual({ ...restored.stats(), treeNodes: 0 }, { ...original.stats(), treeNodes: 0 });
    for (const r of before) assert.equal(restored.resolve(r.templateId), original.resolve(r.templateId));
    const next = ['User frank logged in from 10.0.0.6', 'Started job j-99z at node1', '10.0.0.3 "GET /v2/images HTTP/1.1" status: 404', 'A brand new kind of line'];
    const fromOriginal = addAll(original, next);
    const fromRestored = addAll(restored, next);
    assert.deepEqual(fromRestored, fromOriginal, 'the restored miner carries on exactly as the original');
    assert.equal(fromRestored[3]!.isNew, true);
  });

  it('refuses a damaged state, naming what is wrong', () => {
    const miner = new TemplateMiner();
    addAll(miner, lines);
    const state = miner.exportState();
    assert.throws(() => TemplateMiner.restore({ ...state, format: 2 }), /miner state: format/);
    assert.throws(() => TemplateMiner.restore({ ...state, nextId: -1 }), /miner state: nextId/);
    const short = structuredClone(state);
    short.families[0]!.templates[0]!.tokens.pop();
    assert.throws(() => TemplateMiner.restore(short), /miner state: families\.0\.templates\.0: \d+ tokens in a family of \d+/);
    assert.throws(() => TemplateMiner.restore({ ...state, recency: state.recency.slice(1) }), /recency: must list every template exactly once/);
    assert.throws(() => TemplateMiner.restore('not a state'), /miner state/);
  });

  it('forgets the least recent templates when restored with a smaller cap', () => {
    const miner = new TemplateMiner();
    addAll(miner, lines);
    const restored = TemplateMiner.restore(miner.exportState(), { maxTemplates: 2 });
    assert.equal(restored.stats().templates, 2);
    assert.deepEqual(
      restored.templates().map((t) => t.templateId).sort(),
      miner.exportState().recency.slice(-2).sort(),
    );
  });
});
