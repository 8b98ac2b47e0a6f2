import { parseArgs } from 'node:util';
import { ensureStreams } from '../../common/streams';
import { UsageError, type CliCommand } from '../command';
import { connectCli, resolveNatsUrl } from '../target';

export const streamsCommand: CliCommand = {
  name: 'streams',
  summary: 'create or update the telemetry and dead-letter streams (for operators who pre-create them)',
  usage: `sg streams init [--nats URL] [--creds FILE]

  Creates SG_TELEMETRY (sg.tel.>) and SG_DEADLETTER (sg.dlq.>) with the configuration the server expects, or
  updates them to it. Servers do the same on start when they may; pods never need to (see docs/analytics.md).`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { nats: { type: 'string' }, creds: { type: 'string' } }, strict: true });
    if (positionals[0] !== 'init') throw new UsageError(`the command is "sg streams init", not "sg streams ${positionals.join(' ')}"`);
    const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
    try {
      const changes = await ensureStreams(nc);
      for (const [name, change] of Object.entries(changes)) process.stdout.write(`${name}: ${change}\n`);
      return 0;
    } finally {
      await nc.close();
    }
  },
};
