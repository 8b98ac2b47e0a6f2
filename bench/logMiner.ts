/**
 * Log template mining throughput on one core, against two baselines timed in the same run, round by round:
 * - split: `line.split(/\s+/)` and nothing else (the floor: what reading tokens costs);
 * - plain Drain: the published algorithm with no masks (bench/fixtures/plainDrain.ts);
 * - miner: the product's TemplateMiner with default options, through `add()` as ingest calls it.
 * Input: every Content line of Loghub-2k (8 systems × 2,000), each system streamed `PASSES` times through its
 * own miner (the first pass learns, later passes are the steady state). Also printed: grouping and parsing
 * accuracy of plain Drain and of the miner on the same data, and the worst case for memory and speed
 * (200,000 lines that are each a new template, through miners capped at 1,000 and 10,000 templates).
 *
 *   npm run bench -- logMiner         (SG_LOGHUB_DIR=… if the data is not in ../shared/data/loghub-2k; SG_BENCH_ROUNDS=5)
 */
import { join } from 'node:path';
import { evalDataDir } from '../test/support/evalData';
import { evaluateLoghub, loghubSystems, readStructured, structuredFile } from '../src/cli/eval/loghub';
import { scoreTemplates } from '../src/server/logs/templateAccuracy';
import { TemplateMiner } from '../src/server/logs/templateMiner';
import { PlainDrain } from './fixtures/plainDrain';

const ROUNDS = Number(process.env.SG_BENCH_ROUNDS ?? 5);
const PASSES = 5;

function dataDir(): string {
  return process.env.SG_LOGHUB_DIR ?? join(evalDataDir(), 'loghub-2k');
}

type Arm = 'split' | 'plain Drain' | 'miner';

function runArm(arm: Arm, systems: string[][]): { seconds: number; lines: number; sink: number } {
  let sink = 0;
  let lines = 0;
  const started = process.hrtime.bigint();
  for (const contents of systems) {
    const drain = arm === 'plain Drain' ? new PlainDrain() : undefined;
    const miner = arm === 'miner' ? new TemplateMiner() : undefined;
    for (let pass = 0; pass < PASSES; pass++) {
      for (const line of contents) {
        if (miner) sink += miner.add(line).templateId;
        else if (drain) sink += drain.add(line).id;
        else sink += line.split(/\s+/).length;
      }
      lines += contents.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, lines, sink };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface SystemAccuracy {
  system: string;
  ga: number;
  pa: number;
}

function plainDrainAccuracy(dir: string): SystemAccuracy[] {
  return loghubSystems(dir).map((system) => {
    const { contents, truth } = readStructured(structuredFile(dir, system));
    const drain = new PlainDrain();
    const clusters = contents.map((line) => drain.add(line));
    const score = scoreTemplates(truth, clusters.map((c) => c.id), clusters.map((c) => c.tokens.join(' ')));
    return { system, ga: score.groupingAccuracy, pa: score.parsingAccuracy };
  });
}

/** A word of letters only, different for every i (so every line below is a template of its own). */
function junkWord(i: number): string {
  return `w${(i * 2654435761) % 1_000_003}`.replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!);
}

/** The worst case: every line a new template of the same shape, through a miner at its template cap. */
function memoryCheck(maxTemplates: number): { lines: number; templates: number; evicted: number; retainedMiB: number; linesPerSecond: number } {
  let miner: TemplateMiner | undefined = new TemplateMiner({ maxTemplates });
  const lines = 200_000;
  const text = Array.from({ length: lines }, (_, i) => `${junkWord(i)} ${junkWord(i + 1)} ${junkWord(i + 2)} happened ${i}`);
  const started = process.hrtime.bigint();
  for (const line of text) miner.add(line);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stats = miner.stats();
  // What the miner holds: the heap with it, less the heap once it is dropped.
  globalThis.gc?.();
  const withMiner = process.memoryUsage().heapUsed;
  miner = undefined;
  globalThis.gc?.();
  const retainedMiB = (withMiner - process.memoryUsage().heapUsed) / 2 ** 20;
  return { lines, templates: stats.templates, evicted: stats.evicted, retainedMiB, linesPerSecond: lines / seconds };
}

function main(): void {
  const dir = dataDir();
  const systems = loghubSystems(dir).map((s) => readStructured(structuredFile(dir, s)).contents);
  const arms: Arm[] = ['split', 'plain Drain', 'miner'];
  runArm('miner', systems); // warm up the JIT on every arm before timing
  runArm('plain Drain', systems);
  runArm('split', systems);
  const rates = new Map<Arm, number[]>(arms.map((a) => [a, []]));
  const ratios = { split: [] as number[], drain: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const perRound = new Map<Arm, number>();
    for (const arm of round % 2 ? [...arms].reverse() : arms) {
      const { seconds, lines } = runArm(arm, systems);
      perRound.set(arm, lines / seconds);
      rates.get(arm)!.push(lines / seconds);
    }
    ratios.split.push(perRound.get('miner')! / perRound.get('split')!);
    ratios.drain.push(perRound.get('miner')! / perRound.get('plain Drain')!);
    console.log(`round ${round + 1}: ${arms.map((a) => `${a} ${Math.round(perRound.get(a)! / 1000)}k lines/s`).join(', ')}`);
  }
  const lines = systems.reduce((n, s) => n + s.length, 0) * PASSES;
  console.log(`\n${lines} lines per arm per round, ${ROUNDS} rounds, median lines/s on one core:`);
  for (const arm of arms) console.log(`  ${arm.padEnd(12)} ${Math.round(median(rates.get(arm)!)).toLocaleString('en')}`);
  console.log(`  miner / split        ${median(ratios.split).toFixed(3)}`);
  console.log(`  miner / plain Drain  ${median(ratios.drain).toFixed(3)}`);
  console.log(`  goal: miner ≥ 100,000 lines/s — ${median(rates.get('miner')!) >= 100_000 ? 'met' : 'NOT met'}`);

  const drain = plainDrainAccuracy(dir);
  const miner = evaluateLoghub(dir);
  console.log(`\naccuracy on ${dir} (GA / PA):`);
  console.log(`  ${'system'.padEnd(10)}  plain Drain    miner`);
  for (const s of miner.systems) {
    const d = drain.find((x) => x.system === s.system)!;
    console.log(`  ${s.system.padEnd(10)}  ${d.ga.toFixed(3)} / ${d.pa.toFixed(3)}  ${s.ga.toFixed(3)} / ${s.pa.toFixed(3)}`);
  }
  const mean = (f: (x: SystemAccuracy) => number) => drain.reduce((n, x) => n + f(x), 0) / drain.length;
  console.log(`  ${'mean'.padEnd(10)}  ${mean((x) => x.ga).toFixed(3)} / ${mean((x) => x.pa).toFixed(3)}  ${miner.meanGA.toFixed(3)} / ${miner.meanPA.toFixed(3)}`);

  for (const cap of [1_000, 10_000]) {
    const memory = memoryCheck(cap);
    console.log(
      `worst case: ${memory.lines.toLocaleString('en')} lines, each a new template, into a miner capped at ${cap.toLocaleString('en')} templates → ` +
        `${memory.templates.toLocaleString('en')} kept, ${memory.evicted.toLocaleString('en')} evicted, the miner holds ${memory.retainedMiB.toFixed(1)} MiB, ${Math.round(memory.linesPerSecond).toLocaleString('en')} lines/s`,
    );
  }
}

main();
