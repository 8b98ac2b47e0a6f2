/**
 * MOCK: a stand-in for the `vscode` module, for timing an extension bundle's load and activate outside an
 * editor (the real API exists only inside VS Code's extension host). Every property is a no-op function
 * that returns another stub; nothing is awaited on it.
 */
const NAMESPACES = [
  'window', 'workspace', 'commands', 'debug', 'extensions', 'languages', 'notebooks', 'env', 'tasks', 'tests', 'l10n',
  'Uri', 'EventEmitter', 'Disposable', 'ThemeColor', 'ThemeIcon', 'MarkdownString', 'TreeItem', 'Range', 'Position',
  'StatusBarAlignment', 'ProgressLocation', 'ConfigurationTarget', 'ViewColumn', 'TreeItemCollapsibleState',
  'DebugAdapterExecutable', 'DebugAdapterInlineImplementation', 'CancellationTokenSource', 'RelativePattern',
  'Diagnostic', 'DiagnosticSeverity', 'CodeLens', 'Hover', 'Location', 'FileSystemWatcher', 'DebugConfigurationProviderTriggerKind',
  'NotebookCellKind', 'NotebookCellData', 'NotebookCellOutput', 'NotebookCellOutputItem', 'NotebookData', 'OverviewRulerLane',
];

export function vscodeStub(): Record<string, unknown> {
  // Own keys for bundlers' namespace interop; any other member (classes the language client extends) on demand.
  const module: Record<string, unknown> = {};
  for (const name of NAMESPACES) module[name] = make();
  module.version = '1.100.3';
  return new Proxy(module, {
    get: (target, property) => (property in target ? target[property as string] : property === '__esModule' ? undefined : make()),
  });
}

function make(): unknown {
  return new Proxy(function stub() {}, {
    get(_target, property) {
      if (property === 'then') return undefined; // not a promise
      if (property === Symbol.toPrimitive) return () => '';
      if (property === 'fsPath' || property === 'path') return '/tmp/sg-bench';
      return make();
    },
    set: () => true,
    apply: () => make(),
    construct: () => make() as object,
  });
}

/** An ExtensionContext stand-in: every member a stub. */
export function contextStub(): unknown {
  return make();
}
