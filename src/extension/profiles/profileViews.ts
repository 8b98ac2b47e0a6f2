/**
 * The open flamegraphs and which one is "the profile shown" (the last one opened or used): the editor's hot
 * code follows it.
 */
import * as vscode from 'vscode';
import { FlamegraphPanel, type ProfileInput } from './flamegraphPanel';
import { SourceResolver } from './sourceResolver';

export class ProfileViews implements vscode.Disposable {
  readonly resolver = new SourceResolver();
  private readonly panels = new Set<FlamegraphPanel>();
  private active: FlamegraphPanel | undefined;
  private readonly activeEmitter = new vscode.EventEmitter<ProfileInput | undefined>();
  readonly onDidChangeActive = this.activeEmitter.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel) {}

  get shown(): ProfileInput | undefined {
    return this.active?.input;
  }

  get activePanel(): FlamegraphPanel | undefined {
    return this.active;
  }

  open(input: ProfileInput): FlamegraphPanel {
    const panel = new FlamegraphPanel(this.extensionUri, input, this.resolver, this.log);
    this.panels.add(panel);
    panel.onDidInteract(() => this.setActive(panel));
    panel.onDidChangeInput((input) => {
      if (this.active === panel) this.activeEmitter.fire(input);
    });
    panel.onDidDispose(() => {
      this.panels.delete(panel);
      if (this.active === panel) this.setActive([...this.panels].at(-1));
    });
    this.setActive(panel);
    return panel;
  }

  private setActive(panel: FlamegraphPanel | undefined): void {
    if (this.active === panel) return;
    this.active = panel;
    this.activeEmitter.fire(panel?.input);
  }

  dispose(): void {
    for (const p of [...this.panels]) p.dispose();
    this.activeEmitter.dispose();
  }
}
