#!/usr/bin/env node
// `npm run docs`: regenerate the command and setting reference from package.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageJson, root } from './lib/bootstrap.mjs';
import { renderCommands, renderSettings } from './lib/reference-docs.mjs';

const pkg = packageJson();
writeFileSync(join(root, 'docs/reference/commands.md'), renderCommands(pkg));
writeFileSync(join(root, 'docs/reference/settings.md'), renderSettings(pkg));
console.log('wrote docs/reference/commands.md and docs/reference/settings.md');
