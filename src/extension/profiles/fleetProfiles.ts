/**
 * The fleet's stored profiles in the editor: a flamegraph of a selection (type, time range, labels) that its
 * own range and label filter change, which hot code then shows fleet-wide; and a slow span's CPU samples.
 */
import * as vscode from 'vscode';
import { parseSelector } from '../../protocol/nats';
import { SELECTION_RANGES } from '../../protocol/flamegraph';
import { STORED_PROFILE_TYPES, type StoredProfileType } from '../../protocol/profiles';
import { decodeProfile } from '../../server/profiles/decode';
import type { Ctx } from '../ctx';
import type { ProfileInput } from './flamegraphPanel';
import type { OpenedProfile } from './profileCommands';

export interface FleetProfileArgs {
  type?: StoredProfileType;
  rangeMs?: number;
  /** `k=v,…` */
  where?: string;
}

function describeRange(ms: number): string {
  return SELECTION_RANGES.find((r) => r.ms === ms)?.label.toLowerCase() ?? `last ${Math.round(ms / 60_000)} min`;
}

/** Selects and merges on the server; a ProfileInput whose panel can select again. */
export async function fleetSelection(ctx: Ctx, type: StoredProfileType, rangeMs: number, where: string): Promise<ProfileInput> {
  let labels: Record<string, string>;
  try {
    labels = where ? parseSelector(where) : {};
  } catch (error) {
    throw new Error(`the label filter "${where}": ${(error as Error).message}`);
  }
  const to = Date.now();
  const { pprof, summary } = await ctx.client.profileSelect({ type, from: to - rangeMs, to, ...(where ? { where: labels } : {}) });
  const scope = `${describeRange(rangeMs)}${where ? ` · ${where}` : ''}`;
  if (!pprof) throw new Error(`the server holds no ${type} profiles for the ${scope} (profiles are collected once a minute by an ingesting server)`);
  return {
    name: `fleet ${type}`,
    source: `fleet, ${scope}: ${summary.pods.length} pod(s) (${summary.pods.join(', ')})`,
    profile: decodeProfile(pprof, `fleet ${type}, ${scope}`),
    merged: summary.profiles,
    problems: summary.problems,
    selection: { type, rangeMs, where, reselect: (nextRange, nextWhere) => fleetSelection(ctx, type, nextRange, nextWhere) },
  };
}

/** StreamGate: Open Fleet Profile… — asks what to select unless given. */
export async function openFleetProfile(ctx: Ctx, arg?: unknown): Promise<OpenedProfile | undefined> {
  const given = (arg && typeof arg === 'object' ? arg : {}) as FleetProfileArgs;
  const type =
    given.type ??
    ((await vscode.window.showQuickPick(
      STORED_PROFILE_TYPES.map((t) => ({ label: t })),
      { title: 'Fleet profile', placeHolder: 'Which profiles? (cpu, heap for every pod; goroutine, block, mutex for Go pods)' },
    ))?.label);
  if (!type) return undefined;
  const rangeMs =
    given.rangeMs ??
    (await vscode.window.showQuickPick(SELECTION_RANGES.map((r) => ({ label: r.label, ms: r.ms })), { title: `Fleet ${type} profile`, placeHolder: 'Over which time range?' }))?.ms;
  if (!rangeMs) return undefined;
  const where =
    given.where ??
    (await vscode.window.showInputBox({ title: `Fleet ${type} profile`, prompt: 'Only pods with these labels (service, pod, version, region, any pod label); empty for all', placeHolder: 'service=gateway,region=eu' }));
  if (where === undefined) return undefined;
  const input = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `StreamGate: merging the fleet's ${type} profiles` }, () => fleetSelection(ctx, type, rangeMs, where.trim()));
  ctx.profiles.views.open(input);
  return { title: `Flamegraph: ${input.name}`, frames: input.profile.frames.length, samples: input.profile.sampleCount, sampleType: input.profile.sampleTypes.at(-1)?.type ?? '', problems: input.problems };
}

/** StreamGate: Fleet Hot Code — the fleet's CPU over a range in the editor: the flamegraph of it, and hot code on. */
export async function showFleetHotCode(ctx: Ctx, arg?: unknown): Promise<OpenedProfile | undefined> {
  const given = (arg && typeof arg === 'object' ? arg : {}) as FleetProfileArgs;
  const opened = await openFleetProfile(ctx, { type: given.type ?? 'cpu', rangeMs: given.rangeMs ?? 15 * 60_000, where: given.where ?? '' });
  if (opened) await ctx.profiles.hotCode.toggle(true);
  return opened;
}
