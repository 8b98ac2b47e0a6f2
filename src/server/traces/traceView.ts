/**
 * The trace viewer's model from an assembled trace (host-side work, so the webview only draws): rows in
 * display order with their log lines and attachments interleaved by time, subtree ends for collapsing,
 * columns of numbers, and on demand the details of one row.
 */
import { ROW_FLAG, type AssembledTrace, type SpanDetail, type TraceView } from '../../protocol/traces';
import { LONG_ATTRIBUTE_CHARS } from './assembly';
import { describeProblems, formatMs } from './textWaterfall';

const SHOWN_ATTRIBUTE_CHARS = 2048;
const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

type RowKind = 'span' | 'log' | 'attachment';

export class TraceViewModel {
  readonly view: TraceView;
  private readonly kinds: RowKind[] = [];

  constructor(readonly trace: AssembledTrace) {
    this.view = this.build();
  }

  private build(): TraceView {
    const t = this.trace;
    const serviceIndex = new Map(t.services.map((s, i) => [s, i]));
    // Children of each span (spans, logs, attachments) by start; top level under -1.
    type Item = { kind: RowKind; ref: number; at: number };
    const children = new Map<number, Item[]>();
    const push = (parent: number, item: Item) => {
      let list = children.get(parent);
      if (!list) children.set(parent, (list = []));
      list.push(item);
    };
    t.spans.forEach((s, i) => push(s.parent, { kind: 'span', ref: i, at: s.start }));
    t.logs.forEach((l, i) => push(l.span, { kind: 'log', ref: i, at: l.at }));
    const spanById = new Map(t.spans.map((s, i) => [s.spanId, i]));
    t.attachments.forEach((a, i) => push(spanById.get(a.spanId) ?? -1, { kind: 'attachment', ref: i, at: a.ts - t.start }));
    for (const list of children.values()) list.sort((a, b) => a.at - b.at || (a.kind === b.kind ? a.ref - b.ref : a.kind === 'span' ? -1 : 1));

    const critical = new Map<number, [number, number]>();
    for (const seg of t.criticalPath) {
      const range = critical.get(seg.span);
      critical.set(seg.span, range ? [Math.min(range[0], seg.start), Math.max(range[1], seg.end)] : [seg.start, seg.end]);
    }
    const rows: TraceView['rows'] = { ref: [], depth: [], end: [], start: [], duration: [], service: [], flags: [], label: [], criticalFrom: [], criticalTo: [] };
    // Depth-first without recursion: a 50,000-deep chain is a valid (if odd) trace.
    const stack: { item: Item; depth: number; row?: number }[] = [];
    const top = children.get(-1) ?? [];
    for (let i = top.length - 1; i >= 0; i--) stack.push({ item: top[i]!, depth: 0 });
    while (stack.length) {
      const entry = stack.pop()!;
      if (entry.row !== undefined) {
        rows.end[entry.row] = rows.ref.length;
        continue;
      }
      const { item, depth } = entry;
      const row = rows.ref.length;
      this.kinds.push(item.kind);
      rows.ref.push(item.ref);
      rows.depth.push(depth);
      rows.end.push(row + 1);
      if (item.kind === 'span') {
        const s = t.spans[item.ref]!;
        let flags = 0;
        if (s.status === 'error') flags |= ROW_FLAG.error;
        if (s.criticalMs > 0) flags |= ROW_FLAG.critical;
        if (s.flags.includes('placeholder')) flags |= ROW_FLAG.placeholder;
        else if (s.flags.length) flags |= ROW_FLAG.problem;
        rows.start.push(s.start);
        rows.duration.push(s.durationMs);
        rows.service.push(serviceIndex.get(s.service) ?? -1);
        rows.flags.push(flags);
        rows.label.push(s.name);
        const range = critical.get(item.ref);
        rows.criticalFrom.push(range ? range[0] : -1);
        rows.criticalTo.push(range ? range[1] : -1);
        const kids = children.get(item.ref);
        if (kids?.length) {
          stack.push({ item, depth, row });
          for (let i = kids.length - 1; i >= 0; i--) stack.push({ item: kids[i]!, depth: depth + 1 });
        }
      } else if (item.kind === 'log') {
        const l = t.logs[item.ref]!;
        rows.start.push(l.at);
        rows.duration.push(0);
        rows.service.push(serviceIndex.get(l.service) ?? -1);
        rows.flags.push(ROW_FLAG.log | (l.level === 'error' ? ROW_FLAG.error : 0));
        rows.label.push(`${l.level}: ${l.msg.length > 300 ? `${l.msg.slice(0, 300)}…` : l.msg}`);
        rows.criticalFrom.push(-1);
        rows.criticalTo.push(-1);
      } else {
        const a = t.attachments[item.ref]!;
        rows.start.push(a.ts - t.start);
        rows.duration.push(0);
        rows.service.push(-1);
        rows.flags.push(ROW_FLAG.attachment);
        rows.label.push(`${a.kind}: ${a.title}`);
        rows.criticalFrom.push(-1);
        rows.criticalTo.push(-1);
      }
    }
    return {
      traceId: t.traceId,
      start: t.start,
      durationMs: t.durationMs,
      route: t.route,
      rootName: t.rootName,
      services: t.services,
      spans: t.spans.filter((s) => !s.flags.includes('placeholder')).length,
      errors: t.spans.filter((s) => s.status === 'error').length,
      criticalMs: t.criticalPath.reduce((sum, s) => sum + (s.end - s.start), 0),
      problems: describeProblems(t),
      rows,
      stats: t.stats,
    };
  }

  /** The details of one row, for the panel beside the waterfall. */
  detail(row: number): SpanDetail | undefined {
    const kind = this.kinds[row];
    const ref = this.view.rows.ref[row];
    if (kind === undefined || ref === undefined) return undefined;
    const t = this.trace;
    if (kind === 'log') {
      const l = t.logs[ref]!;
      return {
        row,
        kind,
        title: `${l.level} log line`,
        facts: [
          ['service', l.service],
          ['pod', l.pod],
          ['at', `${formatMs(l.at)} (${new Date(l.ts).toISOString()})`],
          ['span', l.spanId || '(none)'],
          ['message', l.msg],
        ],
        attributes: [],
        events: [],
        links: [],
        logs: [],
        flags: [],
      };
    }
    if (kind === 'attachment') {
      const a = t.attachments[ref]!;
      return {
        row,
        kind,
        title: `${a.kind}: ${a.title}`,
        facts: [
          ['at', new Date(a.ts).toISOString()],
          ['span', a.spanId || '(none)'],
        ],
        attributes: Object.entries(a.detail ?? {}).map(([key, value]) => shown(key, value)),
        events: [],
        links: [],
        logs: [],
        flags: [],
      };
    }
    const s = t.spans[ref]!;
    const file = s.attributes['code.filepath'];
    const line = Number(s.attributes['code.lineno']);
    const source: SpanDetail['source'] = typeof file === 'string' && file && Number.isInteger(line) && line > 0 ? { file, line } : s.route ? { route: s.route } : undefined;
    const facts: [string, string][] = [
      ['service', s.service],
      ['pod', s.pod || '—'],
      ['span id', s.spanId],
      ['parent', s.parentSpanId || '(root)'],
      ['kind', KIND_NAMES[s.kind] ?? String(s.kind)],
      ['start', `${formatMs(s.start)} (${new Date(s.rawStart).toISOString()} on its pod)`],
      ['duration', s.durationMs === s.rawDurationMs ? formatMs(s.durationMs) : `${formatMs(s.durationMs)} drawn (${s.rawDurationMs} ms as sent)`],
      ['self time', formatMs(s.selfMs)],
      ['on the critical path', s.criticalMs > 0 ? formatMs(s.criticalMs) : 'no'],
      ['status', s.statusMessage ? `${s.status}: ${s.statusMessage}` : s.status],
    ];
    if (s.skewMs) facts.push(['clock skew corrected', `${s.skewMs > 0 ? '+' : ''}${formatMs(s.skewMs)}`]);
    if (s.dropped) facts.push(['dropped by the sender', `${s.dropped.attributes} attributes, ${s.dropped.events} events, ${s.dropped.links} links`]);
    return {
      row,
      kind,
      title: s.name,
      facts,
      attributes: Object.entries(s.attributes)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, value]) => shown(key, value)),
      events: s.events.map((e) => ({ at: e.at, name: e.name, attributes: Object.entries(e.attributes).map(([k, v]) => [k, String(v)]) })),
      links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: Object.entries(l.attributes).map(([k, v]) => [k, String(v)]) })),
      logs: t.logs.filter((l) => l.span === ref).map((l) => ({ at: l.at, level: l.level, msg: l.msg })),
      flags: s.flags,
      ...(source ? { source } : {}),
    };
  }
}

/** An attribute as shown: long values cut (the store and --json keep them whole), with their full length. */
function shown(key: string, value: string | number | boolean): SpanDetail['attributes'][number] {
  const text = String(value);
  const long = text.length > LONG_ATTRIBUTE_CHARS;
  return { key, value: long ? `${text.slice(0, SHOWN_ATTRIBUTE_CHARS)}… (${text.length.toLocaleString('en')} characters; first ${SHOWN_ATTRIBUTE_CHARS} shown)` : text, length: text.length };
}
