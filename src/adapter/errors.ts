/**
 * Every DAP request's failure goes through here: a ProtocolError reaches the user as written; anything else
 * becomes a numbered internal error and the session carries on.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { AdapterErrorId } from '../protocol/dap';

export class ProtocolError extends Error {
  constructor(readonly id: AdapterErrorId, message: string, readonly showUser = true) {
    super(message);
  }
}

/** Requests that would pause or move a pod's execution: a live pod is never paused, so none of them exist. */
export const EXECUTION_CONTROL_COMMANDS = ['next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'restartFrame', 'goto', 'pause', 'setVariable', 'setExpression'] as const;

export function notOnLivePod(command: string): ProtocolError {
  const what = command === 'pause' ? 'Pausing' : command === 'setVariable' || command === 'setExpression' ? 'Changing a value' : 'Stepping';
  return new ProtocolError(
    AdapterErrorId.NotSupportedOnLivePod,
    `${what} is not supported on a live pod: StreamGate takes snapshots and never pauses or changes a pod. Use Continue to see the next snapshot.`,
  );
}

export function toDapMessage(error: unknown): DebugProtocol.Message {
  if (error instanceof ProtocolError) {
    return { id: error.id, format: error.message, showUser: error.showUser };
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    id: AdapterErrorId.Internal,
    format: `Internal error in the StreamGate debug adapter: {detail}`,
    variables: { detail: detail.split('\n')[0] ?? detail },
    showUser: true,
    sendTelemetry: false,
  };
}
