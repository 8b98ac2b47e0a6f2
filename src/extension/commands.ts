/** The command table: one handler per id in COMMAND_IDS; the type makes a missing one a compile error. */
import * as vscode from 'vscode';
import type { OpenDashboardArgs } from '../protocol/lsp';
import { DEFAULT_ALERT_RULES } from '../protocol/predict';
import { isNatsUrlList } from '../protocol/settings';
import type { Ctx } from './ctx';
import type { CommandId } from './commandIds';
import { compareProfiles, openProfile, profilePod, showInFlamegraph } from './profiles/profileCommands';

type Handler = (ctx: Ctx, ...args: unknown[]) => unknown;

const RUNBOOK_RULES = DEFAULT_ALERT_RULES.map((r) => r.id);

export const commandHandlers: Record<CommandId, Handler> = {
  'streamgate.connect': async (ctx) => {
    const url = await vscode.window.showInputBox({
      title: 'Connect to NATS',
      prompt: 'URL of the StreamGate fleet\'s NATS server (comma-separate a cluster)',
      value: ctx.config.natsUrl || 'nats://127.0.0.1:4222',
      ignoreFocusOut: true,
      validateInput: (value) => (isNatsUrlList(value) ? undefined : 'Expected nats://host:port (or tls://, ws://, wss://), comma-separated for a cluster'),
    });
    if (url === undefined) return;
    await ctx.config.setNatsUrl(url.trim());
  },
  'streamgate.disconnect': async (ctx) => {
    await ctx.config.setNatsUrl('');
  },
  'streamgate.showStatus': (ctx) => ctx.statusPanel.show(),
  'streamgate.showLogs': (ctx) => ctx.output.show(true),
  'streamgate.restartServer': (ctx) => ctx.restartServer(),
  'streamgate.refreshFleet': (ctx) => ctx.client.pods(),
  'streamgate.startSandboxFleet': (ctx) => ctx.sandbox.start(),
  'streamgate.stopSandboxFleet': (ctx) => ctx.sandbox.stop(),
  'streamgate.openProfile': (ctx, ...args) => openProfile(ctx, args[0]),
  'streamgate.compareProfiles': (ctx, ...args) => compareProfiles(ctx, args[0], args[1]),
  'streamgate.profilePod': (ctx, ...args) => profilePod(ctx, args[0]),
  'streamgate.toggleHotCode': (ctx) => ctx.profiles.hotCode.toggle(),
  'streamgate.showInFlamegraph': (ctx, ...args) => showInFlamegraph(ctx, args[0]),
  'streamgate.openDashboard': (ctx, args) => ctx.dashboard.show(isOpenDashboardArgs(args) ? args : {}),
  'streamgate.openPredictions': (ctx, args) => ctx.predictions.show(isPredictionsArgs(args) ? args : undefined),
  'streamgate.openRunbook': (ctx, rule) => openRunbook(ctx, rule),
  'streamgate.refreshAlerts': (ctx) => ctx.alerts.reload(),
  // With { traceId } (a link, another panel, a test): that trace; from the palette: the slowest of the last 15 minutes.
  'streamgate.openTraceViewer': (ctx, args) => ctx.traces.show(stringField(args, 'traceId', /^[0-9a-fA-F]{32}$/)),
  'streamgate.openLogAnalyzer': (ctx, args) => {
    const traceId = stringField(args, 'traceId', /^[0-9a-fA-F]{32}$/);
    const pod = stringField(args, 'pod', /^.+$/);
    ctx.logs.show({ ...(traceId ? { traceId } : {}), ...(pod ? { pod } : {}) });
  },
};

function isPredictionsArgs(value: unknown): value is { service?: string; horizonMs?: number } {
  if (typeof value !== 'object' || value === null) return false;
  const { service, horizonMs } = value as Record<string, unknown>;
  return (service === undefined || typeof service === 'string') && (horizonMs === undefined || typeof horizonMs === 'number');
}

/** A rule's runbook ships in the VSIX (docs/runbooks/<id>.md); it opens as a Markdown preview. */
async function openRunbook(ctx: Ctx, rule: unknown): Promise<void> {
  const id = typeof rule === 'string' && /^[a-z0-9-]+$/.test(rule) ? rule : await vscode.window.showQuickPick(RUNBOOK_RULES, { title: 'Open the runbook of an alert rule' });
  if (!id) return;
  const uri = vscode.Uri.joinPath(ctx.context.extensionUri, 'docs', 'runbooks', `${id}.md`);
  await vscode.commands.executeCommand('markdown.showPreview', uri);
}

/** A string field of an argument object, when it is there and has the expected form. */
function stringField(value: unknown, field: string, form: RegExp): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const text = (value as Record<string, unknown>)[field];
  return typeof text === 'string' && form.test(text) ? text : undefined;
}

/** Arguments come from hovers and code lenses (the server) or from the palette (none): accept only the known shape. */
function isOpenDashboardArgs(value: unknown): value is OpenDashboardArgs {
  if (typeof value !== 'object' || value === null) return false;
  const { filters, metric, tab } = value as Record<string, unknown>;
  const strings = (o: unknown) => typeof o === 'object' && o !== null && Object.values(o).every((v) => typeof v === 'string');
  return (filters === undefined || strings(filters)) && (metric === undefined || typeof metric === 'string') && (tab === undefined || typeof tab === 'string');
}

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return (Object.entries(commandHandlers) as [CommandId, Handler][]).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(ctx, ...args);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        ctx.output.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(`StreamGate: ${message}`);
        return undefined;
      }
    }),
  );
}
