/**
 * `sg completion bash|zsh`: a shell completion script for sg. What it completes is read from the commands'
 * own usage text (each command's subcommands and --flags), so it cannot drift from the commands themselves.
 */
import { UsageError, type CliCommand } from '../command';

export interface CompletionEntry {
  name: string;
  summary: string;
  /** Words that may follow the command (its subcommands, or a benchmark's name). */
  subcommands: string[];
  /** Every --flag the usage mentions, and --help. */
  flags: string[];
}

/** What each command's usage says it takes. */
export function completionTable(commands: readonly CliCommand[]): CompletionEntry[] {
  return commands.map((command) => {
    const usage = command.usage;
    const subcommands = new Set<string>();
    for (const [, words] of usage.matchAll(new RegExp(`^sg ${command.name} ([a-z][\\w|-]*)`, 'gm'))) for (const word of words!.split('|')) subcommands.add(word);
    // Commands whose usage names a placeholder (`sg eval <benchmark>`) list the choices as indented rows.
    if (new RegExp(`^sg ${command.name} <`, 'm').test(usage)) {
      for (const [, word] of usage.matchAll(/^ {2}([a-z][\w-]*) {2,}\S/gm)) subcommands.add(word!);
    }
    const flags = new Set([...usage.matchAll(/(?<![\w-])(--[a-z][\w-]*)/g)].map((m) => m[1]!));
    flags.add('--help');
    return { name: command.name, summary: command.summary, subcommands: [...subcommands].sort(), flags: [...flags].sort() };
  });
}

function bashScript(table: CompletionEntry[]): string {
  const cases = table
    .map((c) => {
      const flags = c.flags.join(' ');
      if (c.subcommands.length === 0) return `    ${c.name}) words="${flags}" ;;`;
      return `    ${c.name}) if (( COMP_CWORD == 2 )) && [[ $cur != -* ]]; then words="${c.subcommands.join(' ')}"; else words="${flags}"; fi ;;`;
    })
    .join('\n');
  return `# bash completion for sg (StreamGate DevTools).
# Load it with: eval "$(sg completion bash)"   (e.g. in ~/.bashrc), or save it as /etc/bash_completion.d/sg
_sg_completion() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words=""
  if (( COMP_CWORD == 1 )); then
    words="${table.map((c) => c.name).join(' ')} --help --version"
  else
    case "\${COMP_WORDS[1]}" in
${cases}
    esac
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _sg_completion sg
`;
}

function zshQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function zshScript(table: CompletionEntry[]): string {
  const cases = table
    .map((c) => {
      const flags = c.flags.join(' ');
      if (c.subcommands.length === 0) return `    ${c.name}) choices=(${flags}) ;;`;
      return `    ${c.name}) if (( CURRENT == 3 )) && [[ $PREFIX != -* ]]; then choices=(${c.subcommands.join(' ')}); else choices=(${flags}); fi ;;`;
    })
    .join('\n');
  return `#compdef sg
# zsh completion for sg (StreamGate DevTools).
# Load it with: eval "$(sg completion zsh)" after compinit (e.g. in ~/.zshrc), or save it as _sg in a folder of $fpath
_sg() {
  local -a commands choices
  commands=(
${table.map((c) => `    ${zshQuote(`${c.name}:${c.summary}`)}`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'sg command' commands
    compadd -- --help --version
    return
  fi
  case $words[2] in
${cases}
  esac
  (( \${#choices} )) && compadd -a choices
  _files
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _sg "$@"
else
  compdef _sg sg
fi
`;
}

/** The command itself; it is given the full command list (itself included) by main.ts. */
export function completionCommand(commands: () => readonly CliCommand[]): CliCommand {
  return {
    name: 'completion',
    summary: 'print a shell completion script: eval "$(sg completion bash)" or "$(sg completion zsh)"',
    usage: `sg completion bash|zsh

  bash    eval "$(sg completion bash)" in ~/.bashrc, or save the output as /etc/bash_completion.d/sg
  zsh     eval "$(sg completion zsh)" in ~/.zshrc after compinit, or save it as _sg in a folder of $fpath`,
    run(args) {
      const [shell, ...rest] = args;
      if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
      const table = completionTable(commands());
      if (shell === 'bash') process.stdout.write(bashScript(table));
      else if (shell === 'zsh') process.stdout.write(zshScript(table));
      else throw new UsageError(shell ? `no completion for "${shell}": bash or zsh` : 'which shell? bash or zsh');
      return Promise.resolve(0);
    },
  };
}
