/** Reading what pods published, straight from the JetStream telemetry stream. */
import type { NatsConnection } from 'nats';
import { TELEMETRY_STREAM } from '../../src/protocol/nats';

export interface StoredMessage {
  subject: string;
  seq: number;
  msgId: string | undefined;
  body: unknown;
}

/**
 * Every message on the stream matching `filter` (one subject filter, as NATS 2.9 allows) that was stored
 * before the call: pods keep publishing metrics, so reading "until nothing comes" would never end.
 */
export async function readTelemetry(nc: NatsConnection, filter = 'sg.tel.>'): Promise<StoredMessage[]> {
  const jsm = await nc.jetstreamManager();
  const lastSeq = (await jsm.streams.info(TELEMETRY_STREAM)).state.last_seq;
  const consumer = await nc.jetstream().consumers.get(TELEMETRY_STREAM, { filterSubjects: filter });
  const out: StoredMessage[] = [];
  const decoder = new TextDecoder();
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
    let n = 0;
    let done = false;
    for await (const m of batch) {
      n++;
      if (m.seq > lastSeq) {
        done = true;
        continue;
      }
      out.push({ subject: m.subject, seq: m.seq, msgId: m.headers?.get('Nats-Msg-Id'), body: JSON.parse(decoder.decode(m.data)) });
      if (m.seq === lastSeq) done = true;
    }
    if (n === 0 || done) break;
  }
  return out;
}
