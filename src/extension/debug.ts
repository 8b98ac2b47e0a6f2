/**
 * The `streamgate` debug type: fills attach configurations from settings and runs the adapter inline
 * (default) or as its own Node process (`streamgate.debug.adapterTransport`).
 */
import * as vscode from 'vscode';
import type { StreamGateDebugSession } from '../adapter/session';
import { DEBUG_TYPE } from '../protocol/dap';
import type { Config } from './config';

export function registerDebugType(context: vscode.ExtensionContext, config: Config): vscode.Disposable[] {
  const adapterModule = context.asAbsolutePath('dist/adapter.js');
  const provider: vscode.DebugConfigurationProvider = {
    resolveDebugConfiguration(_folder, debugConfiguration) {
      const resolved = { ...debugConfiguration };
      if (!resolved.type && !resolved.request && !resolved.name) {
        resolved.type = DEBUG_TYPE;
        resolved.request = 'attach';
        resolved.name = 'Attach to StreamGate fleet';
      }
      if (resolved.type === DEBUG_TYPE && !resolved.nats && config.natsUrl) resolved.nats = config.natsUrl;
      return resolved;
    },
  };
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
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, factory),
  ];
}
