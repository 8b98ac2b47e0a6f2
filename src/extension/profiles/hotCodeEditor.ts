/**
 * Hot code in the editor, from the profile shown: a code lens above each sampled function (self and total
 * share, and the allocation rate for allocation profiles), heat marks in the gutter per line, and a hover on a
 * hot line with its samples, the function's callers and a small flamegraph of its callees. One command toggles
 * all of it. When the profile shown is a fleet selection (Open Fleet Profile), the figures are fleet-wide over its
 * time range and labels, and follow the panel's range and label filter.
 */
import * as vscode from 'vscode';
import { formatPercent, formatProfileValue } from '../../common/profileFormat';
import { hotCodeStats, lineHover, type FunctionHeat, type HotCodeStats, type LineHeat } from '../../server/profiles/hotCode';
import { CONTEXT_KEYS } from '../commandIds';
import { SELECTION_RANGES } from '../../protocol/flamegraph';
import type { ProfileInput } from './flamegraphPanel';
import type { ProfileViews } from './profileViews';

/** Self share (%) at which a line reaches each heat level. */
const HEAT_LEVELS = [0.1, 0.5, 2, 5, 15];

interface DocumentHeat {
  functions: FunctionHeat[];
  lines: Map<number, LineHeat>;
}

export class HotCodeEditor implements vscode.Disposable, vscode.CodeLensProvider, vscode.HoverProvider {
  private enabled = false;
  private input: ProfileInput | undefined;
  private stats: HotCodeStats | undefined;
  private readonly perDocument = new Map<string, DocumentHeat>();
  private readonly heat: vscode.TextEditorDecorationType[];
  private readonly annotation: vscode.TextEditorDecorationType;
  private readonly lensEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(extensionUri: vscode.Uri, private readonly views: ProfileViews) {
    this.heat = HEAT_LEVELS.map((_, i) =>
      vscode.window.createTextEditorDecorationType({
        gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', `heat-${i + 1}.svg`),
        gutterIconSize: 'contain',
        overviewRulerColor: new vscode.ThemeColor(i >= 3 ? 'editorError.foreground' : 'editorWarning.foreground'),
        overviewRulerLane: vscode.OverviewRulerLane.Right,
        ...(i >= 2 ? { backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'), isWholeLine: true } : {}),
      }),
    );
    this.annotation = vscode.window.createTextEditorDecorationType({ after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' } });
    const selector: vscode.DocumentSelector = [{ scheme: 'file' }];
    this.disposables.push(
      ...this.heat,
      this.annotation,
      vscode.languages.registerCodeLensProvider(selector, this),
      vscode.languages.registerHoverProvider(selector, this),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorateAll()),
      views.onDidChangeActive((input) => {
        if (this.enabled) this.use(input);
      }),
    );
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  /** Turns hot code on (from the profile shown) or off; returns the new state. */
  async toggle(on = !this.enabled): Promise<boolean> {
    if (on && !this.views.shown) {
      void vscode.window.showInformationMessage('StreamGate: open a profile first (StreamGate: Open Profile…), then its hot code shows in the editor.');
      return this.enabled;
    }
    this.enabled = on;
    await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.hotCode, on);
    this.use(on ? this.views.shown : undefined);
    return on;
  }

  private use(input: ProfileInput | undefined): void {
    this.input = input;
    this.stats = input ? hotCodeStats(input.profile) : undefined;
    this.perDocument.clear();
    this.lensEmitter.fire();
    this.decorateAll();
  }

  private forDocument(uri: vscode.Uri): DocumentHeat | undefined {
    if (!this.stats) return undefined;
    const key = uri.toString();
    let heat = this.perDocument.get(key);
    if (!heat) {
      const files = new Set<string>();
      for (const f of this.stats.functions) if (this.views.resolver.matches(f.file, uri)) files.add(f.file);
      heat = { functions: this.stats.functions.filter((f) => files.has(f.file)), lines: new Map() };
      for (const l of this.stats.lines) {
        if (!files.has(l.file)) continue;
        const seen = heat.lines.get(l.line);
        if (!seen) heat.lines.set(l.line, { ...l });
        else {
          // Several functions on one line (closures): the line's heat is theirs together.
          seen.self += l.self;
          seen.total = Math.max(seen.total, l.total);
          seen.samples += l.samples;
          if (l.total > seen.total) seen.name = l.name;
        }
      }
      this.perDocument.set(key, heat);
    }
    return heat.functions.length || heat.lines.size ? heat : undefined;
  }

  private share(value: number): string {
    return formatPercent((value / Math.max(1e-12, this.stats?.total ?? 0)) * 100);
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.enabled || !this.stats) return [];
    const heat = this.forDocument(document.uri);
    if (!heat) return [];
    const stats = this.stats;
    return heat.functions
      .filter((f) => f.startLine > 0 && f.startLine <= document.lineCount)
      .map((f) => {
        const range = new vscode.Range(f.startLine - 1, 0, f.startLine - 1, 0);
        return new vscode.CodeLens(range, {
          title: this.lensTitle(f, stats),
          tooltip: `${f.name} in ${this.input?.name ?? 'the profile'}: self ${formatProfileValue(f.self, stats.unit)}, total ${formatProfileValue(f.total, stats.unit)}. Click to show it in the flamegraph.`,
          command: 'streamgate.showInFlamegraph',
          arguments: [f.name],
        });
      });
  }

  /** " · fleet, last 15 minutes · service=gateway" for the fleet's stored profiles. */
  private scope(): string {
    const selection = this.input?.selection;
    if (!selection) return '';
    const range = SELECTION_RANGES.find((r) => r.ms === selection.rangeMs)?.label.toLowerCase() ?? `last ${Math.round(selection.rangeMs / 60_000)} min`;
    return ` · fleet, ${range}${selection.where ? ` · ${selection.where}` : ''}`;
  }

  private lensTitle(f: FunctionHeat, stats: HotCodeStats): string {
    return this.lensFigures(f, stats) + this.scope();
  }

  private lensFigures(f: FunctionHeat, stats: HotCodeStats): string {
    const type = stats.sampleType;
    if (stats.unit === 'bytes') {
      const rate = stats.durationNanos > 0 ? ` · ${formatProfileValue(f.total / (stats.durationNanos / 1e9), 'bytes')}/s` : '';
      return `$(database) ${type}: self ${formatProfileValue(f.self, 'bytes')} (${this.share(f.self)}) · total ${formatProfileValue(f.total, 'bytes')} (${this.share(f.total)})${rate}`;
    }
    const what = type === 'cpu' || type === 'samples' ? 'CPU' : type;
    return `$(flame) ${what}: self ${this.share(f.self)} · total ${this.share(f.total)}`;
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    if (!this.enabled || !this.stats || !this.input) return undefined;
    const line = this.forDocument(document.uri)?.lines.get(position.line + 1);
    if (!line) return undefined;
    const stats = this.stats;
    const v = (x: number) => formatProfileValue(x, stats.unit);
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**StreamGate profile** · ${escapeMarkdown(this.input.name)} (${escapeMarkdown(stats.sampleType)})\n\n`);
    md.appendMarkdown(`Line ${line.line} of ${code(line.name)}: self ${v(line.self)} (${this.share(line.self)}), total ${v(line.total)} (${this.share(line.total)})`);
    if (line.samples) md.appendMarkdown(`, ${Math.round(line.samples).toLocaleString('en-US')} samples`);
    md.appendMarkdown('\n\n');
    const file = this.forDocument(document.uri)!.functions.find((f) => f.name === line.name)?.file ?? '';
    const hover = lineHover(this.input.profile, line.name, file);
    if (hover.callers.length) md.appendMarkdown(`Called by ${hover.callers.map((c) => `${code(c.name)} ${formatPercent(c.percent)}`).join(', ')}\n\n`);
    if (hover.flame.length) {
      const rows = hover.flame.map((r) => `${'  '.repeat(r.depth)}${bar(r.percent)} ${r.name} ${formatPercent(r.percent)}`);
      md.appendCodeblock(rows.join('\n'), 'text');
    }
    return new vscode.Hover(md, new vscode.Range(position.line, 0, position.line, document.lineAt(position.line).text.length));
  }

  private decorateAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.decorate(editor);
  }

  private decorate(editor: vscode.TextEditor): void {
    const heat = this.enabled ? this.forDocument(editor.document.uri) : undefined;
    const levels: vscode.DecorationOptions[][] = HEAT_LEVELS.map(() => []);
    const notes: vscode.DecorationOptions[] = [];
    if (heat && this.stats) {
      const total = Math.max(1e-12, this.stats.total);
      for (const l of heat.lines.values()) {
        if (l.line < 1 || l.line > editor.document.lineCount) continue;
        const selfShare = (l.self / total) * 100;
        const level = HEAT_LEVELS.filter((t) => selfShare >= t).length;
        const range = new vscode.Range(l.line - 1, 0, l.line - 1, 0);
        if (level > 0) levels[level - 1]!.push({ range });
        if (selfShare >= 0.5 || (l.total / total) * 100 >= 5) {
          notes.push({ range: editor.document.lineAt(l.line - 1).range, renderOptions: { after: { contentText: `self ${this.share(l.self)} · total ${this.share(l.total)}` } } });
        }
      }
    }
    this.heat.forEach((type, i) => editor.setDecorations(type, levels[i]!));
    editor.setDecorations(this.annotation, notes);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.lensEmitter.dispose();
  }
}

function bar(percent: number): string {
  const cells = Math.max(1, Math.round(percent / 5));
  return '█'.repeat(Math.min(20, cells)).padEnd(20, ' ');
}

/** A code span; a name never closes it early. */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
