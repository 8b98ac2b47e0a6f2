/**
 * One query result on screen: a chart (chart.js) when the query ends in `chart line|bar|area`, then the table,
 * then a line saying how many rows, from which store, how fast. Used by the results panel and by the notebook
 * renderer. Every value is set as text; numbers and times also carry their exact value in <data value>.
 */
import { BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { cellText } from '../../src/common/queryTable';
import { chartModel, type ChartModel } from '../../src/common/queryChart';
import type { QueryResult } from '../../src/protocol/query';
import { h } from '../shared/dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, BarController, BarElement, Filler, Legend, Tooltip);

/** Rows drawn in the table; the rest are in the CSV export. */
export const TABLE_ROWS = 500;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function palette(): string[] {
  return ['blue', 'orange', 'green', 'purple', 'red', 'yellow'].map((c, i) => cssVar(`--vscode-charts-${c}`, ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'][i]!));
}

function timeLabel(ms: number, span: number): string {
  const d = new Date(ms);
  const iso = d.toISOString();
  return span > 2 * 86_400_000 ? iso.slice(5, 16).replace('T', ' ') : span > 120_000 ? iso.slice(11, 16) : iso.slice(11, 19);
}

export interface ResultView {
  element: HTMLElement;
  update(result: QueryResult): void;
  dispose(): void;
}

export function createResultView(): ResultView {
  Chart.defaults.color = cssVar('--vscode-foreground', '#ccc');
  Chart.defaults.borderColor = cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.25)');
  Chart.defaults.font.family = cssVar('--vscode-font-family', 'sans-serif');
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  const chartBox = h('div', { class: 'sgql-chart' }, canvas);
  const chartNote = h('p', { class: 'sgql-muted' });
  const caption = h('figcaption', { class: 'sgql-muted' });
  const figure = h('figure', { class: 'sgql-figure' }, caption, chartBox, chartNote);
  const table = h('table', { class: 'sgql-grid' });
  const tableWrap = h('div', { class: 'sgql-table' }, table);
  const summary = h('p', { class: 'sgql-muted', role: 'status' });
  const element = h('div', { class: 'sgql-result' }, figure, tableWrap, summary);
  let chart: Chart | undefined;
  let chartKey = '';

  const drawChart = (model: ChartModel | undefined) => {
    figure.hidden = !model;
    if (!model) {
      chart?.destroy();
      chart = undefined;
      chartKey = '';
      return;
    }
    const colors = palette();
    const span = model.xType === 'time' ? Math.max(...model.series.flatMap((s) => s.points.map((p) => p[0]))) - Math.min(...model.series.flatMap((s) => s.points.map((p) => p[0]))) : 0;
    // Two measures of different sizes (requests and milliseconds) each get an axis of their own.
    const twoAxes = model.measures.length === 2 && model.series.length === 2;
    const datasets = model.series.map((s, i) => {
      const color = colors[i % colors.length]!;
      return {
        yAxisID: twoAxes && i === 1 ? 'y1' : 'y',
        label: s.name,
        data: model.xType === 'category' ? labelsToValues(model, s.points) : s.points.map(([x, y]) => ({ x, y })),
        borderColor: color,
        backgroundColor: model.kind === 'line' ? color : `${color}55`,
        fill: model.kind === 'area',
        pointRadius: s.points.length > 60 ? 0 : 2,
        borderWidth: 1.5,
        spanGaps: false,
      };
    });
    const described = `${model.kind} chart of ${model.series.map((s) => s.name || 'value').join(', ')} by ${model.x}`;
    canvas.setAttribute('aria-label', described);
    caption.textContent = described;
    chartNote.textContent = model.omitted ? `${model.omitted} more series are in the table only` : '';
    const key = `${model.kind}/${model.xType}/${twoAxes}`;
    if (chart && chartKey === key) {
      chart.data.labels = model.labels;
      chart.data.datasets = datasets;
      chart.update('none');
      return;
    }
    chart?.destroy();
    chartKey = key;
    chart = new Chart(canvas, {
      type: model.kind === 'bar' ? 'bar' : 'line',
      data: { labels: model.labels, datasets: datasets as never },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', intersect: false },
        plugins: { legend: { display: model.series.length > 1 || model.series[0]?.name !== '', position: 'bottom', labels: { boxWidth: 10 } } },
        scales:
          model.xType === 'category'
            ? { y: { beginAtZero: true } }
            : {
                x: { type: 'linear', bounds: 'data', ticks: { maxTicksLimit: 8, callback: (v) => (model.xType === 'time' ? timeLabel(Number(v), span) : String(v)) } },
                y: { beginAtZero: model.kind !== 'line', ...(twoAxes ? { title: { display: true, text: model.measures[0] } } : {}) },
                ...(twoAxes ? { y1: { position: 'right' as const, beginAtZero: model.kind !== 'line', grid: { drawOnChartArea: false }, title: { display: true, text: model.measures[1] } } } : {}),
              },
      },
    });
  };

  const drawTable = (result: QueryResult) => {
    const head = h('thead', {}, h('tr', {}, ...result.columns.map((c) => h('th', { attrs: { scope: 'col' }, title: c.type }, c.name))));
    const body = document.createElement('tbody');
    for (const row of result.rows.slice(0, TABLE_ROWS)) {
      const tr = document.createElement('tr');
      row.forEach((value, i) => {
        const column = result.columns[i]!;
        const text = cellText(value, column.type);
        const numeric = column.type === 'int' || column.type === 'float' || column.type === 'duration';
        const td = h('td', { class: numeric ? 'num' : '', attrs: { 'aria-label': column.name } });
        if (value === null) td.append(h('span', { class: 'sgql-muted' }, 'null'));
        else if (column.type === 'time' && typeof value === 'number') {
          const time = document.createElement('time');
          time.dateTime = text;
          time.textContent = text.replace('T', ' ').replace('Z', '');
          td.append(time);
        } else if (numeric) {
          const data = document.createElement('data');
          data.value = String(value);
          data.textContent = typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(6)).toString() : String(value);
          td.append(data);
        } else td.textContent = text;
        tr.append(td);
      });
      body.append(tr);
    }
    table.replaceChildren(head, body);
  };

  return {
    element,
    update(result) {
      drawChart(chartModel(result));
      drawTable(result);
      const shown = Math.min(result.rows.length, TABLE_ROWS);
      summary.textContent = `${result.rows.length}${result.truncated ? '+' : ''} row${result.rows.length === 1 ? '' : 's'}${shown < result.rows.length ? ` (first ${shown} shown)` : ''}${result.truncated ? ', cut at the row limit' : ''} · ${result.engine === 'duckdb' ? 'DuckDB' : 'ClickHouse'} · ${result.elapsedMs} ms`;
    },
    dispose() {
      chart?.destroy();
    },
  };
}

function labelsToValues(model: ChartModel, points: [number, number | null][]): (number | null)[] {
  const values: (number | null)[] = model.labels.map(() => null);
  for (const [x, y] of points) values[x] = y;
  return values;
}
