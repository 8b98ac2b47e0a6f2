/**
 * How busy each load level keeps the sandbox's gateway pods at the daily peak (`sg fleet up --load`): the
 * fleet starts with its own NATS, the simulated day starts just before the evening peak (20:00, one simulated
 * hour per real minute), and after a warm-up each pod's CPU is read from /proc over the measuring window.
 * The load generator's own CPU is reported beside it (it shares the machine).
 *
 *   npm run bench -- sandboxLoad      (SG_BENCH_LEVELS=light,normal,busy SG_BENCH_SECONDS=30)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOAD_LEVELS, startSandbox, type LoadLevel } from '../src/launch/sandbox';
import { tempDirectory } from './support';

const root = join(__dirname, '..', '..');
const SECONDS = Number(process.env.SG_BENCH_SECONDS ?? 30);
const LEVELS = (process.env.SG_BENCH_LEVELS ?? 'light,normal,busy').split(',') as LoadLevel[];
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function measure(level: LoadLevel): Promise<void> {
  const fleet = await startSandbox({
    stateDir: tempDirectory('sg-bench-load-'),
    distDir: join(root, 'dist'),
    load: level,
    // Warm-up from 19:45, measure across the 20:00 peak.
    loadgenArgs: ['--start-hour', '19.75', '--day-minutes', '24', ...(process.env.SG_BENCH_LOADGEN_LOG ? [] : ['--quiet'])],
    log: (line) => process.env.SG_BENCH_LOADGEN_LOG && console.log(line),
  });
  try {
    await new Promise((r) => setTimeout(r, 15_000));
    const gateways = fleet.pods.filter((p) => p.runtime === 'node');
    const pids = [...gateways.map((p) => p.process.pid), fleet.loadgen!.pid];
    const before = pids.map(cpuTicks);
    const started = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const seconds = (performance.now() - started) / 1000;
    const percent = pids.map((pid, i) => ((cpuTicks(pid) - before[i]!) / TICKS_PER_SECOND / seconds) * 100);
    const pods = percent.slice(0, -1);
    const l = LOAD_LEVELS[level];
    console.log(
      `${level.padEnd(7)} (peak ${l.peakSessionsPerSecond} sessions/s, ≤${l.maxSessions} active, messages every ~${l.messageIntervalMs} ms): ` +
        `gateway pods ${pods.map((p) => `${p.toFixed(1)}%`).join(', ')} of a core (mean ${(pods.reduce((a, b) => a + b, 0) / pods.length).toFixed(1)}%); load generator ${percent.at(-1)!.toFixed(1)}%`,
    );
  } finally {
    if (process.env.SG_BENCH_LOADGEN_LOG) console.log(readFileSync(fleet.loadgen!.logFile, 'utf8').trim().split('\n').slice(-3).join('\n'));
    await fleet.stop();
  }
}

async function main(): Promise<void> {
  console.log(`sandbox pods' CPU at the daily peak, ${SECONDS} s per level after a 15 s warm-up (shared 2-core machine)`);
  for (const level of LEVELS) await measure(level);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
