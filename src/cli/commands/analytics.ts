import { parseArgs } from 'node:util';
import { SERIES_STATS, SeriesQuerySchema, type AnalyticsSummary, type SeriesResult, type SeriesStat } from '../../protocol/analytics';
import { parseSelector } from '../../protocol/nats';
import { check } from '../../protocol/schema';
import { RemoteAnalytics } from '../../server/sharedClient';
import { chartStep } from '../../server/analytics/views';
import { formatNumber } from '../../server/lsp/insights';
import { UsageError, type CliCommand } from '../command';
import { connectCli, parseDuration, resolveNatsUrl } from '../target';

const USAGE = `sg analytics summary [--window 60s] [--nats URL] [--json]
sg analytics query --metric NAME [--since 15m | --from T --to T] [--step 1s] [--by LABEL,...] [--where k=v,...]
                   [--stat ${SERIES_STATS.join('|')}] [--nats URL] [--json]

  Asks the StreamGate server on this NATS (sg server, or an editor's language server) for live figures.
  summary       requests/s, latency percentiles (ms), error rate (a fraction), sessions and streams, per service and pod
  query         one metric as series: counters as rates (total: exact increments in the range), gauges as values,
                histograms as p99 unless --stat says otherwise
  --since D     the last D (30s, 15m, 2h); default 15m
  --from/--to   ISO times or epoch milliseconds
  --step D      the resolution (default 1s up to 15 minutes, coarser beyond)
  --by          group by these labels (service, pod, route, tenant, …)
  --where       only series whose labels equal these
  --json        the JSON documented in docs/cli.md`;

function parseTime(text: string, flag: string): number {
  const n = Number(text);
  const ms = Number.isFinite(n) && /^\d+$/.test(text) ? n : Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`${flag} must be an ISO time or epoch milliseconds, not "${text}"`);
  return ms;
}

function durationFlag(text: string, flag: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

export const analyticsCommand: CliCommand = {
  name: 'analytics',
  summary: 'live figures of the fleet from the StreamGate server: summary, or one metric as series',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        nats: { type: 'string' },
        creds: { type: 'string' },
        json: { type: 'boolean', default: false },
        window: { type: 'string' },
        metric: { type: 'string' },
        since: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        step: { type: 'string' },
        by: { type: 'string' },
        where: { type: 'string' },
        stat: { type: 'string' },
      },
      strict: true,
    });
    const sub = positionals[0];
    if (sub !== 'summary' && sub !== 'query') throw new UsageError(`sg analytics summary or sg analytics query, not "${positionals.join(' ')}"`);
    if (sub === 'summary') {
      const windowMs = values.window ? durationFlag(values.window, '--window') : 60_000;
      const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
      try {
        const summary = await new RemoteAnalytics(nc).summary({ windowMs });
        process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : summaryTable(summary));
        return 0;
      } finally {
        await nc.close();
      }
    }
    if (!values.metric) throw new UsageError('--metric NAME is required');
    if (values.since && (values.from || values.to)) throw new UsageError('--since and --from/--to are two ways to give the range: use one');
    const now = Date.now();
    const to = values.to ? parseTime(values.to, '--to') : Math.floor(now / 1000) * 1000;
    const from = values.from ? parseTime(values.from, '--from') : to - durationFlag(values.since ?? '15m', '--since');
    const stepMs = values.step ? durationFlag(values.step, '--step') : to - from <= 15 * 60_000 ? 1000 : Math.max(1000, chartStep((to - from) / 4));
    let where: Record<string, string> | undefined;
    try {
      where = values.where ? parseSelector(values.where) : undefined;
    } catch (error) {
      throw new UsageError(`--where: ${(error as Error).message}`);
    }
    if (values.stat && !(SERIES_STATS as readonly string[]).includes(values.stat)) throw new UsageError(`--stat is one of ${SERIES_STATS.join(', ')}, not "${values.stat}"`);
    const query = check(SeriesQuerySchema, {
      metric: values.metric,
      from,
      to,
      stepMs,
      ...(values.by ? { by: values.by.split(',').map((b) => b.trim()).filter(Boolean) } : {}),
      ...(where ? { where } : {}),
      ...(values.stat ? { stat: values.stat as SeriesStat } : {}),
    });
    if (!query.ok) throw new UsageError(query.error);
    const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
    try {
      const result = await new RemoteAnalytics(nc).series(query.value);
      process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : seriesTable(result));
      return 0;
    } finally {
      await nc.close();
    }
  },
};

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

const pct = (f: number) => `${(f * 100).toFixed(2)} %`;

function summaryTable(s: AnalyticsSummary): string {
  const t = s.totals;
  const head = `fleet over the last ${Math.round(s.window / 1000)} s: ${formatNumber(t.rps, ' req/s')}, p50 ${formatNumber(t.p50, ' ms')}, p95 ${formatNumber(t.p95, ' ms')}, p99 ${formatNumber(t.p99, ' ms')}, errors ${pct(t.errorRate)}, ${t.activeSessions} active sessions, ${t.activeStreams} active streams\n\n`;
  const rows = s.services.flatMap((svc) => [
    [svc.service, formatNumber(svc.rps), formatNumber(svc.p99), pct(svc.errorRate)],
    ...svc.pods.map((p) => [`  ${p.pod}`, formatNumber(p.rps), formatNumber(p.p99), pct(p.errorRate)]),
  ]);
  return head + (rows.length ? table(['SERVICE / POD', 'REQ/S', 'P99 MS', '5XX'], rows) : 'no requests in the window\n');
}

function seriesTable(r: SeriesResult): string {
  const head = `${r.metric} (${r.kind}, ${r.stat}) from ${new Date(r.from).toISOString()} to ${new Date(r.to).toISOString()} every ${r.step / 1000} s, ${r.source === 'live' ? 'live windows' : 'store'}\n\n`;
  if (r.series.length === 0) return `${head}no series of ${r.metric} in the range\n`;
  const rows = r.series.map((s) => {
    const values = s.points.map(([, v]) => v).filter((v): v is number => v !== null);
    const label = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',') || '(all)';
    return [label, formatNumber(values.at(-1)), formatNumber(values.length ? Math.min(...values) : null), formatNumber(values.length ? Math.max(...values) : null), s.total === undefined ? '' : formatNumber(s.total)];
  });
  return head + table(['SERIES', 'LAST', 'MIN', 'MAX', 'TOTAL'], rows);
}
