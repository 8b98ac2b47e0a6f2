import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { formatPercent, formatProfileValue } from '../../common/profileFormat';
import { fetchProfile } from '../../common/podClient';
import { MAX_PROFILE_SECONDS } from '../../protocol/nats';
import { diffProfiles } from '../../server/profiles/diff';
import { toPprofGzip, toSpeedscope } from '../../server/profiles/export';
import { loadProfileFiles, type LoadedProfiles } from '../../server/profiles/load';
import { SampleIndexError } from '../../server/profiles/profileData';
import { GRANULARITIES, neighbours, topTable, type Granularity, type Neighbour, type TopTable } from '../../server/profiles/top';
import { parseSelector } from '../../protocol/nats';
import { BASELINES, STORED_PROFILE_TYPES, type Baseline, type ProfileSelection, type StoredProfileType } from '../../protocol/profiles';
import { decodeProfile } from '../../server/profiles/decode';
import { RemoteProfiles } from '../../server/profiles/profileClient';
import { UsageError, type CliCommand } from '../command';
import { ProgressBar } from '../progress';
import { connectCli, parseDuration, resolveNatsUrl } from '../target';

/** Exit code when the output was written but some input files were skipped (each named on stderr). */
export const EXIT_PARTIAL = 3;

export const profileCommand: CliCommand = {
  name: 'profile',
  summary: 'take profiles from pods; top tables, diffs, callers/callees and exports of pprof and .cpuprofile files',
  usage: `sg profile cpu|heap --pod ID [--seconds N] --out FILE.pb.gz [--nats URL]
sg profile top FILE... [--by function|filefunction|line] [--sample-index NAME] [--limit N] [--json]
sg profile peek FILE... --function NAME [--by ...] [--sample-index NAME] [--json]
sg profile diff BASE CURRENT [--by ...] [--sample-index NAME] [--order absolute|share] [--limit N] [--json]
sg profile export FILE... --format pprof|speedscope --out FILE [--sample-index NAME]
sg profile top|peek|export --since D [--where k=v,...] [--type TYPE] [--nats URL] ...
sg profile diff --since D [--where k=v,...] [--base-where k=v,...] [--type TYPE] [--nats URL] ...
sg profile regressions [--since 15m] [--type cpu|heap] [--baseline previous|version] [--where k=v,...] [--nats URL] [--json]
sg profile recommendations [--since 15m] [--where k=v,...] [--nats URL] [--json]

  cpu             sample a pod's CPU for --seconds (default 10, at most ${MAX_PROFILE_SECONDS})
  heap            a pod's live heap as sampled since it started
  --pod ID        the pod (see sg pods)
  --out FILE      where to write (cpu/heap: gzipped pprof, read it with go tool pprof -top FILE)

  top             the top table of FILE... merged, as go tool pprof -top: flat, flat %, cum, cum %, name
  peek            who calls a function and what it calls (as go tool pprof -peek)
  diff            per-function deltas of CURRENT against BASE (each a file; BASE=a,b merges several)
  export          FILE... merged, as gzipped pprof or speedscope JSON
  FILE            pprof (gzipped or not, from any producer) or a V8 .cpuprofile
  --by            function (default: same-named functions add up, as pprof), filefunction, line
  --sample-index  a sample type by name (cpu, samples, alloc_space, inuse_space…) or position; default as pprof:
                  the profile's default_sample_type, else the last one
  --limit N       rows to print (text default 30; JSON default all; 0 = all)
  --json          machine-readable output; shapes in docs/profiling.md

  A selection (instead of FILE...) asks the StreamGate server on this NATS for the fleet's stored profiles:
  --since D       the last D (30s, 15m, 2h)
  --where         only pods whose labels equal these (service, pod, version, region, runtime or a pod label)
  --type          cpu (default), heap, goroutine, block or mutex
  diff            with --since alone: the last D against the D before; with --base-where: the same range,
                  the base side's pods chosen by --base-where (two versions, two pods)
  regressions     functions whose self share rose against the previous range (or other versions) beyond noise
  recommendations findings of the optimisation rules (docs/optimization.md) over the range

Exit codes: 0 done; 1 no input could be read; 2 usage; ${EXIT_PARTIAL} done, but some files were skipped (named on stderr).`,
  async run(args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'cpu':
      case 'heap':
        return capture(sub, rest);
      case 'top':
        return top(rest);
      case 'peek':
        return peek(rest);
      case 'diff':
        return diff(rest);
      case 'export':
        return exportProfiles(rest);
      case 'regressions':
        return regressions(rest);
      case 'recommendations':
        return recommendations(rest);
      default:
        throw new UsageError(`the subcommand is cpu, heap, top, peek, diff, export, regressions or recommendations, not "${sub ?? ''}"`);
    }
  },
};

const selectionOptions = {
  since: { type: 'string' },
  where: { type: 'string' },
  type: { type: 'string' },
  nats: { type: 'string' },
  creds: { type: 'string' },
} as const;

const analysisOptions = {
  by: { type: 'string' },
  'sample-index': { type: 'string' },
  json: { type: 'boolean', default: false },
  limit: { type: 'string' },
  ...selectionOptions,
} as const;

interface SelectionFlags {
  since?: string | undefined;
  where?: string | undefined;
  type?: string | undefined;
  nats?: string | undefined;
  creds?: string | undefined;
}

function sinceMs(flags: SelectionFlags, fallback?: string): number {
  const text = flags.since ?? fallback;
  if (text === undefined) throw new UsageError('give FILE... or a selection with --since D');
  try {
    const ms = parseDuration(text);
    if (!(ms > 0)) throw new Error('it must be longer than 0');
    return ms;
  } catch (error) {
    throw new UsageError(`--since: ${(error as Error).message}`);
  }
}

function whereOf(text: string | undefined, flag = '--where'): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  try {
    return parseSelector(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

function typeOf(text: string | undefined, allowed: readonly string[] = STORED_PROFILE_TYPES): StoredProfileType {
  if (text === undefined) return 'cpu';
  if (!allowed.includes(text)) throw new UsageError(`--type is ${allowed.join(', ')}, not "${text}"`);
  return text as StoredProfileType;
}

/** Runs `fn` with the stored profiles of the server on this NATS. */
async function withServer<T>(flags: SelectionFlags, fn: (api: RemoteProfiles) => Promise<T>): Promise<T> {
  const nc = await connectCli(resolveNatsUrl(flags.nats), flags.creds);
  try {
    return await fn(new RemoteProfiles(nc));
  } finally {
    await nc.close();
  }
}

/** A selection merged by the server, as the files' LoadedProfiles (its problems named like skipped files). */
async function loadSelection(api: RemoteProfiles, selection: ProfileSelection): Promise<LoadedProfiles> {
  const { pprof, summary } = await api.select(selection);
  for (const problem of summary.problems) process.stderr.write(`sg profile: skipped ${problem}\n`);
  const where = selection.where ? ` where ${Object.entries(selection.where).map(([k, v]) => `${k}=${v}`).join(',')}` : '';
  const source = `${selection.type} profiles of ${summary.pods.length} pod(s) from ${new Date(selection.from).toISOString()} to ${new Date(selection.to).toISOString()}${where}`;
  if (!pprof) {
    process.stderr.write(`sg profile: the server holds no ${source}\n`);
    return { profile: undefined, merged: 0, problems: summary.problems.map((p) => ({ source: 'server', message: p })) };
  }
  return { profile: decodeProfile(pprof, source), merged: summary.profiles, problems: summary.problems.map((p) => ({ source: 'server', message: p })) };
}

/** FILE... or, when none is given, the selection the flags describe. */
async function loadInput(files: string[], flags: SelectionFlags): Promise<LoadedProfiles> {
  if (files.length) {
    if (flags.since !== undefined || flags.where !== undefined) throw new UsageError('give FILE... or --since/--where, not both');
    return load(files);
  }
  const ms = sinceMs(flags);
  const to = Date.now();
  const where = whereOf(flags.where);
  return withServer(flags, (api) => loadSelection(api, { type: typeOf(flags.type), from: to - ms, to, ...(where ? { where } : {}) }));
}

function granularity(value: string | undefined): Granularity {
  if (value === undefined) return 'function';
  if (!(GRANULARITIES as readonly string[]).includes(value)) throw new UsageError(`--by is ${GRANULARITIES.join(', ')}, not "${value}"`);
  return value as Granularity;
}

function limitOf(value: string | undefined, json: boolean): number {
  if (value === undefined) return json ? Infinity : 30;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--limit must be a whole number, not "${value}"`);
  return n === 0 ? Infinity : n;
}

/** Loads and merges files; reports skipped ones on stderr. Undefined (and a message) when none loaded. */
function load(files: string[], what = 'FILE'): LoadedProfiles {
  if (files.length === 0) throw new UsageError(`give at least one ${what}`);
  const loaded = loadProfileFiles(files);
  for (const problem of loaded.problems) process.stderr.write(`sg profile: skipped ${problem.message}\n`);
  return loaded;
}

function exitCode(loaded: LoadedProfiles[]): number {
  return loaded.some((l) => l.problems.length) ? EXIT_PARTIAL : 0;
}

/** Runs `fn`, turning an unknown --sample-index into a usage error. */
function withSampleIndex<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SampleIndexError) throw new UsageError(error.message);
    throw error;
  }
}

async function top(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: analysisOptions, strict: true });
  const by = granularity(values.by);
  const limit = limitOf(values.limit, values.json);
  const loaded = await loadInput(positionals, values);
  if (!loaded.profile) return noInput();
  const table = withSampleIndex(() => topTable(loaded.profile!, { by, ...(values['sample-index'] ? { sampleIndex: values['sample-index'] } : {}) }));
  const shown: TopTable = { ...table, rows: table.rows.slice(0, limit) };
  if (values.json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  else process.stdout.write(topText(shown, table.rows.length, loaded.merged));
  return exitCode([loaded]);
}

function noInput(): number {
  process.stderr.write('sg profile: no profile could be read\n');
  return 1;
}

function location(row: { file: string; line?: number }): string {
  return row.file ? ` (${row.file}${row.line ? `:${row.line}` : ''})` : '';
}

function topText(table: TopTable, allRows: number, merged: number): string {
  const v = (x: number) => formatProfileValue(x, table.unit);
  const lines = [`Type: ${table.sampleType} (${table.unit})${merged > 1 ? `, ${merged} profiles merged` : ''}`, `Total: ${v(table.total)}`];
  const head = ['flat', 'flat%', 'sum%', 'cum', 'cum%'];
  let sum = 0;
  const body = table.rows.map((r) => {
    sum += r.flatPercent;
    return [v(r.flat), formatPercent(r.flatPercent), formatPercent(sum), v(r.cum), formatPercent(r.cumPercent), `${r.name}${location(r)}`];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  lines.push(head.map((h, i) => h.padStart(widths[i]!)).join('  '));
  for (const b of body) lines.push(`${b.slice(0, 5).map((c, i) => c.padStart(widths[i]!)).join('  ')}  ${b[5]}`);
  if (allRows > table.rows.length) lines.push(`(${allRows - table.rows.length} more rows; --limit 0 shows all)`);
  return `${lines.join('\n')}\n`;
}

async function peek(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...analysisOptions, function: { type: 'string' } }, strict: true });
  if (!values.function) throw new UsageError('--function NAME is required (a name from sg profile top)');
  const by = granularity(values.by);
  const loaded = await loadInput(positionals, values);
  if (!loaded.profile) return noInput();
  const result = withSampleIndex(() => neighbours(loaded.profile!, values.function!, { by, ...(values['sample-index'] ? { sampleIndex: values['sample-index'] } : {}) }));
  if (!result) {
    process.stderr.write(`sg profile peek: no function named "${values.function}" in ${loaded.profile.source}${by === 'function' ? '' : ` (at --by ${by}, names include the file${by === 'line' ? ' and line' : ''})`}\n`);
    return 1;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return exitCode([loaded]);
  }
  const v = (x: number) => formatProfileValue(x, result.unit);
  const edge = (e: Neighbour, arrow: string) => `  ${v(e.value).padStart(10)} ${formatPercent(e.percent).padStart(7)}  ${arrow} ${e.name}${location(e)}`;
  const f = result.function;
  process.stdout.write(
    [
      `Type: ${result.sampleType} (${result.unit}); Total: ${v(result.total)}`,
      `callers (share of ${f.name}'s cum):`,
      ...(result.callers.length ? result.callers.map((e) => edge(e, '←')) : ['  (none: a root)']),
      `${f.name}${location(f)}: flat ${v(f.flat)} (${formatPercent(f.flatPercent)}), cum ${v(f.cum)} (${formatPercent(f.cumPercent)})`,
      'callees:',
      ...(result.callees.length ? result.callees.map((e) => edge(e, '→')) : ['  (none: a leaf)']),
      '',
    ].join('\n'),
  );
  return exitCode([loaded]);
}

async function diff(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...analysisOptions, order: { type: 'string' }, 'base-where': { type: 'string' } }, strict: true });
  const selection = positionals.length === 0 && values.since !== undefined;
  if (!selection && positionals.length !== 2) throw new UsageError('diff takes two selections: BASE CURRENT (comma-separate several files in one), or --since D');
  const order = values.order ?? 'absolute';
  if (order !== 'absolute' && order !== 'share') throw new UsageError(`--order is absolute or share, not "${order}"`);
  const by = granularity(values.by);
  const limit = limitOf(values.limit, values.json);
  const [base, current] = selection ? await diffSelections(values) : [load(positionals[0]!.split(','), 'BASE file'), load(positionals[1]!.split(','), 'CURRENT file')];
  if (!base.profile || !current.profile) return noInput();
  const table = withSampleIndex(() => diffProfiles(base.profile!, current.profile!, { by, order, ...(values['sample-index'] ? { sampleIndex: values['sample-index'] } : {}) }));
  const rows = table.rows.slice(0, limit);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...table, rows }, null, 2)}\n`);
    return exitCode([base, current]);
  }
  const v = (x: number) => formatProfileValue(x, table.unit);
  const signed = (x: number, f: (y: number) => string) => (x > 0 ? `+${f(x)}` : x < 0 ? `-${f(-x)}` : f(0));
  const head = ['base flat%', 'current flat%', 'Δ share', 'Δ flat', 'Δ cum'];
  const body = rows.map((r) => [formatPercent(r.baseFlatPercent), formatPercent(r.currentFlatPercent), signed(r.deltaFlatPercent, (y) => `${y.toFixed(2)}pp`), signed(r.deltaFlat, v), signed(r.deltaCum, v), `${r.name}${location(r)}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const out = [
    `Type: ${table.sampleType} (${table.unit}); base ${table.base.source}: ${v(table.base.total)}; current ${table.current.source}: ${v(table.current.total)}`,
    head.map((h, i) => h.padStart(widths[i]!)).join('  '),
    ...body.map((b) => `${b.slice(0, 5).map((c, i) => c.padStart(widths[i]!)).join('  ')}  ${b[5]}`),
  ];
  if (table.rows.length > rows.length) out.push(`(${table.rows.length - rows.length} more rows; --limit 0 shows all)`);
  process.stdout.write(`${out.join('\n')}\n`);
  return exitCode([base, current]);
}

async function exportProfiles(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string' }, out: { type: 'string' }, 'sample-index': { type: 'string' }, ...selectionOptions },
    strict: true,
  });
  if (values.format !== 'pprof' && values.format !== 'speedscope') throw new UsageError(`--format is pprof or speedscope, not "${values.format ?? ''}"`);
  if (!values.out) throw new UsageError('--out FILE is required');
  const loaded = await loadInput(positionals, values);
  if (!loaded.profile) return noInput();
  const profile = loaded.profile;
  if (values.format === 'pprof') {
    writeFileSync(values.out, toPprofGzip(profile));
  } else {
    const file = withSampleIndex(() => toSpeedscope(profile, profile.source, values['sample-index']));
    writeFileSync(values.out, JSON.stringify(file));
  }
  process.stderr.write(`wrote ${values.out}: ${values.format}, ${loaded.merged} profile(s), ${profile.sampleCount} samples\n`);
  return exitCode([loaded]);
}

async function capture(type: 'cpu' | 'heap', args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { pod: { type: 'string' }, seconds: { type: 'string' }, out: { type: 'string' }, nats: { type: 'string' }, creds: { type: 'string' } },
    strict: true,
  });
  if (!values.pod) throw new UsageError('--pod is required (sg pods lists them)');
  if (!values.out) throw new UsageError('--out FILE is required');
  const seconds = values.seconds === undefined ? 10 : Number(values.seconds);
  if (type === 'cpu' && (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PROFILE_SECONDS)) {
    throw new UsageError(`--seconds must be a whole number from 1 to ${MAX_PROFILE_SECONDS}, not "${values.seconds}"`);
  }
  const nc = await connectCli(resolveNatsUrl(values.nats), values.creds);
  const bar = new ProgressBar(`${type} profile of ${values.pod}`);
  try {
    const profile = await fetchProfile(nc, values.pod, type === 'cpu' ? { type, seconds } : { type }, (p) =>
      bar.update(type === 'cpu' ? (p.phase === 'sampling' ? p.fraction * 0.95 : 0.95 + p.fraction * 0.05) : p.fraction, p.phase),
    );
    writeFileSync(values.out, profile);
    const decoded = Profile.decode(gunzipSync(profile));
    bar.done(`wrote ${values.out}: ${profile.length} bytes, ${decoded.sample.length} samples, ${decoded.function.length} functions`);
    return 0;
  } catch (error) {
    bar.done(`failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await nc.close();
  }
}

/** --since D: the last D against the D before, or (with --base-where) against other pods over the same D. */
async function diffSelections(values: SelectionFlags & { 'base-where'?: string | undefined }): Promise<[LoadedProfiles, LoadedProfiles]> {
  const ms = sinceMs(values);
  const to = Date.now();
  const type = typeOf(values.type);
  const where = whereOf(values.where);
  const baseWhere = whereOf(values['base-where'], '--base-where');
  const current: ProfileSelection = { type, from: to - ms, to, ...(where ? { where } : {}) };
  const base: ProfileSelection = baseWhere ? { ...current, where: baseWhere } : { ...current, from: to - 2 * ms, to: to - ms };
  return withServer(values, async (api) => [await loadSelection(api, base), await loadSelection(api, current)]);
}

async function regressions(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...selectionOptions, baseline: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true });
  if (positionals.length) throw new UsageError(`regressions takes no files (it reads the server's stored profiles): "${positionals[0]}"`);
  const type = typeOf(values.type, ['cpu', 'heap']) as 'cpu' | 'heap';
  const baseline = (values.baseline ?? 'previous') as Baseline;
  if (!BASELINES.includes(baseline)) throw new UsageError(`--baseline is ${BASELINES.join(' or ')}, not "${values.baseline}"`);
  const ms = sinceMs(values, '15m');
  const to = Date.now();
  const where = whereOf(values.where);
  const result = await withServer(values, (api) => api.regressions({ type, from: to - ms, to, baseline, ...(where ? { where } : {}) }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ regressions: result.regressions.map((r) => ({ type: r.type, function: r.function, file: r.file, line: r.line, baselinePercent: r.baselinePercent, currentPercent: r.currentPercent, evidence: r.evidence })) }, null, 2)}\n`);
    return 0;
  }
  if (!result.regressions.length) {
    process.stdout.write(`no ${type} regressions in the last ${values.since ?? '15m'} against ${baseline === 'previous' ? 'the range before' : 'other versions'}\n`);
    return 0;
  }
  for (const r of result.regressions) {
    process.stdout.write(`${r.function}${location(r)}: ${formatPercent(r.baselinePercent)} → ${formatPercent(r.currentPercent)}\n  ${r.evidence}\n`);
  }
  return 0;
}

async function recommendations(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...selectionOptions, json: { type: 'boolean', default: false } }, strict: true });
  if (positionals.length) throw new UsageError(`recommendations takes no files (it reads the server's stored profiles): "${positionals[0]}"`);
  const ms = sinceMs(values, '15m');
  const to = Date.now();
  const where = whereOf(values.where);
  const result = await withServer(values, (api) => api.recommendations({ from: to - ms, to, ...(where ? { where } : {}) }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  if (!result.recommendations.length) {
    process.stdout.write(`no recommendations for the last ${values.since ?? '15m'} (${Object.entries(result.profiles).map(([t, n]) => `${n} ${t}`).join(', ')} profiles)\n`);
    return 0;
  }
  for (const r of result.recommendations) process.stdout.write(`[${r.rule}] ${r.title}: ${r.function}${location(r)}\n  ${r.evidence}\n  fix: ${r.fix}\n`);
  return 0;
}
