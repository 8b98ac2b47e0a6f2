import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_ANALYTICS_METRICS } from '../../server/analytics/views';
import { grafanaDashboard } from '../../server/grafana';
import { UsageError, type CliCommand } from '../command';

export const grafanaCommand: CliCommand = {
  name: 'grafana',
  summary: 'write a Grafana dashboard JSON of the fleet, the same panels as the editor\'s dashboard',
  usage: `sg grafana dashboard [--out FILE]

  The panels read the series sg server exposes at /metrics through a Prometheus data source (chosen when you
  import the JSON). Without --out the JSON goes to stdout.`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' } }, strict: true });
    if (positionals[0] !== 'dashboard') throw new UsageError(`the command is "sg grafana dashboard", not "sg grafana ${positionals.join(' ')}"`);
    const json = `${JSON.stringify(grafanaDashboard(DEFAULT_ANALYTICS_METRICS), null, 2)}\n`;
    if (values.out) {
      writeFileSync(values.out, json);
      process.stderr.write(`wrote ${values.out}\n`);
    } else {
      process.stdout.write(json);
    }
    return 0;
  },
};
