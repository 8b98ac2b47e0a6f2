/**
 * A selection of profile files, decoded and merged: a file that cannot be read, decoded or merged is reported
 * (its name and why) and the rest still merge.
 */
import { DEFAULT_DECODE_LIMITS, ProfileDecodeError, readProfileFile, type DecodeLimits } from './decode';
import { mergeProfiles, partitionCompatible } from './merge';
import type { ProfileData } from './profileData';

export interface ProfileProblem {
  source: string;
  message: string;
}

export interface LoadedProfiles {
  /** The merge of every profile that loaded; undefined when none did. */
  profile: ProfileData | undefined;
  /** How many profiles went into it. */
  merged: number;
  problems: ProfileProblem[];
}

export function mergeDecoded(profiles: ProfileData[], problems: ProfileProblem[] = []): LoadedProfiles {
  const { compatible, refused } = partitionCompatible(profiles);
  for (const r of refused) problems.push({ source: r.source, message: `${r.source}: ${r.reason}` });
  if (compatible.length === 0) return { profile: undefined, merged: 0, problems };
  const source = compatible.length === 1 ? compatible[0]!.source : `${compatible.length} profiles`;
  return { profile: mergeProfiles(compatible, source), merged: compatible.length, problems };
}

export function loadProfileFiles(paths: readonly string[], limits: DecodeLimits = DEFAULT_DECODE_LIMITS): LoadedProfiles {
  const decoded: ProfileData[] = [];
  const problems: ProfileProblem[] = [];
  for (const path of paths) {
    try {
      decoded.push(readProfileFile(path, limits));
    } catch (error) {
      if (!(error instanceof ProfileDecodeError)) throw error;
      problems.push({ source: path, message: error.message });
    }
  }
  return mergeDecoded(decoded, problems);
}
