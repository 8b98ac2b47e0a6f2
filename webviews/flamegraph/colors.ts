/** Frame colours: by what a frame is (own code warm, libraries cool, runtime grey), and for diffs by change. */
import { FRAME_KINDS } from '../../src/protocol/flamegraph';

const KIND_USER = FRAME_KINDS.indexOf('user');
const KIND_LIBRARY = FRAME_KINDS.indexOf('library');
const KIND_FOLDED = FRAME_KINDS.indexOf('folded');
const KIND_COLLAPSED = FRAME_KINDS.indexOf('collapsed');

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

export interface Palette {
  dark: boolean;
  text: string;
  textOnLight: string;
  textOnDark: string;
  background: string;
  selection: string;
  focusRing: string;
}

export function readPalette(): Palette {
  const style = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  return {
    dark,
    text: v('--vscode-foreground', dark ? '#ccc' : '#333'),
    textOnLight: '#1e1e1e',
    textOnDark: '#f3f3f3',
    background: v('--vscode-editor-background', dark ? '#1e1e1e' : '#fff'),
    selection: v('--vscode-focusBorder', '#007fd4'),
    focusRing: v('--vscode-focusBorder', '#007fd4'),
  };
}

/** [h, s, l] of a frame by kind; names vary the shade a little so neighbours stay apart. */
export function frameHsl(kind: number, name: string, dark: boolean): [number, number, number] {
  const j = hash(name);
  const l = dark ? 38 + j * 12 : 62 + j * 12;
  if (kind === KIND_USER) return [12 + j * 38, 70 + j * 15, l]; // red → orange → yellow
  if (kind === KIND_LIBRARY) return [195 + j * 40, 45 + j * 20, l]; // blue-cyan
  if (kind === KIND_COLLAPSED) return [265 + j * 20, 30, l]; // muted violet: a stand-in for many frames
  if (kind === KIND_FOLDED) return [0, 0, dark ? 30 : 80];
  return [40, 6 + j * 8, l]; // runtime: near grey
}

/**
 * Diff colour from a signed change in [-1, 1] (already scaled): red grows, green shrinks, grey is unchanged.
 * Frames absent from one side are drawn at full strength.
 */
export function diffHsl(change: number, dark: boolean): [number, number, number] {
  const c = Math.max(-1, Math.min(1, change));
  const strength = Math.sqrt(Math.abs(c));
  const l = dark ? 30 + (1 - strength) * 10 : 88 - strength * 30;
  if (Math.abs(c) < 0.02) return [0, 0, dark ? 36 : 82];
  return c > 0 ? [0, 25 + strength * 60, l] : [130, 25 + strength * 50, l];
}

/** As "#rrggbb": canvases parse hex colours faster than hsl() strings, and the draw loop sets thousands. */
export function hsl([h, s, l]: [number, number, number]): string {
  const sat = s / 100;
  const lig = l / 100;
  const a = sat * Math.min(lig, 1 - lig);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    const v = lig - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

export function isFolded(kind: number): boolean {
  return kind === KIND_FOLDED;
}

export function isCollapsed(kind: number): boolean {
  return kind === KIND_COLLAPSED;
}
