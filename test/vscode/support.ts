/** Helpers for suites running in the extension host. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { StreamGateApi } from '../../src/extension/api';

import { EXTENSION_ID, SCREENSHOT_PREFIX, type ScreenshotDone, type ScreenshotTarget } from './protocol';

export { EXTENSION_ID };

export async function activeApi(): Promise<StreamGateApi> {
  const extension = vscode.extensions.getExtension<StreamGateApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed`);
  return extension.activate();
}

export function resultsDir(): string | undefined {
  return process.env.SG_TEST_RESULTS;
}

/**
 * Asks the harness (which drives the browser) for a screenshot and waits until it is written. Returns the
 * text the harness read from the target, so a test can assert on what a user actually sees. Under
 * test-electron there is no harness: returns undefined.
 */
export async function screenshot(name: string, target: ScreenshotTarget, timeoutMs = 30_000): Promise<string | undefined> {
  const dir = resultsDir();
  if (!dir || process.env.SG_TEST_HARNESS !== 'code-server') return undefined;
  const done = join(dir, `${name}.done`);
  console.log(`${SCREENSHOT_PREFIX}${JSON.stringify({ name, target })}`);
  await waitFor(`screenshot ${name}`, () => existsSync(done), timeoutMs);
  const status = JSON.parse(readFileSync(done, 'utf8')) as ScreenshotDone;
  if (!status.ok) throw new Error(`screenshot ${name} failed: ${status.error}`);
  return status.text ?? '';
}

export async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
