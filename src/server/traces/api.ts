/**
 * What the editor, the CLI and other tools ask about traces, whoever answers: this server's store
 * (LocalTraces) or a shared server over NATS (RemoteTraces in sharedClient.ts).
 */
import type { AssembledTrace, TraceSearchQuery, TraceSearchResult } from '../../protocol/traces';
import type { Store } from '../store';
import { assembleTrace } from './assembly';
import type { TraceAttachments } from './attachments';
import { loadTrace, searchTraces } from './queries';

export interface TracesApi {
  search(query: TraceSearchQuery): Promise<TraceSearchResult>;
  /** The assembled trace; rejects with a message naming the id when the store has none of its spans. */
  get(traceId: string): Promise<AssembledTrace>;
}

export class LocalTraces implements TracesApi {
  constructor(private readonly store: () => Store, private readonly attachments: TraceAttachments) {}

  search(query: TraceSearchQuery): Promise<TraceSearchResult> {
    return searchTraces(this.store(), query);
  }

  async get(traceId: string): Promise<AssembledTrace> {
    const id = traceId.toLowerCase();
    const stored = await loadTrace(this.store(), id);
    let from = Infinity;
    let to = -Infinity;
    for (const span of stored.spans) {
      from = Math.min(from, span.start);
      to = Math.max(to, span.start + Math.max(0, span.durationMs));
    }
    const attachments = await this.attachments.collect(id, from, to);
    return assembleTrace({ traceId: id, spans: stored.spans, logs: stored.logs, attachments, spansLeftOut: stored.spansLeftOut });
  }
}
