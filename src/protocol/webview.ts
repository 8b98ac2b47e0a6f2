/**
 * Messages between the extension and its webviews, one pair of unions per panel, named by direction.
 * Messages from a webview are validated by the extension before use.
 */
import * as z from 'zod/mini';
import './schema';
import { DASHBOARD_TABS, DashboardQuerySchema, type DashboardData, type DashboardQuery, type DashboardTab } from './analytics';
import { MAX_HORIZON_MS, MIN_HORIZON_MS, type PredictionsData, type PredictionsQuery } from './predict';
import { LogTemplateQuerySchema, LogTemplatesQuerySchema, type LogTemplateDetail, type LogTemplatesQuery, type LogTemplatesResult } from './logs';
import { LogSiteSchema } from './nats';
import type { ServerStatus } from './status';
import { TraceSearchQuerySchema, type SpanDetail, type TraceSearchQuery, type TraceSearchResult, type TraceView } from './traces';

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

// --- Predictions --------------------------------------------------------------------------------------------------

export type PredictionsToWebview =
  /** The service and horizon to show. */
  | { type: 'query'; query: PredictionsQuery }
  /** Forecasts for the current query; `receivedAt` is when the extension got them. */
  | { type: 'data'; data: PredictionsData; receivedAt: number }
  | { type: 'error'; message: string };

export const PredictionsFromWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** The user picked another service or horizon. */
  z.object({
    type: z.literal('query'),
    query: z.object({
      service: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
      horizonMs: z.optional(z.number().check(z.int(), z.minimum(MIN_HORIZON_MS), z.maximum(MAX_HORIZON_MS))),
    }),
  }),
  z.object({ type: z.literal('refresh') }),
]);
export type PredictionsFromWebview = z.infer<typeof PredictionsFromWebviewSchema>;

// --- Trace viewer -------------------------------------------------------------------------------------------

/** The trace viewer shows up to two traces side by side: slot 0, and slot 1 for a comparison. */
export type TraceSlot = 0 | 1;

export type TracesToWebview =
  /** The search list (what the query found, and traces per route). */
  | { type: 'search'; query: TraceSearchQuery; result: TraceSearchResult }
  | { type: 'trace'; slot: TraceSlot; view: TraceView }
  | { type: 'detail'; slot: TraceSlot; traceId: string; detail: SpanDetail }
  | { type: 'closed'; slot: TraceSlot }
  | { type: 'error'; message: string };

const TraceIdText = z.string().check(z.regex(/^[0-9a-fA-F]{32}$/));
const Slot = z.union([z.literal(0), z.literal(1)]);

export const TracesFromWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('search'), query: TraceSearchQuerySchema }),
  z.object({ type: z.literal('open'), traceId: TraceIdText, slot: Slot }),
  z.object({ type: z.literal('close'), slot: Slot }),
  z.object({ type: z.literal('select'), traceId: TraceIdText, slot: Slot, row: z.number().check(z.int(), z.nonnegative()) }),
  /** Jump to the code of a row's span (code.filepath/lineno, else its route's handler). */
  z.object({ type: z.literal('openSource'), traceId: TraceIdText, slot: Slot, row: z.number().check(z.int(), z.nonnegative()) }),
  /** The trace's log templates in the log analyzer. */
  z.object({ type: z.literal('openLogs'), traceId: TraceIdText }),
]);
export type TracesFromWebview = z.infer<typeof TracesFromWebviewSchema>;

// --- Log analyzer -------------------------------------------------------------------------------------------

export type LogsToWebview =
  | { type: 'query'; query: LogTemplatesQuery }
  | { type: 'templates'; query: LogTemplatesQuery; result: LogTemplatesResult; receivedAt: number }
  | { type: 'template'; detail: LogTemplateDetail }
  | { type: 'error'; message: string };

export const LogsFromWebviewSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('query'), query: LogTemplatesQuerySchema }),
  z.object({ type: z.literal('template'), query: LogTemplateQuerySchema }),
  z.object({ type: z.literal('openSite'), site: LogSiteSchema }),
  z.object({ type: z.literal('openTrace'), traceId: TraceIdText }),
]);
export type LogsFromWebview = z.infer<typeof LogsFromWebviewSchema>;
