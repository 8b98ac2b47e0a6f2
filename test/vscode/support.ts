/** Helpers for suites running in the extension host. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { StreamGateApi } from '../../src/extension/api';
import type { FleetReady } from '../../src/protocol/cli';

import { ACT_PREFIX, EXTENSION_ID, HOVER_PREFIX, PALETTE_PREFIX, SCREENSHOT_PREFIX, type ScreenshotDone, type ScreenshotTarget, type WebviewAction } from './protocol';

export { EXTENSION_ID };

export async function activeApi(): Promise<StreamGateApi> {
  const extension = vscode.extensions.getExtension<StreamGateApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed`);
  return extension.activate();
}

export function resultsDir(): string | undefined {
  return process.env.SG_TEST_RESULTS;
}

/** Tests that read the screen say so in their title; only the code-server harness can run them. */
export const ON_SCREEN = '(on screen)';

/**
 * Asks the harness (which drives the browser) for a screenshot and waits until it is written. Returns the
 * text the harness read from the target, so a test can assert on what a user actually sees. Without the
 * code-server harness there is no screen to read: it throws, so no assertion silently vanishes (test-electron
 * leaves out tests titled ON_SCREEN instead, and says so).
 */
export async function screenshot(name: string, target: ScreenshotTarget, timeoutMs = 90_000): Promise<string> {
  return (await screen(name, target, timeoutMs)).text;
}

/** A screenshot with everything read from it: the text, and for webviews the exact values behind the numbers. */
export async function screen(name: string, target: ScreenshotTarget, timeoutMs = 90_000): Promise<{ text: string; values: { label: string; value: string }[] }> {
  const status = await harnessRequest(name, `${SCREENSHOT_PREFIX}${JSON.stringify({ name, target })}`, timeoutMs);
  return { text: status.text ?? '', values: status.values ?? [] };
}

/** Runs a command from the command palette, as a person would (F1, its title, Enter). */
export async function runFromPalette(title: string, timeoutMs = 30_000): Promise<void> {
  const name = `palette-${title.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${Date.now()}`;
  await harnessRequest(name, `${PALETTE_PREFIX}${JSON.stringify({ name, title })}`, timeoutMs);
}

/**
 * Rests the mouse on an element of the workbench (a row of the Breakpoints view, say), as a user would, waits
 * for the hover, screenshots the window with it and returns the hover's text.
 */
export async function hoverOver(name: string, selector: string, hasText?: string, timeoutMs = 30_000): Promise<string> {
  const status = await harnessRequest(name, `${HOVER_PREFIX}${JSON.stringify({ name, selector, ...(hasText ? { hasText } : {}) })}`, timeoutMs);
  return status.text ?? '';
}

async function harnessRequest(name: string, line: string, timeoutMs: number): Promise<ScreenshotDone> {
  const dir = resultsDir();
  if (!dir || process.env.SG_TEST_HARNESS !== 'code-server') {
    throw new Error(`${name}: driving the screen needs the code-server harness (npm run test:vscode)`);
  }
  const done = join(dir, `${name}.done`);
  // A request asked again under the same name must wait for the new answer, not read the last one.
  rmSync(done, { force: true });
  console.log(line);
  await waitFor(name, () => existsSync(done), timeoutMs);
  const status = JSON.parse(readFileSync(done, 'utf8')) as ScreenshotDone;
  if (!status.ok) throw new Error(`${name} failed: ${status.error}`);
  return status;
}

/**
 * Asks the harness to do in a webview what a user would (type in a box, click a point of a canvas, press a key),
 * and returns the webview's text afterwards. Needs the code-server harness, like screenshot().
 */
export async function actInWebview(name: string, title: string, actions: WebviewAction[], timeoutMs = 90_000): Promise<string> {
  return (await harnessRequest(name, `${ACT_PREFIX}${JSON.stringify({ name, title, actions })}`, timeoutMs)).text ?? '';
}

/**
 * Sets streamgate.nats.url for one test and returns what puts it back; every test that needs a connection
 * (or none) says so itself instead of relying on an earlier test.
 */
export async function useNatsUrl(url: string): Promise<() => Promise<void>> {
  const config = vscode.workspace.getConfiguration('streamgate');
  const before = config.inspect<string>('nats.url')?.globalValue;
  await config.update('nats.url', url, vscode.ConfigurationTarget.Global);
  return async () => {
    await vscode.workspace.getConfiguration('streamgate').update('nats.url', before, vscode.ConfigurationTarget.Global);
  };
}

/** The NATS server the harness started; a missing one fails the test that needs it rather than skipping it. */
export function harnessNatsUrl(): string {
  const url = process.env.SG_TEST_NATS_URL;
  if (!url) throw new Error('SG_TEST_NATS_URL is not set: the harness starts a NATS server for the suite');
  return url;
}

export async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts the sandbox fleet from its command, as a user would, and waits until the language server is connected
 * to its NATS. A fleet an earlier suite left running is stopped first, so every suite starts from the same place.
 */
export async function startSandboxFleet(api: StreamGateApi): Promise<FleetReady | undefined> {
  if (api.sandbox()) await vscode.commands.executeCommand('streamgate.stopSandboxFleet');
  const ready = await vscode.commands.executeCommand<FleetReady | undefined>('streamgate.startSandboxFleet');
  if (!ready) return undefined;
  await waitFor('the language server connected to the sandbox\'s NATS', async () => {
    const status = await api.status();
    return status.nats.url === ready.nats && status.nats.state === 'connected';
  }, 60_000).catch(async (error: Error) => {
    throw new Error(`${error.message} (fleet on ${ready.nats}; the server: ${JSON.stringify((await api.status()).nats)})`);
  });
  return ready;
}
