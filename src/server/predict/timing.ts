/**
 * The time grid of a forecast: which season the load shows (a day for a real fleet, 24 minutes for the sandbox's
 * compressed day), and which step makes both the season and the horizon a sensible number of steps.
 */
import { autocorrelation } from '../ml/seasonality';

/** Steps a history query may use: round numbers, so charts and seasons line up. */
const NICE_STEPS = [1000, 2000, 5000, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];

/** The smallest nice step at least `ms` (the largest one beyond). */
export function niceStep(ms: number): number {
  return NICE_STEPS.find((s) => s >= ms) ?? NICE_STEPS[NICE_STEPS.length - 1]!;
}

/** Seasons within this share of a day or a week are taken to be exactly that. */
const SNAP = 0.03;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** An autocorrelation peak must be at least this high to count as a season. */
const SEASON_EVIDENCE = 0.3;

/**
 * The dominant period of a regular series, in ms, from the highest peak of its autocorrelation (above 0.3, at a lag
 * of at least 4 steps, with two whole periods in the data), snapped to a day or a week when close, else to whole
 * minutes (whole steps below 10 minutes); undefined when there is none.
 */
export function detectSeason(values: ArrayLike<number>, stepMs: number): number | undefined {
  const n = values.length;
  const maxLag = Math.floor(n / 2);
  if (maxLag < 8) return undefined;
  const acf = autocorrelation(values, maxLag);
  // Local maxima after the autocorrelation first dips below zero; the highest wins, unless a peak at a whole
  // fraction of its lag is nearly as high (on clean data the peaks at m, 2m, 3m … all stand out).
  const peaks: number[] = [];
  let dipped = false;
  for (let k = 4; k < maxLag; k++) {
    if (acf[k]! < 0) dipped = true;
    if (dipped && acf[k]! > SEASON_EVIDENCE && acf[k]! >= acf[k - 1]! && acf[k]! > acf[k + 1]!) peaks.push(k);
  }
  if (peaks.length === 0) return undefined;
  let best = peaks.reduce((a, b) => (acf[b]! > acf[a]! ? b : a));
  for (const d of [4, 3, 2]) {
    const near = peaks.find((k) => Math.abs(k - best / d) <= Math.max(1, 0.05 * (best / d)) && acf[k]! >= 0.85 * acf[best]!);
    if (near !== undefined) {
      best = near;
      break;
    }
  }
  if (best < 0) return undefined;
  const ms = best * stepMs;
  for (const known of [DAY_MS, WEEK_MS]) if (Math.abs(ms - known) <= SNAP * known) return known;
  if (ms >= 600_000) return Math.round(ms / 60_000) * 60_000;
  return ms;
}

/**
 * A step should hold at least this many events (requests) of the service at its usual rate: a count of N varies by
 * about 1/√N from chance alone (here about 4.5 %), which no model can forecast. Busy fleets are not limited by it;
 * a quiet one (the sandbox) gets coarser steps instead of forecasting noise.
 */
export const MIN_EVENTS_PER_STEP = 500;

/** The shortest step at which `ratePerSecond` events make MIN_EVENTS_PER_STEP (0 without a rate). */
export function minStepFor(ratePerSecond: number | undefined): number {
  return ratePerSecond && ratePerSecond > 0 ? (MIN_EVENTS_PER_STEP / ratePerSecond) * 1000 : 0;
}

/** Steps per season the grid may use, finest first. */
const STEPS_PER_SEASON = [288, 144, 96, 72, 48, 24];
/** At most this many forecast steps, and this many seasons of history. */
export const MAX_HORIZON_STEPS = 120;
export const HISTORY_SEASONS = 21;
const MAX_RANGE_MS = 31 * DAY_MS - 3600_000;

export interface ForecastGrid {
  stepMs: number;
  /** Steps per season (0: no season). */
  season: number;
  horizonSteps: number;
  /** How far back the history reaches, ms. */
  historyMs: number;
}

/**
 * With a season: the finest of 288…24 steps per season whose horizon fits in 120 steps and whose steps are at least
 * `minStepMs` long, and 21 seasons of history (three weeks of a day: the weekly cycle needs them). Without one: 60
 * steps over the horizon (no shorter than `minStepMs`) and 30 horizons of history. Steps are whole seconds.
 */
export function forecastGrid(seasonMs: number | undefined, horizonMs: number, minStepMs = 0): ForecastGrid {
  if (seasonMs && seasonMs >= 60_000) {
    for (const perSeason of STEPS_PER_SEASON) {
      const stepMs = Math.max(1000, Math.round(seasonMs / perSeason / 1000) * 1000);
      const horizonSteps = Math.ceil(horizonMs / stepMs);
      if (horizonSteps <= MAX_HORIZON_STEPS && stepMs >= minStepMs) {
        return { stepMs, season: Math.round(seasonMs / stepMs), horizonSteps, historyMs: Math.min(MAX_RANGE_MS, HISTORY_SEASONS * seasonMs) };
      }
    }
    // A horizon of many seasons (a day ahead of the sandbox's 24-minute day): steps of a whole fraction of the season
    // as coarse as the horizon needs, or whole seasons' worth, and the season kept only while it spans 4 steps or more.
    const coarsest = Math.max(1000, Math.round(seasonMs / STEPS_PER_SEASON[STEPS_PER_SEASON.length - 1]! / 1000) * 1000);
    const stepMs = Math.max(coarsest, Math.ceil(Math.max(horizonMs / MAX_HORIZON_STEPS, minStepMs) / 1000) * 1000);
    const season = Math.round(seasonMs / stepMs);
    return { stepMs, season: season >= 4 ? season : 0, horizonSteps: Math.ceil(horizonMs / stepMs), historyMs: Math.min(MAX_RANGE_MS, Math.max(HISTORY_SEASONS * seasonMs, 30 * horizonMs)) };
  }
  const stepMs = niceStep(Math.max(horizonMs / 60, minStepMs));
  const horizonSteps = Math.max(1, Math.ceil(horizonMs / stepMs));
  return { stepMs, season: 0, horizonSteps, historyMs: Math.min(MAX_RANGE_MS, 30 * horizonSteps * stepMs) };
}
