/** `sg traces search|show`: traces from the StreamGate server on this NATS (its sg-server service). */
import { parseArgs } from 'node:util';
import { check } from '../../protocol/schema';
import { TRACE_SORTS, TraceGetRequestSchema, TraceSearchQuerySchema, traceJson, type TraceSearchResult, type TraceSort } from '../../protocol/traces';
import { RemoteTraces } from '../../server/sharedClient';
import { formatMs, textWaterfall } from '../../server/traces/textWaterfall';
import { UsageError, type CliCommand } from '../command';
import { connectCli, parseDuration, resolveNatsUrl } from '../target';

const USAGE = `sg traces search [--service S] [--route R] [--min-duration MS] [--errors] [--since 1h] [--sort ${TRACE_SORTS.join('|')}]
                 [--limit N] [--nats URL] [--json]
sg traces show ID [--nats URL] [--json]

  Asks the StreamGate server on this NATS (sg server, or an editor's language server) for traces.
  search          traces that started in the range, slowest first: a trace matches --service / --route when
                  any of its spans is of that service / on that route (http.route)
  --min-duration  only traces at least this long, in ms
  --errors        only traces with a span whose status is error
  --since D       the last D (30s, 15m, 2h); default 1h
  show ID         one trace (32 hex digits, either case) as a text waterfall with its critical path, problems
                  found while assembling it, self time per service and operation, and its logs
  --json          search: the TraceSearchResult; show: { "traceId", "spans": [ { "spanId", "parentSpanId",
                  "service", "name", "start", "durationMs", "status", "attributes" } ] } (docs/cli.md)`;

export const tracesCommand: CliCommand = {
  name: 'traces',
  summary: 'search traces and show one as a waterfall, from the StreamGate server',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        nats: { type: 'string' },
        creds: { type: 'string' },
        json: { type: 'boolean', default: false },
        service: { type: 'string' },
        route: { type: 'string' },
        'min-duration': { type: 'string' },
        errors: { type: 'boolean', default: false },
        since: { type: 'string' },
        sort: { type: 'string' },
        limit: { type: 'string' },
      },
      strict: true,
    });
    const [sub, ...rest] = positionals;
    if (sub === 'show') {
      if (rest.length !== 1) throw new UsageError('sg traces show takes one trace id');
      const request = check(TraceGetRequestSchema, { traceId: rest[0] });
      if (!request.ok) throw new UsageError(`"${rest[0]}" is not a trace id: ${request.error}`);
      const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
      try {
        const trace = await new RemoteTraces(nc).get(request.value.traceId);
        process.stdout.write(values.json ? `${JSON.stringify(traceJson(trace), null, 2)}\n` : textWaterfall(trace));
        return 0;
      } finally {
        await nc.close();
      }
    }
    if (sub !== 'search' || rest.length) throw new UsageError(`sg traces search or sg traces show ID, not "${positionals.join(' ')}"`);
    let since: number;
    try {
      since = parseDuration(values.since ?? '1h');
    } catch (error) {
      throw new UsageError(`--since: ${(error as Error).message}`);
    }
    const minDuration = values['min-duration'] === undefined ? undefined : Number(values['min-duration']);
    if (minDuration !== undefined && !(Number.isFinite(minDuration) && minDuration >= 0)) throw new UsageError(`--min-duration is a number of milliseconds ≥ 0, not "${values['min-duration']}"`);
    if (values.sort !== undefined && !(TRACE_SORTS as readonly string[]).includes(values.sort)) throw new UsageError(`--sort is one of ${TRACE_SORTS.join(', ')}, not "${values.sort}"`);
    const to = Date.now();
    const query = check(TraceSearchQuerySchema, {
      from: to - since,
      to,
      ...(values.service ? { service: values.service } : {}),
      ...(values.route ? { route: values.route } : {}),
      ...(minDuration !== undefined ? { minDurationMs: minDuration } : {}),
      ...(values.errors ? { errorsOnly: true } : {}),
      ...(values.sort ? { sort: values.sort as TraceSort } : {}),
      ...(values.limit ? { limit: Number(values.limit) } : {}),
    });
    if (!query.ok) throw new UsageError(query.error);
    const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
    try {
      const result = await new RemoteTraces(nc).search(query.value);
      process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : searchTable(result));
      return 0;
    } finally {
      await nc.close();
    }
  },
};

function searchTable(result: TraceSearchResult): string {
  const head = `traces from ${new Date(result.from).toISOString()} to ${new Date(result.to).toISOString()}: ${result.traces.length} shown\n\n`;
  if (!result.traces.length) return `${head}no traces match\n`;
  const rows = result.traces.map((t) => [
    t.traceId,
    new Date(t.start).toISOString().slice(11, 23),
    formatMs(t.durationMs),
    String(t.spans),
    String(t.errors),
    t.hasRoot ? t.route || t.rootName : `(no root) ${t.rootName}`,
    t.services.join(','),
  ]);
  const headers = ['TRACE', 'START (UTC)', 'DURATION', 'SPANS', 'ERRORS', 'ROUTE', 'SERVICES'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set([2, 3, 4]);
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${head}${[line(headers), ...rows.map(line)].join('\n')}\n`;
}
