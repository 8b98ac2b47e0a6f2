import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columns, CsvError, parseCsv } from '../../src/cli/eval/csvTable';
import { evaluateSystem } from '../../src/cli/eval/loghub';
import { scoreTemplates } from '../../src/server/logs/templateAccuracy';

describe('grouping and parsing accuracy', () => {
  it('scores a hand-made case: one group right, one merged with another', () => {
    // True groups: A (lines 0–2), B (3–4), C (5). Parsed: A exactly as group 1; B and C merged into group 2.
    const truth = ['A <*>', 'A <*>', 'A <*>', 'B <*>', 'B <*>', 'C'];
    const groups = [1, 1, 1, 2, 2, 2];
    const templates = ['A <*>', 'A <*>', 'A <*>', '<*> <*>', '<*> <*>', '<*> <*>'];
    const score = scoreTemplates(truth, groups, templates);
    assert.equal(score.groupingAccuracy, 3 / 6, 'only group A holds exactly its true lines');
    assert.equal(score.parsingAccuracy, 3 / 6, 'only A’s template text is right');
    assert.equal(score.trueGroups, 3);
    assert.equal(score.parsedGroups, 2);
  });

  it('counts a split true group as wrong, and text right even where grouping is wrong', () => {
    // X is split over groups 1 and 2; Y is alone in group 3. The miner's text for X is right on both halves.
    const score = scoreTemplates(['X <*>', 'X <*>', 'Y'], ['g1', 'g2', 'g3'], ['X <*>', 'X <*>', 'Y z']);
    assert.equal(score.groupingAccuracy, 1 / 3);
    assert.equal(score.parsingAccuracy, 2 / 3);
  });

  it('is 1 for a perfect parse and refuses mismatched lengths', () => {
    assert.deepEqual(scoreTemplates(['a', 'b', 'a'], [7, 8, 7], ['a', 'b', 'a']), { groupingAccuracy: 1, parsingAccuracy: 1, messages: 3, trueGroups: 2, parsedGroups: 2 });
    assert.throws(() => scoreTemplates(['a', 'b'], [1], ['a', 'b']), /2 messages/);
  });

  it('scores the miner on a small labelled system', () => {
    const contents = ['Connected to 10.0.0.1 port 22', 'Connected to 10.0.0.2 port 23', 'Disk full on /dev/sda1', 'Disk full on /dev/sdb2', 'Request 1 ok', 'Request 2 ok'];
    const truth = ['Connected to <*> port <*>', 'Connected to <*> port <*>', 'Disk full on <*>', 'Disk full on <*>', 'Request <*> ok', 'Request 2 ok'];
    const result = evaluateSystem('Tiny', contents, truth);
    // The two Request lines are one template to the miner but two true groups: both lose GA; line 5's text is right.
    assert.equal(result.ga, 4 / 6);
    assert.equal(result.pa, 5 / 6);
    assert.equal(result.templates, 3);
  });
});

describe('CSV', () => {
  it('reads quoted fields with commas, doubled quotes, line breaks, CRLF and a BOM', () => {
    const text = '\uFEFFLineId,Content,EventTemplate\r\n1,"a, b","<*>, b"\r\n2,"say ""hi""",x\n3,"two\nlines",y\n4,,\n';
    const table = parseCsv(text, 'f.csv');
    assert.deepEqual(table.header, ['LineId', 'Content', 'EventTemplate']);
    assert.deepEqual(table.rows, [
      ['1', 'a, b', '<*>, b'],
      ['2', 'say "hi"', 'x'],
      ['3', 'two\nlines', 'y'],
      ['4', '', ''],
    ]);
    assert.deepEqual(table.rowLines, [2, 3, 4, 6]);
    assert.deepEqual(columns(table, 'f.csv', ['Content', 'EventTemplate']), { Content: 1, EventTemplate: 2 });
  });

  it('names the file and line of what is wrong', () => {
    assert.throws(() => parseCsv('a,b\n1,"open\n2,3\n', 'bad.csv'), (e: Error) => e instanceof CsvError && /bad\.csv:2: a quoted field is never closed/.test(e.message));
    assert.throws(() => parseCsv('a,b\n1,2\n3\n', 'short.csv'), /short\.csv:3: 1 fields where the header has 2/);
    assert.throws(() => parseCsv('a,b\n1,x"y"\n', 'q.csv'), /q\.csv:2: a quote in the middle/);
    assert.throws(() => parseCsv('a,b\n1,"x"y\n', 'q2.csv'), /q2\.csv:2: unexpected text after a closing quote/);
    assert.throws(() => parseCsv('', 'empty.csv'), /empty\.csv: empty file/);
    assert.throws(() => columns(parseCsv('a,b\n', 'c.csv'), 'c.csv', ['Content']), /c\.csv: no "Content" column \(columns: a, b\)/);
  });
});
