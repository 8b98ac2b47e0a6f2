/**
 * The canvas flamegraph: draws a FlameData (preorder arrays) as a flame graph (root at the bottom) or an icicle
 * (root at the top). Only what is visible is drawn: a subtree narrower than half a pixel, off to a side, or past
 * the visible rows is skipped in one step (its range is contiguous), so a frame costs what is on screen, not
 * the profile's size. The canvas is as big as the viewport; rows scroll virtually, so a profile thousands of
 * frames deep never needs a canvas taller than the screen.
 */
import type { FlameData } from '../../src/protocol/flamegraph';
import { diffHsl, frameHsl, hsl, isFolded, readPalette, type Palette } from './colors';

export const ROW = 18;
const MIN_WIDTH = 0.5;
const TEXT_MIN_WIDTH = 28;

export type Orientation = 'flame' | 'icicle';
export type DiffColouring = 'relative' | 'absolute';

export interface RendererEvents {
  hover(node: number, clientX: number, clientY: number): void;
  /** A click: select and zoom. */
  activate(node: number): void;
  /** Double-click or Ctrl/Cmd-click: open the source. */
  open(node: number): void;
  /** The viewport moved (zoom, pan): breadcrumbs follow. */
  viewChanged(): void;
}

export class FlameRenderer {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly spacer: HTMLElement;
  private readonly ctx: CanvasRenderingContext2D;
  private data: FlameData | undefined;
  private colours: string[] = [];
  private matches: Uint8Array | undefined;
  private palette: Palette = readPalette();
  private orientation: Orientation = 'icicle';
  private side: 'current' | 'base' = 'current';
  private diffColouring: DiffColouring | undefined;
  private x0 = 0;
  private x1 = 1;
  private animation = 0;
  private width = 0;
  private height = 0;
  private charWidth = 7;
  private font = '12px monospace';
  private drawQueued = false;
  zoomed = 0;
  selected = -1;
  hovered = -1;
  /** Duration of the last draw, ms. */
  lastDrawMs = 0;

  constructor(private readonly events: RendererEvents, label: string) {
    this.element = document.createElement('div');
    this.element.className = 'flame-scroll';
    this.spacer = document.createElement('div');
    this.spacer.className = 'flame-spacer';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'flame-canvas';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', label);
    this.element.append(this.canvas, this.spacer);
    this.ctx = this.canvas.getContext('2d', { alpha: false })!;
    this.element.addEventListener('scroll', () => this.requestDraw());
    new ResizeObserver(() => this.resize()).observe(this.element);
    this.bindPointer();
  }

  get hasData(): boolean {
    return this.data !== undefined;
  }

  setData(data: FlameData, keepZoom = false): void {
    const firstTime = !this.data;
    this.data = data;
    this.matches = undefined;
    if (!keepZoom || this.zoomed >= data.total.length) {
      this.zoomed = 0;
      this.selected = -1;
    }
    this.hovered = -1;
    this.recolour();
    this.setRange(this.zoomed);
    this.resize();
    if (firstTime || !keepZoom) this.scrollToRoot();
  }

  setOrientation(orientation: Orientation): void {
    this.orientation = orientation;
    this.resize();
    this.scrollToRoot();
  }

  setSide(side: 'current' | 'base'): void {
    this.side = side;
    this.setRange(this.zoomed);
    this.requestDraw();
  }

  /** `recolour` false when new data follows anyway (setData colours it). */
  setDiffColouring(colouring: DiffColouring | undefined, recolour = true): void {
    this.diffColouring = colouring;
    if (!recolour) return;
    this.recolour();
    this.requestDraw();
  }

  setMatches(matches: Uint8Array | undefined): void {
    this.matches = matches;
    this.requestDraw();
  }

  themeChanged(): void {
    this.palette = readPalette();
    this.recolour();
    this.requestDraw();
  }

  /** Zooms so `node` spans the width; its ancestors stay visible as full-width bars. */
  zoomTo(node: number, animate = true): void {
    if (!this.data) return;
    this.zoomed = node;
    const [a, b] = this.range(node);
    this.animateTo(a, b, animate);
    this.events.viewChanged();
  }

  select(node: number): void {
    this.selected = node;
    this.requestDraw();
  }

  focusCanvas(): void {
    this.canvas.focus();
  }

  /** The node's [start, end) on this renderer's side, in value units. */
  private range(node: number): [number, number] {
    const d = this.data!;
    const start = this.side === 'base' && d.base ? d.base.start : d.start;
    const total = this.side === 'base' && d.base ? d.base.total : d.total;
    const width = Math.max(total[node]!, 1e-9 * Math.max(1, total[0]!));
    return [start[node]!, start[node]! + width];
  }

  private setRange(node: number): void {
    if (!this.data) return;
    [this.x0, this.x1] = this.range(Math.min(node, this.data.total.length - 1));
  }

  private animateTo(a: number, b: number, animate: boolean): void {
    cancelAnimationFrame(this.animation);
    const from = [this.x0, this.x1] as const;
    if (!animate) {
      this.x0 = a;
      this.x1 = b;
      this.requestDraw();
      return;
    }
    const started = performance.now();
    const step = (now: number) => {
      const t = Math.min(1, (now - started) / 180);
      const e = 1 - (1 - t) ** 3;
      this.x0 = from[0] + (a - from[0]) * e;
      this.x1 = from[1] + (b - from[1]) * e;
      this.draw();
      if (t < 1) this.animation = requestAnimationFrame(step);
    };
    this.animation = requestAnimationFrame(step);
  }

  /** Zooms by `factor` around the pixel `px` (wheel, pinch, keyboard). */
  zoomAround(px: number, factor: number): void {
    if (!this.data) return;
    const span = this.x1 - this.x0;
    const at = this.x0 + (px / Math.max(1, this.width)) * span;
    const [lo, hi] = this.range(0);
    const next = Math.min(hi - lo, Math.max(span * factor, (hi - lo) * 1e-9));
    this.x0 = Math.max(lo, Math.min(hi - next, at - (px / Math.max(1, this.width)) * next));
    this.x1 = this.x0 + next;
    this.requestDraw();
    this.events.viewChanged();
  }

  panBy(pixels: number): void {
    const span = this.x1 - this.x0;
    const [lo, hi] = this.range(0);
    const dx = (pixels / Math.max(1, this.width)) * span;
    this.x0 = Math.max(lo, Math.min(hi - span, this.x0 + dx));
    this.x1 = this.x0 + span;
    this.requestDraw();
  }

  private scrollToRoot(): void {
    this.element.scrollTop = this.orientation === 'flame' ? this.element.scrollHeight : 0;
  }

  private contentHeight(): number {
    return ((this.data?.maxDepth ?? 0) + 1) * ROW + ROW;
  }

  /** Sizes the canvas to the viewport (only when it changed: resizing a canvas reallocates it) and draws. */
  private resize(): void {
    const ratio = window.devicePixelRatio || 1;
    const width = this.element.clientWidth;
    const height = this.element.clientHeight;
    if (width !== this.width || height !== this.height || this.canvas.width !== Math.max(1, Math.floor(width * ratio))) {
      this.width = width;
      this.height = height;
      this.canvas.width = Math.max(1, Math.floor(width * ratio));
      this.canvas.height = Math.max(1, Math.floor(height * ratio));
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
      this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      const family = getComputedStyle(document.body).getPropertyValue('--vscode-editor-font-family').trim() || 'monospace';
      this.font = `12px ${family}`;
      this.ctx.font = this.font;
      this.charWidth = this.ctx.measureText('MMMMMMMMMM').width / 10 || 7;
    }
    this.spacer.style.height = `${Math.max(0, this.contentHeight() - this.height)}px`;
    this.draw();
  }

  private recolour(): void {
    const d = this.data;
    if (!d) return;
    const n = d.total.length;
    this.colours = new Array<string>(n);
    const diff = Boolean(this.diffColouring && d.base);
    // Colours depend on (kind, name) outside diffs: one computation per distinct pair, not per node.
    const byName = new Map<number, string>();
    const byHsl = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      if (!diff) {
        const key = d.kind[i]! * 16777216 + d.name[i]!;
        let s = byName.get(key);
        if (s === undefined) byName.set(key, (s = hsl(frameHsl(d.kind[i]!, d.names[d.name[i]!]!, this.palette.dark))));
        this.colours[i] = s;
        continue;
      }
      const c = diffHsl(this.diffChange(i), this.palette.dark);
      const key = `${c[0]},${c[1].toFixed(0)},${c[2].toFixed(0)}`;
      let s = byHsl.get(key);
      if (s === undefined) byHsl.set(key, (s = hsl(c)));
      this.colours[i] = s;
    }
  }

  /**
   * Relative: the change in the node's share of its side's total (an unchanged function whose share grew
   * because others shrank turns red). Absolute: the change in its own value against the base total (an
   * unchanged function stays grey). ±5 % of the total is full colour.
   */
  diffChange(i: number): number {
    const d = this.data!;
    const base = d.base!;
    const cur = d.total[i]!;
    const was = base.total[i]!;
    const change = this.diffColouring === 'absolute' ? (cur - was) / Math.max(1e-9, base.rootTotal) : cur / Math.max(1e-9, d.total[0]!) - was / Math.max(1e-9, base.rootTotal);
    return change / 0.05;
  }

  requestDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.draw();
    });
  }

  private rowY(depth: number): number {
    return this.orientation === 'icicle' ? depth * ROW : (this.data!.maxDepth - depth) * ROW + ROW;
  }

  draw(): void {
    const started = performance.now();
    const ctx = this.ctx;
    ctx.fillStyle = this.palette.background;
    ctx.fillRect(0, 0, this.width, this.height);
    const d = this.data;
    if (!d) return;
    const base = this.side === 'base' && d.base;
    const start = base ? d.base!.start : d.start;
    const total = base ? d.base!.total : d.total;
    const { depth, subtreeEnd } = d;
    const scale = this.width / Math.max(1e-12, this.x1 - this.x0);
    const top = this.element.scrollTop;
    const bottom = top + this.height;
    const icicle = this.orientation === 'icicle';
    const n = total.length;
    ctx.font = this.font;
    ctx.textBaseline = 'middle';
    const labels: number[] = [];
    const matches = this.matches;
    const colours = this.colours;
    const maxDepth = d.maxDepth;
    const x0 = this.x0;
    const width = this.width;
    let fill = '';
    for (let i = 0; i < n; ) {
      const w = total[i]! * scale;
      if (!(w >= MIN_WIDTH)) {
        i = subtreeEnd[i]!;
        continue;
      }
      const x = (start[i]! - x0) * scale;
      if (x > width || x + w < 0) {
        i = subtreeEnd[i]!;
        continue;
      }
      const y = icicle ? depth[i]! * ROW : (maxDepth - depth[i]!) * ROW + ROW;
      // Deeper rows lie further down (icicle) or up (flame): past the visible rows, the subtree is too.
      if (icicle ? y > bottom : y + ROW < top) {
        i = subtreeEnd[i]!;
        continue;
      }
      if (y + ROW >= top && y <= bottom) {
        const left = x > 0 ? x : 0;
        const right = x + w < width ? x + w : width;
        if (matches) ctx.globalAlpha = matches[i] ? 1 : 0.3;
        const colour = colours[i]!;
        if (colour !== fill) ctx.fillStyle = fill = colour;
        ctx.fillRect(left, y - top, Math.max(0.5, right - left - (w > 3 ? 1 : 0)), ROW - 1);
        if (right - left >= TEXT_MIN_WIDTH) labels.push(i, left, right, y - top);
      }
      i++;
    }
    ctx.globalAlpha = 1;
    // Labels after boxes: one fillStyle switch per colour class rather than per box.
    for (let k = 0; k < labels.length; k += 4) {
      const i = labels[k]!;
      const left = labels[k + 1]!;
      const right = labels[k + 2]!;
      const y = labels[k + 3]!;
      const room = Math.floor((right - left - 6) / this.charWidth);
      if (room < 2) continue;
      const name = d.names[d.name[i]!]!;
      const text = name.length > room ? `${name.slice(0, room - 1)}…` : name;
      ctx.globalAlpha = this.matches && !this.matches[i] ? 0.45 : 1;
      ctx.fillStyle = this.palette.dark ? this.palette.textOnDark : this.palette.textOnLight;
      if (isFolded(d.kind[i]!)) ctx.fillStyle = this.palette.text;
      ctx.fillText(text, left + 3, y + ROW / 2);
    }
    ctx.globalAlpha = 1;
    for (const [node, colour, widthPx] of [
      [this.hovered, this.palette.text, 1],
      [this.selected, this.palette.selection, 2],
    ] as const) {
      if (node < 0 || node >= n) continue;
      const x = (start[node]! - this.x0) * scale;
      const w = total[node]! * scale;
      const y = this.rowY(depth[node]!) - top;
      ctx.strokeStyle = colour;
      ctx.lineWidth = widthPx;
      ctx.strokeRect(Math.max(0, x) + 0.5, y + 0.5, Math.max(1, Math.min(this.width, x + w) - Math.max(0, x) - 1), ROW - 2);
    }
    this.lastDrawMs = performance.now() - started;
  }

  /** The node under a point of the canvas, or -1. */
  nodeAt(px: number, py: number): number {
    const d = this.data;
    if (!d) return -1;
    const base = this.side === 'base' && d.base;
    const start = base ? d.base!.start : d.start;
    const total = base ? d.base!.total : d.total;
    const y = py + this.element.scrollTop;
    const row = Math.floor((this.orientation === 'icicle' ? y : y - ROW) / ROW);
    const wanted = this.orientation === 'icicle' ? row : d.maxDepth - row;
    if (wanted < 0 || wanted > d.maxDepth) return -1;
    const value = this.x0 + (px / Math.max(1, this.width)) * (this.x1 - this.x0);
    let node = 0;
    if (!(value >= start[0]! && value < start[0]! + total[0]!)) return -1;
    while (d.depth[node]! < wanted) {
      let next = -1;
      for (let c = node + 1; c < d.subtreeEnd[node]!; c = d.subtreeEnd[c]!) {
        if (value >= start[c]! && value < start[c]! + total[c]!) {
          next = c;
          break;
        }
      }
      if (next < 0) return -1;
      node = next;
    }
    return node;
  }

  private bindPointer(): void {
    let drag: { x: number; moved: boolean } | undefined;
    const local = (e: MouseEvent) => {
      const r = this.canvas.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top] as const;
    };
    this.canvas.addEventListener('mousedown', (e) => {
      drag = { x: e.clientX, moved: false };
    });
    window.addEventListener('mouseup', () => setTimeout(() => (drag = undefined), 0));
    this.canvas.addEventListener('mousemove', (e) => {
      if (drag && e.buttons === 1 && Math.abs(e.clientX - drag.x) > 3) {
        drag.moved = true;
        this.panBy(drag.x - e.clientX);
        drag.x = e.clientX;
        return;
      }
      const [x, y] = local(e);
      const node = this.nodeAt(x, y);
      if (node !== this.hovered) {
        this.hovered = node;
        this.requestDraw();
      }
      this.events.hover(node, e.clientX, e.clientY);
    });
    this.canvas.addEventListener('mouseleave', () => {
      this.hovered = -1;
      this.requestDraw();
      this.events.hover(-1, 0, 0);
    });
    this.canvas.addEventListener('click', (e) => {
      if (drag?.moved) return;
      const [x, y] = local(e);
      const node = this.nodeAt(x, y);
      if (node < 0) return;
      if (e.ctrlKey || e.metaKey) this.events.open(node);
      else this.events.activate(node);
    });
    this.canvas.addEventListener('dblclick', (e) => {
      const [x, y] = local(e);
      const node = this.nodeAt(x, y);
      if (node >= 0) this.events.open(node);
    });
    this.canvas.addEventListener(
      'wheel',
      (e) => {
        if (e.ctrlKey || e.metaKey) {
          e.preventDefault();
          const [x] = local(e);
          this.zoomAround(x, Math.exp(e.deltaY * 0.01));
        } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
          e.preventDefault();
          this.panBy(e.deltaX || e.deltaY);
        }
      },
      { passive: false },
    );
  }
}
