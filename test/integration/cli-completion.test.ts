/**
 * `sg completion bash|zsh` in the real shells: bash runs the completion function as readline would (COMP_WORDS,
 * COMP_CWORD) and we read COMPREPLY; zsh registers it with compinit, and the function is run with zsh's
 * completion builtins (compadd, _describe, _files) replaced by printers, since those only work inside the line
 * editor.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, tempDir } from '../support/services';

const cli = join(repoRoot, 'dist', 'cli.js');

function script(shell: 'bash' | 'zsh'): string {
  const run = spawnSync(process.execPath, [cli, 'completion', shell], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const file = join(tempDir('sg-completion-'), `sg.${shell}`);
  writeFileSync(file, run.stdout);
  return file;
}

function shell(program: 'bash' | 'zsh', code: string): string {
  const run = spawnSync(program, program === 'zsh' ? ['-f', '-c', code] : ['--norc', '--noprofile', '-c', code], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${program} failed: ${run.stderr}`);
  return run.stdout.trim();
}

describe('sg completion', () => {
  it('bash: completes commands, subcommands and each command\'s flags', () => {
    const file = script('bash');
    const complete = (...words: string[]) =>
      shell('bash', `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _sg_completion; echo "\${COMPREPLY[*]}"`);
    assert.equal(complete('sg', 'fl'), 'fleet');
    assert.equal(complete('sg', 'p'), 'pods predict profile');
    assert.equal(complete('sg', '--v'), '--version');
    assert.equal(complete('sg', 'fleet', ''), 'down incident status up');
    assert.equal(complete('sg', 'fleet', 'up', '--po'), '--pod --pods');
    assert.equal(complete('sg', 'profile', 'cpu', '--s'), '--sample-index --seconds');
    assert.equal(complete('sg', 'pods', '--'), '--help --json --nats --selector');
    assert.equal(complete('sg', 'eval', ''), 'loghub m4 nab');
    assert.equal(complete('sg', 'completion', ''), 'bash zsh');
    // Nothing that does not exist: an unknown command completes nothing (the shell falls back to file names).
    assert.equal(complete('sg', 'nosuch', '--'), '');
    assert.equal(complete('sg', 'pods', '--pod'), '');
  });

  it('zsh: registers _sg with compinit and offers the same words', () => {
    const file = script('zsh');
    assert.equal(shell('zsh', `autoload -U compinit && compinit -u -D; source ${file}; print -r -- $_comps[sg]`), '_sg');
    const complete = (current: number, prefix: string, ...words: string[]) =>
      shell(
        'zsh',
        [
          `source ${file} 2>/dev/null`,
          'compadd() { [[ $1 == -a ]] && print -r -- "${(P)2}" || print -r -- "${@:#--}"; }',
          '_describe() { print -r -- "${(P)4}"; }',
          '_files() { print -r -- "(files)"; }',
          `words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${current}; PREFIX='${prefix}'; _sg`,
        ].join('\n'),
      ).split('\n');
    const top = complete(2, '', 'sg', '');
    assert.match(top[0]!, /^alerts:the fleet's alerts/);
    assert.match(top[0]!, / analytics:live figures/);
    assert.match(top[0]!, / fleet:run the sandbox fleet/);
    assert.equal(top[1], '--help --version');
    assert.deepEqual(complete(3, '', 'sg', 'fleet', ''), ['down incident status up', '(files)']);
    assert.deepEqual(complete(4, '--', 'sg', 'pods', '--json', '--'), ['--help --json --nats --selector', '(files)']);
    assert.deepEqual(complete(3, '', 'sg', 'nosuch', ''), ['(files)']);
  });

  it('refuses a shell it does not know, with the usage', () => {
    const run = spawnSync(process.execPath, [cli, 'completion', 'fish'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /sg completion: no completion for "fish": bash or zsh/);
    assert.match(run.stderr, /sg completion bash\|zsh/);
  });
});
