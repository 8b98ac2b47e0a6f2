/**
 * Log templates as the server answers for them (the log analyzer, `sg logs templates`, other tools): the
 * templates of a range with their counts per minute, one template's lines and parameter values, and the
 * template-rate anomalies. Plain data, importable by the webviews.
 */
import * as z from 'zod/mini';
import './schema';
import { LOG_LEVELS, type LogSite } from './nats';

export const TEMPLATE_SORTS = ['count', 'trend', 'novelty'] as const;
export type TemplateSort = (typeof TEMPLATE_SORTS)[number];

const LogFilterFields = {
  /** Epoch ms; default: 15 minutes before `to`. */
  from: z.optional(z.number()),
  /** Epoch ms; default: now. */
  to: z.optional(z.number()),
  service: z.optional(z.string().check(z.minLength(1))),
  pod: z.optional(z.string().check(z.minLength(1))),
  level: z.optional(z.enum(LOG_LEVELS)),
  traceId: z.optional(z.string().check(z.regex(/^[0-9a-fA-F]{32}$/, 'a trace id is 32 hex digits'))),
};

export const LogTemplatesQuerySchema = z.object({
  ...LogFilterFields,
  sort: z.optional(z.enum(TEMPLATE_SORTS)),
  limit: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(10_000))),
});
export type LogTemplatesQuery = z.infer<typeof LogTemplatesQuerySchema>;

export const LogTemplateQuerySchema = z.object({
  ...LogFilterFields,
  templateId: z.number().check(z.int()),
  limit: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(5000))),
});
export type LogTemplateQuery = z.infer<typeof LogTemplateQuerySchema>;

export type LogTemplateAnomalyKind = 'new' | 'jump' | 'vanished';

/**
 * A template-rate anomaly, as the backend's LogTemplateEvents publishes it (alerts subscribe to these) and as
 * the analyzer shows it. `minute` is the minute's start, epoch ms.
 */
export interface LogTemplateAnomaly {
  kind: LogTemplateAnomalyKind;
  templateId: number;
  template: string;
  minute: number;
  /** Lines in that minute (new, jump). */
  count?: number;
  /** Lines a minute expected from the recent rate (jump), or lines the silence should have held (vanished). */
  expected?: number;
  /** Standard deviations above the recent rate (jump). */
  z?: number;
  /** Minutes without a line (vanished). */
  silentMinutes?: number;
  site?: LogSite;
}

export interface LogTemplateRow {
  id: number;
  template: string;
  version: number;
  /** Lines in the range (with the filters). */
  count: number;
  /** Lines per bucket over the range, oldest first (`bucketMs` each). */
  sparkline: number[];
  /** Second half of the range over the first (lines per minute); 1 flat, > 1 rising; null when the first half is empty. */
  trend: number | null;
  /** Epoch ms of the first minute the store has this template in. */
  firstSeen: number;
  levels: Partial<Record<(typeof LOG_LEVELS)[number], number>>;
  pods: string[];
  site?: LogSite;
  /** Anomalies of this template in the range, latest first. */
  anomalies: LogTemplateAnomaly[];
}

export interface LogTemplatesResult {
  from: number;
  to: number;
  bucketMs: number;
  templates: LogTemplateRow[];
  /** Lines in the range with the filters, all templates. */
  lines: number;
  /** What the miner repaired so far (since the state began): binary junk, invalid UTF-8, lines cut short. */
  damage: { binary: number; invalidUtf8: number; truncated: number; empty: number };
}

export interface LogLineRow {
  ts: number;
  id: string;
  service: string;
  pod: string;
  level: string;
  traceId: string;
  msg: string;
  params: string[];
  site?: LogSite;
}

export interface LogTemplateDetail {
  id: number;
  template: string;
  version: number;
  versions: { version: number; template: string }[];
  lines: LogLineRow[];
  /** Per wildcard of the template: its most frequent values among `lines`. */
  params: { position: number; values: { value: string; count: number }[]; distinct: number }[];
  site?: LogSite;
}

/** `file:line` (or `file:line:column`) as stored with a line; undefined when it is not one. */
export function parseSite(text: string): LogSite | undefined {
  const m = /^(.*):(\d+)(?::(\d+))?$/.exec(text);
  if (!m || !m[1]) return undefined;
  return { file: m[1], line: Number(m[2]), ...(m[3] ? { column: Number(m[3]) } : {}) };
}

export function formatSite(site: LogSite): string {
  return `${site.file}:${site.line}${site.column ? `:${site.column}` : ''}`;
}
