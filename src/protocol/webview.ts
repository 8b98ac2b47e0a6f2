/**
 * Messages between the extension and its webviews, one pair of unions per panel, named by direction.
 * Messages from a webview are validated by the extension before use.
 */
import * as z from 'zod/mini';
import './schema';
import type { ServerStatus } from './status';

// --- Status panel -----------------------------------------------------------------------------------------
export type StatusToWebview =
  | { type: 'status'; status: ServerStatus; receivedAt: number }
  | { type: 'unavailable'; reason: string };

export const StatusFromWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('refresh') }),
]);
export type StatusFromWebview = z.infer<typeof StatusFromWebviewSchema>;
