/**
 * `sg eval nab --data DIR`: run the product's OnlineDetector over every file of DIR/data (NAB's layout) and score
 * it with the port of NAB's scorer (nabScorer.ts): one threshold per profile, swept over the corpus, as NAB does.
 * The detector gets what NAB gives every detector — the file's min and max and the probationary length — and the
 * daily season in steps, read from the timestamps. `--results DIR` scores a published detector's results folder
 * instead (e.g. DIR/results/numenta), which is how the port is checked.
 */
import { parseArgs } from 'node:util';
import { OnlineDetector } from '../../server/ml/anomaly';
import { UsageError } from '../command';
import { ProgressBar } from '../progress';
import type { Evaluation } from './index';
import { loadNabCorpus, readResultScores, type NabFile } from './nabData';
import { NAB_PROFILES, probationLength, scoreCorpus, windowRows, type CorpusFile, type NabProfile, type ProfileResult } from './nabScorer';

/** The `--json` shape (docs/ml.md): normalised scores per profile and how many files were scored. */
export type NabResult = Record<NabProfile, number> & { files: number };

const DAY_MS = 86_400_000;

/** Steps per day when the file's usual step divides a day into at least 4 and the file spans two days. */
export function dailySeason(timestamps: ArrayLike<number>): number | undefined {
  const n = timestamps.length;
  if (n < 3) return undefined;
  const diffs: number[] = [];
  for (let i = 1; i < n; i++) diffs.push(timestamps[i]! - timestamps[i - 1]!);
  diffs.sort((a, b) => a - b);
  const step = diffs[Math.floor(diffs.length / 2)]!;
  if (!(step > 0) || step > DAY_MS / 4 || timestamps[n - 1]! - timestamps[0]! < 2 * DAY_MS) return undefined;
  return Math.round(DAY_MS / step);
}

/**
 * The detector's scores for one file. `live`: as the product runs it, without the file's min and max or NAB's
 * probationary length (its own default warm-up, its range learned from the warm-up).
 */
export function detectFile(file: NabFile, live = false): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of file.values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const season = dailySeason(file.timestamps);
  const detector = new OnlineDetector({ ...(season ? { season } : {}), ...(live ? {} : { warmup: probationLength(file.values.length), range: { min, max } }) });
  // NAB files repeat a few timestamps (clock changes); the detector wants strictly increasing time, so it is given
  // the row number, which is what NAB's own detectors see as time too.
  return Float64Array.from(file.values, (v, i) => detector.update(i, v));
}

export interface NabEvaluation {
  profiles: Record<NabProfile, ProfileResult>;
  files: number;
  defaultProfiles: boolean;
}

export function evaluateNab(dir: string, options: { results?: string; live?: boolean; onProgress?: (fraction: number) => void } = {}): NabEvaluation {
  const corpus = loadNabCorpus(dir);
  const files: CorpusFile[] = corpus.files.map((file, i) => {
    const scores = options.results ? readResultScores(options.results, file) : detectFile(file, options.live);
    options.onProgress?.((i + 1) / corpus.files.length);
    return { timestamps: file.timestamps, windows: windowRows(file.timestamps, file.windowLimits), scores };
  });
  const profiles = {} as Record<NabProfile, ProfileResult>;
  for (const profile of NAB_PROFILES) profiles[profile] = scoreCorpus(files, corpus.profiles[profile]);
  return { profiles, files: files.length, defaultProfiles: corpus.defaultProfiles };
}

export const nabEvaluation: Evaluation = {
  name: 'nab',
  summary: 'run the anomaly detector over a NAB folder and print NAB\'s normalised scores',
  usage: `sg eval nab --data DIR [--profile standard|reward_low_FP_rate|reward_low_FN_rate] [--json] [--results DIR]

  --data DIR      NAB's layout: data/<subset>/<file>.csv, labels/combined_windows.json, config/profiles.json
                  (NAB's own cost matrices are used when config/profiles.json is absent)
  --profile P     print only this profile's score (with --json the object still holds all three)
  --json          print { "standard", "reward_low_FP_rate", "reward_low_FN_rate", "files" } (docs/ml.md)
  --results DIR   score a published detector's results folder (e.g. DIR/results/numenta) instead of ours
  --live          run the detector as the live product does: no file min/max, no probationary length`,
  async run(args) {
    const { values } = parseArgs({ args, options: { data: { type: 'string' }, profile: { type: 'string' }, json: { type: 'boolean', default: false }, results: { type: 'string' }, live: { type: 'boolean', default: false } }, strict: true });
    if (!values.data) throw new UsageError('--data DIR is required');
    const profile = values.profile as NabProfile | undefined;
    if (profile !== undefined && !NAB_PROFILES.includes(profile)) throw new UsageError(`--profile must be one of ${NAB_PROFILES.join(', ')}`);
    const bar = new ProgressBar('nab');
    const evaluation = await Promise.resolve().then(() => evaluateNab(values.data!, { ...(values.results ? { results: values.results } : {}), live: values.live, onProgress: (f) => bar.update(f, values.results ? 'reading results' : 'detecting') }));
    bar.done(`nab: ${evaluation.files} files scored${evaluation.defaultProfiles ? ' (no config/profiles.json: NAB\'s standard cost matrices used)' : ''}`);
    if (values.json) {
      const out = { files: evaluation.files } as NabResult;
      for (const p of NAB_PROFILES) out[p] = evaluation.profiles[p].normalised;
      process.stdout.write(`${JSON.stringify({ standard: out.standard, reward_low_FP_rate: out.reward_low_FP_rate, reward_low_FN_rate: out.reward_low_FN_rate, files: out.files })}\n`);
      return 0;
    }
    const shown = profile ? [profile] : [...NAB_PROFILES];
    process.stdout.write(
      [
        `NAB, ${evaluation.files} files${values.results ? `, results of ${values.results}` : `, StreamGate OnlineDetector${values.live ? ' (live: no min/max, own warm-up)' : ''}`}`,
        `${'profile'.padEnd(20)}${'score'.padStart(8)}${'threshold'.padStart(12)}`,
        ...shown.map((p) => `${p.padEnd(20)}${evaluation.profiles[p].normalised.toFixed(2).padStart(8)}${evaluation.profiles[p].threshold.toFixed(4).padStart(12)}`),
        '',
      ].join('\n'),
    );
    return 0;
  },
};
