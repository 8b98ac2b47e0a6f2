/**
 * One flamegraph panel per opened profile (or diff). The model is built here, in the extension host
 * (src/server/profiles/flame.ts); the webview draws it and asks for more: an unfolded subtree, a sandwich,
 * another transform, the source of a frame.
 */
import * as vscode from 'vscode';
import { FlameFromWebviewSchema, type FlameFromWebview, type FlameSelection, type FlameToWebview, type FlameTransform } from '../../protocol/flamegraph';
import { buildDiffTree, buildFlameTree, buildSandwich, flameData, flameTop, type FlameTree } from '../../server/profiles/flame';
import type { ProfileData } from '../../server/profiles/profileData';
import { WebviewPanelHost } from '../webviewPanel';
import type { SourceResolver } from './sourceResolver';

export interface ProfileInput {
  /** Shown as the panel's title after "Flamegraph: ". */
  name: string;
  /** Where it came from, in words ("3 files", "gw-1, CPU 10 s"). */
  source: string;
  profile: ProfileData;
  merged: number;
  problems: string[];
  /** A diff: the base side. */
  base?: ProfileData;
  /** The fleet's stored profiles: what was selected, and how to select again (the panel's range and label filter). */
  selection?: FlameSelection & { reselect: (rangeMs: number, where: string) => Promise<ProfileInput> };
}

export class FlamegraphPanel implements vscode.Disposable {
  private readonly host: WebviewPanelHost<FlameToWebview, FlameFromWebview>;
  private transform: FlameTransform = { onlyMyCode: false, hidden: [] };
  private tree: FlameTree | undefined;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;
  private readonly interactEmitter = new vscode.EventEmitter<void>();
  /** Fires when the user works in the panel: it is then "the profile shown" for the editor's hot code. */
  readonly onDidInteract = this.interactEmitter.event;

  private readonly inputEmitter = new vscode.EventEmitter<ProfileInput>();
  /** Fires when a new selection replaced the profile shown (the panel's time range or label filter). */
  readonly onDidChangeInput = this.inputEmitter.event;

  constructor(
    extensionUri: vscode.Uri,
    public input: ProfileInput,
    private readonly resolver: SourceResolver,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.host = new WebviewPanelHost<FlameToWebview, FlameFromWebview>(
      extensionUri,
      { viewType: 'streamgate.flamegraph', title: `Flamegraph: ${input.name}`, bundle: 'flamegraph', icon: 'streamgate.svg', fromWebview: FlameFromWebviewSchema },
      log,
    );
    this.host.onDidDispose(() => {
      this.disposeEmitter.fire();
      this.dispose();
    });
    this.host.onMessage((message) => void this.onMessage(message));
  }

  get title(): string {
    return `Flamegraph: ${this.input.name}`;
  }

  reveal(): void {
    this.host.reveal();
  }

  /** Highlights frames matching `query` (a regular expression), as typing in the panel's search box does. */
  search(query: string): void {
    void this.host.post({ type: 'search', query });
  }

  private async onMessage(message: FlameFromWebview): Promise<void> {
    this.interactEmitter.fire();
    try {
      switch (message.type) {
        case 'ready':
          this.tree = undefined;
          this.postModel(0);
          break;
        case 'expand':
          this.postModel(message.id);
          break;
        case 'transform':
          this.transform = message.transform;
          this.tree = undefined;
          this.postModel(0);
          break;
        case 'sandwich': {
          const { callers, callees } = buildSandwich(this.input.profile, message.name, message.file, { transform: { sampleType: this.transform.sampleType } });
          void this.host.post({
            type: 'sandwich',
            name: message.name,
            file: message.file,
            callers: flameData(callers).data,
            callees: flameData(callees).data,
            unit: callees.unit,
            total: callees.total[0] ?? 0,
          });
          break;
        }
        case 'openSource':
          await this.resolver.open(message.file, message.line);
          break;
        case 'select': {
          if (!this.input.selection) break;
          const next = await this.input.selection.reselect(message.rangeMs, message.where);
          this.input = next;
          this.tree = undefined;
          this.postModel(0);
          this.inputEmitter.fire(next);
          break;
        }
        case 'timing':
          this.log.info(`flamegraph ${this.input.name}: ${message.name} ${message.ms.toFixed(1)} ms (${this.tree?.total.length ?? 0} frames)`);
          break;
      }
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.log.error(`flamegraph ${this.input.name}: ${text}`);
      void this.host.post({ type: 'error', message: text });
    }
  }

  private buildTree(): FlameTree {
    const options = { transform: this.transform, rootName: this.input.name };
    return this.input.base ? buildDiffTree(this.input.base, this.input.profile, options) : buildFlameTree(this.input.profile, options);
  }

  private postModel(expandedId: number): void {
    const started = performance.now();
    const tree = (this.tree ??= this.buildTree());
    const { data, foldedNodes } = flameData(tree, { expandedId });
    const top = flameTop(tree);
    const view = {
      title: this.title,
      source: this.input.source,
      unit: tree.unit,
      sampleType: tree.sampleType,
      sampleTypes: this.input.profile.sampleTypes.map((t) => t.type),
      total: tree.total[0] ?? 0,
      profiles: this.input.merged,
      diff: Boolean(this.input.base),
      fullNodes: tree.total.length,
      foldedNodes,
      expandedId,
      transform: this.transform,
      problems: this.input.problems,
      ...(this.input.selection ? { selection: { type: this.input.selection.type, rangeMs: this.input.selection.rangeMs, where: this.input.selection.where } } : {}),
    };
    void this.host.post({ type: 'model', view, data, top });
    this.log.info(`flamegraph ${this.input.name}: model of ${data.total.length} nodes (${foldedNodes} folded) built in ${(performance.now() - started).toFixed(1)} ms`);
  }

  dispose(): void {
    this.host.dispose();
    this.disposeEmitter.dispose();
    this.interactEmitter.dispose();
    this.inputEmitter.dispose();
  }
}
