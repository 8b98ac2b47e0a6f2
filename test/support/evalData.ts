/**
 * Where the public evaluation data lives: `shared/data/` beside the checkout (docs/testing.md) — looked for
 * beside every folder above the checkout, so a clone anywhere under the workplace finds it — then the
 * workplace's own `/work/shared/data`, or $SG_EVAL_DATA. Tests that need it fail with this message rather than skip.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..', '..');

export function evalDataDir(): string {
  const candidates: string[] = [];
  if (process.env.SG_EVAL_DATA) candidates.push(process.env.SG_EVAL_DATA);
  for (let dir = repoRoot; ; dir = dirname(dir)) {
    candidates.push(join(dir, 'shared', 'data'));
    if (dirname(dir) === dir) break;
  }
  candidates.push('/work/shared/data');
  const found = candidates.find((p) => existsSync(join(p, 'nab')) && existsSync(join(p, 'm4-hourly')) && existsSync(join(p, 'loghub-2k')));
  if (!found) throw new Error(`evaluation data not found (looked in ${candidates.join(', ')}); set SG_EVAL_DATA to the shared/data folder`);
  return found;
}
