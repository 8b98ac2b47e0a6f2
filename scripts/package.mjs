#!/usr/bin/env node
// `npm run package`: build, then make platform-specific VSIXes in dist-vsix/ and check each one.
//   --target T     a VS Code platform (repeatable): linux-x64, linux-arm64, alpine-x64, alpine-arm64,
//                  darwin-x64, darwin-arm64, win32-x64, win32-arm64, or universal (no DuckDB binding)
//   --all          every one of them
//   --offline      take DuckDB bindings only from node_modules and npm's cache, never the registry
//   --no-build     package the current dist/ as it is
// With no --target it builds the VSIX of this machine's platform.
import { parseArgs } from 'node:util';
import { build, ensureNodeModules } from './lib/bootstrap.mjs';
import { checkVsix } from './lib/vsixCheck.mjs';
import { hostTarget, packageTarget, VSIX_TARGETS } from './lib/vsixTargets.mjs';

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true },
    all: { type: 'boolean', default: false },
    offline: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
  strict: true,
});
const targets = values.all ? Object.keys(VSIX_TARGETS) : (values.target ?? [hostTarget()]);
for (const t of targets) if (!VSIX_TARGETS[t]) throw new Error(`unknown target "${t}"; targets are ${Object.keys(VSIX_TARGETS).join(', ')}`);

ensureNodeModules();
if (!values['no-build']) build();
const reports = [];
for (const target of targets) {
  const file = packageTarget(target, { offline: values.offline, quiet: targets.length > 1 });
  reports.push(checkVsix(file, target));
}
const mb = (n) => `${(n / 1024 ** 2).toFixed(1)} MB`;
process.stdout.write('\n');
for (const r of reports) {
  const natives = r.native.map((n) => `${n.format} ${n.arch}${n.libc && n.libc !== 'unknown' ? ` ${n.libc}` : ''}`);
  process.stdout.write(`${r.problems.length ? '✗' : '✓'} ${r.target.padEnd(13)} ${mb(r.bytes).padStart(8)}  ${String(r.files).padStart(3)} files  ${[...new Set(natives)].join(', ') || 'no native code'}  ${r.file}\n`);
  for (const p of r.problems) process.stdout.write(`    ${p}\n`);
}
process.exitCode = reports.some((r) => r.problems.length) ? 1 : 0;
