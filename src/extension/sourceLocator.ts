/**
 * From a place the fleet names (a log call site, a span's code.filepath, a route) to a line in the workspace.
 * Pods run somewhere else, so an absolute path is tried as it is, then by its longest tail that a workspace
 * file ends with; a route is found by its literal in the code (the gateway's `case 'GET /v1/…':`).
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';

const EXCLUDE = '{**/node_modules/**,**/dist/**,**/out/**,**/.git/**}';

export async function findWorkspaceFile(file: string): Promise<vscode.Uri | undefined> {
  if (file.startsWith('/') && existsSync(file)) return vscode.Uri.file(file);
  const name = basename(file);
  if (!name) return undefined;
  const candidates = await vscode.workspace.findFiles(`**/${name}`, EXCLUDE, 200);
  const parts = file.split(/[\\/]+/).filter(Boolean);
  let best: { uri: vscode.Uri; score: number } | undefined;
  for (const uri of candidates) {
    const theirs = uri.fsPath.split(/[\\/]+/).filter(Boolean);
    let score = 0;
    while (score < parts.length && score < theirs.length && parts[parts.length - 1 - score] === theirs[theirs.length - 1 - score]) score++;
    if (!best || score > best.score) best = { uri, score };
  }
  return best?.uri;
}

/** Opens `file` at `line` (1-based) in an editor; throws with a clear message when the workspace has no such file. */
export async function openSourceLine(file: string, line: number, column = 1): Promise<vscode.TextEditor> {
  const uri = await findWorkspaceFile(file);
  if (!uri) throw new Error(`${file} is not in this workspace (open the folder of the service's source)`);
  const document = await vscode.workspace.openTextDocument(uri);
  const position = new vscode.Position(Math.max(0, Math.min(document.lineCount - 1, line - 1)), Math.max(0, column - 1));
  return vscode.window.showTextDocument(document, { selection: new vscode.Range(position, position), preview: false, viewColumn: vscode.ViewColumn.One });
}

/** Opens the handler of a route: the first line of the workspace's code that holds the route as a string literal. */
export async function openRouteHandler(route: string): Promise<vscode.TextEditor> {
  const files = await vscode.workspace.findFiles('**/*.{ts,js,mjs,cjs,go}', EXCLUDE, 2000);
  const needles = [`'${route}'`, `"${route}"`, `\`${route}\``];
  for (const uri of files) {
    const text = (await vscode.workspace.fs.readFile(uri)).toString();
    for (const needle of needles) {
      const at = text.indexOf(needle);
      if (at < 0) continue;
      const line = text.slice(0, at).split('\n').length;
      return openSourceLine(uri.fsPath, line);
    }
  }
  throw new Error(`no handler for the route ${route} in this workspace`);
}
