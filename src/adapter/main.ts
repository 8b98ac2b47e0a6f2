/**
 * The adapter bundle (dist/adapter.js). Run as a process it speaks DAP on stdin/stdout (or `--server=PORT`);
 * required by the extension it only exports the session for an inline adapter.
 */
import { DebugSession } from '@vscode/debugadapter';
import { StreamGateDebugSession } from './session';

export { StreamGateDebugSession };

if (require.main === module) {
  DebugSession.run(StreamGateDebugSession);
}
