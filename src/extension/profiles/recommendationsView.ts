/**
 * Regressions and optimisation recommendations from the fleet's stored profiles: a tree view (StreamGate ›
 * Recommendations), warnings on the functions in the editor (diagnostics), and one notification when a new
 * regression appears. Refreshed every minute while connected, and on demand.
 */
import * as vscode from 'vscode';
import type { Recommendation, Regression } from '../../protocol/profiles';
import type { ServerClient } from '../client';
/** Where a profile's file is in the workspace (SourceResolver, made when first needed). */
export interface FileResolver {
  resolve(file: string): Promise<vscode.Uri | undefined>;
}

const REFRESH_MS = 60_000;
/** The range analysed: the last 15 minutes (regressions: against the 15 before). */
export const FINDINGS_RANGE_MS = 15 * 60_000;

type Finding = { kind: 'regression'; item: Regression } | { kind: 'recommendation'; item: Recommendation };

class FindingItem extends vscode.TreeItem {
  constructor(readonly finding: Finding) {
    const f = finding.item;
    const isRegression = finding.kind === 'regression';
    super(isRegression ? `${f.function}: ${pct((f as Regression).baselinePercent)} → ${pct((f as Regression).currentPercent)}` : `${(f as Recommendation).title}`, vscode.TreeItemCollapsibleState.None);
    const where = f.file ? `${f.file.split(/[\\/]/).pop()}${f.line ? `:${f.line}` : ''}` : '';
    this.description = isRegression ? `${(f as Regression).type} · ${where}` : `${f.function}${where ? ` · ${where}` : ''} · ${pct((f as Recommendation).percent)}`;
    const tip = new vscode.MarkdownString();
    tip.appendText(isRegression ? `${(f as Regression).type.toUpperCase()} regression in ${f.function}\n\n${(f as Regression).evidence}` : `${(f as Recommendation).title} (${(f as Recommendation).rule})\n\n${(f as Recommendation).evidence}\n\nFix: ${(f as Recommendation).fix}`);
    this.tooltip = tip;
    this.iconPath = new vscode.ThemeIcon(isRegression ? 'arrow-up' : (f as Recommendation).severity === 'warning' ? 'warning' : 'lightbulb');
    this.contextValue = finding.kind;
    if (f.file) this.command = { command: 'streamgate.openFindingSource', title: 'Open source', arguments: [f.file, f.line] };
  }
}

class GroupItem extends vscode.TreeItem {
  constructor(readonly kind: Finding['kind'], note: string) {
    super(kind === 'regression' ? 'Regressions' : 'Recommendations', vscode.TreeItemCollapsibleState.Expanded);
    this.description = note;
    this.iconPath = new vscode.ThemeIcon(kind === 'regression' ? 'graph-line' : 'lightbulb');
  }
}

function pct(value: number): string {
  return `${value.toFixed(value >= 10 ? 1 : 2)}%`;
}

export class RecommendationsView implements vscode.TreeDataProvider<vscode.TreeItem>, vscode.Disposable {
  private rangeMs = FINDINGS_RANGE_MS;
  private regressions: Regression[] = [];
  private recommendations: Recommendation[] = [];
  private error: string | undefined;
  private refreshedAt = 0;
  private readonly notified = new Set<string>();
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('streamgate-profiles');
  private readonly timer: NodeJS.Timeout;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly client: ServerClient, private readonly resolver: FileResolver, private readonly log: vscode.LogOutputChannel) {
    this.timer = setInterval(() => {
      if (this.client.lastStatus?.nats.state === 'connected') void this.refresh();
    }, REFRESH_MS);
  }

  /** What the view shows (for the extension's API and tests). */
  get findings(): { regressions: Regression[]; recommendations: Recommendation[]; error?: string; refreshedAt: number } {
    return { regressions: this.regressions, recommendations: this.recommendations, ...(this.error ? { error: this.error } : {}), refreshedAt: this.refreshedAt };
  }

  /** Reads the findings again; `rangeMs` changes the range analysed from now on (default the last 15 minutes). */
  refresh(rangeMs?: number): Promise<void> {
    if (rangeMs !== undefined && Number.isFinite(rangeMs) && rangeMs >= 10_000) this.rangeMs = rangeMs;
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    if (!this.client.running) return;
    const to = Date.now();
    const from = to - this.rangeMs;
    try {
      const [cpu, heap, recommendations] = await Promise.all([
        this.client.regressions({ type: 'cpu', from, to }),
        this.client.regressions({ type: 'heap', from, to }),
        this.client.recommendations({ from, to }),
      ]);
      this.regressions = [...cpu.regressions, ...heap.regressions];
      this.recommendations = recommendations.recommendations;
      this.error = undefined;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.log.warn(`profile findings: ${this.error}`);
    }
    this.refreshedAt = Date.now();
    this.changeEmitter.fire();
    await this.updateDiagnostics();
    this.notify();
  }

  private async updateDiagnostics(): Promise<void> {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const add = async (file: string, line: number, message: string, severity: vscode.DiagnosticSeverity, code: string) => {
      if (!file || !line) return;
      const uri = await this.resolver.resolve(file);
      if (!uri) return;
      const diagnostic = new vscode.Diagnostic(new vscode.Range(line - 1, 0, line - 1, Number.MAX_SAFE_INTEGER), message, severity);
      diagnostic.source = 'StreamGate profiles';
      diagnostic.code = code;
      byFile.set(uri.toString(), [...(byFile.get(uri.toString()) ?? []), diagnostic]);
    };
    for (const r of this.regressions) await add(r.file, r.line, `${r.type === 'cpu' ? 'CPU' : 'Heap'} regression in ${r.function}: ${pct(r.baselinePercent)} → ${pct(r.currentPercent)} (${r.evidence})`, vscode.DiagnosticSeverity.Warning, `regression-${r.type}`);
    for (const r of this.recommendations) await add(r.file, r.line, `${r.title}: ${r.evidence}. ${r.fix}`, r.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information, r.rule);
    this.diagnostics.clear();
    for (const [uri, list] of byFile) this.diagnostics.set(vscode.Uri.parse(uri), list);
  }

  /** One notification for the regressions not seen before (all of them in it). */
  private notify(): void {
    const fresh = this.regressions.filter((r) => !this.notified.has(`${r.type}\0${r.function}\0${r.file}`));
    if (!fresh.length) return;
    for (const r of fresh) this.notified.add(`${r.type}\0${r.function}\0${r.file}`);
    const first = fresh[0]!;
    const more = fresh.length > 1 ? ` and ${fresh.length - 1} more` : '';
    void vscode.window
      .showWarningMessage(`StreamGate: ${first.type === 'cpu' ? 'CPU' : 'heap'} regression in ${first.function} (${pct(first.baselinePercent)} → ${pct(first.currentPercent)})${more}.`, 'Show')
      .then((choice) => {
        if (choice) void vscode.commands.executeCommand('streamgate.recommendations.focus');
      });
  }

  getTreeItem(element: vscode.TreeItem): vscode.TreeItem {
    return element;
  }

  getChildren(element?: vscode.TreeItem): vscode.TreeItem[] {
    if (!element) {
      if (this.error) {
        const item = new vscode.TreeItem(`Cannot read the fleet's profiles: ${this.error}`);
        item.iconPath = new vscode.ThemeIcon('error');
        return [item];
      }
      if (!this.refreshedAt) {
        void this.refresh();
        return [];
      }
      const range = this.rangeMs >= 60_000 ? `${Math.round(this.rangeMs / 60_000)} min` : `${Math.round(this.rangeMs / 1000)} s`;
      return [
        new GroupItem('regression', `${this.regressions.length || 'none'} · last ${range} against the ${range} before`),
        new GroupItem('recommendation', `${this.recommendations.length || 'none'} · last ${range}`),
      ];
    }
    if (element instanceof GroupItem) {
      return element.kind === 'regression'
        ? this.regressions.map((item) => new FindingItem({ kind: 'regression', item }))
        : this.recommendations.map((item) => new FindingItem({ kind: 'recommendation', item }));
    }
    return [];
  }

  dispose(): void {
    clearInterval(this.timer);
    this.diagnostics.dispose();
    this.changeEmitter.dispose();
  }
}
