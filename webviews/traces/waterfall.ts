/**
 * A virtualised waterfall: whatever the trace's size, only the rows in view (plus a few) exist in the DOM, in a
 * fixed pool reused as the view scrolls, so a 50,000-span trace costs what a 50-span one does per frame. Rows
 * come from the host ready to draw (TraceView: columns in display order with subtree ends); collapsing skips a
 * subtree by its end index. Text is always set as text.
 */
import { ROW_FLAG, type TraceView } from '../../src/protocol/traces';
import { h } from '../shared/dom';

export const ROW_HEIGHT = 22;
const OVERSCAN = 8;
const MAX_INDENT_DEPTH = 24;

export interface WaterfallEvents {
  select(row: number): void;
  openSource(row: number): void;
}

interface PooledRow {
  el: HTMLElement;
  /** The layout generation the row was drawn in (collapsing or selecting starts a new one). */
  generation: number;
  position: number;
  twisty: HTMLElement;
  name: HTMLElement;
  bar: HTMLElement;
  critical: HTMLElement;
  label: HTMLElement;
  row: number;
}

export function serviceColour(index: number): string {
  if (index < 0) return 'var(--vscode-descriptionForeground)';
  const named = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-yellow', '--vscode-charts-red'];
  if (index < named.length) return `var(${named[index]})`;
  return `hsl(${(index * 137.5) % 360} 55% 55%)`;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export class Waterfall {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly axis: HTMLElement;
  private readonly pool: PooledRow[] = [];
  private visible: Int32Array = new Int32Array(0);
  private readonly collapsed = new Set<number>();
  private selected = -1;
  private frame = 0;
  private generation = 0;
  private view: TraceView | undefined;

  constructor(private readonly events: WaterfallEvents) {
    this.axis = h('div', { class: 'wf-axis', attrs: { 'aria-hidden': 'true' } });
    this.spacer = h('div', { class: 'wf-spacer' });
    this.viewport = h('div', { class: 'wf-viewport', role: 'tree', attrs: { tabindex: '0', 'aria-label': 'Spans of the trace' } }, this.spacer);
    this.element = h('div', { class: 'waterfall' }, this.axis, this.viewport);
    // Chromium dispatches scroll events once per frame, before painting it: drawing here keeps rows in step.
    this.viewport.addEventListener('scroll', () => this.render(), { passive: true });
    this.viewport.addEventListener('click', (event) => this.onClick(event));
    this.viewport.addEventListener('dblclick', (event) => {
      const row = this.rowAt(event);
      if (row >= 0) this.events.openSource(row);
    });
    this.viewport.addEventListener('keydown', (event) => this.onKey(event));
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
  }

  show(view: TraceView): void {
    this.view = view;
    this.generation++;
    this.collapsed.clear();
    this.selected = -1;
    this.viewport.scrollTop = 0;
    this.renderAxis();
    this.relayout();
  }

  get rowCount(): number {
    return this.visible.length;
  }

  collapseAll(): void {
    const v = this.view;
    if (!v) return;
    for (let i = 0; i < v.rows.ref.length; i++) if (v.rows.end[i]! > i + 1 && v.rows.depth[i]! >= 1) this.collapsed.add(i);
    this.generation++;
    this.relayout();
  }

  expandAll(): void {
    this.collapsed.clear();
    this.generation++;
    this.relayout();
  }

  /** Expands what hides the critical path and scrolls to its first span. */
  revealCritical(): void {
    const v = this.view;
    if (!v) return;
    this.collapsed.clear();
    this.generation++;
    this.relayout();
    for (let i = 0; i < v.rows.flags.length; i++) if (v.rows.flags[i]! & ROW_FLAG.critical && v.rows.depth[i]! > 0) return this.scrollToRow(i);
  }

  private scrollToRow(row: number): void {
    const at = this.visible.indexOf(row);
    if (at >= 0) this.viewport.scrollTop = Math.max(0, at * ROW_HEIGHT - this.viewport.clientHeight / 3);
    this.schedule();
  }

  private relayout(): void {
    const v = this.view;
    if (!v) return;
    const n = v.rows.ref.length;
    const out = new Int32Array(n);
    let count = 0;
    for (let i = 0; i < n; ) {
      out[count++] = i;
      i = this.collapsed.has(i) ? v.rows.end[i]! : i + 1;
    }
    this.visible = out.subarray(0, count);
    this.spacer.style.height = `${count * ROW_HEIGHT}px`;
    this.render();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private renderAxis(): void {
    const v = this.view!;
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
      const tick = h('span', { class: 'wf-tick' }, formatMs(f * v.durationMs));
      tick.style.left = `${f * 100}%`;
      return tick;
    });
    this.axis.replaceChildren(h('div', { class: 'wf-axis-names' }, 'Span'), h('div', { class: 'wf-axis-track' }, ...ticks));
  }

  /**
   * Shows the rows in view. Row position p is drawn by pooled element p mod pool size, so while scrolling only
   * the rows that come into view are written; the others keep their element, text and place.
   */
  render(): void {
    const v = this.view;
    if (!v) return;
    const height = this.viewport.clientHeight || 600;
    const size = Math.ceil(height / ROW_HEIGHT) + 2 * OVERSCAN;
    while (this.pool.length < size) this.pool.push(this.makeRow());
    const poolSize = this.pool.length;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.visible.length, first + poolSize);
    const total = v.durationMs > 0 ? v.durationMs : 1;
    const r = v.rows;
    const drawn = new Uint8Array(poolSize);
    for (let position = first; position < last; position++) {
      const slot = position % poolSize;
      drawn[slot] = 1;
      const pooled = this.pool[slot]!;
      const row = this.visible[position]!;
      if (pooled.row === row && pooled.position === position && pooled.generation === this.generation) continue;
      pooled.generation = this.generation;
      if (pooled.position !== position) {
        pooled.position = position;
        pooled.el.style.transform = `translateY(${position * ROW_HEIGHT}px)`;
      }
      if (pooled.el.hidden) pooled.el.hidden = false;
      pooled.row = row;
      pooled.el.dataset.row = String(row);
      const flags = r.flags[row]!;
      const depth = r.depth[row]!;
      const hasChildren = r.end[row]! > row + 1;
      pooled.twisty.textContent = hasChildren ? (this.collapsed.has(row) ? '▸' : '▾') : '';
      pooled.el.setAttribute('aria-expanded', hasChildren ? String(!this.collapsed.has(row)) : '');
      pooled.el.setAttribute('aria-level', String(depth + 1));
      pooled.el.setAttribute('aria-selected', String(row === this.selected));
      pooled.name.style.paddingLeft = `${Math.min(depth, MAX_INDENT_DEPTH) * 12}px`;
      pooled.name.textContent = depth > MAX_INDENT_DEPTH ? `[${depth}] ${r.label[row]!}` : r.label[row]!;
      pooled.name.title = r.label[row]!;
      const start = r.start[row]!;
      const duration = r.duration[row]!;
      const left = Math.max(0, Math.min(100, (start / total) * 100));
      const width = Math.max(0, Math.min(100 - left, (duration / total) * 100));
      const isLog = (flags & (ROW_FLAG.log | ROW_FLAG.attachment)) !== 0;
      pooled.el.className = `wf-row${flags & ROW_FLAG.error ? ' error' : ''}${flags & ROW_FLAG.critical ? ' critical' : ''}${isLog ? ' log' : ''}${flags & ROW_FLAG.problem ? ' problem' : ''}${flags & ROW_FLAG.placeholder ? ' placeholder' : ''}`;
      pooled.bar.style.left = `${left}%`;
      pooled.bar.style.width = isLog ? '' : `max(2px, ${width}%)`;
      pooled.bar.style.background = isLog ? '' : serviceColour(r.service[row]!);
      if (r.criticalFrom[row]! >= 0) {
        const cl = Math.max(0, Math.min(100, (r.criticalFrom[row]! / total) * 100));
        pooled.critical.hidden = false;
        pooled.critical.style.left = `${cl}%`;
        pooled.critical.style.width = `max(2px, ${Math.max(0, Math.min(100 - cl, ((r.criticalTo[row]! - r.criticalFrom[row]!) / total) * 100))}%)`;
      } else if (!pooled.critical.hidden) {
        pooled.critical.hidden = true;
      }
      pooled.label.textContent = isLog ? '' : formatMs(duration);
      pooled.label.style.left = `${Math.min(left + width, 88)}%`;
    }
    for (let slot = 0; slot < poolSize; slot++) {
      const pooled = this.pool[slot]!;
      if (!drawn[slot] && !pooled.el.hidden) {
        pooled.el.hidden = true;
        pooled.row = -1;
        pooled.position = -1;
      }
    }
  }

  private makeRow(): PooledRow {
    const twisty = h('span', { class: 'wf-twisty', attrs: { 'aria-hidden': 'true' } });
    const name = h('span', { class: 'wf-name' });
    const bar = h('div', { class: 'wf-bar' });
    const critical = h('div', { class: 'wf-critical', attrs: { 'aria-hidden': 'true' } });
    const label = h('span', { class: 'wf-duration' });
    const el = h('div', { class: 'wf-row', role: 'treeitem' }, h('div', { class: 'wf-label' }, twisty, name), h('div', { class: 'wf-track' }, bar, critical, label));
    el.hidden = true;
    this.spacer.append(el);
    // A bigger pool moves every row to a new element: draw them all again.
    this.generation++;
    return { el, twisty, name, bar, critical, label, row: -1, position: -1, generation: -1 };
  }

  private rowAt(event: Event): number {
    const el = (event.target as HTMLElement).closest<HTMLElement>('.wf-row');
    return el?.dataset.row ? Number(el.dataset.row) : -1;
  }

  private onClick(event: MouseEvent): void {
    const row = this.rowAt(event);
    if (row < 0) return;
    if ((event.target as HTMLElement).classList.contains('wf-twisty')) return this.toggle(row);
    this.select(row);
  }

  private toggle(row: number): void {
    if (this.collapsed.has(row)) this.collapsed.delete(row);
    else this.collapsed.add(row);
    this.generation++;
    this.relayout();
  }

  select(row: number): void {
    this.selected = row;
    for (const p of this.pool) p.el.setAttribute('aria-selected', String(p.row === row));
    this.events.select(row);
  }

  private onKey(event: KeyboardEvent): void {
    if (!this.view || this.selected < 0) return;
    const at = this.visible.indexOf(this.selected);
    if (event.key === 'ArrowDown' && at + 1 < this.visible.length) this.select(this.visible[at + 1]!);
    else if (event.key === 'ArrowUp' && at > 0) this.select(this.visible[at - 1]!);
    else if ((event.key === 'ArrowLeft' || event.key === 'ArrowRight') && this.view.rows.end[this.selected]! > this.selected + 1) {
      const collapse = event.key === 'ArrowLeft';
      if (collapse !== this.collapsed.has(this.selected)) this.toggle(this.selected);
    } else if (event.key === 'Enter') this.events.openSource(this.selected);
    else return;
    event.preventDefault();
    this.scrollToRow(this.selected);
  }
}
