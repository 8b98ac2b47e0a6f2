/** The profile commands: open files, compare two selections, profile a live pod, show a function. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { decodeProfile } from '../../server/profiles/decode';
import { loadProfileFiles, type LoadedProfiles } from '../../server/profiles/load';
import type { Ctx } from '../ctx';
import type { ProfileInput } from './flamegraphPanel';

/** What the commands return: enough for a caller (or a test) to find the panel and check what it shows. */
export interface OpenedProfile {
  title: string;
  frames: number;
  samples: number;
  sampleType: string;
  problems: string[];
}

const FILTERS = { Profiles: ['gz', 'pb', 'pprof', 'prof', 'cpuprofile', 'json'], 'All files': ['*'] };

function toPaths(arg: unknown): string[] | undefined {
  const one = (a: unknown): string | undefined => (a instanceof vscode.Uri ? a.fsPath : typeof a === 'string' && a ? a : undefined);
  if (Array.isArray(arg)) {
    const paths = arg.map(one).filter((p): p is string => p !== undefined);
    return paths.length ? paths : undefined;
  }
  const p = one(arg);
  return p ? [p] : undefined;
}

async function pickFiles(title: string): Promise<string[] | undefined> {
  const picked = await vscode.window.showOpenDialog({ title, canSelectMany: true, filters: FILTERS, openLabel: 'Open profile' });
  return picked?.map((u) => u.fsPath);
}

/** Loads files; says what was skipped; undefined (and an error shown) when nothing loaded. */
function load(paths: string[]): LoadedProfiles | undefined {
  const loaded = loadProfileFiles(paths);
  if (!loaded.profile) {
    void vscode.window.showErrorMessage(`StreamGate: no profile could be read. ${loaded.problems.map((p) => p.message).join(' ')}`);
    return undefined;
  }
  if (loaded.problems.length) {
    void vscode.window.showWarningMessage(`StreamGate: skipped ${loaded.problems.length} file(s): ${loaded.problems.map((p) => p.message).join('; ')}. The rest are merged.`);
  }
  return loaded;
}

function describe(paths: string[]): { name: string; source: string } {
  const names = paths.map((p) => path.basename(p));
  return { name: names.length === 1 ? names[0]! : `${names[0]} + ${names.length - 1} more`, source: names.length === 1 ? paths[0]! : `${names.length} files: ${names.join(', ')}` };
}

function opened(input: ProfileInput): OpenedProfile {
  return {
    title: `Flamegraph: ${input.name}`,
    frames: input.profile.frames.length,
    samples: input.profile.sampleCount,
    sampleType: input.profile.sampleTypes.at(-1)?.type ?? '',
    problems: input.problems,
  };
}

export async function openProfile(ctx: Ctx, arg?: unknown): Promise<OpenedProfile | undefined> {
  const paths = toPaths(arg) ?? (await pickFiles('Open profiles (pprof, .pb.gz, .cpuprofile); several are merged'));
  if (!paths?.length) return undefined;
  const loaded = load(paths);
  if (!loaded?.profile) return undefined;
  const input: ProfileInput = { ...describe(paths), profile: loaded.profile, merged: loaded.merged, problems: loaded.problems.map((p) => p.message) };
  ctx.profiles.views.open(input);
  return opened(input);
}

export async function compareProfiles(ctx: Ctx, baseArg?: unknown, currentArg?: unknown): Promise<OpenedProfile | undefined> {
  const basePaths = toPaths(baseArg) ?? (await pickFiles('Compare profiles: the BASE (before)'));
  if (!basePaths?.length) return undefined;
  const currentPaths = toPaths(currentArg) ?? (await pickFiles('Compare profiles: the CURRENT (after)'));
  if (!currentPaths?.length) return undefined;
  const base = load(basePaths);
  const current = load(currentPaths);
  if (!base?.profile || !current?.profile) return undefined;
  const b = describe(basePaths);
  const c = describe(currentPaths);
  const input: ProfileInput = {
    name: `${c.name} vs ${b.name}`,
    source: `current ${c.source} against base ${b.source}`,
    profile: current.profile,
    base: base.profile,
    merged: current.merged,
    problems: [...base.problems, ...current.problems].map((p) => p.message),
  };
  ctx.profiles.views.open(input);
  return opened(input);
}

interface PodProfileArgs {
  pod?: string;
  type?: 'cpu' | 'heap';
  seconds?: number;
}

/** A profile from a live pod, taken by the language server over NATS, opened in a flamegraph. */
export async function profilePod(ctx: Ctx, arg?: unknown): Promise<OpenedProfile | undefined> {
  const given = (arg && typeof arg === 'object' ? arg : {}) as PodProfileArgs;
  let pod = given.pod;
  if (!pod) {
    const pods = ctx.client.lastPods.length ? ctx.client.lastPods : await ctx.client.pods();
    if (!pods.length) throw new Error('no pods are connected (start the sandbox fleet or connect to a fleet first)');
    const pick = await vscode.window.showQuickPick(
      pods.map((p) => ({ label: p.info.pod, description: `${p.info.service} ${p.info.version} · ${p.info.runtime}`, detail: Object.entries(p.info.labels).map(([k, v]) => `${k}=${v}`).join(' ') })),
      { title: 'Profile a pod', placeHolder: 'Which pod?' },
    );
    pod = pick?.label;
  }
  if (!pod) return undefined;
  let type = given.type;
  if (!type) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'cpu', description: 'Sample the CPU for a few seconds' },
        { label: 'heap', description: 'The live heap, as sampled since the pod started' },
      ],
      { title: `Profile ${pod}`, placeHolder: 'What to profile?' },
    );
    type = pick?.label as 'cpu' | 'heap' | undefined;
  }
  if (!type) return undefined;
  const seconds = type === 'cpu' ? (given.seconds ?? 10) : undefined;
  const bytes = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `StreamGate: ${type === 'cpu' ? `sampling ${pod}'s CPU for ${seconds} s` : `taking ${pod}'s heap profile`}` },
    () => ctx.client.podProfile({ pod: pod, type: type, ...(seconds ? { seconds } : {}) }),
  );
  const name = `${pod} ${type}${seconds ? ` ${seconds}s` : ''}`;
  const profile = decodeProfile(bytes, name);
  const input: ProfileInput = { name, source: `pod ${pod}, ${type === 'cpu' ? `CPU for ${seconds} s` : 'live heap'}, ${new Date().toLocaleTimeString()}`, profile, merged: 1, problems: [] };
  ctx.profiles.views.open(input);
  return opened(input);
}

/** From a code lens: the flamegraph of the profile shown, with the function highlighted. */
export function showInFlamegraph(ctx: Ctx, name: unknown): void {
  const panel = ctx.profiles.views.activePanel;
  if (!panel) throw new Error('no flamegraph is open');
  panel.reveal();
  if (typeof name === 'string' && name) panel.search(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}
