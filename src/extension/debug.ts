/**
 * The `streamgate` debug type: a configuration provider that fills attach configurations from settings (the
 * same NATS URL, credentials file, token and TLS files the language server connects with, so a secured fleet
 * can be debugged), and the adapter, inline (default) or as its own Node process
 * (`streamgate.debug.adapterTransport`).
 */
import * as vscode from 'vscode';
import type { StreamGateDebugSession } from '../adapter/session';
import { DEBUG_TYPE } from '../protocol/dap';
import type { Config } from './config';

export const DEFAULT_ATTACH_NAME = 'Attach to StreamGate fleet';

export function registerDebugType(context: vscode.ExtensionContext, config: Config): vscode.Disposable[] {
  const adapterModule = context.asAbsolutePath('dist/adapter.js');
  const provider: vscode.DebugConfigurationProvider = {
    provideDebugConfigurations: () => [initialConfiguration()],
    resolveDebugConfiguration: (folder, debugConfiguration) => resolveAttach(folder, debugConfiguration, config),
  };
  // Listed in Run and Debug's dropdown without a launch.json.
  const dynamic: vscode.DebugConfigurationProvider = { provideDebugConfigurations: () => [initialConfiguration()] };
  const factory: vscode.DebugAdapterDescriptorFactory = {
    createDebugAdapterDescriptor() {
      if (config.adapterTransport === 'process') {
        return new vscode.DebugAdapterExecutable(process.execPath, [adapterModule], { env: { ELECTRON_RUN_AS_NODE: '1' } });
      }
      // Loaded on first use so the adapter and its NATS client cost nothing at activation.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { StreamGateDebugSession: Session } = require(adapterModule) as { StreamGateDebugSession: new () => StreamGateDebugSession };
      return new vscode.DebugAdapterInlineImplementation(new Session());
    },
  };
  return [
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, dynamic, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, factory),
  ];
}

function initialConfiguration(): vscode.DebugConfiguration {
  return { type: DEBUG_TYPE, request: 'attach', name: DEFAULT_ATTACH_NAME, selector: { service: 'gateway' } };
}

/**
 * F5 with no launch.json gets an attach configuration; `nats` and `natsOptions` come from the settings the
 * language server uses unless the configuration names its own; `localRoot` is the folder.
 */
export function resolveAttach(folder: vscode.WorkspaceFolder | undefined, debugConfiguration: vscode.DebugConfiguration, config: Config): vscode.DebugConfiguration {
  const resolved: vscode.DebugConfiguration = { ...debugConfiguration };
  if (!resolved.type && !resolved.request && !resolved.name) {
    resolved.type = DEBUG_TYPE;
    resolved.request = 'attach';
    resolved.name = DEFAULT_ATTACH_NAME;
  }
  if (resolved.type !== DEBUG_TYPE) return resolved;
  const nats = config.serverSettings().nats;
  if (!resolved.nats && nats) resolved.nats = nats.url;
  if (!resolved.natsOptions && nats && resolved.nats === nats.url) {
    const { url: _url, ...options } = nats;
    const present = Object.fromEntries(Object.entries(options).filter(([, value]: [string, unknown]) => value !== undefined));
    if (Object.keys(present).length) resolved.natsOptions = present;
  }
  const root = folder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!resolved.localRoot && root) resolved.localRoot = root;
  return resolved;
}
