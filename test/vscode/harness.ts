/**
 * Runs the VS Code suite in a real VS Code: code-server 4.100.3 in Debian's Chromium, driven by
 * playwright-core. The extension under test is the freshly packaged VSIX, installed into a scratch profile
 * and loaded from there as the development extension, so what is tested is what ships.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { ensureCodeServer, installVsix, profilePaths, startCodeServer, type CodeServer } from '../../src/launch/codeServer';
import { findExecutable } from '../../src/launch/process';
import { ACT_PREFIX, EXTENSION_ID, HOVER_PREFIX, PALETTE_PREFIX, RESULT_PREFIX, SCREENSHOT_PREFIX, type HoverRequest, type PaletteRequest, type ScreenshotDone, type ScreenshotTarget, type SuiteResult, type WebviewAction } from './protocol';

export interface HarnessOptions {
  repoRoot: string;
  vsix: string;
  resultsDir: string;
  natsUrl?: string;
  /** Folder opened as the workspace; a scratch folder when absent. */
  workspace?: string;
  log?: (line: string) => void;
  timeoutMs?: number;
}

export type HarnessResult = SuiteResult;

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function runVsCodeSuite(options: HarnessOptions): Promise<HarnessResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const chromiumPath = findExecutable('chromium');
  if (!chromiumPath) throw new Error('Debian chromium is required for the VS Code tier: apt-get install chromium');
  ensureCodeServer(log);
  mkdirSync(options.resultsDir, { recursive: true });
  const profileDir = mkdtempSync(join(tmpdir(), 'sg-vscode-'));
  const result: HarnessResult = { passed: 0, failed: 0, failures: [] };
  const check = (name: string, fn: () => void) => {
    try {
      fn();
      result.passed++;
      log(`  ✓ ${name}`);
    } catch (error) {
      result.failed++;
      result.failures.push(`${name}: ${(error as Error).message}`);
      log(`  ✗ ${name}: ${(error as Error).message}`);
    }
  };

  // The packaged VSIX installs into code-server, and the installed copy is the extension under test.
  let extensionDir = '';
  check('the VSIX installs into code-server', () => {
    installVsix(options.vsix, profileDir);
    const { extensionsDir } = profilePaths(profileDir);
    const installed = readdirSync(extensionsDir).find((d) => d.startsWith(EXTENSION_ID));
    if (!installed) throw new Error(`no ${EXTENSION_ID} folder in ${extensionsDir}`);
    extensionDir = join(extensionsDir, installed);
    for (const file of ['dist/extension.js', 'dist/server.js', 'dist/adapter.js', 'dist/webviews/status.js', 'dist/webviews/dashboard.js', 'dist/webviews/predictions.js', 'dist/demo/gateway.js.map']) {
      if (!existsSync(join(extensionDir, file))) throw new Error(`the installed extension lacks ${file}`);
    }
    const listed = execFileSync(process.execPath, [join(extensionDir, 'dist/cli.js'), '--version'], { encoding: 'utf8' }).trim();
    if (!/^\d+\.\d+\.\d+/.test(listed)) throw new Error(`the installed sg printed ${listed}`);
  });
  if (!extensionDir) return result;

  const workspace = options.workspace ?? mkdtempSync(join(tmpdir(), 'sg-workspace-'));
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startCodeServer({
      profileDir,
      workspace,
      settings: { 'streamgate.dataDirectory': join(profileDir, 'streamgate-data') },
      env: {
        SG_TEST_RESULTS: options.resultsDir,
        SG_TEST_HARNESS: 'code-server',
        ...(process.env.SG_TEST_SUITE ? { SG_TEST_SUITE: process.env.SG_TEST_SUITE } : {}),
        ...(options.natsUrl ? { SG_TEST_NATS_URL: options.natsUrl } : {}),
        ...(process.env.SG_TEST_GREP ? { SG_TEST_GREP: process.env.SG_TEST_GREP } : {}),
      },
    });
    log(`  code-server ${server.url} (profile ${profileDir})`);
    browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const suite = await driveSuite(page, server, extensionDir, join(options.repoRoot, 'out/test/vscode/index.js'), workspace, options, log);
    result.passed += suite.passed;
    result.failed += suite.failed;
    result.failures.push(...suite.failures);
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop();
  }
  return result;
}

async function driveSuite(
  page: Page,
  server: CodeServer,
  extensionDir: string,
  testsEntry: string,
  workspace: string,
  options: HarnessOptions,
  log: (line: string) => void,
): Promise<HarnessResult> {
  const host = `127.0.0.1:${server.port}`;
  let suiteResult: HarnessResult | undefined;
  let pending: Promise<void> = Promise.resolve();
  const exit = new Promise<number>((resolve) => {
    void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
  });
  await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
    const line = format(...(args as [unknown, ...unknown[]]));
    if (line.startsWith(RESULT_PREFIX)) {
      suiteResult = JSON.parse(line.slice(RESULT_PREFIX.length)) as HarnessResult;
      return;
    }
    if (line.startsWith(SCREENSHOT_PREFIX)) {
      const request = JSON.parse(line.slice(SCREENSHOT_PREFIX.length)) as { name: string; target: ScreenshotTarget };
      pending = pending.then(() => takeScreenshot(page, request.name, request.target, options.resultsDir, log));
      return;
    }
    if (line.startsWith(ACT_PREFIX)) {
      const request = JSON.parse(line.slice(ACT_PREFIX.length)) as { name: string; title: string; actions: WebviewAction[] };
      pending = pending.then(() => actInWebview(page, request.name, request.title, request.actions, options.resultsDir, log));
      return;
    }
    if (line.startsWith(HOVER_PREFIX)) {
      const request = JSON.parse(line.slice(HOVER_PREFIX.length)) as HoverRequest;
      pending = pending.then(() => hoverInWorkbench(page, request, options.resultsDir, log));
      return;
    }
    if (line.startsWith(PALETTE_PREFIX)) {
      const request = JSON.parse(line.slice(PALETTE_PREFIX.length)) as PaletteRequest;
      pending = pending.then(() => runFromPalette(page, request, options.resultsDir, log));
      return;
    }
    for (const l of line.split('\n')) log(`    ${l}`);
  });
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', `vscode-remote://${host}${extensionDir}`],
    ['extensionTestsPath', `vscode-remote://${host}${testsEntry}`],
    ['skipWelcome', 'true'],
  ]);
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
  const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(-1), options.timeoutMs ?? 25 * 60_000));
  const code = await Promise.race([exit, timeout]);
  await pending;
  if (code === -1) {
    await page.screenshot({ path: join(options.resultsDir, 'timeout.png') }).catch(() => {});
    return { passed: suiteResult?.passed ?? 0, failed: (suiteResult?.failed ?? 0) + 1, failures: ['the VS Code suite timed out (see test-results/timeout.png)'] };
  }
  if (!suiteResult) {
    await page.screenshot({ path: join(options.resultsDir, 'no-result.png') }).catch(() => {});
    return { passed: 0, failed: 1, failures: [`the VS Code suite exited with code ${code} before reporting results (see test-results/no-result.png)`] };
  }
  return suiteResult;
}

/** F1, the command's title, Enter: how a person runs a command. Writes `<name>.done` when the palette has closed. */
async function runFromPalette(page: Page, request: PaletteRequest, dir: string, log: (line: string) => void): Promise<void> {
  const done = join(dir, `${request.name}.done`);
  try {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${request.title}`);
    const item = page.locator('.quick-input-list .monaco-list-row', { hasText: request.title }).first();
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    log(`    [palette] ${request.title}`);
    writeDone(done, JSON.stringify({ ok: true } satisfies ScreenshotDone));
  } catch (error) {
    writeDone(done, JSON.stringify({ ok: false, error: (error as Error).message } satisfies ScreenshotDone));
  }
}

/** Rests the mouse on a workbench element until VS Code's hover opens; screenshots the window and reads the hover. */
async function hoverInWorkbench(page: Page, request: HoverRequest, dir: string, log: (line: string) => void): Promise<void> {
  const done = join(dir, `${request.name}.done`);
  try {
    await widenSidebar(page);
    const target = page.locator(request.selector, request.hasText ? { hasText: request.hasText } : {}).first();
    await target.waitFor({ state: 'visible', timeout: 10_000 });
    await page.mouse.move(0, 0);
    await target.hover();
    const hover = page.locator('.workbench-hover, .monaco-hover:not(.hidden)').filter({ visible: true }).first();
    await hover.waitFor({ state: 'visible', timeout: 10_000 });
    await page.waitForTimeout(300);
    const text = await hover.innerText();
    await page.screenshot({ path: join(dir, `${request.name}.png`) });
    log(`    [hover] ${request.name}`);
    writeDone(done, JSON.stringify({ ok: true, text } satisfies ScreenshotDone));
  } catch (error) {
    writeDone(done, JSON.stringify({ ok: false, error: (error as Error).message } satisfies ScreenshotDone));
  }
}

/** Drags the sidebar's sash so views show whole lines (the default 300 px cuts the Fleet view's health). */
async function widenSidebar(page: Page, width = 460): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box || box.width >= width) return;
  const x = box.x + box.width;
  const y = box.y + box.height / 2;
  await page.mouse.move(x - 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 5 });
  await page.mouse.up();
  await page.waitForTimeout(200);
}

/** Finds the webview whose inner document has the given title, among every webview iframe on the page. */
async function findWebviewFrame(page: Page, title: string): Promise<{ frame: Frame; outer: Frame } | undefined> {
  for (const outer of page.frames()) {
    if (!outer.url().includes('webview')) continue;
    const inner = outer.childFrames().find((f) => f.name() === 'active-frame' || f.url().includes('fake.html'));
    if (!inner) continue;
    const innerTitle = await inner.title().catch(() => '');
    if (innerTitle === title) return { frame: inner, outer };
  }
  return undefined;
}

/** Written whole or not at all: the suite polls for the file and must never read it half-written. */
function writeDone(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** Does what a user would in a webview (type, click, press), then reports the webview's text. */
async function actInWebview(page: Page, name: string, title: string, actions: WebviewAction[], dir: string, log: (line: string) => void): Promise<void> {
  const done = join(dir, `${name}.done`);
  try {
    const deadline = Date.now() + 20_000;
    let found = await findWebviewFrame(page, title);
    while (!found && Date.now() < deadline) {
      await page.waitForTimeout(200);
      found = await findWebviewFrame(page, title);
    }
    if (!found) throw new Error(`no webview titled "${title}" on the page`);
    for (const action of actions) {
      const target = found.frame.locator(action.selector).first();
      await target.waitFor({ state: 'visible', timeout: 10_000 });
      if (action.kind === 'fill') await target.fill(action.text);
      else if (action.kind === 'press') await target.press(action.key);
      else if (action.kind === 'select') await target.selectOption(action.value);
      else if (action.kind === 'click') await target.click(action.position ? { position: action.position } : {});
      else await target.dblclick(action.position ? { position: action.position } : {});
      await page.waitForTimeout(150);
    }
    // The last action may take the webview away (a click that opens an editor in its place): no text after it.
    const text = await found.frame
      .locator('body')
      .innerText()
      .catch((error: Error) => {
        if (/detached/i.test(error.message)) return '';
        throw error;
      });
    log(`    [act] ${name}: ${actions.map((a) => a.kind).join(', ')}`);
    writeDone(done, JSON.stringify({ ok: true, text } satisfies ScreenshotDone));
  } catch (error) {
    writeDone(done, JSON.stringify({ ok: false, error: (error as Error).message } satisfies ScreenshotDone));
  }
}

async function takeScreenshot(page: Page, name: string, target: ScreenshotTarget, dir: string, log: (line: string) => void): Promise<void> {
  const file = join(dir, `${name}.png`);
  const done = join(dir, `${name}.done`);
  try {
    let text = '';
    let values: ScreenshotDone['values'];
    if (target.kind === 'webview') {
      const deadline = Date.now() + 20_000;
      let found = await findWebviewFrame(page, target.title);
      while (!found && Date.now() < deadline) {
        await page.waitForTimeout(200);
        found = await findWebviewFrame(page, target.title);
      }
      if (!found) throw new Error(`no webview titled "${target.title}" on the page`);
      await found.frame.waitForSelector('#app > *', { timeout: 10_000 });
      await page.waitForTimeout(300); // let fonts (codicons) settle
      text = await found.frame.locator('body').innerText();
      values = await found.frame.$$eval('data[value], time[datetime]', (elements) =>
        elements.map((e) => ({ label: e.closest('[aria-label]')?.getAttribute('aria-label') ?? '', value: e.getAttribute('value') ?? e.getAttribute('datetime') ?? '' })),
      );
      const element = await found.frame.frameElement();
      await element.screenshot({ path: file });
    } else if (target.kind === 'frame') {
      const deadline = Date.now() + 20_000;
      let found: Frame | undefined;
      while (!found && Date.now() < deadline) {
        for (const frame of page.frames()) {
          if ((await frame.locator(target.selector).count().catch(() => 0)) > 0) {
            found = frame;
            break;
          }
        }
        if (!found) await page.waitForTimeout(200);
      }
      if (!found) throw new Error(`no frame holds ${target.selector}`);
      await page.waitForTimeout(500);
      const element = found.locator(target.selector).first();
      text = await element.innerText();
      values = await element.evaluate((root) =>
        [...root.querySelectorAll('data[value], time[datetime]')].map((e) => ({ label: e.closest('[aria-label]')?.getAttribute('aria-label') ?? '', value: e.getAttribute('value') ?? e.getAttribute('datetime') ?? '' })),
      );
      await page.screenshot({ path: file });
    } else if (target.kind === 'editor') {
      const editor = page.locator('.part.editor');
      await editor.waitFor({ state: 'visible', timeout: 10_000 });
      await page.waitForTimeout(500);
      text = await editor.innerText();
      await editor.screenshot({ path: file });
    } else if (target.kind === 'sidebar') {
      const sidebar = page.locator('.part.sidebar');
      await sidebar.waitFor({ state: 'visible', timeout: 10_000 });
      await widenSidebar(page);
      await page.waitForTimeout(500);
      text = await sidebar.innerText();
      await sidebar.screenshot({ path: file });
    } else {
      await widenSidebar(page);
      await page.waitForTimeout(300);
      text = await page.locator('body').innerText();
      await page.screenshot({ path: file });
    }
    log(`    [screenshot] ${file}`);
    const report: ScreenshotDone = { ok: true, text, ...(values ? { values } : {}) };
    writeDone(done, JSON.stringify(report));
  } catch (error) {
    const report: ScreenshotDone = { ok: false, error: (error as Error).message };
    writeDone(done, JSON.stringify(report));
  }
}
