/** `sg logs templates`: the log templates the StreamGate server mined, with counts, trend and novelty. */
import { parseArgs } from 'node:util';
import { formatSite, LogTemplatesQuerySchema, TEMPLATE_SORTS, type LogTemplatesResult, type TemplateSort } from '../../protocol/logs';
import { LOG_LEVELS } from '../../protocol/nats';
import { check } from '../../protocol/schema';
import { RemoteLogs } from '../../server/sharedClient';
import { UsageError, type CliCommand } from '../command';
import { connectCli, parseDuration, resolveNatsUrl } from '../target';

const USAGE = `sg logs templates [--since 15m] [--service S] [--pod P] [--level ${LOG_LEVELS.join('|')}] [--trace ID]
                  [--sort ${TEMPLATE_SORTS.join('|')}] [--limit N] [--nats URL] [--json]

  The log templates the StreamGate server mined from the pods' log lines in the range: lines per template,
  a sparkline, the trend (lines per minute in the second half of the range over the first), when the template
  was first seen, its logging call site, and its rate anomalies (new, jump, vanished).
  --since D   the last D (30s, 15m, 2h); default 15m
  --json      the LogTemplatesResult (docs/cli.md)`;

export const logsCommand: CliCommand = {
  name: 'logs',
  summary: 'log templates mined from the fleet\'s logs, with counts, trends and anomalies',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        nats: { type: 'string' },
        creds: { type: 'string' },
        json: { type: 'boolean', default: false },
        since: { type: 'string' },
        service: { type: 'string' },
        pod: { type: 'string' },
        level: { type: 'string' },
        trace: { type: 'string' },
        sort: { type: 'string' },
        limit: { type: 'string' },
      },
      strict: true,
    });
    if (positionals.length !== 1 || positionals[0] !== 'templates') throw new UsageError(`sg logs templates, not "sg logs ${positionals.join(' ')}"`);
    let since: number;
    try {
      since = parseDuration(values.since ?? '15m');
    } catch (error) {
      throw new UsageError(`--since: ${(error as Error).message}`);
    }
    if (values.sort !== undefined && !(TEMPLATE_SORTS as readonly string[]).includes(values.sort)) throw new UsageError(`--sort is one of ${TEMPLATE_SORTS.join(', ')}, not "${values.sort}"`);
    const to = Date.now();
    const query = check(LogTemplatesQuerySchema, {
      from: to - since,
      to,
      ...(values.service ? { service: values.service } : {}),
      ...(values.pod ? { pod: values.pod } : {}),
      ...(values.level ? { level: values.level } : {}),
      ...(values.trace ? { traceId: values.trace } : {}),
      ...(values.sort ? { sort: values.sort as TemplateSort } : {}),
      ...(values.limit ? { limit: Number(values.limit) } : {}),
    });
    if (!query.ok) throw new UsageError(query.error);
    const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
    try {
      const result = await new RemoteLogs(nc).templates(query.value);
      process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : templatesTable(result));
      return 0;
    } finally {
      await nc.close();
    }
  },
};

const BLOCKS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (v <= 0 ? ' ' : BLOCKS[Math.min(7, Math.floor((v / max) * 7.999))]!)).join('');
}

function templatesTable(result: LogTemplatesResult): string {
  const head = `log templates from ${new Date(result.from).toISOString()} to ${new Date(result.to).toISOString()}: ${result.lines} lines, ${result.templates.length} templates (one sparkline column = ${result.bucketMs / 60_000} min)\n`;
  const damage = result.damage;
  const repaired = damage.binary + damage.invalidUtf8 + damage.truncated;
  const note = repaired ? `lines repaired before mining so far: ${damage.binary} binary, ${damage.invalidUtf8} invalid UTF-8, ${damage.truncated} cut to 16 KiB\n` : '';
  if (!result.templates.length) return `${head}${note}\nno log lines in the range\n`;
  const rows = result.templates.map((t) => [
    String(t.id),
    String(t.count),
    sparkline(t.sparkline),
    t.trend === null ? 'new' : `×${t.trend.toFixed(2)}`,
    new Date(t.firstSeen).toISOString().slice(0, 16).replace('T', ' '),
    Object.entries(t.levels).map(([level, n]) => `${level} ${n}`).join(', '),
    t.anomalies.map((a) => a.kind).join(',') || '-',
    t.site ? formatSite(t.site) : '-',
    t.template,
  ]);
  const headers = ['ID', 'LINES', 'SPARKLINE', 'TREND', 'FIRST SEEN (UTC)', 'LEVELS', 'ANOMALIES', 'CALL SITE', 'TEMPLATE'];
  const widths = headers.map((h, i) => (i === headers.length - 1 ? 0 : Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${head}${note}\n${[line(headers), ...rows.map(line)].join('\n')}\n`;
}
