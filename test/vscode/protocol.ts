/**
 * The boundary between the suite (in the extension host) and the harness (driving the browser): console lines
 * with a prefix and JSON, and `<name>.done` files the harness writes after a screenshot.
 */
export const EXTENSION_ID = 'streamgate.streamgate-devtools';
export const RESULT_PREFIX = 'SG_SUITE_RESULT ';
export const SCREENSHOT_PREFIX = 'SG_SCREENSHOT ';

export type ScreenshotTarget = { kind: 'webview'; title: string } | { kind: 'sidebar' } | { kind: 'workbench' };

export interface SuiteResult {
  passed: number;
  failed: number;
  failures: string[];
}

export interface ScreenshotDone {
  ok: boolean;
  /** The text the harness read from the target: what a user sees. */
  text?: string;
  error?: string;
}
