/**
 * Reads a folder laid out as NAB's: `data/<subset>/<file>.csv` (timestamp,value), `labels/combined_windows.json`,
 * optionally `config/profiles.json`, and result folders `<detector>/<subset>/<detector>_<file>.csv`
 * (timestamp,anomaly_score,…). Every problem is reported with the file (and line) it is in.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DEFAULT_COST_MATRICES, NAB_PROFILES, type CostMatrix, type NabProfile } from './nabScorer';

export class DataError extends Error {}

export interface NabFile {
  /** Path below data/, with forward slashes: the key of the labels file. */
  name: string;
  timestamps: Float64Array;
  values: Float64Array;
  /** Window limits in epoch ms. */
  windowLimits: Array<[number, number]>;
}

export interface NabCorpus {
  files: NabFile[];
  profiles: Record<NabProfile, CostMatrix>;
  /** Set when config/profiles.json was absent and NAB's own cost matrices were used. */
  defaultProfiles: boolean;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$/;

/** NAB timestamps ("2014-04-10 07:15:00[.000000]") as UTC epoch ms, or NaN. */
export function parseNabTimestamp(text: string): number {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return Number.NaN;
  const ms = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) + Math.round(ms);
}

function csvFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...csvFiles(path));
    else if (entry.name.endsWith('.csv')) out.push(path);
  }
  return out.sort();
}

/** Reads a CSV of a header and rows; `columns` names the columns wanted, found by header name. */
export function readCsvColumns(path: string, columns: string[]): { timestamps: Float64Array; columns: Float64Array[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DataError(`${path}: cannot be read (${(error as Error).message})`);
  }
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  if (lines.length < 2) throw new DataError(`${path}: no data rows (a header line and at least one row are needed)`);
  const header = lines[0]!.split(',').map((h) => h.trim());
  const timeIndex = header.indexOf('timestamp');
  if (timeIndex < 0) throw new DataError(`${path}: the header has no "timestamp" column (found: ${header.join(', ')})`);
  const indices = columns.map((c) => {
    const i = header.indexOf(c);
    if (i < 0) throw new DataError(`${path}: the header has no "${c}" column (found: ${header.join(', ')})`);
    return i;
  });
  const n = lines.length - 1;
  const timestamps = new Float64Array(n);
  const out = columns.map(() => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const cells = lines[r + 1]!.split(',');
    const t = parseNabTimestamp(cells[timeIndex] ?? '');
    if (Number.isNaN(t)) throw new DataError(`${path}:${r + 2}: bad timestamp "${cells[timeIndex] ?? ''}"`);
    timestamps[r] = t;
    indices.forEach((ci, k) => {
      const v = Number(cells[ci]);
      if (cells[ci] === undefined || cells[ci].trim() === '' || !Number.isFinite(v)) throw new DataError(`${path}:${r + 2}: "${columns[k]}" is not a number ("${cells[ci] ?? ''}")`);
      out[k]![r] = v;
    });
  }
  return { timestamps, columns: out };
}

function readJson(path: string): unknown {
  if (!existsSync(path)) throw new DataError(`${path}: missing`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new DataError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

function readWindows(path: string): Map<string, Array<[number, number]>> {
  const json = readJson(path);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new DataError(`${path}: expected an object of file name → list of [start, end] windows`);
  const out = new Map<string, Array<[number, number]>>();
  for (const [name, list] of Object.entries(json)) {
    if (!Array.isArray(list)) throw new DataError(`${path}: "${name}" should be a list of [start, end] windows`);
    out.set(
      name,
      list.map((pair: unknown, i) => {
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') throw new DataError(`${path}: "${name}"[${i}] should be ["start", "end"]`);
        const start = parseNabTimestamp(pair[0]);
        const end = parseNabTimestamp(pair[1]);
        if (Number.isNaN(start) || Number.isNaN(end) || end < start) throw new DataError(`${path}: "${name}"[${i}] has bad limits ${JSON.stringify(pair)}`);
        return [start, end];
      }),
    );
  }
  return out;
}

function readProfiles(path: string): Record<NabProfile, CostMatrix> {
  const json = readJson(path) as Record<string, { CostMatrix?: Record<string, unknown> } | undefined>;
  const out = {} as Record<NabProfile, CostMatrix>;
  for (const profile of NAB_PROFILES) {
    const m = json[profile]?.CostMatrix;
    const weights = ['tpWeight', 'fpWeight', 'fnWeight'] as const;
    if (!m || weights.some((w) => typeof m[w] !== 'number')) throw new DataError(`${path}: "${profile}.CostMatrix" needs numeric tpWeight, fpWeight and fnWeight`);
    out[profile] = { tpWeight: m.tpWeight as number, fpWeight: m.fpWeight as number, fnWeight: m.fnWeight as number };
  }
  return out;
}

export function loadNabCorpus(dir: string): NabCorpus {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError(`${dir}: not a folder`);
  const dataDir = join(dir, 'data');
  if (!existsSync(dataDir)) throw new DataError(`${dataDir}: missing (expected data/<subset>/<file>.csv)`);
  const windows = readWindows(join(dir, 'labels', 'combined_windows.json'));
  const profilesPath = join(dir, 'config', 'profiles.json');
  const defaultProfiles = !existsSync(profilesPath);
  const profiles = defaultProfiles ? DEFAULT_COST_MATRICES : readProfiles(profilesPath);
  const paths = csvFiles(dataDir);
  if (paths.length === 0) throw new DataError(`${dataDir}: no .csv files`);
  const files = paths.map((path) => {
    const name = relative(dataDir, path).split(sep).join('/');
    const limits = windows.get(name);
    if (!limits) throw new DataError(`${join(dir, 'labels', 'combined_windows.json')}: has no entry for ${name}`);
    const { timestamps, columns } = readCsvColumns(path, ['value']);
    return { name, timestamps, values: columns[0]!, windowLimits: limits };
  });
  return { files, profiles, defaultProfiles };
}

/** A published detector's scores for a data file: `<resultsDir>/<subset>/<detector>_<file>.csv`. */
export function readResultScores(resultsDir: string, file: NabFile): Float64Array {
  const slash = file.name.lastIndexOf('/');
  const detector = resultsDir.split(/[\\/]/).filter(Boolean).pop() ?? '';
  const path = join(resultsDir, file.name.slice(0, slash + 1), `${detector}_${file.name.slice(slash + 1)}`);
  if (!existsSync(path)) throw new DataError(`${path}: missing (results for ${file.name})`);
  const { timestamps, columns } = readCsvColumns(path, ['anomaly_score']);
  if (timestamps.length !== file.timestamps.length) throw new DataError(`${path}: ${timestamps.length} rows, the data file has ${file.timestamps.length}`);
  return columns[0]!;
}
