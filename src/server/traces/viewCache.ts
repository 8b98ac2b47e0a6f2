/** The last few traces opened in the viewer, so the span details asked for after a trace cost no store query. */
import type { TracesApi } from './api';
import { TraceViewModel } from './traceView';

export class TraceViewCache {
  private readonly models = new Map<string, TraceViewModel>();

  constructor(private readonly traces: () => TracesApi, private readonly capacity = 4) {}

  /** Assembles (always afresh: late spans may have arrived) and keeps the model. */
  async open(traceId: string): Promise<TraceViewModel> {
    const model = new TraceViewModel(await this.traces().get(traceId));
    const id = model.trace.traceId;
    this.models.delete(id);
    this.models.set(id, model);
    while (this.models.size > this.capacity) this.models.delete(this.models.keys().next().value!);
    return model;
  }

  /** The model of a trace opened lately, or a fresh one. */
  async get(traceId: string): Promise<TraceViewModel> {
    return this.models.get(traceId.toLowerCase()) ?? this.open(traceId);
  }
}
