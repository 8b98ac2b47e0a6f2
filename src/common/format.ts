/**
 * How durations and sizes read everywhere (CLI tables, tree views, webviews). Plain functions without imports
 * so the browser bundles use the same ones.
 */

const UNITS: [string, number][] = [
  ['d', 86_400],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
];

/**
 * A duration in its largest units, most significant first: "0s", "45s", "3m 05s", "2h 07m", "4d 3h".
 * `parts` is how many units are shown (default 2).
 */
export function formatDuration(ms: number, parts = 2): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const out: string[] = [];
  for (const [unit, size] of UNITS) {
    const value = Math.floor(rest / size);
    rest -= value * size;
    if (out.length === 0 && value === 0 && unit !== 's') continue;
    out.push(out.length ? `${String(value).padStart(unit === 'h' ? 1 : 2, '0')}${unit}` : `${value}${unit}`);
    if (out.length === parts) break;
  }
  return out.join(' ');
}

/** Bytes in binary units: "512 B", "3.2 KiB", "87 MiB", "1.4 GiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Math.abs(value) < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
