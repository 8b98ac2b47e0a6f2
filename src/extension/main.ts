/** Extension entry point: build the context, report a failure clearly, and nothing else. */
import * as vscode from 'vscode';
import type { StreamGateApi } from './api';
import { registerCommands } from './commands';
import { Ctx } from './ctx';

/**
 * Set by the bundle's first line (scripts/build.mjs banner) and by this module's last statement, so the
 * activation figure is what the extension itself costs: evaluating the bundle plus running activate. The
 * editor's own work between loading a module and calling activate is not ours and is left out.
 */
declare const __sgBundleStart: number | undefined;
const bundleStart = typeof __sgBundleStart === 'number' ? __sgBundleStart : performance.now();
let loadMs = 0;

export function activate(context: vscode.ExtensionContext): StreamGateApi {
  const activateStart = performance.now();
  try {
    return new Ctx(context).start(registerCommands, () => loadMs + (performance.now() - activateStart));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`StreamGate DevTools failed to activate: ${message}`);
    throw error;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

loadMs = performance.now() - bundleStart;
