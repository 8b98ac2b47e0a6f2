import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { fetchProfile } from '../../common/podClient';
import { MAX_PROFILE_SECONDS } from '../../protocol/nats';
import { UsageError, type CliCommand } from '../command';
import { ProgressBar } from '../progress';
import { connectCli, resolveNatsUrl } from '../target';

export const profileCommand: CliCommand = {
  name: 'profile',
  summary: 'take a CPU or heap profile (pprof) from a pod',
  usage: `sg profile cpu|heap --pod ID [--seconds N] --out FILE.pb.gz [--nats URL]

  cpu             sample the CPU for --seconds (default 10, at most ${MAX_PROFILE_SECONDS})
  heap            the live heap as sampled since the pod started
  --pod ID        the pod (see sg pods)
  --out FILE      where to write the gzipped pprof (read it with go tool pprof -top FILE)`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { pod: { type: 'string' }, seconds: { type: 'string' }, out: { type: 'string' }, nats: { type: 'string' }, creds: { type: 'string' } },
      strict: true,
    });
    const type = positionals[0];
    if (type !== 'cpu' && type !== 'heap') throw new UsageError(`the profile type is cpu or heap, not "${type ?? ''}"`);
    if (!values.pod) throw new UsageError('--pod is required (sg pods lists them)');
    if (!values.out) throw new UsageError('--out FILE is required');
    const seconds = values.seconds === undefined ? 10 : Number(values.seconds);
    if (type === 'cpu' && (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PROFILE_SECONDS)) {
      throw new UsageError(`--seconds must be a whole number from 1 to ${MAX_PROFILE_SECONDS}, not "${values.seconds}"`);
    }
    const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
    const bar = new ProgressBar(`${type} profile of ${values.pod}`);
    try {
      const profile = await fetchProfile(nc, values.pod, type === 'cpu' ? { type, seconds } : { type }, (p) =>
        bar.update(type === 'cpu' ? (p.phase === 'sampling' ? p.fraction * 0.95 : 0.95 + p.fraction * 0.05) : p.fraction, p.phase),
      );
      writeFileSync(values.out, profile);
      const decoded = Profile.decode(gunzipSync(profile));
      bar.done(`wrote ${values.out}: ${profile.length} bytes, ${decoded.sample.length} samples, ${decoded.function.length} functions`);
      return 0;
    } catch (error) {
      bar.done(`failed: ${(error as Error).message}`);
      return 1;
    } finally {
      await nc.close();
    }
  },
};
