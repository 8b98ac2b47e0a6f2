/**
 * V8 `.cpuprofile` files (Chrome DevTools, `node --cpu-prof`, the inspector's Profiler.stop) as pprof, through
 * the same conversion the pod agent uses, so a local file and a pod's profile read alike. The JSON is
 * validated first: a node or sample that refers to a missing node is named, not followed.
 */
import * as z from 'zod/mini';
import { cpuProfileToPprof, type V8CpuProfile } from '../../agent/pprof';
import { SourceMapper } from '../../agent/sourcemaps';
import { describeZodError } from '../../protocol/schema';
import '../../protocol/schema';

export class V8ImportError extends Error {}

const CallFrameSchema = z.object({
  functionName: z.string(),
  url: z.string(),
  lineNumber: z.number(),
  columnNumber: z.number(),
});

const NodeSchema = z.object({
  id: z.number().check(z.int()),
  callFrame: CallFrameSchema,
  children: z.optional(z.array(z.number().check(z.int()))),
  hitCount: z.optional(z.number()),
  positionTicks: z.optional(z.array(z.object({ line: z.number().check(z.int()), ticks: z.number() }))),
});

const CpuProfileSchema = z.object({
  nodes: z.array(NodeSchema).check(z.minLength(1)),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.optional(z.array(z.number().check(z.int()))),
  timeDeltas: z.optional(z.array(z.number())),
});

/** Parses and checks a `.cpuprofile`; `mapSources` maps positions through the scripts' source maps. */
export function parseV8CpuProfile(bytes: Uint8Array): V8CpuProfile {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new V8ImportError(`is not valid JSON (${(error as Error).message})`);
  }
  const parsed = CpuProfileSchema.safeParse(json);
  if (!parsed.success) throw new V8ImportError(`is not a V8 .cpuprofile: ${describeZodError(parsed.error)}`);
  const profile = parsed.data;
  const ids = new Set<number>();
  for (const node of profile.nodes) {
    if (ids.has(node.id)) throw new V8ImportError(`node id ${node.id} appears twice`);
    ids.add(node.id);
  }
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) if (!ids.has(child)) throw new V8ImportError(`node ${node.id} has child ${child}, which is not in the profile`);
  }
  const samples = profile.samples ?? [];
  for (let i = 0; i < samples.length; i++) if (!ids.has(samples[i]!)) throw new V8ImportError(`sample ${i} is node ${samples[i]}, which is not in the profile`);
  if (profile.timeDeltas && profile.timeDeltas.length !== samples.length) {
    throw new V8ImportError(`has ${samples.length} samples but ${profile.timeDeltas.length} timeDeltas`);
  }
  return profile;
}

export function v8CpuProfileToPprofBytes(bytes: Uint8Array, mapSources = true): Uint8Array {
  const profile = parseV8CpuProfile(bytes);
  return cpuProfileToPprof(profile, mapSources ? new SourceMapper() : undefined).encode();
}
