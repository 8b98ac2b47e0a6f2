/**
 * Where the public evaluation data lives: `../shared/data/` beside the checkout (docs/testing.md), or
 * $SG_EVAL_DATA. Tests that need it fail with this message rather than skip.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..', '..');

export function evalDataDir(): string {
  const candidates = [process.env.SG_EVAL_DATA, join(repoRoot, '..', 'shared', 'data'), join(repoRoot, '..', '..', 'shared', 'data')].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(join(p, 'nab')) && existsSync(join(p, 'm4-hourly')));
  if (!found) throw new Error(`evaluation data not found (looked in ${candidates.join(', ')}); set SG_EVAL_DATA to the shared/data folder`);
  return found;
}
