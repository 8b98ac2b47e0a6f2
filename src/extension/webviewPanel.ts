/**
 * The one way panels are made: a strict CSP with a nonce, resources only from the built webview folder,
 * theme variables and codicons, and typed messages both ways (validated on the way in).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type * as z from 'zod/mini';
import { check } from '../protocol/schema';

export interface PanelSpec<TFrom> {
  viewType: string;
  title: string;
  /** Base name of the bundle in dist/webviews (`status` → status.js and status.css). */
  bundle: string;
  icon?: string;
  fromWebview: z.ZodMiniType<TFrom>;
}

export class WebviewPanelHost<TTo, TFrom> implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly messageEmitter = new vscode.EventEmitter<TFrom>();
  readonly onMessage = this.messageEmitter.event;
  readonly onDidDispose: vscode.Event<void>;

  constructor(extensionUri: vscode.Uri, spec: PanelSpec<TFrom>, private readonly log: vscode.LogOutputChannel) {
    const assets = vscode.Uri.joinPath(extensionUri, 'dist', 'webviews');
    this.panel = vscode.window.createWebviewPanel(spec.viewType, spec.title, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [assets],
    });
    if (spec.icon) this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', spec.icon);
    this.onDidDispose = this.panel.onDidDispose;
    this.panel.webview.html = renderHtml(this.panel.webview, assets, spec.bundle, spec.title);
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((raw: unknown) => {
        const parsed = check(spec.fromWebview, raw);
        if (parsed.ok) this.messageEmitter.fire(parsed.value);
        else this.log.warn(`${spec.viewType}: ignored a malformed message from the webview: ${parsed.error}`);
      }),
      this.panel.onDidDispose(() => this.dispose()),
    );
  }

  post(message: TTo): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  reveal(): void {
    this.panel.reveal();
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.messageEmitter.dispose();
    this.panel.dispose();
  }
}

function renderHtml(webview: vscode.Webview, assets: vscode.Uri, bundle: string, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(assets, file)).toString();
  const csp = [
    `default-src 'none'`,
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${asset('codicons/codicon.css')}">
<link rel="stylesheet" href="${asset('webview.css')}">
<link rel="stylesheet" href="${asset(`${bundle}.css`)}">
</head>
<body>
<main id="app" aria-live="polite"></main>
<script nonce="${nonce}" src="${asset(`${bundle}.js`)}"></script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
