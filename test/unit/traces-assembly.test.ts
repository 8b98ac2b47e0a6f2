/** Trace assembly: tree and order, late and out-of-order spans, bad spans of every kind, critical path, statistics. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AssembledSpan } from '../../src/protocol/traces';
import { assembleTrace, type StoredSpan } from '../../src/server/traces/assembly';
import { criticalPath } from '../../src/server/traces/criticalPath';
import { TraceViewModel } from '../../src/server/traces/traceView';
import { textWaterfall } from '../../src/server/traces/textWaterfall';

const T0 = 1_700_000_000_000;
const TRACE = 'a'.repeat(32);

function span(id: string, parent: string, start: number, duration: number, extra: Partial<StoredSpan> = {}): StoredSpan {
  return { traceId: TRACE, spanId: id.padStart(16, '0'), parentSpanId: parent ? parent.padStart(16, '0') : '', service: 'gateway', pod: 'gw-1', name: `op ${id}`, kind: 1, start: T0 + start, durationMs: duration, statusCode: 0, statusMessage: '', route: '', attributes: {}, events: [], links: [], ...extra };
}

const names = (spans: AssembledSpan[]) => spans.map((s) => `${'  '.repeat(s.depth)}${s.name}`);

describe('trace assembly', () => {
  it('builds the tree in start order whatever order the spans arrive in', () => {
    const spans = [span('3', '1', 50, 20), span('2', '1', 10, 30), span('1', '', 0, 100), span('4', '2', 15, 5)];
    for (const order of [spans, [...spans].reverse(), [spans[2]!, spans[0]!, spans[3]!, spans[1]!]]) {
      const trace = assembleTrace({ traceId: TRACE, spans: order });
      assert.deepEqual(names(trace.spans), ['op 1', '  op 2', '    op 4', '  op 3']);
      assert.deepEqual(trace.spans.map((s) => s.parent), [-1, 0, 1, 0]);
      assert.equal(trace.durationMs, 100);
      assert.equal(trace.start, T0);
      assert.deepEqual(trace.problems, { missingParents: 0, cycles: 0, skewCorrected: 0, negativeDurations: 0, absurdDurations: 0, duplicates: 0, longAttributes: 0, spansLeftOut: 0 });
    }
  });

  it('hangs spans whose parent never arrived under a placeholder, and says so', () => {
    const trace = assembleTrace({ traceId: TRACE, spans: [span('1', '', 0, 100), span('5', '9', 20, 10), span('6', '9', 40, 10)] });
    assert.deepEqual(names(trace.spans), ['op 1', 'missing span 0000000000000009', '  op 5', '  op 6']);
    const placeholder = trace.spans[1]!;
    assert.deepEqual(placeholder.flags, ['placeholder']);
    assert.equal(placeholder.start, 20);
    assert.equal(placeholder.durationMs, 30);
    assert.deepEqual(trace.spans[2]!.flags, ['missing-parent']);
    assert.equal(trace.problems.missingParents, 2);
    // The JSON contract leaves the placeholder out and keeps the parent id the span said.
    assert.match(textWaterfall(trace), /2 span\(s\) whose parent never arrived/);
  });

  it('cuts parent cycles at their earliest span instead of looping or losing spans', () => {
    const selfParent = span('7', '7', 5, 1);
    const trace = assembleTrace({ traceId: TRACE, spans: [span('1', '3', 0, 50), span('2', '1', 10, 10), span('3', '2', 12, 5), span('4', '3', 13, 1), selfParent] });
    assert.equal(trace.spans.length, 5, 'every span is shown');
    assert.deepEqual(names(trace.spans), ['op 1', '  op 2', '    op 3', '      op 4', 'op 7']);
    assert.deepEqual(trace.spans[0]!.flags, ['cycle']);
    assert.deepEqual(trace.spans[4]!.flags, ['cycle']);
    assert.equal(trace.problems.cycles, 2);
  });

  it('moves a child recorded by a skewed pod clock inside its parent, subtree included', () => {
    // The server pod's clock is 500 ms behind: its span appears to start before its client span.
    const client = span('2', '1', 10, 80, { kind: 3, service: 'gateway', pod: 'gw-1' });
    const server = span('3', '2', -480, 60, { kind: 2, service: 'storage', pod: 'st-1' });
    const inner = span('4', '3', -470, 20, { service: 'storage', pod: 'st-1' });
    const trace = assembleTrace({ traceId: TRACE, spans: [span('1', '', 0, 100), client, server, inner] });
    const [, c, s, i] = trace.spans;
    assert.ok(s!.start >= c!.start && s!.start + s!.durationMs <= c!.start + c!.durationMs, 'the server span sits inside the client span');
    assert.equal(s!.start, 20, 'centred: (80 - 60) / 2 after the client starts');
    assert.equal(i!.start - s!.start, 10, 'the child keeps its offset from the moved span');
    assert.equal(s!.skewMs, 500);
    assert.deepEqual(s!.flags, ['skew-corrected']);
    assert.equal(trace.problems.skewCorrected, 1);
    assert.equal(s!.rawStart, T0 - 480, 'what the pod said is kept');
  });

  it('leaves a same-pod child that outlives its parent alone (async work is not skew)', () => {
    const trace = assembleTrace({ traceId: TRACE, spans: [span('1', '', 0, 10), span('2', '1', 5, 50)] });
    assert.equal(trace.spans[1]!.start, 5);
    assert.equal(trace.problems.skewCorrected, 0);
    assert.equal(trace.durationMs, 55);
  });

  it('draws impossible durations sensibly and keeps what was sent', () => {
    const trace = assembleTrace({ traceId: TRACE, spans: [span('1', '', 0, 100), span('2', '1', 10, -30), span('3', '1', 20, 9e12), span('4', '1', 30, 10)] });
    const byName = new Map(trace.spans.map((s) => [s.name, s]));
    assert.equal(byName.get('op 2')!.durationMs, 0);
    assert.equal(byName.get('op 2')!.rawDurationMs, -30);
    assert.deepEqual(byName.get('op 2')!.flags, ['negative-duration']);
    assert.equal(byName.get('op 3')!.durationMs, 80, 'drawn to the end of the believable spans');
    assert.equal(byName.get('op 3')!.rawDurationMs, 9e12);
    assert.deepEqual(byName.get('op 3')!.flags, ['absurd-duration']);
    assert.equal(trace.durationMs, 100, 'one absurd span does not stretch the trace');
    assert.equal(trace.problems.negativeDurations, 1);
    assert.equal(trace.problems.absurdDurations, 1);
  });

  it('keeps one copy of a span sent twice (the longer) and counts the duplicate', () => {
    const trace = assembleTrace({ traceId: TRACE, spans: [span('1', '', 0, 100), span('2', '1', 10, 5), span('2', '1', 10, 7)] });
    assert.equal(trace.spans.length, 2);
    assert.equal(trace.spans[1]!.durationMs, 7);
    assert.deepEqual(trace.spans[1]!.flags, ['duplicate']);
    assert.equal(trace.problems.duplicates, 1);
  });

  it('counts attribute values too long to show, and the viewer shortens them', () => {
    const long = 'y'.repeat(100_000);
    const trace = assembleTrace({ traceId: TRACE, spans: [span('1', '', 0, 10, { attributes: { payload: long, small: 'ok' } })] });
    assert.equal(trace.problems.longAttributes, 1);
    assert.equal(trace.spans[0]!.attributes.payload, long, 'the assembled trace keeps the value whole');
    const detail = new TraceViewModel(trace).detail(0)!;
    const shown = detail.attributes.find((a) => a.key === 'payload')!;
    assert.equal(shown.length, 100_000);
    assert.match(shown.value, /^y{2048}… \(100,000 characters; first 2048 shown\)$/);
  });

  it('computes self time as the time no child covers', () => {
    const trace = assembleTrace({ traceId: TRACE, spans: [span('1', '', 0, 100), span('2', '1', 10, 30), span('3', '1', 20, 40), span('4', '1', 90, 50)] });
    // children cover 10–60 and 90–100 (clipped): 60 ms; self 40 ms.
    assert.equal(trace.spans[0]!.selfMs, 40);
    const stats = trace.stats.byService[0]!;
    assert.equal(stats.count, 4);
    assert.equal(stats.selfMs, 40 + 30 + 40 + 50);
  });

  it('groups statistics by service and by operation, busiest self time first', () => {
    const trace = assembleTrace({
      traceId: TRACE,
      spans: [span('1', '', 0, 100, { name: 'GET /' }), span('2', '1', 0, 60, { service: 'db', name: 'query', statusCode: 2 }), span('3', '1', 60, 30, { service: 'db', name: 'query' })],
    });
    assert.deepEqual(trace.stats.byService.map((s) => [s.service, s.count, s.selfMs, s.errors]), [
      ['db', 2, 90, 1],
      ['gateway', 1, 10, 0],
    ]);
    assert.deepEqual(trace.stats.byOperation.map((s) => [s.service, s.operation, s.count, s.maxMs]), [
      ['db', 'query', 2, 60],
      ['gateway', 'GET /', 1, 100],
    ]);
  });
});

describe('critical path', () => {
  it('follows the last-finishing child back in time, and the parent in the gaps', () => {
    //  root 0–100: a 10–40, b 20–70 (b ends last), c 80–90; b has b1 30–65.
    const trace = assembleTrace({
      traceId: TRACE,
      spans: [span('1', '', 0, 100, { name: 'root' }), span('2', '1', 10, 30, { name: 'a' }), span('3', '1', 20, 50, { name: 'b' }), span('4', '3', 30, 35, { name: 'b1' }), span('5', '1', 80, 10, { name: 'c' })],
    });
    const path = trace.criticalPath.map((s) => [trace.spans[s.span]!.name, s.start, s.end]);
    assert.deepEqual(path, [
      ['root', 0, 10],
      ['a', 10, 20],
      ['b', 20, 30],
      ['b1', 30, 65],
      ['b', 65, 70],
      ['root', 70, 80],
      ['c', 80, 90],
      ['root', 90, 100],
    ]);
    const total = trace.criticalPath.reduce((sum, s) => sum + s.end - s.start, 0);
    assert.equal(total, 100, 'the path covers the root from start to end');
    const byName = new Map(trace.spans.map((s) => [s.name, s.criticalMs]));
    assert.equal(byName.get('a'), 10, 'a is critical only until b takes over');
    assert.equal(byName.get('b1'), 35);
  });

  it('leaves a child that ends after an overlapping sibling started out of the path when it is not last', () => {
    const trace = assembleTrace({ traceId: TRACE, spans: [span('1', '', 0, 100, { name: 'root' }), span('2', '1', 0, 90, { name: 'long' }), span('3', '1', 10, 20, { name: 'short' })] });
    const names = new Set(trace.criticalPath.map((s) => trace.spans[s.span]!.name));
    assert.ok(names.has('long'));
    assert.ok(!names.has('short'), 'the short one is hidden under the long one');
  });

  it('handles a chain 50,000 deep without recursion', () => {
    const spans: StoredSpan[] = [];
    for (let i = 1; i <= 50_000; i++) spans.push(span(String(i), i === 1 ? '' : String(i - 1), i * 0.001, 100 - i * 0.001));
    const trace = assembleTrace({ traceId: TRACE, spans });
    assert.equal(trace.spans.length, 50_000);
    assert.equal(trace.spans[49_999]!.depth, 49_999);
    assert.ok(trace.criticalPath.length >= 50_000);
    assert.equal(criticalPath([]).length, 0);
    const model = new TraceViewModel(trace);
    assert.equal(model.view.rows.end[0], 50_000, 'the root row\'s subtree is every row');
  });
});

describe('trace viewer rows', () => {
  it('interleaves log lines with child spans by time and marks the critical path', () => {
    const trace = assembleTrace({
      traceId: TRACE,
      spans: [span('1', '', 0, 100, { name: 'root' }), span('2', '1', 10, 30, { name: 'a', statusCode: 2 }), span('3', '1', 50, 30, { name: 'b' })],
      logs: [
        { ts: T0 + 45, spanId: '1'.padStart(16, '0'), service: 'gateway', pod: 'gw-1', level: 'info', msg: 'between a and b' },
        { ts: T0 + 12, spanId: '2'.padStart(16, '0'), service: 'gateway', pod: 'gw-1', level: 'error', msg: 'inside a' },
      ],
    });
    const view = new TraceViewModel(trace).view;
    assert.deepEqual(view.rows.label, ['root', 'a', 'error: inside a', 'info: between a and b', 'b']);
    assert.deepEqual(view.rows.depth, [0, 1, 2, 1, 1]);
    assert.deepEqual(view.rows.end, [5, 3, 3, 4, 5]);
    assert.equal(view.errors, 1);
    assert.ok(view.rows.flags[4]! & 2, 'b is on the critical path');
    assert.equal(view.criticalMs, 100);
  });

  it('gives a span\'s source from code.filepath, or its route', () => {
    const trace = assembleTrace({
      traceId: TRACE,
      spans: [span('1', '', 0, 10, { route: 'GET /x' }), span('2', '1', 1, 2, { attributes: { 'code.filepath': '/srv/a.ts', 'code.lineno': 12 } })],
    });
    const model = new TraceViewModel(trace);
    assert.deepEqual(model.detail(0)!.source, { route: 'GET /x' });
    assert.deepEqual(model.detail(1)!.source, { file: '/srv/a.ts', line: 12 });
    assert.equal(model.detail(7), undefined);
  });
});
