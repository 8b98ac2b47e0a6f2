/**
 * An assembled trace as text for a terminal (`sg traces show`): one line per span with its service, name
 * (indented by depth), start and duration, and a bar in a fixed-width timeline; `*` marks spans on the critical
 * path, `!` errors. Then the problems the assembly found, and self time per service and operation.
 */
import type { AssembledTrace } from '../../protocol/traces';

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

const BAR_WIDTH = 40;
const NAME_WIDTH = 48;

export function textWaterfall(trace: AssembledTrace): string {
  const out: string[] = [];
  const errors = trace.spans.filter((s) => s.status === 'error').length;
  const critical = trace.criticalPath.reduce((sum, s) => sum + (s.end - s.start), 0);
  out.push(
    `trace ${trace.traceId} · ${trace.route || trace.rootName || '(no root span)'} · ${formatMs(trace.durationMs)} · ${trace.spans.length} spans · ${trace.services.length} services · ${errors} errors`,
    `started ${new Date(trace.start).toISOString()}; critical path ${formatMs(critical)}`,
  );
  const problems = describeProblems(trace);
  if (problems) out.push(`problems: ${problems}`);
  out.push('');
  const serviceWidth = Math.min(24, Math.max(7, ...trace.services.map((s) => s.length)));
  out.push(`  ${'SERVICE'.padEnd(serviceWidth)}  ${'SPAN'.padEnd(NAME_WIDTH)}  ${'START'.padStart(9)}  ${'DURATION'.padStart(9)}  TIMELINE`);
  const scale = trace.durationMs > 0 ? BAR_WIDTH / trace.durationMs : 0;
  for (const span of trace.spans) {
    const mark = span.criticalMs > 0 ? '*' : span.status === 'error' ? '!' : ' ';
    const name = `${'  '.repeat(Math.min(span.depth, 12))}${span.depth > 12 ? `[${span.depth}] ` : ''}${span.name}${span.flags.length ? ` [${span.flags.join(', ')}]` : ''}`;
    const from = Math.min(BAR_WIDTH - 1, Math.floor(span.start * scale));
    const length = Math.max(1, Math.min(BAR_WIDTH - from, Math.round(span.durationMs * scale)));
    const bar = `${' '.repeat(from)}${(span.status === 'error' ? '▒' : '█').repeat(length)}`.padEnd(BAR_WIDTH);
    out.push(
      `${mark} ${clip(span.service, serviceWidth).padEnd(serviceWidth)}  ${clip(name, NAME_WIDTH).padEnd(NAME_WIDTH)}  ${formatMs(span.start).padStart(9)}  ${formatMs(span.durationMs).padStart(9)}  |${bar}|`,
    );
  }
  out.push('', '* on the critical path  ! error', '');
  out.push('self time per service and operation:');
  out.push(`  ${'SERVICE'.padEnd(serviceWidth)}  ${'OPERATION'.padEnd(NAME_WIDTH)}  ${'COUNT'.padStart(6)}  ${'SELF'.padStart(9)}  ${'TOTAL'.padStart(9)}  ${'CRITICAL'.padStart(9)}`);
  for (const row of [...trace.stats.byService.map((r) => ({ ...r, operation: '(all)' })), ...trace.stats.byOperation]) {
    out.push(
      `  ${clip(row.service, serviceWidth).padEnd(serviceWidth)}  ${clip(row.operation, NAME_WIDTH).padEnd(NAME_WIDTH)}  ${String(row.count).padStart(6)}  ${formatMs(row.selfMs).padStart(9)}  ${formatMs(row.totalMs).padStart(9)}  ${formatMs(row.criticalMs).padStart(9)}`,
    );
  }
  if (trace.logs.length) {
    out.push('', `logs (${trace.logs.length}):`);
    for (const line of trace.logs.slice(0, 200)) out.push(`  ${formatMs(line.at).padStart(9)}  ${line.level.padEnd(5)}  ${line.service}/${line.pod}  ${clip(oneLine(line.msg), 160)}`);
    if (trace.logs.length > 200) out.push(`  … ${trace.logs.length - 200} more`);
  }
  return `${out.join('\n')}\n`;
}

export function describeProblems(trace: AssembledTrace): string {
  const p = trace.problems;
  const parts: [number, string][] = [
    [p.missingParents, 'span(s) whose parent never arrived'],
    [p.cycles, 'parent cycle(s) cut'],
    [p.skewCorrected, 'span(s) moved for clock skew between pods'],
    [p.negativeDurations, 'span(s) ending before they start'],
    [p.absurdDurations, 'span(s) longer than a day'],
    [p.duplicates, 'duplicate span(s)'],
    [p.longAttributes, 'attribute value(s) too long to show whole'],
    [p.spansLeftOut, 'span(s) left out (trace too large)'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join('; ');
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}
