/**
 * The language server process. Started by the extension over IPC (vscode-languageclient); `sg server` runs
 * the same Backend without LSP (see headless.ts).
 */
import { createConnection, ProposedFeatures, ResponseError, ErrorCodes } from 'vscode-languageserver/node';
import { createLogger, type LogLevel } from '../common/logger';
import { VERSION } from '../common/version';
import { ConfigureRequest, PodProfileRequest, PodsChangedNotification, PodsRequest, StatusChangedNotification, StatusRequest, type InitializationOptions } from '../protocol/lsp';
import * as z from 'zod/mini';
import { ProfileRequestSchema } from '../protocol/nats';
import { check } from '../protocol/schema';
import { ServerSettingsSchema } from '../protocol/settings';
import { Backend } from './backend';

const connection = createConnection(ProposedFeatures.all);
const log = createLogger((level: LogLevel, line) => {
  const console = connection.console;
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else if (level === 'info') console.info(line);
  else console.log(line);
}, 'info');
const backend = new Backend(log, `streamgate-lsp-${process.pid}`);
const PodProfileParamsSchema = z.intersection(z.object({ pod: z.string().check(z.minLength(1)) }), ProfileRequestSchema);

connection.onInitialize((params) => {
  const options = params.initializationOptions as Partial<InitializationOptions> | undefined;
  const parsed = check(ServerSettingsSchema, options?.settings);
  if (!parsed.ok) log.error(`bad initialization settings: ${parsed.error}`);
  else void backend.configure(parsed.value);
  return { capabilities: {}, serverInfo: { name: 'StreamGate language server', version: VERSION } };
});

connection.onRequest(StatusRequest.type, () => backend.status());
connection.onRequest(PodsRequest.type, () => backend.pods.refresh());

connection.onRequest(PodProfileRequest.type, async (params) => {
  const parsed = check(PodProfileParamsSchema, params);
  if (!parsed.ok) return new ResponseError(ErrorCodes.InvalidParams, `bad profile request: ${parsed.error}`);
  const { pod, ...request } = parsed.value;
  try {
    const pprof = await backend.podProfile(pod, request);
    return { pprofBase64: pprof.toString('base64'), pod, type: request.type, ...(request.type === 'cpu' ? { seconds: request.seconds ?? 10 } : {}) };
  } catch (error) {
    return new ResponseError(ErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
  }
});

connection.onRequest(ConfigureRequest.type, async (settings) => {
  const parsed = check(ServerSettingsSchema, settings);
  if (!parsed.ok) return new ResponseError(ErrorCodes.InvalidParams, `bad StreamGate settings: ${parsed.error}`);
  return backend.configure(parsed.value);
});

backend.on('status', (status) => void connection.sendNotification(StatusChangedNotification.type, status));
backend.pods.on('changed', (pods) => void connection.sendNotification(PodsChangedNotification.type, pods));
connection.onShutdown(() => backend.dispose());
connection.onExit(() => process.exit(0));
connection.listen();
