#!/usr/bin/env node
// Renders media/icon.png (the Marketplace icon, 128×128) from media/streamgate.svg in Chromium: the activity-bar
// glyph in white on the gallery banner's blue. Run after changing the SVG; the PNG is committed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { root } from './lib/bootstrap.mjs';

const svg = readFileSync(join(root, 'media', 'streamgate.svg'), 'utf8').replace('<svg ', '<svg style="width:96px;height:96px;color:#fff" ');
const html = `<!doctype html><html><body style="margin:0;background:transparent">
<div id="icon" style="width:128px;height:128px;border-radius:24px;display:flex;align-items:center;justify-content:center;
  background:linear-gradient(135deg,#1f7fb8 0%,#0b3d5c 100%)">${svg}</div></body></html>`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 }, deviceScaleFactor: 1 });
  await page.setContent(html);
  const png = await page.locator('#icon').screenshot({ omitBackground: true });
  writeFileSync(join(root, 'media', 'icon.png'), png);
  console.log(`media/icon.png: ${png.length} bytes`);
} finally {
  await browser.close();
}
