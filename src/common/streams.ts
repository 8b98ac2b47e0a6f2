/**
 * Creating or updating the product's JetStream streams from their specs in src/protocol/nats.ts. The server
 * does it on start; `sg streams init` does it for operators who pre-create streams (and run servers without
 * the rights to); the sandbox fleet does it as the operator of its own NATS.
 */
import { connect, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection, type StreamConfig } from 'nats';
import { natsConnectionOptions } from './natsOptions';
import { AUDIT_STREAM_SPEC, DEAD_LETTER_STREAM_SPEC, TELEMETRY_STREAM_SPEC, type StreamSpec } from '../protocol/nats';

const MS_TO_NS = 1_000_000;

function configOf(spec: StreamSpec): Partial<StreamConfig> {
  return {
    name: spec.name,
    subjects: spec.subjects,
    description: spec.description,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: spec.maxAgeMs * MS_TO_NS,
    max_bytes: spec.maxBytes,
    max_msg_size: spec.maxMsgSize,
    duplicate_window: spec.duplicateWindowMs * MS_TO_NS,
  };
}

export type StreamChange = 'created' | 'updated' | 'unchanged';

/** Creates the stream, or brings an existing one to the spec; says which. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamChange> {
  const wanted = configOf(spec);
  let existing;
  try {
    existing = (await jsm.streams.info(spec.name)).config;
  } catch (error) {
    if (!/not found/i.test(String((error as Error).message))) throw error;
  }
  if (!existing) {
    try {
      await jsm.streams.add(wanted);
      return 'created';
    } catch (error) {
      // Another server created it at the same moment: fall through to compare and update.
      if (!/already in use|exists/i.test(String((error as Error).message))) throw error;
      existing = (await jsm.streams.info(spec.name)).config;
    }
  }
  const differs = (Object.keys(wanted) as (keyof StreamConfig)[]).some((key) => JSON.stringify(existing[key]) !== JSON.stringify(wanted[key]));
  if (!differs) return 'unchanged';
  await jsm.streams.update(spec.name, { ...existing, ...wanted });
  return 'updated';
}

/** The product's streams (telemetry, dead letters, the debug audit trail). Throws a clear error when the server has no JetStream or we lack the rights. */
export async function ensureStreams(nc: NatsConnection): Promise<Record<string, StreamChange>> {
  let jsm: JetStreamManager;
  try {
    jsm = await nc.jetstreamManager({ timeout: 10_000 });
  } catch (error) {
    throw new Error(`the NATS server has no JetStream, or this user may not use its API (start nats-server with -js): ${(error as Error).message}`);
  }
  const out: Record<string, StreamChange> = {};
  for (const spec of [TELEMETRY_STREAM_SPEC, DEAD_LETTER_STREAM_SPEC, AUDIT_STREAM_SPEC]) {
    try {
      out[spec.name] = await ensureStream(jsm, spec);
    } catch (error) {
      throw new Error(`cannot create or update the ${spec.name} stream: ${(error as Error).message}`);
    }
  }
  return out;
}

/** ensureStreams on a connection of its own, for launchers and tests that act as the fleet's operator. */
export async function ensureStreamsAt(url: string): Promise<Record<string, StreamChange>> {
  const nc = await connect(natsConnectionOptions({ url }, 'sg streams'));
  try {
    return await ensureStreams(nc);
  } finally {
    await nc.close();
  }
}
