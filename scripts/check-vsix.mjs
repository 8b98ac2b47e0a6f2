#!/usr/bin/env node
// Checks built VSIXes: target, native binary format and architecture, file allowlist, size.
//   node scripts/check-vsix.mjs [--json] [--target T] file.vsix ...
// Without --target each VSIX is checked against the platform its own manifest declares. Exit 1 on any problem.
import { parseArgs } from 'node:util';
import { checkVsix } from './lib/vsixCheck.mjs';

const { values, positionals } = parseArgs({ options: { json: { type: 'boolean', default: false }, target: { type: 'string' } }, allowPositionals: true, strict: true });
if (positionals.length === 0) {
  process.stderr.write('usage: node scripts/check-vsix.mjs [--json] [--target T] file.vsix ...\n');
  process.exit(2);
}
const reports = positionals.map((file) => {
  try {
    return checkVsix(file, values.target);
  } catch (error) {
    return { file, target: values.target ?? 'unknown', problems: [`cannot read: ${error.message}`], native: [], bytes: 0, files: 0 };
  }
});
if (values.json) {
  process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
} else {
  for (const r of reports) {
    process.stdout.write(`${r.problems.length ? '✗' : '✓'} ${r.file}: ${r.target}, ${r.bytes} bytes, ${r.files} files, ${r.native.map((n) => `${n.path} ${n.format} ${n.arch}${n.libc ? ` ${n.libc}` : ''}`).join('; ') || 'no native code'}\n`);
    for (const p of r.problems) process.stdout.write(`    ${p}\n`);
  }
}
process.exitCode = reports.some((r) => r.problems.length) ? 1 : 0;
