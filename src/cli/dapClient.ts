/**
 * Drives the StreamGate debug adapter in-process, over DAP messages, the way VS Code drives an inline adapter
 * (`handleMessage` in, `onDidSendMessage` out): `sg debug` uses the very adapter the editor uses.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { StreamGateDebugSession } from '../adapter/session';

type EventListener = (event: DebugProtocol.Event) => void;

export class InlineDapClient {
  private readonly session = new StreamGateDebugSession();
  private seq = 1;
  private readonly pending = new Map<number, { resolve: (body: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Map<string, Set<EventListener>>();

  constructor() {
    this.session.onDidSendMessage((message) => this.receive(message as DebugProtocol.ProtocolMessage));
  }

  request<T = unknown>(command: string, args?: unknown): Promise<T> {
    const seq = this.seq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (body: unknown) => void, reject });
      this.session.handleMessage({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  on(event: string, listener: EventListener): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener);
    this.listeners.set(event, set);
    return () => set.delete(listener);
  }

  /** The next event of a kind (that `accept` takes), or a rejection after `timeoutMs`. */
  next(event: string, timeoutMs: number, accept: (e: DebugProtocol.Event) => boolean = () => true): Promise<DebugProtocol.Event> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timeout waiting for ${event}`));
      }, timeoutMs);
      const off = this.on(event, (e) => {
        if (!accept(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  }

  dispose(): void {
    this.session.dispose();
  }

  private receive(message: DebugProtocol.ProtocolMessage): void {
    if (message.type === 'response') {
      const response = message as DebugProtocol.Response;
      const waiter = this.pending.get(response.request_seq);
      if (!waiter) return;
      this.pending.delete(response.request_seq);
      if (response.success) waiter.resolve(response.body);
      else waiter.reject(new Error(errorText(response)));
    } else if (message.type === 'event') {
      const event = message as DebugProtocol.Event;
      for (const listener of this.listeners.get(event.event) ?? []) listener(event);
    }
  }
}

function errorText(response: DebugProtocol.Response): string {
  const error = (response.body as { error?: DebugProtocol.Message } | undefined)?.error;
  if (!error) return response.message ?? 'the request failed';
  return error.format.replace(/\{(\w+)\}/g, (match, key: string) => error.variables?.[key] ?? match);
}
