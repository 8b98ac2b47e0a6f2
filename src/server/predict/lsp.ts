/** The predictions' LSP requests and the alert notification, registered on the language server's connection. */
import { ErrorCodes, ResponseError, type Connection } from 'vscode-languageserver/node';
import { errorMessage } from '../../common/logger';
import { AlertNotification, AlertsRequest, ForecastRequestType, PredictionsRequest } from '../../protocol/lsp';
import { AlertsQuerySchema, ForecastRequestSchema, PredictionsQuerySchema, type AlertsQuery } from '../../protocol/predict';
import { check } from '../../protocol/schema';
import type { PredictService } from './service';

export function registerPredictHandlers(connection: Connection, predict: PredictService): void {
  const invalid = (what: string, error: string) => new ResponseError(ErrorCodes.InvalidParams, `bad ${what}: ${error}`);
  const failed = (what: string, error: unknown) => new ResponseError(ErrorCodes.InternalError, `${what}: ${errorMessage(error)}`);
  connection.onRequest(ForecastRequestType.type, async (request) => {
    const parsed = check(ForecastRequestSchema, request);
    if (!parsed.ok) return invalid('forecast request', parsed.error);
    return predict.forecast(parsed.value).catch((error: unknown) => failed('the forecast', error));
  });
  connection.onRequest(PredictionsRequest.type, async (query) => {
    const parsed = check(PredictionsQuerySchema, query);
    if (!parsed.ok) return invalid('predictions query', parsed.error);
    return predict.predictions(parsed.value).catch((error: unknown) => failed('the predictions', error));
  });
  connection.onRequest(AlertsRequest.type, (query) => {
    const parsed = check(AlertsQuerySchema, (query as AlertsQuery | null) ?? {});
    if (!parsed.ok) return invalid('alerts query', parsed.error);
    return predict.alerts(parsed.value);
  });
  predict.on('alert', (event) => void connection.sendNotification(AlertNotification.type, event));
}
