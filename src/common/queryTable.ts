/**
 * Query results as text: CSV (RFC 4180, for `sg query --csv` and the results panel's export) and an aligned
 * table for terminals. Times print as ISO 8601 (UTC); nulls as empty cells.
 */
import type { QueryResult, ValueType } from '../protocol/query';

export function cellText(value: string | number | boolean | null, type: ValueType): string {
  if (value === null) return '';
  if (type === 'time' && typeof value === 'number') return new Date(value).toISOString();
  return String(value);
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(result: Pick<QueryResult, 'columns' | 'rows'>): string {
  const lines = [result.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of result.rows) lines.push(row.map((v, i) => csvField(cellText(v, result.columns[i]!.type))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function toTextTable(result: Pick<QueryResult, 'columns' | 'rows'>): string {
  const head = result.columns.map((c) => c.name);
  const numeric = result.columns.map((c) => c.type === 'int' || c.type === 'float' || c.type === 'duration');
  const rows = result.rows.map((row) => row.map((v, i) => cellText(v, result.columns[i]!.type).replace(/[\r\n\t]/g, ' ')));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
}
