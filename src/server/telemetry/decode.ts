/**
 * The one entry point for telemetry into the server: bytes off NATS to a validated message, or the reason it
 * was refused (which goes with the message to the dead-letter subject). Nothing past this function sees
 * unvalidated data, so nothing past it needs to defend against it.
 */
import { isUtf8 } from 'node:buffer';
import { describeZodError } from '../../protocol/schema';
import {
  parseTelemetrySubject,
  subjectToken,
  TELEMETRY_STREAM_SPEC,
  TelemetryMessageSchema,
  type HistogramPoint,
  type TelemetryMessage,
} from '../../protocol/nats';
import { decodeSketch, type Distribution } from './histogram';

export type Decoded = { ok: true; message: TelemetryMessage; distributions: Map<HistogramPoint, Distribution> } | { ok: false; reason: string };

/** How far a message's clock may run ahead of ours, and how old it may be (the stream keeps a day). */
const MAX_FUTURE_MS = 3600_000;
const MAX_AGE_MS = 7 * 24 * 3600_000;


export function decodeTelemetry(subject: string, data: Uint8Array, now = Date.now()): Decoded {
  if (data.byteLength > TELEMETRY_STREAM_SPEC.maxMsgSize) {
    return { ok: false, reason: `the message is ${data.byteLength} bytes; telemetry messages are at most ${TELEMETRY_STREAM_SPEC.maxMsgSize}` };
  }
  const parsed = parseTelemetrySubject(subject);
  if (!parsed) return { ok: false, reason: `"${subject}" is not a telemetry subject (sg.tel.<kind>.<service>.<pod>)` };
  // isUtf8 checks natively and fast; a fatal TextDecoder costs a third of decoding at 100k events/s.
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!isUtf8(bytes)) return { ok: false, reason: 'not UTF-8 text' };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const checked = TelemetryMessageSchema.safeParse(json);
  if (!checked.success) return { ok: false, reason: `not a valid telemetry message: ${describeZodError(checked.error)}` };
  const message = checked.data;
  if (message.kind !== parsed.kind) return { ok: false, reason: `the message says kind "${message.kind}" but its subject says "${parsed.kind}"` };
  if (subjectToken(message.service) !== parsed.service || subjectToken(message.pod) !== parsed.pod) {
    return { ok: false, reason: `the message says ${message.service}/${message.pod} but its subject says ${parsed.service}/${parsed.pod}` };
  }
  const stale = staleTimestamp(message, now);
  if (stale) return { ok: false, reason: stale };
  const distributions = new Map<HistogramPoint, Distribution>();
  if (message.kind === 'metrics') {
    for (const [i, point] of message.histograms.entries()) {
      if (point.count <= 0 || !(point.min <= point.max)) return { ok: false, reason: `histograms[${i}] (${point.name}): count ${point.count}, min ${point.min}, max ${point.max} describe no observations` };
      try {
        distributions.set(point, decodeSketch(point.sketch, point));
      } catch (error) {
        return { ok: false, reason: `histograms[${i}] (${point.name}): ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    for (const [i, point] of message.counters.entries()) {
      if (!(point.delta >= 0) || !Number.isFinite(point.delta) || !Number.isFinite(point.total)) {
        return { ok: false, reason: `counters[${i}] (${point.name}): a counter's delta must be a finite number ≥ 0, not ${point.delta}` };
      }
    }
    for (const [i, point] of message.gauges.entries()) {
      if (!Number.isFinite(point.value)) return { ok: false, reason: `gauges[${i}] (${point.name}): ${point.value} is not a finite number` };
    }
  }
  return { ok: true, message, distributions };
}

function staleTimestamp(message: TelemetryMessage, now: number): string | undefined {
  const check = (ts: number, what: string) => {
    if (!Number.isFinite(ts)) return `${what} is not a time`;
    if (ts > now + MAX_FUTURE_MS) return `${what} ${new Date(ts).toISOString()} is more than an hour ahead of the server's clock`;
    if (ts < now - MAX_AGE_MS) return `${what} ${new Date(ts).toISOString()} is older than 7 days`;
    return undefined;
  };
  const own = check(message.ts, 'ts');
  if (own) return own;
  const items = message.kind === 'events' ? message.events : message.kind === 'logs' ? message.logs : [];
  for (const [i, item] of items.entries()) {
    const bad = check(item.ts, `${message.kind}[${i}].ts`);
    if (bad) return bad;
  }
  return undefined;
}
