import { parseArgs } from 'node:util';
import { formatBytes, formatDuration } from '../../common/format';
import { podStatuses } from '../../common/podClient';
import { parseSelector, type PodStatus } from '../../protocol/nats';
import { UsageError, type CliCommand } from '../command';
import { connectCli, resolveNatsUrl } from '../target';

export const podsCommand: CliCommand = {
  name: 'pods',
  summary: 'list live pods with their health (last telemetry, CPU, memory, event-loop delay)',
  usage: `sg pods [--nats URL] [--selector k=v,...] [--json]

  --nats URL        NATS of the fleet (default: $STREAMGATE_NATS_URL, the running sandbox fleet, nats://127.0.0.1:4222)
  --selector S      only pods matching all of k=v (service, pod, version or a label: region, zone, node)
  --json            a JSON array of { info, health?, healthError?, seenAt } (docs/cli.md)`,
  async run(args) {
    const { values } = parseArgs({ args, options: { nats: { type: 'string' }, selector: { type: 'string' }, json: { type: 'boolean', default: false }, creds: { type: 'string' } }, strict: true });
    let selector: Record<string, string> | undefined;
    try {
      selector = values.selector ? parseSelector(values.selector) : undefined;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
    try {
      const rows = await podStatuses(nc, selector ? { selector } : {});
      if (values.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      } else if (rows.length === 0) {
        process.stdout.write(`no pods${selector ? ` match ${values.selector}` : ''} on ${resolveNatsUrl(values.nats)}\n`);
      } else {
        process.stdout.write(table(rows));
      }
      return 0;
    } finally {
      await nc.close();
    }
  },
};

function table(rows: PodStatus[]): string {
  const now = Date.now();
  const head = ['POD', 'SERVICE', 'VERSION', 'RUNTIME', 'REGION', 'ZONE', 'AGE', 'TELEMETRY', 'CPU', 'RSS', 'LOOP p99'];
  const body = rows.map(({ info, health: h }) => [
    info.pod,
    info.service,
    info.version,
    info.runtime,
    info.labels.region ?? '',
    info.labels.zone ?? '',
    formatDuration(now - info.startedAt),
    h ? (h.lastPublishAt ? `${formatDuration(now - h.lastPublishAt)} ago` : info.runtime === 'go' ? 'n/a' : 'none yet') : 'unreachable',
    h ? `${h.cpuPercent.toFixed(0)}%` : '',
    h ? formatBytes(h.rssBytes) : '',
    h?.eventLoopDelayP99Ms !== undefined ? `${h.eventLoopDelayP99Ms.toFixed(1)} ms` : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
