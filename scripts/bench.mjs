#!/usr/bin/env node
// `npm run bench [-- name…]`: build, then run the benchmarks in bench/ (all, or the named ones).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build, ensureNodeModules, root } from './lib/bootstrap.mjs';

ensureNodeModules();
build();
const wanted = process.argv.slice(2);
const benches = readdirSync(join(root, 'out', 'bench'))
  .filter((f) => f.endsWith('.js') && !f.endsWith('Stub.js') && f !== 'support.js' && !f.startsWith('_'))
  .map((f) => f.replace(/\.js$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name));
let failed = false;
for (const name of benches) {
  console.log(`\n== bench/${name}.ts`);
  const result = spawnSync(process.execPath, ['--expose-gc', join(root, 'out', 'bench', `${name}.js`)], { stdio: 'inherit', cwd: root });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
