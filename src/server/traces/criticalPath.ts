/**
 * The critical path of a trace: the chain of work that, made shorter, makes the trace shorter. From the end
 * of the top-level span that ends last, walk back in time: at each moment the path is in the child that
 * finished last before that moment (and inside that child, the same rule), else in the span itself. Children
 * that overlap the span's end are clipped to it. Iterative, so a chain of 50,000 nested spans is fine.
 */
import type { AssembledSpan, CriticalSegment } from '../../protocol/traces';

export function criticalPath(spans: readonly AssembledSpan[]): CriticalSegment[] {
  if (spans.length === 0) return [];
  const children: number[][] = spans.map(() => []);
  let top = -1;
  spans.forEach((s, i) => {
    if (s.parent >= 0) children[s.parent]!.push(i);
    else if (top < 0 || end(s) > end(spans[top]!)) top = i;
  });
  // Children by end, latest first: the walk takes them in this order.
  for (const list of children) list.sort((a, b) => end(spans[b]!) - end(spans[a]!));
  const segments: CriticalSegment[] = [];
  interface Frame {
    span: number;
    /** The walk is at this time, moving back. */
    cursor: number;
    next: number;
  }
  const root = spans[top]!;
  const stack: Frame[] = [{ span: top, cursor: end(root), next: 0 }];
  while (stack.length) {
    const frame = stack[stack.length - 1]!;
    const span = spans[frame.span]!;
    const list = children[frame.span]!;
    let descended = false;
    while (frame.next < list.length) {
      const child = spans[list[frame.next++]!]!;
      const childIndex = list[frame.next - 1]!;
      if (child.start >= frame.cursor || end(child) <= span.start) continue;
      const childEnd = Math.min(end(child), frame.cursor);
      if (frame.cursor > childEnd) segments.push({ span: frame.span, start: childEnd, end: frame.cursor });
      frame.cursor = Math.max(child.start, span.start);
      stack.push({ span: childIndex, cursor: childEnd, next: 0 });
      descended = true;
      break;
    }
    if (descended) continue;
    if (frame.cursor > span.start) segments.push({ span: frame.span, start: span.start, end: frame.cursor });
    stack.pop();
  }
  return segments.sort((a, b) => a.start - b.start);
}

function end(span: AssembledSpan): number {
  return span.start + span.durationMs;
}
