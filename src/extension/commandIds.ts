/**
 * Every command the extension contributes. package.json's `contributes.commands` must list exactly these
 * (a unit test checks), and commands.ts must handle each (the type checker checks).
 */
export const COMMAND_IDS = [
  'streamgate.connect',
  'streamgate.disconnect',
  'streamgate.showStatus',
  'streamgate.showLogs',
  'streamgate.restartServer',
  'streamgate.refreshFleet',
  'streamgate.startSandboxFleet',
  'streamgate.stopSandboxFleet',
  'streamgate.openProfile',
  'streamgate.compareProfiles',
  'streamgate.profilePod',
  'streamgate.toggleHotCode',
  'streamgate.showInFlamegraph',
  'streamgate.openDashboard',
  'streamgate.openPredictions',
  'streamgate.openRunbook',
  'streamgate.refreshAlerts',
  'streamgate.openTraceViewer',
  'streamgate.openLogAnalyzer',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];

/** Context keys set by the extension, used in `when` and `enablement` clauses of package.json. */
export const CONTEXT_KEYS = {
  serverRunning: 'streamgate.serverRunning',
  connected: 'streamgate.connected',
  sandboxRunning: 'streamgate.sandboxRunning',
  hotCode: 'streamgate.hotCodeOn',
} as const;
