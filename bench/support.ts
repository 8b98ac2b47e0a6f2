import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../src/launch/process';

export function tempDirectory(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A process's CPU so far (user + system), in seconds, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

/** The command pinned to one CPU with taskset, when there is one. */
export function pinned(cpu: number, command: string, args: string[]): [string, string[]] {
  const taskset = findExecutable('taskset');
  return taskset ? [taskset, ['-c', String(cpu), command, ...args]] : [command, args];
}
