/** Reads M4's wide CSV layout: one series a line, `id,v1,v2,…` (a header line starting with "V1" is skipped). */
import { existsSync, readFileSync } from 'node:fs';
import { DataError } from './nabData';

export interface M4Series {
  id: string;
  values: Float64Array;
}

export function readM4File(path: string): M4Series[] {
  if (!existsSync(path)) throw new DataError(`${path}: missing`);
  const text = readFileSync(path, 'utf8');
  const out: M4Series[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (index === 0 && /^v1$/i.test(cells[1] ?? '')) return;
    const id = cells[0]!;
    const values: number[] = [];
    for (let k = 1; k < cells.length; k++) {
      if (cells[k] === '') continue; // M4's own files pad short series with empty cells
      const v = Number(cells[k]);
      if (!Number.isFinite(v)) throw new DataError(`${path}:${index + 1}: series ${id}: value ${k} is not a number ("${cells[k]}")`);
      values.push(v);
    }
    if (id === '' || values.length === 0) throw new DataError(`${path}:${index + 1}: expected "id,v1,v2,…"`);
    out.push({ id, values: Float64Array.from(values) });
  });
  if (out.length === 0) throw new DataError(`${path}: no series`);
  return out;
}
