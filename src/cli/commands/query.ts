import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { toCsv, toTextTable } from '../../common/queryTable';
import { DEFAULT_QUERY_ROWS, MAX_QUERY_ROWS, MAX_QUERY_TIMEOUT_MS, QueryRequestSchema, type QueryAnswer } from '../../protocol/query';
import { check } from '../../protocol/schema';
import { describe } from '../../server/query/engine';
import { RemoteQueries } from '../../server/query/remote';
import { UsageError, type CliCommand } from '../command';
import { connectCli, parseDuration, resolveNatsUrl } from '../target';

const USAGE = `sg query 'QUERY' [--json | --csv] [--explain] [--max-rows N] [--timeout 30s] [--nats URL]
sg query --file FILE.sgql [--at OFFSET] …

  Runs an SGQL query (docs/query-language.md) on the StreamGate server's store (sg server, or an editor's
  language server, found through the sg-server service on this NATS) and prints its rows.
  --json        the result as JSON (docs/cli.md: columns, rows, truncated, chart, engine, elapsedMs)
  --csv         the rows as CSV (RFC 4180), times in ISO 8601
  --explain     the SQL the query compiles to, for DuckDB and for ClickHouse, instead of rows
  --max-rows N  at most N rows (default ${DEFAULT_QUERY_ROWS}, at most ${MAX_QUERY_ROWS})
  --timeout D   the server stops the query after D (default 30s)
  --file F      read the query from a file (with its lets); --at picks the query holding that offset`;

export const queryCommand: CliCommand = {
  name: 'query',
  summary: 'run an SGQL query on the StreamGate server: rows as a table, JSON or CSV, or the SQL it compiles to',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        nats: { type: 'string' },
        creds: { type: 'string' },
        json: { type: 'boolean', default: false },
        csv: { type: 'boolean', default: false },
        explain: { type: 'boolean', default: false },
        'max-rows': { type: 'string' },
        timeout: { type: 'string' },
        file: { type: 'string' },
        at: { type: 'string' },
      },
      strict: true,
    });
    if (values.json && values.csv) throw new UsageError('--json and --csv are two output formats: pick one');
    if (values.csv && values.explain) throw new UsageError('--explain prints SQL, not rows: it cannot be --csv');
    if (values.file && positionals.length) throw new UsageError('give the query as an argument or with --file, not both');
    if (!values.file && positionals.length !== 1) throw new UsageError(positionals.length ? 'quote the query as one argument: sg query \'spans | take 10\'' : 'which query? e.g. sg query \'spans | take 10\'');
    let text: string;
    if (values.file) {
      try {
        text = readFileSync(values.file, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read --file ${values.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    } else text = positionals[0]!;
    const maxRows = values['max-rows'] === undefined ? undefined : Number(values['max-rows']);
    if (maxRows !== undefined && (!Number.isInteger(maxRows) || maxRows < 1 || maxRows > MAX_QUERY_ROWS)) throw new UsageError(`--max-rows must be a whole number from 1 to ${MAX_QUERY_ROWS}, not "${values['max-rows']}"`);
    let timeoutMs: number | undefined;
    if (values.timeout !== undefined) {
      try {
        timeoutMs = parseDuration(values.timeout);
      } catch (error) {
        throw new UsageError(`--timeout: ${(error as Error).message}`);
      }
      if (timeoutMs < 100 || timeoutMs > MAX_QUERY_TIMEOUT_MS) throw new UsageError(`--timeout must be between 100ms and ${MAX_QUERY_TIMEOUT_MS / 60_000}m`);
    }
    const at = values.at === undefined ? undefined : Number(values.at);
    if (at !== undefined && (!Number.isInteger(at) || at < 0)) throw new UsageError(`--at must be an offset in the file, not "${values.at}"`);
    const request = check(QueryRequestSchema, { text, ...(maxRows ? { maxRows } : {}), ...(timeoutMs ? { timeoutMs: Math.round(timeoutMs) } : {}), ...(values.explain ? { explain: true } : {}), ...(at !== undefined ? { at } : {}) });
    if (!request.ok) throw new UsageError(request.error);
    const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
    let answer: QueryAnswer;
    try {
      answer = await new RemoteQueries(nc).run(request.value);
    } finally {
      await nc.close();
    }
    if (!answer.ok) {
      if (values.json) process.stdout.write(`${JSON.stringify(answer)}\n`);
      process.stderr.write(`${answer.problems.length ? describe(text, answer.problems) : answer.error}\n`);
      return 1;
    }
    if ('explain' in answer) {
      const e = answer.explain;
      process.stdout.write(values.json ? `${JSON.stringify(e)}\n` : `-- DuckDB\n${e.duckdb.text}\n-- values: ${JSON.stringify(e.duckdb.params)}\n\n-- ClickHouse (as sent; 18.16 has no query parameters)\n${e.clickhouse.rendered}\n`);
      return 0;
    }
    const result = answer.result;
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (values.csv) process.stdout.write(toCsv(result));
    else {
      process.stdout.write(result.columns.length ? toTextTable(result) : '');
      process.stderr.write(`${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ` (cut at ${result.rows.length}: --max-rows for more)` : ''} in ${result.elapsedMs} ms from ${result.engine === 'duckdb' ? 'DuckDB' : 'ClickHouse'}\n`);
    }
    return 0;
  },
};
