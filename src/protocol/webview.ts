/**
 * Messages between the extension and its webviews, one pair of unions per panel, named by direction.
 * Messages from a webview are validated by the extension before use.
 */
import * as z from 'zod/mini';
import './schema';
import { DASHBOARD_TABS, DashboardQuerySchema, type DashboardData, type DashboardQuery, type DashboardTab } from './analytics';
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

// --- Analytics dashboard ------------------------------------------------------------------------------------

export type DashboardToWebview =
  /** The view to show (from the command that opened the panel, or restored). */
  | { type: 'query'; query: DashboardQuery; tab: DashboardTab }
  /** Figures for the current query; `receivedAt` is when the extension got them. */
  | { type: 'data'; data: DashboardData; receivedAt: number }
  /** The language server went away (restart, crash) or came back; while away the figures freeze. */
  | { type: 'server'; state: 'away' | 'back'; since: number; awayFrom?: number }
  | { type: 'error'; message: string };

export const DashboardFromWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** The user changed the range, a filter or the tab. */
  z.object({ type: z.literal('query'), query: DashboardQuerySchema, tab: z.enum(DASHBOARD_TABS) }),
]);
export type DashboardFromWebview = z.infer<typeof DashboardFromWebviewSchema>;
