/** How `sg` subcommands are declared: a name, one line of help, a usage block and a run function. */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** Commands with subcommands answer --help themselves (for the subcommand asked about). */
  ownHelp?: boolean;
  run(args: string[]): Promise<number>;
}

/** A user mistake: printed without a stack, exit code 2. */
export class UsageError extends Error {}
