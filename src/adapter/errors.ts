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
