import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { COMMAND_IDS } from '../../src/extension/commandIds';
import { repoRoot } from '../support/services';

interface Pkg {
  engines: { vscode: string };
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category: string; enablement?: string }[];
    configuration: { properties: Record<string, unknown> };
    debuggers: { type: string; configurationSnippets: unknown[] }[];
    viewsWelcome: { view: string; contents: string }[];
    menus: Record<string, { command: string }[]>;
  };
}
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Pkg;

describe('package.json contributions', () => {
  it('contributes exactly the commands the extension registers', () => {
    assert.deepEqual(pkg.contributes.commands.map((c) => c.command).sort(), [...COMMAND_IDS].sort());
  });
  it('puts every command in the StreamGate category', () => {
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'StreamGate', c.command);
  });
  it('keeps every setting under streamgate.*', () => {
    for (const key of Object.keys(pkg.contributes.configuration.properties)) assert.match(key, /^streamgate\./);
  });
  it('only names contributed commands in menus and the welcome view', () => {
    const ids = new Set(COMMAND_IDS as readonly string[]);
    for (const [menu, entries] of Object.entries(pkg.contributes.menus)) {
      for (const entry of entries) assert.ok(ids.has(entry.command), `${menu} names ${entry.command}`);
    }
    for (const welcome of pkg.contributes.viewsWelcome) {
      for (const [, id] of welcome.contents.matchAll(/\(command:([\w.]+)\)/g)) assert.ok(ids.has(id!), `welcome view links ${id}`);
    }
  });
  it('has a streamgate debug type with an attach snippet', () => {
    const debuggers = pkg.contributes.debuggers.filter((d) => d.type === 'streamgate');
    assert.equal(debuggers.length, 1);
    assert.ok(debuggers[0]!.configurationSnippets.length > 0);
  });
  it('targets a VS Code that code-server 4.100.3 provides', () => {
    assert.equal(pkg.engines.vscode, '^1.100.0');
  });
});

describe('generated reference docs', () => {
  it('match package.json (run `npm run docs` after changing contributions)', async () => {
    const { renderCommands, renderSettings } = (await import(pathToFileURL(join(repoRoot, 'scripts/lib/reference-docs.mjs')).href)) as {
      renderCommands(p: unknown): string;
      renderSettings(p: unknown): string;
    };
    assert.equal(readFileSync(join(repoRoot, 'docs/reference/commands.md'), 'utf8'), renderCommands(pkg), 'docs/reference/commands.md is stale');
    assert.equal(readFileSync(join(repoRoot, 'docs/reference/settings.md'), 'utf8'), renderSettings(pkg), 'docs/reference/settings.md is stale');
  });
});
