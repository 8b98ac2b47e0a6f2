/**
 * Custom LSP messages between the extension (client) and the language server. Each message is a namespace
 * with its method name and a typed message type, so both sides share one definition.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { ServerStatus } from './status';
import type { PodStatus } from './nats';
import type { ServerSettings } from './settings';

/** What the client sends as `initializationOptions`. */
export interface InitializationOptions {
  settings: ServerSettings;
}

export namespace StatusRequest {
  export const method = 'streamgate/status';
  export const type = new RequestType0<ServerStatus, void>(method);
}

/** Pushed by the server whenever NATS or the store changes state. */
export namespace StatusChangedNotification {
  export const method = 'streamgate/statusChanged';
  export const type = new NotificationType<ServerStatus>(method);
}

/** Replaces the server's settings (reconnecting to NATS or reopening the store where they changed). */
export namespace ConfigureRequest {
  export const method = 'streamgate/configure';
  export const type = new RequestType<ServerSettings, ServerStatus, void>(method);
}

/** The live pods, asked of the fleet now (Refresh). */
export namespace PodsRequest {
  export const method = 'streamgate/pods';
  export const type = new RequestType0<PodStatus[], void>(method);
}

/** Pushed when the set of pods or their health changes. */
export namespace PodsChangedNotification {
  export const method = 'streamgate/podsChanged';
  export const type = new NotificationType<PodStatus[]>(method);
}

/** A CPU or heap profile from a live pod, taken by the server over NATS (gzipped pprof, base64). */
export namespace PodProfileRequest {
  export const method = 'streamgate/podProfile';
  export interface Params {
    pod: string;
    type: 'cpu' | 'heap';
    seconds?: number;
  }
  export interface Result {
    pprofBase64: string;
    pod: string;
    type: 'cpu' | 'heap';
    seconds?: number;
  }
  export const type = new RequestType<Params, Result, void>(method);
}
