/**
 * A query result as chart series, the same way in the results panel and in notebooks: the chart step's x
 * column on the x axis (times as epoch ms on a linear axis, anything else as categories), one series per numeric
 * y column and per combination of the text columns' values. Plain data, no DOM: the webviews draw it.
 */
import type { ChartSpec, QueryResult } from '../protocol/query';

export interface ChartModel {
  kind: Exclude<ChartSpec['kind'], 'table'>;
  /** The x column's name. */
  x: string;
  /** The numeric columns drawn. */
  measures: string[];
  /** Time on x: points are [epoch ms, value]; categories: labels, with values in their order. */
  xType: 'time' | 'number' | 'category';
  labels: string[];
  series: { name: string; points: [number, number | null][] }[];
  /** Series beyond this many are left out (the table has every row). */
  omitted: number;
}

export const MAX_SERIES = 20;

export function chartModel(result: Pick<QueryResult, 'columns' | 'rows' | 'chart'>): ChartModel | undefined {
  const chart = result.chart;
  if (!chart || chart.kind === 'table') return undefined;
  const index = (name: string) => result.columns.findIndex((c) => c.name === name);
  const x = index(chart.x);
  if (x < 0) return undefined;
  const xColumn = result.columns[x]!;
  const xType = xColumn.type === 'time' ? 'time' : (xColumn.type === 'int' || xColumn.type === 'float') && chart.kind !== 'bar' ? 'number' : 'category';
  const ys = chart.y.map(index).filter((i) => i >= 0);
  const splits = chart.series.map(index).filter((i) => i >= 0);
  const labels: string[] = [];
  const labelIndex = new Map<string, number>();
  const series = new Map<string, { name: string; points: [number, number | null][] }>();
  for (const row of result.rows) {
    const rawX = row[x];
    let px: number;
    if (xType === 'category') {
      const label = rawX === null ? '' : String(rawX);
      if (!labelIndex.has(label)) {
        labelIndex.set(label, labels.length);
        labels.push(label);
      }
      px = labelIndex.get(label)!;
    } else {
      if (typeof rawX !== 'number') continue;
      px = rawX;
    }
    const split = splits.map((i) => String(row[i] ?? '')).join(' · ');
    for (const y of ys) {
      const name = [split, ys.length > 1 || !split ? result.columns[y]!.name : ''].filter(Boolean).join(' · ');
      let s = series.get(name);
      if (!s) series.set(name, (s = { name, points: [] }));
      const v = row[y];
      s.points.push([px, typeof v === 'number' ? v : null]);
    }
  }
  const all = [...series.values()];
  for (const s of all) s.points.sort((a, b) => a[0] - b[0]);
  return { kind: chart.kind, x: chart.x, measures: ys.map((i) => result.columns[i]!.name), xType, labels, series: all.slice(0, MAX_SERIES), omitted: Math.max(0, all.length - MAX_SERIES) };
}
