/** Finds the local file a profile's file name means (see pathMatch.ts), and opens it at a line. */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { bestSuffixMatch, sameFile } from './pathMatch';

export class SourceResolver {
  private readonly cache = new Map<string, vscode.Uri | null>();

  async resolve(file: string): Promise<vscode.Uri | undefined> {
    if (!file) return undefined;
    const cached = this.cache.get(file);
    if (cached !== undefined) return cached ?? undefined;
    const found = await this.find(file);
    this.cache.set(file, found ?? null);
    return found;
  }

  /** Whether a profile's file name means this document. */
  matches(file: string, document: vscode.Uri): boolean {
    return document.scheme === 'file' && sameFile(file, document.fsPath);
  }

  private async find(file: string): Promise<vscode.Uri | undefined> {
    if (path.isAbsolute(file) && existsSync(file) && vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))) return vscode.Uri.file(file);
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const joined = path.join(folder.uri.fsPath, file);
      if (!path.isAbsolute(file) && existsSync(joined)) return vscode.Uri.file(joined);
    }
    const name = path.basename(file.replace(/\\/g, '/'));
    if (!name || /[*?[\]{}]/.test(name)) return undefined;
    const candidates = await vscode.workspace.findFiles(`**/${name}`, '**/node_modules/**', 200);
    const best = bestSuffixMatch(file, candidates.map((u) => u.fsPath));
    if (best && sameFile(file, best)) return vscode.Uri.file(best);
    // Outside the workspace but present on this machine (a profile of a local process).
    if (path.isAbsolute(file) && existsSync(file)) return vscode.Uri.file(file);
    return undefined;
  }

  async open(file: string, line: number): Promise<vscode.TextEditor | undefined> {
    const uri = await this.resolve(file);
    if (!uri) {
      void vscode.window.showWarningMessage(`StreamGate: ${file} is not in this workspace, so the profile's line cannot be opened.`);
      return undefined;
    }
    const position = new vscode.Position(Math.max(0, line - 1), 0);
    return vscode.window.showTextDocument(uri, { selection: new vscode.Range(position, position), viewColumn: vscode.ViewColumn.Beside, preview: true });
  }
}
