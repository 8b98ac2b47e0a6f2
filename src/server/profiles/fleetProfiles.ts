/**
 * What the editor, `sg profile` and other tools ask of the fleet's stored profiles, whoever answers: this
 * server's store (LocalProfiles) or a shared server over NATS (RemoteProfiles in profileClient.ts).
 */
import { toPprofGzip } from './export';
import { mergeDecoded } from './load';
import type { ProfileData } from './profileData';
import type { LoadedProfile, ProfileStore, StoredProfileMeta } from './profileStore';
import { detectRegressions } from './regressions';
import { recommend, type RuleInput } from './rules';
import { scaleValues, ticksBetween } from './samples';
import type {
  ProfileRangeRequest,
  ProfileRangeSummary,
  ProfileSelection,
  RecommendationsRequest,
  RecommendationsResult,
  RegressionsRequest,
  RegressionsResult,
  SelectionSummary,
  StoredProfileType,
} from '../../protocol/profiles';

export interface SelectedProfile {
  /** Gzipped pprof of the merged selection; undefined when nothing matched. */
  pprof: Buffer | undefined;
  summary: SelectionSummary;
}

export interface RangeProfile {
  pprof: Buffer | undefined;
  summary: ProfileRangeSummary;
}

export interface ProfilesApi {
  select(selection: ProfileSelection): Promise<SelectedProfile>;
  range(request: ProfileRangeRequest): Promise<RangeProfile>;
  regressions(request: RegressionsRequest): Promise<RegressionsResult>;
  recommendations(request: RecommendationsRequest): Promise<RecommendationsResult>;
}

/** Types whose profiles are snapshots of a state (averaged per pod over a range), not counts over time (added). */
const SNAPSHOT_TYPES = new Set<StoredProfileType>(['heap', 'goroutine']);
/** How far back the `version` baseline looks for other versions. */
const VERSION_BASELINE_MS = 24 * 3600_000;

export interface MergedSelection {
  profile: ProfileData | undefined;
  loaded: LoadedProfile[];
  summary: SelectionSummary;
}

export class LocalProfiles implements ProfilesApi {
  constructor(private readonly store: ProfileStore, private readonly sourceLine?: (file: string, line: number) => string | undefined) {}

  /** The selection's profiles merged: counts added, snapshots averaged per pod then added over pods. */
  async merged(selection: ProfileSelection): Promise<MergedSelection> {
    const metas = await this.store.list(selection.type, selection.from, selection.to, selection.where);
    const { loaded, problems } = await this.store.load(metas);
    const perPod = new Map<string, number>();
    for (const l of loaded) perPod.set(l.meta.pod, (perPod.get(l.meta.pod) ?? 0) + 1);
    const profiles = loaded.map((l) => (SNAPSHOT_TYPES.has(selection.type) ? scaleValues(l.profile, 1 / perPod.get(l.meta.pod)!) : l.profile));
    const merged = profiles.length ? mergeDecoded(profiles) : { profile: undefined, merged: 0, problems: [] };
    return {
      profile: merged.profile,
      loaded,
      summary: {
        profiles: merged.merged,
        pods: [...perPod.keys()].sort(),
        from: loaded.length ? Math.min(...loaded.map((l) => l.meta.from)) : selection.from,
        to: loaded.length ? Math.max(...loaded.map((l) => l.meta.to)) : selection.to,
        problems: [...problems, ...merged.problems.map((p) => p.message)],
      },
    };
  }

  async select(selection: ProfileSelection): Promise<SelectedProfile> {
    const { profile, summary } = await this.merged(selection);
    return { pprof: profile ? toPprofGzip(profile) : undefined, summary };
  }

  /** The CPU ticks one pod took in [from, to), from the timelines of the CPU profiles that overlap it. */
  async range(request: ProfileRangeRequest): Promise<RangeProfile> {
    const metas = (await this.store.list('cpu', request.from, request.to, { pod: request.pod })).filter((m) => m.hasTimeline);
    const { loaded, problems } = await this.store.load(metas, 'timeline');
    const slices = loaded.map((l) => ticksBetween(l.profile, request.from, request.to)).filter((p) => p.sampleCount > 0);
    let coveredMs = 0;
    for (const m of metas) coveredMs += Math.max(0, Math.min(m.to, request.to) - Math.max(m.from, request.from));
    const merged = slices.length ? mergeDecoded(slices).profile : undefined;
    const summary: ProfileRangeSummary = {
      pod: request.pod,
      from: request.from,
      to: request.to,
      coveredMs: Math.min(coveredMs, request.to - request.from),
      samples: slices.reduce((n, p) => n + p.sampleCount, 0),
      profiles: slices.length,
    };
    if (problems.length && !merged) throw new Error(problems.join('; '));
    return { pprof: merged ? toPprofGzip(merged) : undefined, summary };
  }

  async regressions(request: RegressionsRequest): Promise<RegressionsResult> {
    const where = request.where ?? {};
    // The current side is the profiles that started in the range; the baseline, those that were over before it
    // began: a profile running across `from` holds samples of both sides (the first minutes of an incident would
    // otherwise raise the baseline and hide the very change asked about).
    const currentMetas = (await this.store.list(request.type, request.from, request.to, where)).filter((m) => m.from >= request.from);
    let baselineMetas: StoredProfileMeta[];
    if ((request.baseline ?? 'previous') === 'previous') {
      const start = request.from - (request.to - request.from);
      baselineMetas = (await this.store.list(request.type, start, request.from, where)).filter((m) => m.from >= start && m.to <= request.from);
    } else {
      const versions = new Set(currentMetas.map((m) => m.version));
      const { version: _version, ...others } = where;
      baselineMetas = (await this.store.list(request.type, request.from - VERSION_BASELINE_MS, request.from, others)).filter((m) => !versions.has(m.version) && m.from < request.from);
    }
    const [current, baseline] = await Promise.all([this.store.load(currentMetas), this.store.load(baselineMetas)]);
    // Pods are compared with themselves; across versions pods come and go, so each service with itself.
    const stratum = (m: StoredProfileMeta) => (request.baseline === 'version' ? m.service : m.pod);
    return {
      regressions: detectRegressions(
        request.type,
        baseline.loaded.map((l) => ({ profile: l.profile, stratum: stratum(l.meta) })),
        current.loaded.map((l) => ({ profile: l.profile, stratum: stratum(l.meta) })),
      ),
    };
  }

  async recommendations(request: RecommendationsRequest): Promise<RecommendationsResult> {
    const select = (type: StoredProfileType) => this.merged({ type, from: request.from, to: request.to, ...(request.where ? { where: request.where } : {}) });
    const [cpu, heap, block, mutex] = await Promise.all([select('cpu'), select('heap'), select('block'), select('mutex')]);
    const series = new Map<string, ProfileData[]>();
    for (const l of heap.loaded) series.set(l.meta.pod, [...(series.get(l.meta.pod) ?? []), l.profile]);
    const input: RuleInput = {
      ...(cpu.profile ? { cpu: cpu.profile } : {}),
      ...(heap.profile ? { heap: heap.profile } : {}),
      heapSeries: [...series.values()],
      ...(block.profile ? { block: block.profile } : {}),
      ...(mutex.profile ? { mutex: mutex.profile } : {}),
      seconds: (request.to - request.from) / 1000,
      ...(this.sourceLine ? { sourceLine: this.sourceLine } : {}),
    };
    return {
      recommendations: recommend(input),
      profiles: { cpu: cpu.summary.profiles, heap: heap.summary.profiles, block: block.summary.profiles, mutex: mutex.summary.profiles },
    };
  }
}
