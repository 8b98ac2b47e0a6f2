/**
 * The StreamGate debug adapter: a DAP session whose debuggee is a fleet of pods reached over NATS. It knows
 * nothing of VS Code; the extension runs it inline and the CLI and tests run it as a process (main.ts).
 */
import { DebugSession, InitializedEvent, OutputEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { connect, type NatsConnection } from 'nats';
import { explainNatsError, natsConnectionOptions } from '../common/natsOptions';
import { AdapterErrorId, AttachArgumentsSchema, type AttachArguments } from '../protocol/dap';
import { check } from '../protocol/schema';
import { redactUrl } from '../protocol/settings';
import { ProtocolError, toDapMessage } from './errors';

export class StreamGateDebugSession extends DebugSession {
  private nc: NatsConnection | undefined;
  private attached: AttachArguments | undefined;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportTerminateDebuggee: false,
      supportsTerminateRequest: false,
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override attachRequest(response: DebugProtocol.AttachResponse, args: DebugProtocol.AttachRequestArguments): void {
    this.handle(response, async () => {
      const parsed = check(AttachArgumentsSchema, (args as DebugProtocol.AttachRequestArguments | undefined) ?? {}) // a client may send none;
      if (!parsed.ok) throw new ProtocolError(AdapterErrorId.BadAttachArguments, `Invalid StreamGate attach configuration: ${parsed.error}`);
      const config = parsed.value;
      const url = redactUrl(config.nats);
      try {
        this.nc = await connect({
          ...natsConnectionOptions({ ...config.natsOptions, url: config.nats }, `streamgate-debug-${process.pid}`),
          timeout: config.connectTimeoutMs ?? 5000,
          maxReconnectAttempts: -1,
        });
      } catch (error) {
        throw new ProtocolError(AdapterErrorId.NatsUnreachable, `Cannot attach: ${explainNatsError(error, url)}`);
      }
      this.attached = config;
      this.sendEvent(new OutputEvent(`Attached to the StreamGate fleet at ${url}\n`, 'console'));
    });
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    // Snapshot breakpoints are not implemented yet: report every breakpoint as not installed, with the reason.
    response.body = {
      breakpoints: (args.breakpoints ?? []).map((bp) => ({
        verified: false,
        line: bp.line,
        message: 'Snapshot breakpoints are not available in this version of StreamGate DevTools',
      })),
    };
    this.sendResponse(response);
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    this.handle(response, async () => {
      if (!this.attached) throw new ProtocolError(AdapterErrorId.NotAttached, 'Not attached to a fleet yet', false);
      response.body = { threads: [] };
    });
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.handle(response, async () => {
      const nc = this.nc;
      this.nc = undefined;
      this.attached = undefined;
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
    });
  }

  /** Runs a request's work and answers it: the body on success, a DAP error message on failure. */
  private handle<R extends DebugProtocol.Response>(response: R, work: () => Promise<void>): void {
    work().then(
      () => this.sendResponse(response),
      (error: unknown) => {
        const message = toDapMessage(error);
        this.sendErrorResponse(response, message);
      },
    );
  }
}
