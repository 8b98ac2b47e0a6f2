/**
 * How profile values read (CLI tables, the flamegraph, code lenses): a value in its sample type's unit,
 * scaled. Plain functions without imports so the browser bundles use the same ones.
 */

const TIME: [number, string][] = [
  [3600e9, 'h'],
  [60e9, 'min'],
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
  [1, 'ns'],
];
const BYTES: [number, string][] = [
  [1024 ** 4, 'TiB'],
  [1024 ** 3, 'GiB'],
  [1024 ** 2, 'MiB'],
  [1024, 'KiB'],
  [1, 'B'],
];
const NANOS_PER: Record<string, number> = { nanoseconds: 1, microseconds: 1e3, milliseconds: 1e6, seconds: 1e9 };

function scaled(value: number, table: [number, string][], separator: string): string {
  const abs = Math.abs(value);
  for (const [size, unit] of table) {
    if (abs >= size) {
      const v = value / size;
      const digits = Math.abs(v) >= 100 || size === 1 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
      return `${v.toFixed(digits)}${separator}${unit}`;
    }
  }
  return `${value.toPrecision(2)}${separator}${table[table.length - 1]![1]}`;
}

/** "1.25s", "830ms", "3.1 MiB", "12,345" (counts), by the sample type's unit. */
export function formatProfileValue(value: number, unit: string): string {
  if (value === 0) return '0';
  const nanos = NANOS_PER[unit];
  if (nanos !== undefined) return scaled(value * nanos, TIME, '');
  if (unit === 'bytes') return scaled(value, BYTES, ' ');
  return Math.round(value).toLocaleString('en-US');
}

/** "12.34%", "0.012%", "100%". */
export function formatPercent(percent: number): string {
  const abs = Math.abs(percent);
  if (abs === 0) return '0%';
  if (abs >= 99.995 && abs <= 100.005) return `${percent < 0 ? '-' : ''}100%`;
  if (abs >= 1) return `${percent.toFixed(2)}%`;
  return `${percent.toPrecision(2)}%`;
}
