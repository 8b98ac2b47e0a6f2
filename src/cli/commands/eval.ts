/**
 * `sg eval <benchmark> --data DIR`: the product's models scored on public benchmark data of a known layout
 * (NAB, M4, Loghub). Each benchmark is a module of src/cli/eval/ with its own usage and `--json` shape.
 */
import { UsageError, type CliCommand } from '../command';
import { EVALUATIONS } from '../eval';

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'score the models on a public benchmark folder (nab, m4, loghub)',
  ownHelp: true,
  get usage() {
    const width = Math.max(...EVALUATIONS.map((e) => e.name.length));
    return [
      'sg eval <benchmark> --data DIR [--json]',
      '',
      ...EVALUATIONS.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}`),
      '',
      'sg eval <benchmark> --help shows a benchmark\'s options.',
    ].join('\n');
  },
  async run(args) {
    const [name, ...rest] = args;
    if (!name || name === '--help' || name === '-h') {
      process.stdout.write(`${this.usage}\n`);
      return name ? 0 : 2;
    }
    const evaluation = EVALUATIONS.find((e) => e.name === name);
    if (!evaluation) throw new UsageError(`unknown benchmark "${name}"; one of ${EVALUATIONS.map((e) => e.name).join(', ') || '(none yet)'}`);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${evaluation.usage}\n`);
      return 0;
    }
    try {
      return await evaluation.run(rest);
    } catch (error) {
      // A mistake in a benchmark's options: show that benchmark's usage, not the list of benchmarks.
      if (!(error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) throw error;
      process.stderr.write(`sg eval ${evaluation.name}: ${(error as Error).message}\n\n${evaluation.usage}\n`);
      return 2;
    }
  },
};
