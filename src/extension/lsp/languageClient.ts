/**
 * The language client proper (vscode-languageclient and the LSP protocol types). It is its own bundle,
 * dist/lspClient.js, loaded by ServerClient after activation: evaluating it costs ~80 ms, which would
 * otherwise be most of the extension's activation time.
 */
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { ConfigureRequest, PodProfileRequest, PodsChangedNotification, PodsRequest, StatusChangedNotification, StatusRequest, type InitializationOptions } from '../../protocol/lsp';
import type { PodStatus } from '../../protocol/nats';
import type { ServerSettings } from '../../protocol/settings';
import type { ServerStatus } from '../../protocol/status';

export interface LspConnection {
  isRunning(): boolean;
  status(): Promise<ServerStatus>;
  configure(settings: ServerSettings): Promise<ServerStatus>;
  pods(): Promise<PodStatus[]>;
  podProfile(params: PodProfileRequest.Params): Promise<PodProfileRequest.Result>;
  stop(): Promise<void>;
}

export interface LspEvents {
  onStatus(status: ServerStatus): void;
  onPods(pods: PodStatus[]): void;
}

export async function startLanguageClient(
  serverModule: string,
  output: vscode.LogOutputChannel,
  settings: ServerSettings,
  events: LspEvents,
): Promise<LspConnection> {
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--enable-source-maps'] } },
  };
  const initializationOptions: InitializationOptions = { settings };
  const clientOptions: LanguageClientOptions = { documentSelector: [], outputChannel: output, initializationOptions };
  const client = new LanguageClient('streamgate', 'StreamGate Language Server', serverOptions, clientOptions);
  client.onNotification(StatusChangedNotification.type, (status) => events.onStatus(status));
  client.onNotification(PodsChangedNotification.type, (pods) => events.onPods(pods));
  await client.start();
  return {
    isRunning: () => client.isRunning(),
    status: () => client.sendRequest(StatusRequest.type),
    configure: (next) => client.sendRequest(ConfigureRequest.type, next),
    pods: () => client.sendRequest(PodsRequest.type),
    podProfile: (params) => client.sendRequest(PodProfileRequest.type, params),
    stop: () => client.stop(),
  };
}
