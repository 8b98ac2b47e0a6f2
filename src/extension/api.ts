/** What `activate` returns: for other extensions and for our own integration tests. */
import type { FleetReady } from '../protocol/cli';
import type { FleetPod } from '../protocol/lsp';
import type { ServerStatus } from '../protocol/status';

export interface StreamGateApi {
  /** Evaluating the bundle plus running `activate`, in milliseconds. */
  readonly activationMs: number;
  /** Resolves when the language server has answered its first status request. */
  readonly serverReady: Promise<void>;
  status(): Promise<ServerStatus>;
  statusBarText(): string;
  /** What the status webview last reported it rendered, or undefined if it is not open. */
  statusPanelText(): string | undefined;
  /** The pods the language server last saw. */
  pods(): FleetPod[];
  /** The sandbox fleet this window started, if any. */
  sandbox(): FleetReady | undefined;
}
