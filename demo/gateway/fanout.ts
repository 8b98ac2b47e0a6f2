/**
 * Fan-out through NATS: a message published on any pod reaches the subscribers of its stream on every pod.
 * Subject gw.msg.<tenant>.<stream>; W3C trace context rides in the headers.
 */
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context, type Tracer } from '@opentelemetry/api';
import { headers as natsHeaders, type NatsConnection, type Subscription } from 'nats';
import { extractTraceContext, hasTraceContext, injectTraceHeaders } from '../../src/agent/tracing';
import type { Frame } from './frames';

export type Deliver = (frame: Frame) => void;

function isSampled(ctx: Context): boolean {
  return ((trace.getSpanContext(ctx)?.traceFlags ?? 0) & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

export class Fanout {
  private readonly local = new Map<string, Set<Deliver>>();
  /** Fan-out messages that were not valid frames. */
  dropped = 0;
  private subscription: Subscription | undefined;

  constructor(private readonly nc: NatsConnection | undefined, private readonly tracer: Tracer) {}

  start(): void {
    if (!this.nc) return;
    this.subscription = this.nc.subscribe('gw.msg.>', {
      callback: (error, msg) => {
        if (error) return;
        const key = msg.subject.slice('gw.msg.'.length);
        const subscribers = this.local.get(key);
        if (!subscribers?.size) return;
        // Only sampled traces get a span here: an unsampled one would cost ids and a sampler call for nothing.
        const parent = msg.headers ? extractTraceContext(msg.headers) : ROOT_CONTEXT;
        const span = isSampled(parent)
          ? this.tracer.startSpan('fanout.deliver', { kind: SpanKind.CONSUMER, attributes: { 'messaging.destination': msg.subject, subscribers: subscribers.size } }, parent)
          : undefined;
        try {
          const frame = JSON.parse(new TextDecoder().decode(msg.data)) as Frame;
          for (const deliver of subscribers) deliver(frame);
        } catch {
          // A malformed message must not escape: thrown in a NATS callback it stops the connection's reader.
          this.dropped++;
        } finally {
          span?.end();
        }
      },
    });
  }

  /** `ctx` is the publishing request's trace context: the fan-out joins its trace. */
  publish(frame: Frame, ctx: Context): void {
    const key = `${frame.tenant}.${frame.stream}`;
    if (!this.nc) {
      for (const deliver of this.local.get(key) ?? []) deliver(frame);
      return;
    }
    const data = new TextEncoder().encode(JSON.stringify(frame));
    // A sampled request gets a producer span; an unsampled one that came with a caller's trace context passes
    // it on (with its not-sampled flag); an untraced one sends no trace headers at all.
    if (isSampled(ctx)) {
      const span = this.tracer.startSpan('fanout.publish', { kind: SpanKind.PRODUCER, attributes: { 'messaging.destination': `gw.msg.${key}` } }, ctx);
      this.nc.publish(`gw.msg.${key}`, data, { headers: injectTraceHeaders(natsHeaders(), trace.setSpan(ctx, span)) });
      span.end();
    } else if (hasTraceContext(ctx)) this.nc.publish(`gw.msg.${key}`, data, { headers: injectTraceHeaders(natsHeaders(), ctx) });
    else this.nc.publish(`gw.msg.${key}`, data);
  }

  subscribe(tenant: string, stream: string, deliver: Deliver): () => void {
    const key = `${tenant}.${stream}`;
    let set = this.local.get(key);
    if (!set) this.local.set(key, (set = new Set()));
    set.add(deliver);
    return () => {
      set.delete(deliver);
      if (set.size === 0) this.local.delete(key);
    };
  }

  get subscriberCount(): number {
    let n = 0;
    for (const set of this.local.values()) n += set.size;
    return n;
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }
}
