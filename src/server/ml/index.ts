/**
 * The predictive models, pure (no NATS, no store): what the live product builds on.
 *
 *   const global = fitGlobalModels(allSeriesOfTheFleet, { horizon: 48 });   // optional, refit now and then
 *   const result = forecast({ timestamps, values }, { horizon: 48, season: 24, global, fits: cached?.fits });
 *   result.points[k] → { t, mean, lo80, hi80, lo95, hi95 }; result.model, result.backtest, result.warnings
 *
 *   const detector = new OnlineDetector({ season: 288 });                    // one per metric series
 *   const score = detector.update(ts, value);                                // 0…1, 0 during warm-up
 */
export { forecast, type CandidateScore, type ForecastOptions, type ForecastPoint, type ForecastResult, type SeriesFits } from './forecast';
export { fitGlobalModels, type GlobalFitOptions } from './global';
export type { GlobalModels, ModelName } from './candidates';
export { OnlineDetector, type DetectorOptions } from './anomaly';
export { cleanSeries, type CleanSeries, type SeriesInput } from './series';
export { mae, mapeAccuracy, mase, owa, smape } from './metrics';
