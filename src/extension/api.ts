/** What `activate` returns: for other extensions and for our own integration tests. */
import type { FleetReady } from '../protocol/cli';
import type { PodStatus } from '../protocol/nats';
import type { ServerStatus } from '../protocol/status';

export interface StreamGateApi {
  /** Evaluating the bundle plus running `activate`, in milliseconds. */
  readonly activationMs: number;
  /** Resolves when the language server has answered its first status request. */
  readonly serverReady: Promise<void>;
  status(): Promise<ServerStatus>;
  statusBarText(): string;
  /** The pods the language server last saw. */
  pods(): PodStatus[];
  /** The sandbox fleet this window started, if any. */
  sandbox(): FleetReady | undefined;
}
