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

/** Asks the harness to run a command the way a person does: F1, type its title, Enter. */
export const PALETTE_PREFIX = 'SG_PALETTE ';
/** Asks the harness to rest the mouse on an element of the workbench and read the hover that opens. */
export const HOVER_PREFIX = 'SG_HOVER ';

export interface HoverRequest {
  /** A name for the screenshot and the done file. */
  name: string;
  /** CSS selector of the element to hover, in the workbench page. */
  selector: string;
  /** Of the elements matching `selector`, the first whose text contains this. */
  hasText?: string;
}

export type ScreenshotTarget = { kind: 'webview'; title: string } | { kind: 'sidebar' } | { kind: 'editor' } | { kind: 'workbench' };

export interface SuiteResult {
  passed: number;
  failed: number;
  failures: string[];
}

export interface ScreenshotDone {
  ok: boolean;
  /** The text the harness read from the target: what a user sees. */
  text?: string;
  /**
   * Webviews: the exact values behind the numbers and times on screen (<data value>, <time datetime>), each with
   * the accessible label of the element around it.
   */
  values?: { label: string; value: string }[];
  error?: string;
}

export interface PaletteRequest {
  /** A name for the done file. */
  name: string;
  /** What to type into the command palette (the command's "Category: Title"). */
  title: string;
}
