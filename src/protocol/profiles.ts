/**
 * The fleet's stored profiles, whoever asks: the extension over LSP (`lsp.ts`), `sg profile` and other tools
 * over the `sg-server` NATS service (`nats.ts`). A selection is a profile type, a time range and label filters;
 * the server merges what matches. Requests are validated on entry with these schemas; answers are plain data.
 */
import * as z from 'zod/mini';
import './schema';

/** What the collector stores: Node pods give cpu and heap, Go targets also goroutine, block and mutex. */
export const STORED_PROFILE_TYPES = ['cpu', 'heap', 'goroutine', 'block', 'mutex'] as const;
export type StoredProfileType = (typeof STORED_PROFILE_TYPES)[number];

/** Longest range one selection may cover. */
export const MAX_SELECTION_RANGE_MS = 31 * 24 * 3600_000;

const LabelName = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'label names are letters, digits, _ and .'));
const EpochMs = z.number().check(z.int('times are whole epoch milliseconds'), z.minimum(0));
/** The checks every range request shares (each schema applies them to its own object). */
function range(what: string) {
  return [
    z.refine<{ from: number; to: number }>((q) => q.to > q.from, { message: `the ${what} ends before it starts (to must be after from)` }),
    z.refine<{ from: number; to: number }>((q) => q.to - q.from <= MAX_SELECTION_RANGE_MS, { message: `the ${what} is longer than 31 days` }),
  ] as const;
}

/**
 * Profiles of one type whose time range overlaps [from, to), whose labels equal `where`: `service`, `pod`,
 * `version`, `region` and `runtime` are columns, any other key a pod label.
 */
export const ProfileSelectionSchema = z
  .object({
    type: z.enum(STORED_PROFILE_TYPES, { error: `type is one of ${STORED_PROFILE_TYPES.join(', ')}` }),
    from: EpochMs,
    to: EpochMs,
    where: z.optional(z.record(LabelName, z.string())),
  })
  .check(...range('selection'));
export type ProfileSelection = z.infer<typeof ProfileSelectionSchema>;

/** What a selection held, sent beside the merged profile. */
export interface SelectionSummary {
  /** How many stored profiles were merged. */
  profiles: number;
  /** The pods they came from, sorted. */
  pods: string[];
  /** The span the merged profiles cover (epoch ms), or the selection's when none matched. */
  from: number;
  to: number;
  /** Profiles that could not be decoded or merged, each with why (the rest still merged). */
  problems: string[];
}

/** The CPU samples one pod took while [from, to) ran: what a slow span links to (Node pods). */
export const ProfileRangeRequestSchema = z
  .object({ pod: z.string().check(z.minLength(1, 'pod is empty')), from: EpochMs, to: EpochMs })
  .check(...range('range'));
export type ProfileRangeRequest = z.infer<typeof ProfileRangeRequestSchema>;

export interface ProfileRangeSummary {
  pod: string;
  from: number;
  to: number;
  /** Milliseconds of [from, to) that a stored CPU profile with sample times covered (collection samples ~10 s a minute). */
  coveredMs: number;
  /** CPU samples taken inside the range. */
  samples: number;
  profiles: number;
}

export const BASELINES = ['previous', 'version'] as const;
export type Baseline = (typeof BASELINES)[number];

/**
 * Functions whose share jumped in [from, to) against a baseline: the range just before of the same length
 * (`previous`), or the profiles of other versions in the 24 hours before (`version`).
 */
export const RegressionsRequestSchema = z
  .object({
    type: z.enum(['cpu', 'heap'], { error: 'type is cpu or heap' }),
    from: EpochMs,
    to: EpochMs,
    baseline: z.optional(z.enum(BASELINES)),
    where: z.optional(z.record(LabelName, z.string())),
  })
  .check(...range('range'));
export type RegressionsRequest = z.infer<typeof RegressionsRequestSchema>;

/** One regression; the shape `sg profile regressions --json` prints (a contract: fields are added, never renamed). */
export interface Regression {
  type: 'cpu' | 'heap';
  function: string;
  file: string;
  /** The line holding most of the function's share now (0 when unknown). */
  line: number;
  /** The function's self share of its side's total, %. */
  baselinePercent: number;
  currentPercent: number;
  /** In words: the test statistic, the profiles and samples on each side. */
  evidence: string;
}

export interface RegressionsResult {
  regressions: Regression[];
}

/**
 * Recommendations for a range (the optimisation rules of docs/optimization.md), over the CPU, heap, block and
 * mutex profiles of the pods matching `where`.
 */
export const RecommendationsRequestSchema = z
  .object({ from: EpochMs, to: EpochMs, where: z.optional(z.record(LabelName, z.string())) })
  .check(...range('range'));
export type RecommendationsRequest = z.infer<typeof RecommendationsRequestSchema>;

export const RULE_SEVERITIES = ['info', 'warning'] as const;

export interface Recommendation {
  /** The rule's id (docs/optimization.md has one section per id). */
  rule: string;
  title: string;
  severity: (typeof RULE_SEVERITIES)[number];
  function: string;
  file: string;
  line: number;
  /** The share of the selection's total the finding is about, %. */
  percent: number;
  /** In words: which frames, which share, how many samples or bytes. */
  evidence: string;
  /** What to do about it, one sentence. */
  fix: string;
}

export interface RecommendationsResult {
  recommendations: Recommendation[];
  /** What was analysed: profiles per type. */
  profiles: Partial<Record<StoredProfileType, number>>;
}
