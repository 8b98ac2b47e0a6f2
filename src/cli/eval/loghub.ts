/**
 * `sg eval loghub --data DIR [--json]`: the log template miner scored on Loghub-2k's corrected labels. Every
 * `DIR/<System>/<System>_2k.log_structured_corrected.csv` is mined in order from its `Content` column by a
 * fresh miner with the product's default options; grouping and parsing accuracy are measured against its
 * `EventTemplate` column.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TemplateMiner, type MinerOptions } from '../../server/logs/templateMiner';
import { scoreTemplates } from '../../server/logs/templateAccuracy';
import { UsageError } from '../command';
import { columns, parseCsv } from './csvTable';
import type { Evaluation } from './index';

export interface LoghubSystemResult {
  system: string;
  ga: number;
  pa: number;
  templates: number;
  lines: number;
  trueTemplates: number;
}

export interface LoghubResult {
  meanGA: number;
  meanPA: number;
  systems: LoghubSystemResult[];
}

export class LoghubDataError extends Error {}

export function structuredFile(dir: string, system: string): string {
  return join(dir, system, `${system}_2k.log_structured_corrected.csv`);
}

/** The systems under `dir`: every sub-folder, each of which must hold its structured CSV. */
export function loghubSystems(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LoghubDataError(code === 'ENOENT' ? `${dir}: no such folder` : code === 'ENOTDIR' ? `${dir}: not a folder` : `${dir}: ${(error as Error).message}`);
  }
  const systems = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (systems.length === 0) throw new LoghubDataError(`${dir}: no system folders (expected ${join(dir, '<System>', '<System>_2k.log_structured_corrected.csv')})`);
  for (const system of systems) {
    const file = structuredFile(dir, system);
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) throw new LoghubDataError(`${file}: missing (every folder of ${dir} is a system and needs its structured CSV)`);
  }
  return systems;
}

/** The messages (`Content`) and true templates (`EventTemplate`) of one system, in file order. */
export function readStructured(file: string): { contents: string[]; truth: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new LoghubDataError(`${file}: ${(error as Error).message}`);
  }
  let table;
  try {
    table = parseCsv(text, file);
    const col = columns(table, file, ['Content', 'EventTemplate']);
    if (table.rows.length === 0) throw new LoghubDataError(`${file}: no rows under the header`);
    return { contents: table.rows.map((r) => r[col.Content]!), truth: table.rows.map((r) => r[col.EventTemplate]!) };
  } catch (error) {
    throw new LoghubDataError((error as Error).message);
  }
}

export function evaluateSystem(system: string, contents: readonly string[], truth: readonly string[], options?: Partial<MinerOptions>): LoghubSystemResult {
  const miner = new TemplateMiner(options);
  // Templates merge as the miner learns; a line belongs to the template its id resolves to at the end.
  const ids = contents.map((line) => miner.add(line).templateId).map((id) => miner.resolve(id) ?? -id);
  const finalText = new Map(miner.templates().map((t) => [t.templateId, t.template]));
  const parsedTemplate = ids.map((id) => finalText.get(id) ?? '');
  const score = scoreTemplates(truth, ids, parsedTemplate);
  return {
    system,
    ga: score.groupingAccuracy,
    pa: score.parsingAccuracy,
    templates: score.parsedGroups,
    lines: score.messages,
    trueTemplates: score.trueGroups,
  };
}

export function evaluateLoghub(dir: string, options?: Partial<MinerOptions>): LoghubResult {
  const systems = loghubSystems(dir).map((system) => {
    const { contents, truth } = readStructured(structuredFile(dir, system));
    return evaluateSystem(system, contents, truth, options);
  });
  const mean = (f: (s: LoghubSystemResult) => number) => systems.reduce((sum, s) => sum + f(s), 0) / systems.length;
  return { meanGA: mean((s) => s.ga), meanPA: mean((s) => s.pa), systems };
}

function table(result: LoghubResult): string {
  const rows = [
    ['system', 'lines', 'templates', 'true', 'GA', 'PA'],
    ...result.systems.map((s) => [s.system, String(s.lines), String(s.templates), String(s.trueTemplates), s.ga.toFixed(3), s.pa.toFixed(3)]),
    ['mean', '', '', '', result.meanGA.toFixed(3), result.meanPA.toFixed(3)],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

export const loghubEvaluation: Evaluation = {
  name: 'loghub',
  summary: 'log template mining on Loghub-2k (corrected labels): grouping and parsing accuracy',
  usage: `sg eval loghub --data DIR [--json]

  --data DIR   a folder of <System>/<System>_2k.log_structured_corrected.csv (Loghub-2k layout)
  --json       print { "meanGA", "meanPA", "systems": [ { "system", "ga", "pa", "templates" } ] }

Each system is mined in file order from its Content column by a fresh miner with default options, and scored
against EventTemplate: GA = share of lines whose mined group holds exactly their true group's lines,
PA = share of lines whose template text equals the true one.`,
  run(args) {
    const { values } = parseArgs({ args, options: { data: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false });
    if (!values.data) throw new UsageError('--data DIR is required');
    const result = evaluateLoghub(values.data);
    if (values.json) {
      const shape = { meanGA: result.meanGA, meanPA: result.meanPA, systems: result.systems.map((s) => ({ system: s.system, ga: s.ga, pa: s.pa, templates: s.templates })) };
      process.stdout.write(`${JSON.stringify(shape, null, 2)}\n`);
    } else {
      process.stdout.write(`${table(result)}\n`);
    }
    return Promise.resolve(0);
  },
};
