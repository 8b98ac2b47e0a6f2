import { parseArgs } from 'node:util';
import { listPods, podHealth } from '../common/fleet';
import { parseSelector, type HealthReply, type PodInfo } from '../protocol/nats';
import { UsageError, type CliCommand } from './command';
import { connectCli, resolveNatsUrl } from './target';

export const podsCommand: CliCommand = {
  name: 'pods',
  summary: 'list live pods with their health (last telemetry, CPU, memory, event-loop delay)',
  usage: `sg pods [--nats URL] [--selector k=v,...] [--json]

  --nats URL        NATS of the fleet (default: $STREAMGATE_NATS_URL, the running sandbox fleet, nats://127.0.0.1:4222)
  --selector S      only pods matching all of k=v (service, pod, version or a label: region, zone, node)
  --json            one JSON document instead of a table`,
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
      const pods = await listPods(nc, selector ? { selector } : {});
      const health = await Promise.all(pods.map((p) => podHealth(nc, p.pod, 1500).catch((e: Error) => e)));
      const rows = pods.map((pod, i) => ({ ...pod, health: health[i] instanceof Error ? { error: (health[i] as Error).message } : (health[i] as HealthReply) }));
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

function table(rows: (PodInfo & { health: HealthReply | { error: string } })[]): string {
  const now = Date.now();
  const head = ['POD', 'SERVICE', 'VERSION', 'RUNTIME', 'REGION', 'ZONE', 'AGE', 'TELEMETRY', 'CPU', 'RSS', 'LOOP p99'];
  const body = rows.map((r) => {
    const h = r.health;
    const ok = !('error' in h);
    return [
      r.pod,
      r.service,
      r.version,
      r.runtime,
      r.labels.region ?? '',
      r.labels.zone ?? '',
      age(now - r.startedAt),
      ok ? (h.lastPublishAt ? `${age(now - h.lastPublishAt)} ago` : r.runtime === 'go' ? 'n/a' : 'none yet') : 'unreachable',
      ok ? `${h.cpuPercent.toFixed(0)}%` : '',
      ok ? `${(h.rssBytes / 1024 / 1024).toFixed(0)} MiB` : '',
      ok && r.runtime === 'node' ? `${h.eventLoopDelayP99Ms.toFixed(1)} ms` : '',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
