import { parseArgs } from 'node:util';
import { FORECAST_KINDS, ForecastRequestSchema, type ForecastAnswer, type ForecastContract, type ForecastKind } from '../../protocol/predict';
import { check } from '../../protocol/schema';
import { RemotePredict } from '../../server/sharedClient';
import { UsageError, type CliCommand } from '../command';
import { connectCli, parseDuration, resolveNatsUrl } from '../target';

const USAGE = `sg predict load|errors|sessions|cost --service NAME [--route ROUTE] [--horizon 1h]
           [--capacity REQ_PER_S] [--price PER_POD_HOUR] [--nats URL] [--json]

  Forecasts from the StreamGate server on this NATS (sg server, or an editor's language server), with the model
  chosen per series by rolling-origin backtest and its backtest accuracy.
  load          requests/s of the service (or of one --route)
  errors        the share of its requests answered 5xx (or of one --route)
  sessions      its active sessions
  cost          pods needed for the forecast load (⌈req/s ÷ capacity per pod⌉) × price per pod-hour, per hour
  --horizon D   how far ahead (1m … 7d, default 1h)
  --capacity N  requests/s one pod serves, --price P the price of a pod-hour (default: the server's settings)
  --json        { "series", "model", "backtest": { "smape", "mase" }, "points": [ { "t", "mean", "lo80", "hi80",
                "lo95", "hi95" } ] } (docs/cli.md); why a model was chosen, or why it fell back, goes to stderr`;

export const predictCommand: CliCommand = {
  name: 'predict',
  summary: 'forecast load, error rate, sessions or cost of a service, with 80/95 % intervals and the backtest',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        service: { type: 'string' },
        route: { type: 'string' },
        horizon: { type: 'string' },
        capacity: { type: 'string' },
        price: { type: 'string' },
        nats: { type: 'string' },
        creds: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const kind = positionals[0] as ForecastKind | undefined;
    if (!kind || !(FORECAST_KINDS as readonly string[]).includes(kind) || positionals.length > 1) throw new UsageError(`sg predict ${FORECAST_KINDS.join('|')}, not "${positionals.join(' ')}"`);
    if (!values.service) throw new UsageError('--service NAME is required');
    let horizonMs: number | undefined;
    try {
      horizonMs = values.horizon ? parseDuration(values.horizon) : undefined;
    } catch (error) {
      throw new UsageError(`--horizon: ${(error as Error).message}`);
    }
    const number = (text: string | undefined, flag: string) => {
      if (text === undefined) return undefined;
      const n = Number(text);
      if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, not "${text}"`);
      return n;
    };
    const request = check(ForecastRequestSchema, {
      kind,
      service: values.service,
      ...(values.route ? { route: values.route } : {}),
      ...(horizonMs !== undefined ? { horizonMs } : {}),
      ...(values.capacity !== undefined ? { capacityPerPod: number(values.capacity, '--capacity') } : {}),
      ...(values.price !== undefined ? { pricePerPodHour: number(values.price, '--price') } : {}),
    });
    if (!request.ok) throw new UsageError(request.error);
    const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
    try {
      const answer = await new RemotePredict(nc).forecast(request.value);
      if (values.json) {
        const contract: ForecastContract = { series: answer.series, model: answer.model, backtest: { smape: answer.backtest.smape, mase: answer.backtest.mase }, points: answer.points };
        process.stdout.write(`${JSON.stringify(contract)}\n`);
        process.stderr.write(`${answer.series}: ${answer.reason}\n`);
      } else {
        process.stdout.write(forecastText(answer));
      }
      return 0;
    } finally {
      await nc.close();
    }
  },
};

function figure(value: number, kind: ForecastKind): string {
  if (kind === 'errors') return `${(value * 100).toFixed(2)} %`;
  if (kind === 'cost') return value.toFixed(2);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

function time(t: number): string {
  return new Date(t).toISOString().replace('T', ' ').slice(0, 19);
}

export function forecastText(a: ForecastAnswer): string {
  const bt = a.backtest.smape === null ? 'no backtest (too little history)' : `backtest sMAPE ${a.backtest.smape.toFixed(1)} %, MASE ${a.backtest.mase!.toFixed(2)}`;
  const lines = [`${a.series} (${a.unit}): ${a.model}${a.members ? ` of ${a.members.join(', ')}` : ''}, ${bt}`, `  ${a.reason}`, ...a.warnings.map((w) => `  note: ${w}`), `  drift: ${a.drift.note}`];
  if (a.scaling) lines.push(`  scaling: ${a.scaling.text}`);
  if (a.cost) lines.push(`  cost over the horizon: ${a.cost.total.toFixed(2)} ${a.cost.currency} (80 %: ${a.cost.total80[0].toFixed(2)}–${a.cost.total80[1].toFixed(2)}, 95 %: ${a.cost.total95[0].toFixed(2)}–${a.cost.total95[1].toFixed(2)})`);
  lines.push('');
  const rows = a.points.map((p) => [time(p.t), figure(p.mean, a.kind), `${figure(p.lo80, a.kind)} – ${figure(p.hi80, a.kind)}`, `${figure(p.lo95, a.kind)} – ${figure(p.hi95, a.kind)}`]);
  const head = ['TIME (UTC)', 'FORECAST', '80 %', '95 %'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const cells of [head, ...rows]) lines.push(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  return `${lines.join('\n')}\n`;
}
