/**
 * The boundary between the suite (in the extension host) and the harness (driving the browser): console lines
 * with a prefix and JSON, and `<name>.done` files the harness writes after a screenshot.
 */
export const EXTENSION_ID = 'streamgate.streamgate-devtools';
export const RESULT_PREFIX = 'SG_SUITE_RESULT ';
export const SCREENSHOT_PREFIX = 'SG_SCREENSHOT ';
export const ACT_PREFIX = 'SG_ACT ';

/** What a user does in a webview, done by the harness in the browser (by CSS selector, in the webview's page). */
export type WebviewAction =
  | { kind: 'fill'; selector: string; text: string }
  | { kind: 'click' | 'dblclick'; selector: string; position?: { x: number; y: number } }
  | { kind: 'press'; selector: string; key: string }
  | { kind: 'select'; selector: string; value: string };

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
