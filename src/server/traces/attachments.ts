/**
 * Things recorded during a trace, other than its spans and logs, that the trace viewer shows on the spans:
 * the extension point for the debugger's snapshots (which carry trace and span ids when a span was active).
 * A source registers once with the backend's TraceAttachments; each trace asked for is offered to every source.
 */
import type { TraceAttachment } from '../../protocol/traces';

export interface TraceAttachmentSource {
  /** A short name for errors ("snapshots"). */
  readonly name: string;
  /** What this source holds for the trace, between `from` and `to` (epoch ms); [] when nothing. */
  attachments(traceId: string, from: number, to: number): Promise<TraceAttachment[]>;
}

export class TraceAttachments {
  private readonly sources = new Set<TraceAttachmentSource>();

  /** Returns what unregisters it. */
  register(source: TraceAttachmentSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** Every source's attachments; a source that fails adds one attachment saying so instead of failing the trace. */
  async collect(traceId: string, from: number, to: number): Promise<TraceAttachment[]> {
    const lists = await Promise.all(
      [...this.sources].map((source) =>
        source.attachments(traceId, from, to).catch((error: unknown): TraceAttachment[] => [
          { kind: 'error', ts: from, spanId: '', title: `${source.name}: ${error instanceof Error ? error.message : String(error)}` },
        ]),
      ),
    );
    return lists.flat();
  }
}
