/** The webview side of a panel's typed channel. */
interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export interface Messenger<TTo, TFrom> {
  post(message: TFrom): void;
  onMessage(handler: (message: TTo) => void): void;
}

export function createMessenger<TTo, TFrom>(): Messenger<TTo, TFrom> {
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    onMessage: (handler) => window.addEventListener('message', (event: MessageEvent<TTo>) => handler(event.data)),
  };
}
