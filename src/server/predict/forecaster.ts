/**
 * Forecasts of the live fleet: load, error rate, active sessions and cost per service, each from its history in
 * the live windows and the store, with the model chosen per series by rolling-origin backtest (src/server/ml),
 * its honest backtest accuracy, a stated fallback on short history, and drift tracking. Fitted parameters are
 * cached per series and refitted once a season, or at once when the live error degrades.
 */
import { LIVE_WINDOW_MS } from '../../protocol/analytics';
import { FORECAST_UNITS, type ForecastAnswer, type ForecastKind, type ForecastPoint, type ForecastRequest } from '../../protocol/predict';
import type { AnalyticsMetrics, PredictSettings } from '../../protocol/settings';
import type { AnalyticsApi } from '../analytics/api';
import { forecast as forecastSeries, type ForecastResult, type SeriesFits } from '../ml/forecast';
import { maseScale, smape } from '../ml/metrics';
import { cleanSeries } from '../ml/series';
import { costOf, costPoints, costSummary, DEFAULT_CAPACITY, scalingAdvice, type CapacitySettings, type CapacitySource } from './capacity';
import { DriftTracker } from './drift';
import { historyStart, readHistory, type History, type HistoryKind } from './history';
import { detectSeason, forecastGrid, minStepFor, niceStep, type ForecastGrid } from './timing';

export const DEFAULT_HORIZON_MS = 3600_000;
/** The newest steps may still be arriving: history ends this long before now. */
const SETTLE_MS = 3000;
/** How long a detected season is trusted before it is looked for again; none found is looked for again sooner (the history grows). */
const SEASON_TTL_MS = 10 * 60_000;
const NO_SEASON_TTL_MS = 2 * 60_000;
/** How far back a season (and the start of the history) is looked for. */
const SEASON_LOOKBACK_MS = 21 * 86_400_000;
/** History shorter than this holds no season worth looking for. */
const MIN_SEASON_SPAN_MS = 10 * 60_000;
/**
 * The mean of the best three candidates competes with them in the backtest: on a noisy fleet the single best of three
 * origins changes from one hour to the next, and an average of good models is steadier (the M4 lesson).
 */
const COMBINE = 3;
/**
 * …and a single candidate must be 20 % better than that mean in the backtest to replace it (the factor the pooled model
 * gets on M4, not tuned again): three origins of one horizon are a noisy judge, and choosing the best of four noisy
 * scores picks the luckiest more often than the best. On stop 19's recording of the sandbox (`SG_BENCH_PEAK=8`), days
 * 2–3, it took one-hour-ahead accuracy from 84.7 to 86.5 %.
 */
const COMBINATION_PREFERENCE = 0.8;
/** History points returned for charts: at most this many. */
const CHART_HISTORY_POINTS = 480;

export interface ForecasterDeps {
  api: () => AnalyticsApi;
  metrics: () => AnalyticsMetrics;
  settings: () => PredictSettings | undefined;
  /** Live pods of a service now. */
  podsOf: (service: string) => number;
  /** Requests/s a pod of the service serves at the target CPU, measured on the live fleet (undefined: too little data). */
  measuredCapacity?: (service: string) => number | undefined;
}

interface SeriesState {
  gridKey: string;
  fits?: SeriesFits;
  fittedAt: number;
  drift: DriftTracker;
}

interface Season {
  seasonMs: number | undefined;
  source: ForecastAnswer['seasonSource'];
  at: number;
  /** The service's mean request rate over the history looked at, requests/s. */
  rate?: number;
}

export class Forecaster {
  private readonly states = new Map<string, SeriesState>();
  private readonly seasons = new Map<string, Season>();

  constructor(private readonly deps: ForecasterDeps) {}

  /** Capacity per pod: asked for, else set, else measured on the service's pods, else the default. */
  capacity(request?: Pick<ForecastRequest, 'capacityPerPod' | 'pricePerPodHour'>, service?: string): CapacitySettings {
    const s = this.deps.settings();
    const measured = request?.capacityPerPod === undefined && s?.capacityPerPod === undefined && service !== undefined ? this.deps.measuredCapacity?.(service) : undefined;
    const [capacityPerPod, capacitySource]: [number, CapacitySource] =
      request?.capacityPerPod !== undefined ? [request.capacityPerPod, 'request']
      : s?.capacityPerPod !== undefined ? [s.capacityPerPod, 'setting']
      : measured !== undefined ? [measured, 'measured']
      : [DEFAULT_CAPACITY.capacityPerPod, 'default'];
    return {
      capacityPerPod,
      capacitySource,
      pricePerPodHour: request?.pricePerPodHour ?? s?.pricePerPodHour ?? DEFAULT_CAPACITY.pricePerPodHour,
      currency: s?.currency ?? DEFAULT_CAPACITY.currency,
    };
  }

  /** The service's season: the setting, or detected from its request history (cached for a few minutes). */
  async season(service: string, now = Date.now()): Promise<Season> {
    const cached = this.seasons.get(service);
    if (cached && now - cached.at < (cached.seasonMs ? SEASON_TTL_MS : NO_SEASON_TTL_MS)) return cached;
    const configured = this.deps.settings()?.seasonMs;
    let found: Season;
    try {
      found = await this.detect(service, now);
      if (configured) found = { ...found, seasonMs: configured, source: 'setting' };
    } catch {
      // No store to look back in (it is opening or down): the setting, or no season for now, looked for again soon.
      return configured ? { seasonMs: configured, source: 'setting', at: now } : { seasonMs: undefined, source: 'none', at: now };
    }
    this.seasons.set(service, found);
    return found;
  }

  private async detect(service: string, now: number): Promise<Season> {
    const api = this.deps.api();
    const metrics = this.deps.metrics();
    const start = await historyStart(api, metrics, service, SEASON_LOOKBACK_MS, now);
    const none: Season = { seasonMs: undefined, source: 'none', at: now };
    if (start === undefined) return none;
    const stepMs = niceStep((now - start) / 720);
    const to = Math.floor((now - SETTLE_MS) / stepMs) * stepMs;
    const from = to - Math.floor((to - start) / stepMs) * stepMs;
    if (to <= from) return none;
    // The rate (for the grid) from any history; a season only from enough of it.
    const history = await readHistory(api, metrics, 'load', { service }, { from, to, stepMs });
    const clean = cleanSeries({ timestamps: history.timestamps, values: history.values });
    const rate = clean.values.length ? clean.values.reduce((a, b) => a + b, 0) / clean.values.length : undefined;
    const seasonMs = now - start >= MIN_SEASON_SPAN_MS ? detectSeason(clean.values, clean.stepMs ?? stepMs) : undefined;
    return seasonMs ? { seasonMs, source: 'detected', at: now, ...(rate ? { rate } : {}) } : { ...none, ...(rate ? { rate } : {}) };
  }

  async forecast(request: ForecastRequest, now = Date.now()): Promise<ForecastAnswer> {
    const horizonMs = request.horizonMs ?? DEFAULT_HORIZON_MS;
    const season = await this.season(request.service, now);
    // Counts of requests set how fine the grid may be (sessions are a gauge: no counting noise to avoid).
    const grid = forecastGrid(season.seasonMs, horizonMs, request.kind === 'sessions' ? 0 : minStepFor(season.rate));
    const to = Math.floor((now - SETTLE_MS) / grid.stepMs) * grid.stepMs;
    const from = to - Math.floor(grid.historyMs / grid.stepMs) * grid.stepMs;
    const historyKind: HistoryKind = request.kind === 'cost' ? 'load' : request.kind;
    const target = { service: request.service, ...(request.route && request.kind !== 'sessions' ? { route: request.route } : {}) };
    const { history, liveOnly } = await this.readWithFallback(historyKind, target, { from, to, stepMs: grid.stepMs });
    const capacity = this.capacity(request, request.service);
    const transform = request.kind === 'cost' ? (v: number) => costOf(v, capacity) : (v: number) => v;

    const key = `${request.kind}\u0000${request.service}\u0000${target.route ?? ''}`;
    const gridKey = `${grid.stepMs}/${grid.season}/${grid.horizonSteps}`;
    let state = this.states.get(key);
    if (!state || state.gridKey !== gridKey) this.states.set(key, (state = { gridKey, fittedAt: now, drift: new DriftTracker() }));
    const actual = new Map<number, number>();
    for (const [t, v] of history.steps) if (v !== null) actual.set(t, transform(v));
    state.drift.observe(actual, to);
    const refitEvery = season.seasonMs ?? 3600_000;
    if (state.drift.degraded) {
      state.fits = undefined;
      state.drift.refitted(now);
    } else if (now - state.fittedAt > refitEvery) {
      state.fits = undefined;
    }
    if (!state.fits) state.fittedAt = now;

    const result = this.run(history, grid, state.fits);
    state.fits = result.fits;
    if (liveOnly) result.warnings.unshift('the store is not ready: the history is the live windows\' last 15 minutes only');
    const capped = request.kind === 'errors' ? result.points.map((p) => ({ ...p, mean: Math.min(1, p.mean), hi80: Math.min(1, p.hi80), hi95: Math.min(1, p.hi95) })) : result.points;
    const points = request.kind === 'cost' ? costPoints(capped, capacity) : capped;
    const backtest = request.kind === 'cost' ? this.costBacktest(history, grid, result, capacity) : result.backtest;
    state.drift.issue(now, points, backtest?.smape ?? null);

    const scaling = (request.kind === 'load' && !target.route) || request.kind === 'cost' ? scalingAdvice(request.service, capped, this.deps.podsOf(request.service), capacity.capacityPerPod, capacity.capacitySource) : undefined;
    const chartFrom = to - Math.max(3 * horizonMs, 2 * (season.seasonMs ?? 0), 30 * grid.stepMs);
    const chartSteps = history.steps.filter(([t]) => t >= chartFrom).slice(-CHART_HISTORY_POINTS);
    return {
      series: `${request.kind} ${request.service}${target.route ? ` ${target.route}` : ''}`,
      model: result.model,
      backtest: { smape: backtest?.smape ?? null, mase: backtest?.mase ?? null },
      points,
      kind: request.kind,
      service: request.service,
      ...(target.route ? { route: target.route } : {}),
      unit: request.kind === 'cost' ? `${capacity.currency} ${FORECAST_UNITS.cost}` : FORECAST_UNITS[request.kind],
      reason: this.reason(request.kind, result, season, grid),
      warnings: result.warnings,
      stepMs: grid.stepMs,
      seasonMs: season.seasonMs ?? 0,
      seasonSource: season.source,
      history: request.kind === 'cost' ? chartSteps.map(([t, v]) => [t, v === null ? null : transform(v)]) : chartSteps,
      generatedAt: now,
      drift: state.drift.status(),
      ...(scaling ? { scaling } : {}),
      ...(request.kind === 'cost' ? { cost: costSummary(points, grid.stepMs, capacity) } : {}),
      ...(result.members ? { members: result.members } : {}),
      candidates: result.candidates,
    };
  }

  /** The history from the store; when the store is not ready, what the live windows hold (the last 15 minutes). */
  private async readWithFallback(kind: HistoryKind, target: { service: string; route?: string }, range: { from: number; to: number; stepMs: number }): Promise<{ history: History; liveOnly: boolean }> {
    try {
      return { history: await readHistory(this.deps.api(), this.deps.metrics(), kind, target, range), liveOnly: false };
    } catch (error) {
      if (!/store is not ready/.test(String((error as Error).message))) throw error;
      const liveFrom = range.to - Math.floor((LIVE_WINDOW_MS - 2 * range.stepMs) / range.stepMs) * range.stepMs;
      if (liveFrom <= range.from) throw error;
      return { history: await readHistory(this.deps.api(), this.deps.metrics(), kind, target, { ...range, from: liveFrom }), liveOnly: true };
    }
  }

  private run(history: History, grid: ForecastGrid, fits: SeriesFits | undefined): ForecastResult {
    return forecastSeries({ timestamps: history.timestamps, values: history.values }, { horizon: grid.horizonSteps, season: Math.max(1, grid.season), combine: COMBINE, combinationPreference: COMBINATION_PREFERENCE, ...(fits ? { fits } : {}) });
  }

  /**
   * Cost's own backtest: the load model's forecast from one horizon ago turned into cost, against the cost of the
   * load that came (the cost steps make it differ from the load's backtest).
   */
  private costBacktest(history: History, grid: ForecastGrid, load: ForecastResult, c: CapacitySettings): { smape: number; mase: number } | null {
    if (!load.backtest) return null;
    const clean = cleanSeries({ timestamps: history.timestamps, values: history.values });
    const n = clean.values.length;
    const h = grid.horizonSteps;
    if (n < 2 * h + 2) return null;
    const past = clean.values.subarray(0, n - h);
    const earlier = forecastSeries(past, { horizon: h, season: Math.max(1, grid.season) });
    const actual = clean.values.subarray(n - h).map((v) => costOf(v, c));
    const predicted = Float64Array.from(earlier.points, (p) => costOf(p.mean, c));
    const pastCost = past.map((v) => costOf(v, c));
    const scale = maseScale(pastCost, Math.max(1, grid.season)) || maseScale(pastCost, 1);
    let mae = 0;
    for (let k = 0; k < h; k++) mae += Math.abs(actual[k]! - predicted[k]!) / h;
    return { smape: smape(actual, predicted), mase: scale ? mae / scale : mae === 0 ? 0 : Number.POSITIVE_INFINITY };
  }

  private reason(kind: ForecastKind, result: ForecastResult, season: Season, grid: ForecastGrid): string {
    const seasonText =
      season.source === 'none'
        ? 'no season found in the history yet'
        : `season ${formatSpan(season.seasonMs!)} (${season.source === 'setting' ? 'from the settings' : 'detected in the history'}), ${grid.season} steps of ${formatSpan(grid.stepMs)}`;
    const costText = kind === 'cost' ? '; cost = ⌈load ÷ capacity per pod⌉ pods × price per pod-hour, the backtest is the cost of a forecast made one horizon ago' : '';
    return `${result.reason}; ${seasonText}${costText}`;
  }

  /** Forgets every cached fit and season (settings changed). */
  reset(): void {
    this.states.clear();
    this.seasons.clear();
  }
}

export function formatSpan(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3600_000 === 0) return `${ms / 3600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${+(ms / 1000).toFixed(1)} s`;
}

export type { ForecastPoint };
