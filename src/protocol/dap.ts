/**
 * The `streamgate` debug type: launch.json attributes and custom DAP messages. The adapter validates the
 * attach arguments here before touching NATS, so a bad configuration gets an error response naming the field.
 */
import * as z from 'zod/mini';
import './schema';
import { AuditEventSchema, CaptureLimitsSchema, EXCEPTION_MODES, type AuditEvent } from './nats';
import { isNatsUrlList, NatsSettingsSchema } from './settings';

export const DEBUG_TYPE = 'streamgate';

/** Which pods a session debugs: all of one service, and/or those carrying every one of these labels. */
export const SelectorSchema = z.strictObject({
  service: z.optional(z.string()),
  pod: z.optional(z.string()),
  version: z.optional(z.string()),
  labels: z.optional(z.record(z.string(), z.string())),
});
export type Selector = z.infer<typeof SelectorSchema>;

/** The flat key=value form pod matching uses (protocol/nats.ts podMatches). */
export function flatSelector(selector: Selector | undefined): Record<string, string> | undefined {
  if (!selector) return undefined;
  const flat: Record<string, string> = { ...selector.labels };
  if (selector.service) flat.service = selector.service;
  if (selector.pod) flat.pod = selector.pod;
  if (selector.version) flat.version = selector.version;
  return Object.keys(flat).length ? flat : undefined;
}

/** `service=gateway,region=eu` (as `sg` takes it) → a selector: service, pod and version, the rest labels. */
export function selectorFromFlat(flat: Record<string, string>): Selector {
  const { service, pod, version, ...labels } = flat;
  return { ...(service ? { service } : {}), ...(pod ? { pod } : {}), ...(version ? { version } : {}), ...(Object.keys(labels).length ? { labels } : {}) };
}

export const AttachArgumentsSchema = z.object({
  /** NATS URL of the fleet; the extension fills it from `streamgate.nats.url` when absent. */
  nats: z.string({ error: 'the "nats" attribute is required: the URL of the fleet\'s NATS server, e.g. nats://127.0.0.1:4222' }).check(
    z.minLength(1, 'the "nats" attribute is empty: set streamgate.nats.url or put the fleet\'s NATS URL in the configuration'),
    z.refine(isNatsUrlList, {
      message: 'the "nats" attribute must be nats://host:port (or tls://, ws://, wss://), comma-separated for a cluster',
    }),
  ),
  /** Credentials file, token, user/password and TLS: the extension passes the language server's. */
  natsOptions: z.optional(z.omit(NatsSettingsSchema, { url: true })),
  /** Only pods matching all of these, e.g. `{ "service": "gateway", "labels": { "region": "eu-west" } }`. */
  selector: z.optional(SelectorSchema),
  /** The workspace folder the pods' sources correspond to (default: the folder of the launch configuration). */
  localRoot: z.optional(z.string()),
  /** Where those sources are on the pods, when it differs (e.g. /app). Without it files are matched by path tail. */
  remoteRoot: z.optional(z.string()),
  captureLimits: z.optional(CaptureLimitsSchema),
  /** Snapshots per breakpoint and pod per minute (default 10). */
  snapshotsPerMinute: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(1_000_000))),
  /** Logpoint lines per logpoint and pod per second (default 50). */
  logsPerSecond: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(100_000))),
  /** Snapshots of exceptions: none (default), uncaught, or all (caught ones too). */
  exceptionSnapshots: z.optional(z.enum(EXCEPTION_MODES)),
  /** Minutes after which pods remove a breakpoint (default 60). */
  breakpointTtlMinutes: z.optional(z.number().check(z.positive(), z.maximum(24 * 60))),
  /** Percent of one core a breakpoint may cost a pod (default 1). */
  cpuBudgetPercent: z.optional(z.number().check(z.positive(), z.maximum(100))),
  /** Who is debugging, for the audit trail (default: the NATS user, else user@host). */
  identity: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  /** How long to wait for the NATS connection before failing the attach. */
  connectTimeoutMs: z.optional(z.number().check(z.int(), z.positive(), z.maximum(120_000))),
  /** How long to keep reconnecting after NATS goes away before ending the session (default 60 s). */
  reconnectTimeoutMs: z.optional(z.number().check(z.int(), z.minimum(1000), z.maximum(24 * 3600_000))),
});
export type AttachArguments = z.infer<typeof AttachArgumentsSchema>;

/** Custom requests of the `streamgate` adapter (what VS Code's `customRequest` and `sg debug` send). */
export const CustomRequest = {
  /** Watch expressions captured with every snapshot breakpoint of the session. */
  setWatches: 'streamgate.setWatches',
  /** The current snapshot of a thread in the `sg debug snapshot --json` shape. */
  snapshot: 'streamgate.snapshot',
  /** The audit trail of debug actions. */
  audit: 'streamgate.audit',
  /** Every breakpoint of the session with its state, as the breakpoint messages say it. */
  breakpoints: 'streamgate.breakpoints',
} as const;

export const SetWatchesArgumentsSchema = z.object({ expressions: z.array(z.string()) });
export const SnapshotArgumentsSchema = z.object({ threadId: z.number() });
export const AuditArgumentsSchema = z.object({ sinceMs: z.optional(z.number().check(z.positive())), limit: z.optional(z.number().check(z.int(), z.positive())) });

/** A value as `sg debug snapshot --json` prints it: JSON as captured (special values as descriptive strings). */
export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };

/** The contract of `sg debug snapshot --json` (docs/debugging.md). Fields may be added, never renamed. */
export interface SnapshotJson {
  pod: string;
  service: string;
  breakpoint: { file: string; line: number };
  /** ISO 8601 time of the hit on the pod. */
  at: string;
  frames: { function: string; file: string; line: number; locals: Record<string, PlainValue> }[];
  watches: Record<string, PlainValue>;
  /** What the capture limits cut, each naming its limit (e.g. "… (maxCaptureMs)"); empty when the snapshot is whole. */
  leftOut: string[];
}

export interface AuditResponseBody {
  events: AuditEvent[];
}
export { AuditEventSchema };

export interface BreakpointsResponseBody {
  breakpoints: { id: number; file: string; line: number; verified: boolean; message: string; kind: 'snapshot' | 'logpoint' }[];
}

/** Error ids the adapter answers with; see src/adapter/errors.ts. */
export const AdapterErrorId = {
  BadAttachArguments: 2001,
  NatsUnreachable: 2002,
  NotAttached: 2003,
  NotSupportedOnLivePod: 2004,
  NoSnapshot: 2005,
  UnknownThread: 2006,
  BadExpression: 2007,
  PodFailed: 2008,
  BadRequest: 2009,
  NatsLost: 2010,
  Internal: 2999,
} as const;
export type AdapterErrorId = (typeof AdapterErrorId)[keyof typeof AdapterErrorId];
