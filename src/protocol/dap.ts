/**
 * The `streamgate` debug type: launch.json attributes and custom DAP messages. The adapter validates the
 * attach arguments here before touching NATS, so a bad configuration gets an error response naming the field.
 */
import * as z from 'zod/mini';
import './schema';
import { isNatsUrlList, NatsSettingsSchema } from './settings';

export const DEBUG_TYPE = 'streamgate';

export const AttachArgumentsSchema = z.object({
  /** NATS URL of the fleet; the extension fills it from `streamgate.nats.url` when absent. */
  nats: z.string({ error: 'the "nats" attribute is required: the URL of the fleet\'s NATS server, e.g. nats://127.0.0.1:4222' }).check(
    z.minLength(1, 'the "nats" attribute is empty: set streamgate.nats.url or put the fleet\'s NATS URL in the configuration'),
    z.refine(isNatsUrlList, {
      message: 'the "nats" attribute must be nats://host:port (or tls://, ws://, wss://), comma-separated for a cluster',
    }),
  ),
  natsOptions: z.optional(z.omit(NatsSettingsSchema, { url: true })),
  /** Only pods whose labels match all of these, e.g. `{ "service": "gateway", "region": "eu" }`. */
  selector: z.optional(z.record(z.string(), z.string())),
  /** How long to wait for the NATS connection before failing the attach. */
  connectTimeoutMs: z.optional(z.number().check(z.int(), z.positive(), z.maximum(120_000))),
});
export type AttachArguments = z.infer<typeof AttachArgumentsSchema>;

/** Error ids the adapter answers with; see src/adapter/errors.ts. */
export const AdapterErrorId = {
  BadAttachArguments: 2001,
  NatsUnreachable: 2002,
  NotAttached: 2003,
  Internal: 2999,
} as const;
export type AdapterErrorId = (typeof AdapterErrorId)[keyof typeof AdapterErrorId];
