/**
 * The log analyzer's questions, answered from the store's log_counts and log_lines and the miner's template
 * texts: templates of a range with sparklines, trend and novelty; one template's lines and parameter values.
 * Counts are grouped by the id each stored id resolves to now, so templates merged since count as one.
 */
import type { Logger } from '../../common/logger';
import {
  parseSite,
  type LogLineRow,
  type LogTemplateDetail,
  type LogTemplateQuery,
  type LogTemplateRow,
  type LogTemplatesQuery,
  type LogTemplatesResult,
} from '../../protocol/logs';
import type { LogSite } from '../../protocol/nats';
import type { Store } from '../store';
import { join, raw, sql, type Sql } from '../store/sql';
import { loadMiner, type LogTemplateEvents, type LogTemplateIndex } from './templateIndex';
import type { TemplateMiner } from './templateMiner';

export interface LogsApi {
  templates(query: LogTemplatesQuery): Promise<LogTemplatesResult>;
  template(query: LogTemplateQuery): Promise<LogTemplateDetail>;
}

export const DEFAULT_LOG_RANGE_MS = 15 * 60_000;
const MINUTE_MS = 60_000;
const MAX_BUCKETS = 60;

export class LogTemplateNotFoundError extends Error {}

export class LocalLogs implements LogsApi {
  private loaded: { miner: TemplateMiner; at: number } | undefined;

  constructor(
    private readonly store: () => Store,
    private readonly index: () => LogTemplateIndex | undefined,
    private readonly events: LogTemplateEvents,
    private readonly log: Logger,
  ) {}

  /** The ingesting miner, or (a server that does not ingest) the saved state, read again every 30 s. */
  private async miner(): Promise<TemplateMiner> {
    const live = this.index();
    if (live) return live.miner;
    if (!this.loaded || Date.now() - this.loaded.at > 30_000) this.loaded = { miner: await loadMiner(this.store(), this.log), at: Date.now() };
    return this.loaded.miner;
  }

  async templates(query: LogTemplatesQuery, now = Date.now()): Promise<LogTemplatesResult> {
    const store = this.store();
    const miner = await this.miner();
    const to = query.to ?? now;
    const from = query.from ?? to - DEFAULT_LOG_RANGE_MS;
    const bucketMs = Math.max(MINUTE_MS, Math.ceil((to - from) / MAX_BUCKETS / MINUTE_MS) * MINUTE_MS);
    const buckets = Math.max(1, Math.ceil((to - from) / bucketMs));
    const fromBucket = Math.floor(from / bucketMs) * bucketMs;
    const byLines = query.traceId !== undefined;
    const bucket = store.dialect === 'duckdb' ? sql`(ts - ${fromBucket}) // ${bucketMs}` : sql`intDiv(ts - ${fromBucket}, ${bucketMs})`;
    const rows = await store.query(
      join(
        [
          raw('SELECT'),
          bucket,
          raw(`AS b, template_id, level, pod, ${byLines ? 'count(*)' : 'sum(count)'} AS n FROM ${byLines ? 'log_lines' : 'log_counts'} WHERE`),
          filters(query, byLines ? from : Math.floor(from / MINUTE_MS) * MINUTE_MS, to),
          raw('GROUP BY b, template_id, level, pod'),
        ],
        ' ',
      ),
    );
    const rowsById = new Map<number, LogTemplateRow & { podSet: Set<string> }>();
    let lines = 0;
    for (const r of rows) {
      const stored = Number(r.template_id);
      const id = miner.resolve(stored) ?? stored;
      let row = rowsById.get(id);
      if (!row) {
        const summary = miner.template(id);
        row = {
          id,
          template: summary?.template ?? `(template ${id}: not known to this server's miner)`,
          version: summary?.version ?? 0,
          count: 0,
          sparkline: new Array<number>(Math.ceil((to - fromBucket) / bucketMs) || buckets).fill(0),
          trend: null,
          firstSeen: 0,
          levels: {},
          pods: [],
          podSet: new Set(),
          anomalies: [],
        };
        rowsById.set(id, row);
      }
      const n = Number(r.n);
      const b = Math.min(row.sparkline.length - 1, Math.max(0, Number(r.b)));
      row.sparkline[b]! += n;
      row.count += n;
      lines += n;
      const level = String(r.level) as keyof LogTemplateRow['levels'];
      row.levels[level] = (row.levels[level] ?? 0) + n;
      row.podSet.add(String(r.pod));
    }
    const ids = [...rowsById.keys()];
    const firstSeen = await this.firstSeen(store, miner, ids);
    const storedSites = await this.sites(store, miner, ids.filter((id) => !this.index()?.site(id)), from);
    const recent = this.events.recent();
    const templates: LogTemplateRow[] = [...rowsById.values()].map(({ podSet, ...row }) => {
      const half = Math.floor(row.sparkline.length / 2);
      const first = row.sparkline.slice(0, half).reduce((a, b) => a + b, 0) / Math.max(1, half);
      const second = row.sparkline.slice(half).reduce((a, b) => a + b, 0) / Math.max(1, row.sparkline.length - half);
      const site = this.index()?.site(row.id) ?? storedSites.get(row.id);
      return {
        ...row,
        pods: [...podSet].sort(),
        trend: first > 0 ? second / first : null,
        firstSeen: firstSeen.get(row.id) ?? 0,
        ...(site ? { site } : {}),
        anomalies: recent.filter((a) => (miner.resolve(a.templateId) ?? a.templateId) === row.id && a.minute >= from - MINUTE_MS && a.minute <= to).reverse(),
      };
    });
    const sort = query.sort ?? 'count';
    templates.sort((a, b) =>
      sort === 'novelty' ? b.firstSeen - a.firstSeen || b.count - a.count : sort === 'trend' ? (b.trend ?? -1) - (a.trend ?? -1) || b.count - a.count : b.count - a.count || a.id - b.id,
    );
    const stats = miner.stats();
    return {
      from,
      to,
      bucketMs,
      templates: templates.slice(0, query.limit ?? 500),
      lines,
      damage: { binary: stats.binary, invalidUtf8: stats.invalidUtf8, truncated: stats.truncated, empty: stats.empty },
    };
  }

  async template(query: LogTemplateQuery, now = Date.now()): Promise<LogTemplateDetail> {
    const store = this.store();
    const miner = await this.miner();
    const id = miner.resolve(query.templateId) ?? query.templateId;
    const summary = miner.template(id);
    if (!summary) throw new LogTemplateNotFoundError(`no log template ${query.templateId} in this server's miner`);
    const to = query.to ?? now;
    const from = query.from ?? to - DEFAULT_LOG_RANGE_MS;
    const ids = [id, ...summary.absorbed];
    const rows = await store.query(
      join(
        [
          raw('SELECT ts, id, service, pod, level, trace_id, params, site FROM log_lines WHERE'),
          filters(query, from, to),
          { text: `AND template_id IN (${ids.map(() => '?').join(', ')})`, params: ids },
          sql`ORDER BY ts DESC LIMIT ${query.limit ?? 200}`,
        ],
        ' ',
      ),
    );
    const messages = new Map<string, string>();
    if (rows.length) {
      const lineIds = rows.map((r) => String(r.id));
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (const r of rows) {
        minTs = Math.min(minTs, Number(r.ts));
        maxTs = Math.max(maxTs, Number(r.ts));
      }
      const found = await store.query({
        text: `SELECT id, msg FROM logs WHERE ts >= ? AND ts <= ? AND id IN (${lineIds.map(() => '?').join(', ')})`,
        params: [minTs, maxTs, ...lineIds],
      });
      for (const f of found) messages.set(String(f.id), String(f.msg));
    }
    const lines: LogLineRow[] = rows.map((r) => {
      const site = parseSite(String(r.site ?? ''));
      return {
        ts: Number(r.ts),
        id: String(r.id),
        service: String(r.service),
        pod: String(r.pod),
        level: String(r.level),
        traceId: String(r.trace_id ?? ''),
        msg: messages.get(String(r.id)) ?? '',
        params: ((r.params as string[] | undefined) ?? []).map(String),
        ...(site ? { site } : {}),
      };
    });
    const site = this.index()?.site(id) ?? lines.find((l) => l.site)?.site;
    return {
      id,
      template: summary.template,
      version: summary.version,
      versions: summary.versions.map((v) => ({ version: v.version, template: v.template })),
      lines,
      params: paramValues(lines),
      ...(site ? { site } : {}),
    };
  }

  private async firstSeen(store: Store, miner: TemplateMiner, ids: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (!ids.length) return out;
    const all = ids.flatMap((id) => [id, ...(miner.template(id)?.absorbed ?? [])]);
    const rows = await store.query({ text: `SELECT template_id, min(ts) AS first FROM log_counts WHERE template_id IN (${all.map(() => '?').join(', ')}) GROUP BY template_id`, params: all });
    for (const r of rows) {
      const id = miner.resolve(Number(r.template_id)) ?? Number(r.template_id);
      const first = Number(r.first);
      out.set(id, Math.min(out.get(id) ?? Infinity, first));
    }
    return out;
  }

  private async sites(store: Store, miner: TemplateMiner, ids: number[], from: number): Promise<Map<number, LogSite>> {
    const out = new Map<number, LogSite>();
    if (!ids.length) return out;
    const all = ids.flatMap((id) => [id, ...(miner.template(id)?.absorbed ?? [])]);
    const rows = await store.query({
      text: `SELECT template_id, max(site) AS last_site FROM log_lines WHERE ts >= ? AND site != '' AND template_id IN (${all.map(() => '?').join(', ')}) GROUP BY template_id`,
      params: [Math.floor(from - 24 * 3600_000), ...all],
    });
    for (const r of rows) {
      const site = parseSite(String(r.last_site));
      if (site) out.set(miner.resolve(Number(r.template_id)) ?? Number(r.template_id), site);
    }
    return out;
  }
}

function filters(query: LogTemplatesQuery | LogTemplateQuery, from: number, to: number): Sql {
  const parts: Sql[] = [sql`ts >= ${Math.floor(from)}`, sql`ts <= ${Math.ceil(to)}`];
  if (query.service) parts.push(sql`service = ${query.service}`);
  if (query.pod) parts.push(sql`pod = ${query.pod}`);
  if (query.level) parts.push(sql`level = ${query.level}`);
  if (query.traceId) parts.push(sql`trace_id = ${query.traceId.toLowerCase()}`);
  return join(parts, ' AND ');
}

function paramValues(lines: readonly LogLineRow[]): LogTemplateDetail['params'] {
  const positions: Map<string, number>[] = [];
  for (const line of lines) {
    line.params.forEach((value, i) => {
      const counts = (positions[i] ??= new Map());
      counts.set(value, (counts.get(value) ?? 0) + 1);
    });
  }
  return positions.map((counts, position) => ({
    position,
    distinct: counts.size,
    values: [...counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 10)
      .map(([value, count]) => ({ value, count })),
  }));
}
