#!/usr/bin/env node
// `npm run docs`: regenerate the command and setting reference from package.json, and the query language's
// reference (docs/query-language.md) from the function table, catalog and steps the compiler and editor use.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { packageJson, root } from './lib/bootstrap.mjs';
import { renderCommands, renderSettings } from './lib/reference-docs.mjs';

const pkg = packageJson();
writeFileSync(join(root, 'docs/reference/commands.md'), renderCommands(pkg));
writeFileSync(join(root, 'docs/reference/settings.md'), renderSettings(pkg));

// The query reference is rendered by TypeScript code: bundle it in memory and run it.
const bundle = await esbuild.build({ entryPoints: [join(root, 'src/server/query/reference.ts')], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'warning' });
const module = { exports: {} };
new Function('module', 'exports', 'require', bundle.outputFiles[0].text)(module, module.exports, createRequire(join(root, 'package.json')));
writeFileSync(join(root, 'docs/query-language.md'), module.exports.renderReference());
console.log('wrote docs/reference/commands.md, docs/reference/settings.md and docs/query-language.md');
