/**
 * The log template miner in the product: every log line the server ingests is mined (templateMiner.ts), its
 * template and parameter values stored beside it (log_lines), its count added to its template's minute
 * (log_counts), and each finished minute judged for template-rate anomalies (templateRates.ts), which are
 * published on LogTemplateEvents for alerts. The miner's state is saved in the store (sg_meta), so template ids
 * survive a restart.
 *
 * One miner per ingesting server: with several servers ingesting into one store (a shared ClickHouse), each
 * mines the lines JetStream gives it and the last one to save wins the saved state (see docs/logs.md).
 */
import { EventEmitter } from 'node:events';
import { errorMessage, type Logger } from '../../common/logger';
import { formatSite, type LogTemplateAnomaly } from '../../protocol/logs';
import type { LogSite, TelemetryMessage } from '../../protocol/nats';
import type { IngestEnricher } from '../ingest';
import type { Store } from '../store';
import type { Row, RowBatch } from '../store/rows';
import { TemplateMiner } from './templateMiner';
import { TemplateRateMonitor } from './templateRates';

export const MINER_STATE_KEY = 'log_miner_state';
const MINUTE_MS = 60_000;
/** A minute is judged once this long has passed since its end (lines arrive a little late). */
const MINUTE_GRACE_MS = 90_000;
const SAVE_INTERVAL_MS = 60_000;
const RECENT_ANOMALIES = 1000;

/**
 * The typed event API for template-rate anomalies: `onAnomaly` hears every anomaly as its minute is judged
 * (alerts subscribe here); `recent()` lists the latest ones.
 */
export class LogTemplateEvents {
  private readonly emitter = new EventEmitter<{ anomaly: [LogTemplateAnomaly] }>();
  private readonly latest: LogTemplateAnomaly[] = [];

  /** Returns what unsubscribes. A listener that throws does not stop the others. */
  onAnomaly(listener: (anomaly: LogTemplateAnomaly) => void): () => void {
    const safe = (anomaly: LogTemplateAnomaly) => {
      try {
        listener(anomaly);
      } catch {
        // a subscriber's failure is its own
      }
    };
    this.emitter.on('anomaly', safe);
    return () => this.emitter.off('anomaly', safe);
  }

  recent(): readonly LogTemplateAnomaly[] {
    return this.latest;
  }

  publish(anomaly: LogTemplateAnomaly): void {
    this.latest.push(anomaly);
    if (this.latest.length > RECENT_ANOMALIES) this.latest.splice(0, this.latest.length - RECENT_ANOMALIES);
    this.emitter.emit('anomaly', anomaly);
  }
}

export class LogTemplateIndex implements IngestEnricher {
  private readonly monitor = new TemplateRateMonitor();
  /** Counts of minutes not judged yet, by minute start (epoch ms). */
  private readonly pending = new Map<number, Map<number, number>>();
  private lastJudged: number | undefined;
  private readonly sites = new Map<number, LogSite>();
  private savedLines = -1;
  private readonly timer: NodeJS.Timeout;
  private saving: Promise<void> = Promise.resolve();
  private lastSave = 0;

  private constructor(
    private readonly store: Store,
    readonly miner: TemplateMiner,
    private readonly events: LogTemplateEvents,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.tick(), 15_000);
    this.timer.unref();
  }

  /** Restores the miner from the store (a fresh one when there is no state, or a damaged one, which is logged). */
  static async open(store: Store, events: LogTemplateEvents, log: Logger): Promise<LogTemplateIndex> {
    const miner = await loadMiner(store, log);
    const index = new LogTemplateIndex(store, miner, events, log);
    index.savedLines = miner.stats().lines;
    return index;
  }

  /** Mines a message's log lines: log_lines and log_counts rows beside its logs rows. */
  enrich(message: TelemetryMessage, tables: Partial<RowBatch>): void {
    if (message.kind !== 'logs') return;
    const lines: Row[] = [];
    const counts = new Map<string, Row>();
    for (const record of message.logs) {
      const mined = this.miner.add(record.msg);
      for (const merged of mined.merged) this.monitor.forget(merged);
      const site = record.site ?? siteOfAttributes(record.attrs);
      if (site) this.sites.set(mined.templateId, site);
      lines.push({
        ts: record.ts,
        id: record.id,
        service: message.service,
        pod: message.pod,
        level: record.level,
        trace_id: record.traceId ?? '',
        template_id: mined.templateId,
        params: mined.params,
        site: site ? formatSite(site) : '',
        msg_id: message.id,
      });
      const minute = Math.floor(record.ts / MINUTE_MS) * MINUTE_MS;
      const key = `${minute}\u0000${record.level}\u0000${mined.templateId}`;
      const row = counts.get(key);
      if (row) row.count = (row.count as number) + 1;
      else counts.set(key, { ts: minute, service: message.service, pod: message.pod, level: record.level, template_id: mined.templateId, count: 1, msg_id: message.id });
    }
    tables.log_lines = lines;
    tables.log_counts = [...counts.values()];
  }

  /** Rows that reached the store: their counts go to the rate monitor (a batch that failed is mined again, not counted twice). */
  written(rows: RowBatch): void {
    for (const row of rows.log_counts) {
      const minute = row.ts as number;
      if (this.lastJudged !== undefined && minute <= this.lastJudged) continue;
      let counts = this.pending.get(minute);
      if (!counts) this.pending.set(minute, (counts = new Map()));
      const id = this.miner.resolve(row.template_id as number) ?? (row.template_id as number);
      counts.set(id, (counts.get(id) ?? 0) + (row.count as number));
    }
  }

  /** The call site last seen for a template (or one it absorbed). */
  site(templateId: number): LogSite | undefined {
    const direct = this.sites.get(templateId);
    if (direct) return direct;
    for (const absorbed of this.miner.template(templateId)?.absorbed ?? []) {
      const site = this.sites.get(absorbed);
      if (site) return site;
    }
    return undefined;
  }

  /** Judges every minute that is over (with its grace), in order; minutes without lines count as silence. */
  judgeMinutes(now = Date.now()): LogTemplateAnomaly[] {
    const upTo = Math.floor((now - MINUTE_GRACE_MS) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    const minutes = [...this.pending.keys()].filter((m) => m <= upTo).sort((a, b) => a - b);
    if (!minutes.length && this.lastJudged === undefined) return [];
    const out: LogTemplateAnomaly[] = [];
    let minute = this.lastJudged === undefined ? minutes[0]! : this.lastJudged + MINUTE_MS;
    // After a long gap (the server was off) only the last hour is walked: older silence tells nothing new.
    minute = Math.max(minute, upTo - 60 * MINUTE_MS);
    for (; minute <= upTo; minute += MINUTE_MS) {
      const counts = this.pending.get(minute) ?? new Map<number, number>();
      for (const anomaly of this.monitor.observe(minute / MINUTE_MS, counts)) {
        const summary = this.miner.template(anomaly.templateId);
        const site = this.site(anomaly.templateId);
        const event: LogTemplateAnomaly = {
          kind: anomaly.kind,
          templateId: anomaly.templateId,
          template: summary?.template ?? `template ${anomaly.templateId}`,
          minute,
          ...(anomaly.kind !== 'vanished' ? { count: anomaly.count } : { silentMinutes: anomaly.silentMinutes }),
          ...(anomaly.kind === 'jump' ? { expected: anomaly.expected, z: anomaly.z } : {}),
          ...(anomaly.kind === 'vanished' ? { expected: anomaly.expected } : {}),
          ...(site ? { site } : {}),
        };
        out.push(event);
        this.events.publish(event);
      }
      this.lastJudged = minute;
    }
    for (const m of [...this.pending.keys()]) if (this.lastJudged !== undefined && m <= this.lastJudged) this.pending.delete(m);
    return out;
  }

  private tick(): void {
    try {
      this.judgeMinutes();
    } catch (error) {
      this.log.warn(`log template anomalies: ${errorMessage(error)}`);
    }
    if (Date.now() - this.lastSave >= SAVE_INTERVAL_MS) void this.save();
  }

  /** Saves the miner's state if it learnt anything since the last save. */
  save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const lines = this.miner.stats().lines;
      if (lines === this.savedLines) return;
      this.lastSave = Date.now();
      try {
        await this.store.setMeta(MINER_STATE_KEY, JSON.stringify(this.miner.exportState()));
        this.savedLines = lines;
      } catch (error) {
        this.log.warn(`saving the log miner's state: ${errorMessage(error)}`);
      }
    });
    return this.saving;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.save();
  }
}

/**
 * A log record's call site from OpenTelemetry's code attributes (code.filepath, code.lineno, code.column,
 * code.function), which the StreamGate agent and OTel log bridges write.
 */
export function siteOfAttributes(attrs: Record<string, string | number | boolean> | undefined): LogSite | undefined {
  const file = attrs?.['code.filepath'];
  const line = Number(attrs?.['code.lineno']);
  if (typeof file !== 'string' || !file || !Number.isInteger(line) || line < 1) return undefined;
  const column = Number(attrs['code.column']);
  const fn = attrs['code.function'];
  return { file, line, ...(Number.isInteger(column) && column > 0 ? { column } : {}), ...(typeof fn === 'string' && fn ? { function: fn } : {}) };
}

/** The miner as saved in the store, or a fresh one. */
export async function loadMiner(store: Store, log: Logger): Promise<TemplateMiner> {
  let saved: string | undefined;
  try {
    saved = await store.getMeta(MINER_STATE_KEY);
  } catch (error) {
    log.warn(`reading the log miner's state: ${errorMessage(error)}; starting with no templates`);
  }
  if (!saved) return new TemplateMiner();
  try {
    const miner = TemplateMiner.restore(JSON.parse(saved));
    log.info(`log templates: ${miner.stats().templates} restored from the store`);
    return miner;
  } catch (error) {
    log.error(`the log miner's saved state is unusable (${errorMessage(error)}); starting with no templates, so ids in older lines are not this miner's`);
    return new TemplateMiner();
  }
}
