import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { AlertRuleOverrideSchema, DEFAULT_ALERT_RULES, type AlertsAnswer } from '../../protocol/predict';
import { check } from '../../protocol/schema';
import { DEFAULT_ANALYTICS_METRICS } from '../../server/analytics/views';
import { applyOverrides } from '../../server/predict/alerts';
import { prometheusRules } from '../../server/predict/prometheusRules';
import { RemotePredict } from '../../server/sharedClient';
import { UsageError, type CliCommand } from '../command';
import { connectCli, parseDuration, resolveNatsUrl } from '../target';

const USAGE = `sg alerts list [--since 1h] [--nats URL] [--json]
sg alerts export --format prometheus [--rules FILE] [--runbook-base URL] [--out FILE]

  list      the alerts firing now on the StreamGate server of this NATS, then those resolved within --since
  export    the alert rules as Prometheus alerting rules over what sg server exposes at /metrics
            (check them with: promtool check rules FILE)
  --rules FILE         JSON array of changes to the built-in rules: [{ "id": "error-rate-high", "threshold": 0.05 }]
  --runbook-base URL   prefix of the runbook links (default: the repository path docs/runbooks/<rule>.md)`;

export const alertsCommand: CliCommand = {
  name: 'alerts',
  summary: 'the fleet\'s alerts, or the alert rules exported as Prometheus alerting rules',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        rules: { type: 'string' },
        'runbook-base': { type: 'string' },
        out: { type: 'string' },
        since: { type: 'string' },
        nats: { type: 'string' },
        creds: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const sub = positionals[0];
    if (sub === 'export') {
      if (values.format !== 'prometheus') throw new UsageError(`--format prometheus is the format there is${values.format ? `, not "${values.format}"` : ''}`);
      const rules = applyOverrides(DEFAULT_ALERT_RULES, values.rules ? readOverrides(values.rules) : undefined);
      const yaml = prometheusRules(rules, DEFAULT_ANALYTICS_METRICS, values['runbook-base'] ?? '');
      if (values.out) {
        writeFileSync(values.out, yaml);
        process.stderr.write(`wrote ${rules.filter((r) => r.enabled).length} rules to ${values.out}\n`);
      } else {
        process.stdout.write(yaml);
      }
      return 0;
    }
    if (sub !== 'list') throw new UsageError(`sg alerts list or sg alerts export, not "${positionals.join(' ')}"`);
    let sinceMs: number;
    try {
      sinceMs = parseDuration(values.since ?? '1h');
    } catch (error) {
      throw new UsageError(`--since: ${(error as Error).message}`);
    }
    const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
    try {
      const answer = await new RemotePredict(nc).alerts({ sinceMs });
      process.stdout.write(values.json ? `${JSON.stringify(answer)}\n` : alertsText(answer));
      return 0;
    } finally {
      await nc.close();
    }
  },
};

function readOverrides(file: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--rules ${file}: ${(error as Error).message}`);
  }
  const parsed = check(z.array(AlertRuleOverrideSchema), raw);
  if (!parsed.ok) throw new UsageError(`--rules ${file}: ${parsed.error}`);
  const unknown = parsed.value.filter((o) => !DEFAULT_ALERT_RULES.some((r) => r.id === o.id)).map((o) => o.id);
  if (unknown.length) throw new UsageError(`--rules ${file}: no built-in rule ${unknown.map((id) => `"${id}"`).join(', ')} (rules: ${DEFAULT_ALERT_RULES.map((r) => r.id).join(', ')})`);
  return parsed.value;
}

function alertsText(a: AlertsAnswer): string {
  if (a.alerts.length === 0) return 'no alerts firing, none resolved in the period\n';
  return `${a.alerts
    .map((e) => `${e.state === 'firing' ? 'FIRING  ' : 'resolved'} ${e.severity.padEnd(8)} ${new Date(e.startsAt).toISOString().slice(11, 19)}  ${e.summary}  [${e.rule}; ${e.runbook}]`)
    .join('\n')}\n`;
}
