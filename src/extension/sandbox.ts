/**
 * "Start sandbox fleet": runs `sg fleet up` as a child process (it starts NATS, the pods and the load
 * generator), waits for its ready line, and points the extension at its NATS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as vscode from 'vscode';
import { FLEET_READY_PREFIX, FleetReadySchema, type FleetReady } from '../protocol/cli';
import { check } from '../protocol/schema';
import { CONTEXT_KEYS } from './commandIds';
import type { Config } from './config';

export class SandboxFleet implements vscode.Disposable {
  private child: ChildProcess | undefined;
  private ready: FleetReady | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly config: Config, private readonly output: vscode.LogOutputChannel) {}

  get info(): FleetReady | undefined {
    return this.ready;
  }

  async start(pods = 3): Promise<FleetReady> {
    if (this.child && this.ready) {
      void vscode.window.showInformationMessage(`The sandbox fleet is already running on ${this.ready.nats}.`);
      return this.ready;
    }
    const ready = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'StreamGate: starting the sandbox fleet', cancellable: true },
      (progress, token) => this.launch(pods, progress, token),
    );
    await this.config.setNatsUrl(ready.nats);
    await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.sandboxRunning, true);
    void vscode.window.showInformationMessage(`Sandbox fleet up: ${ready.pods.length} pods on ${ready.nats}.`);
    return ready;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const nats = this.ready?.nats;
    this.child = undefined;
    this.ready = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    // Do not leave the extension pointing at the NATS that just went away with the fleet.
    if (nats && this.config.natsUrl === nats) await this.config.setNatsUrl('');
    await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.sandboxRunning, false);
  }

  private launch(pods: number, progress: vscode.Progress<{ message?: string }>, token: vscode.CancellationToken): Promise<FleetReady> {
    const cli = this.context.asAbsolutePath('dist/cli.js');
    // The fleet's state (NATS store, logs, pod data) lives in the extension's storage, not the user's home.
    const stateDir = path.join(this.context.globalStorageUri.fsPath, 'sandbox-fleet');
    const child = spawn(process.execPath, [cli, 'fleet', 'up', '--pods', String(pods), '--state-dir', stateDir], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    return new Promise<FleetReady>((resolve, reject) => {
      const stderr: string[] = [];
      readline.createInterface({ input: child.stderr }).on('line', (line) => {
        stderr.push(line);
        if (stderr.length > 30) stderr.shift();
        this.output.info(`[fleet] ${line}`);
        progress.report({ message: line.replace(/^\S+\s+\S+\s+/, '').slice(0, 80) });
      });
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.startsWith(FLEET_READY_PREFIX)) {
          this.output.info(`[fleet] ${line}`);
          return;
        }
        const parsed = check(FleetReadySchema, safeJson(line.slice(FLEET_READY_PREFIX.length)));
        if (!parsed.ok) {
          reject(new Error(`sg fleet up printed an unreadable ready line (${parsed.error}): ${line}`));
          return;
        }
        this.ready = parsed.value;
        resolve(parsed.value);
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        this.ready = undefined;
        void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.sandboxRunning, false);
        reject(new Error(`the sandbox fleet stopped (${signal ?? `exit code ${code}`}): ${stderr.slice(-3).join(' | ') || 'no output'}`));
      });
      token.onCancellationRequested(() => void this.stop());
    });
  }

  dispose(): void {
    if (this.child) signalGroup(this.child, 'SIGTERM');
    this.child = undefined;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
