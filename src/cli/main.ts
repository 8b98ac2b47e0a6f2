/** `sg`: the StreamGate DevTools command line. */
import { VERSION } from '../common/version';
import { UsageError, type CliCommand } from './command';
import { alertsCommand } from './commands/alerts';
import { analyticsCommand } from './commands/analytics';
import { completionCommand } from './commands/completion';
import { debugCommand } from './commands/debug';
import { evalCommand } from './commands/eval';
import { fleetCommand } from './commands/fleet';
import { podsCommand } from './commands/pods';
import { predictCommand } from './commands/predict';
import { grafanaCommand } from './commands/grafana';
import { logsCommand } from './commands/logs';
import { profileCommand } from './commands/profile';
import { serverCommand } from './commands/server';
import { streamsCommand } from './commands/streams';
import { tracesCommand } from './commands/traces';

const COMMANDS: CliCommand[] = [alertsCommand, analyticsCommand, debugCommand, evalCommand, fleetCommand, grafanaCommand, logsCommand, podsCommand, predictCommand, profileCommand, serverCommand, streamsCommand, tracesCommand];
COMMANDS.push(completionCommand(() => COMMANDS));

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `sg ${VERSION} — StreamGate DevTools from a terminal`,
    '',
    'Usage: sg <command> [options]      sg <command> --help for a command\'s options',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`sg: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (!command.ownHelp && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    // Only Node's own argument errors have a string code here (a server's error has a numeric one).
    const code = (error as { code?: unknown }).code;
    const usage = error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`sg ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (usage) process.stderr.write(`\n${command.usage}\n`);
    return usage ? 2 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`sg: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
