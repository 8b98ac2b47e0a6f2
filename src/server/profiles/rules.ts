/**
 * Optimisation rules: patterns in profiles that have a known fix, each reported with its evidence (the share of
 * the selection it accounts for, the function and line of the user's code responsible). docs/optimization.md
 * has one section per rule id: what it means and how to fix it. Thresholds were chosen from what the fix is
 * worth (a rule that fires on 0.5 % of CPU wastes the reader's time), not fitted to the test profiles.
 */
import type { Recommendation } from '../../protocol/profiles';
import { classifyFrame } from './flame';
import { resolveSampleIndex, type Frame, type ProfileData } from './profileData';
import { attribute } from './regressions';

export interface RuleInput {
  /** The merged CPU profile of the selection. */
  cpu?: ProfileData;
  /** The live heap of the selection (each pod's average). */
  heap?: ProfileData;
  /** Each pod's heap profiles in time order (for growth). */
  heapSeries?: ProfileData[][];
  block?: ProfileData;
  mutex?: ProfileData;
  /** Seconds the selection covers (contention is judged per second). */
  seconds?: number;
  /** The text of a source line, where the sources can be read (the workspace, the CLI's folder). */
  sourceLine?: (file: string, line: number) => string | undefined;
}

export interface Rule {
  id: string;
  title: string;
  fix: string;
  run(input: RuleInput): Finding[];
}

export interface Finding {
  /** % of the profile's total. */
  percent: number;
  site: Site;
  evidence: string;
}

interface Site {
  name: string;
  file: string;
  line: number;
}

const MiB = 1024 * 1024;

/** Frames that a rule looks for, and the user code above them: where the fix goes. */
interface Blame {
  total: number;
  matched: number;
  sites: { site: Site; value: number; frames: Map<string, number> }[];
}

/**
 * For each sample with a frame matching `match` (the innermost one), its value goes to the nearest frame of the
 * user's own code above the match (or the match itself when there is none).
 */
export function blame(profile: ProfileData, sampleType: string | undefined, match: (frame: Frame) => boolean): Blame {
  const j = resolveSampleIndex(profile, sampleType && profile.sampleTypes.some((t) => t.type === sampleType) ? sampleType : undefined);
  const nt = profile.sampleTypes.length;
  const matches = profile.frames.map(match);
  const user = profile.frames.map((f) => classifyFrame(f).kind === 'user' && f.file !== '');
  const sites = new Map<string, { site: Site; value: number; frames: Map<string, number> }>();
  let total = 0;
  let matched = 0;
  for (let s = 0; s < profile.sampleCount; s++) {
    const v = Math.abs(profile.values[s * nt + j]!);
    total += v;
    if (v === 0) continue;
    const first = profile.stackStart[s]!;
    const last = profile.stackStart[s + 1]!;
    let k = first;
    while (k < last && !matches[profile.stackFrames[k]!]) k++;
    if (k === last) continue;
    matched += v;
    const hit = profile.frames[profile.stackFrames[k]!]!;
    let owner = hit;
    for (let u = k + 1; u < last; u++) {
      if (user[profile.stackFrames[u]!]) {
        owner = profile.frames[profile.stackFrames[u]!]!;
        break;
      }
    }
    const key = `${owner.name}\0${owner.file}\0${owner.line}`;
    let entry = sites.get(key);
    if (!entry) {
      entry = { site: { name: owner.name, file: owner.file, line: owner.line }, value: 0, frames: new Map() };
      sites.set(key, entry);
    }
    entry.value += v;
    entry.frames.set(hit.name, (entry.frames.get(hit.name) ?? 0) + v);
  }
  return { total, matched, sites: [...sites.values()].sort((a, b) => b.value - a.value) };
}

const pct = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : 0);
const fmt = (p: number) => `${p.toFixed(p >= 10 ? 1 : 2)}%`;

/** Findings from a blame: one per site holding at least a quarter of the threshold, when all together pass it. */
function fromBlame(b: Blame, thresholdPercent: number, what: string, unitWord = 'of CPU'): Finding[] {
  const share = pct(b.matched, b.total);
  if (share < thresholdPercent) return [];
  return b.sites
    .filter((s) => pct(s.value, b.total) >= thresholdPercent / 4)
    .slice(0, 3)
    .map((s) => {
      const frames = [...s.frames.entries()].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([name, v]) => `${name} ${fmt(pct(v, b.total))}`);
      return {
        percent: pct(s.value, b.total),
        site: s.site,
        evidence: `${what}: ${fmt(share)} ${unitWord} in all, ${fmt(pct(s.value, b.total))} from ${s.site.name}${s.site.line ? ` line ${s.site.line}` : ''} (${frames.join(', ')})`,
      };
    });
}

/** Hot lines of user code whose source matches `pattern` (rules the profile alone cannot see: V8 inlines builtins). */
function hotLinesMatching(input: RuleInput, pattern: RegExp, thresholdPercent: number, what: string): Finding[] {
  const profile = input.cpu;
  if (!profile || !input.sourceLine) return [];
  const j = resolveSampleIndex(profile, profile.sampleTypes.some((t) => t.type === 'cpu') ? 'cpu' : undefined);
  const nt = profile.sampleTypes.length;
  const lines = new Map<string, { site: Site; value: number }>();
  let total = 0;
  for (let s = 0; s < profile.sampleCount; s++) {
    const v = Math.abs(profile.values[s * nt + j]!);
    total += v;
    if (profile.stackStart[s] === profile.stackStart[s + 1]) continue;
    const leaf = profile.frames[profile.stackFrames[profile.stackStart[s]!]!]!;
    if (!leaf.line || classifyFrame(leaf).kind !== 'user') continue;
    const key = `${leaf.file}\0${leaf.line}`;
    const entry = lines.get(key) ?? { site: { name: leaf.name, file: leaf.file, line: leaf.line }, value: 0 };
    entry.value += v;
    lines.set(key, entry);
  }
  const out: Finding[] = [];
  for (const { site, value } of [...lines.values()].sort((a, b) => b.value - a.value)) {
    const share = pct(value, total);
    if (share < thresholdPercent) break;
    const text = input.sourceLine(site.file, site.line);
    if (text === undefined || !pattern.test(text)) continue;
    out.push({ percent: share, site, evidence: `${what}: line ${site.line} of ${site.name} holds ${fmt(share)} of CPU (self) and reads \`${text.trim().slice(0, 120)}\`` });
    if (out.length === 3) break;
  }
  return out;
}

const named = (pattern: RegExp) => (f: Frame) => pattern.test(f.name);

export const RULES: Rule[] = [
  {
    id: 'json-hot-path',
    title: 'JSON parsing or serialising on a hot path',
    fix: 'Parse once and pass the object on, cache serialised forms, or use a schema-driven or binary encoding for hot messages.',
    run: (input) => [
      ...hotLinesMatching(input, /\bJSON\.(parse|stringify)\s*\(/, 3, 'JSON on a hot line'),
      ...(input.cpu ? fromBlame(blame(input.cpu, 'cpu', named(/^encoding\/json\./)), 5, 'encoding/json') : []),
    ],
  },
  {
    id: 'regexp-per-call',
    title: 'A regular expression built on every call',
    fix: 'Build the RegExp once (a module-level constant, or a cache keyed by pattern) and reuse it.',
    run: (input) => {
      const out = hotLinesMatching(input, /new RegExp\s*\(|\bRegExp\s*\(/, 2, 'RegExp constructed on a hot line');
      if (input.cpu) {
        // V8 shows each compiled pattern as a "RegExp: <source>" frame: many distinct ones under one caller are patterns built from data.
        const b = blame(input.cpu, 'cpu', named(/^RegExp: /));
        for (const s of b.sites) if (s.frames.size >= 20 && pct(s.value, b.total) >= 1) out.push({ percent: pct(s.value, b.total), site: s.site, evidence: `${s.frames.size} distinct regular expressions run under ${s.site.name} (${fmt(pct(s.value, b.total))} of CPU): patterns built per call` });
        out.push(...fromBlame(blame(input.cpu, 'cpu', named(/^regexp\.(Compile|MustCompile|compile)$/)), 1, 'regexp.Compile at run time'));
      }
      return out;
    },
  },
  {
    id: 'sync-fs',
    title: 'Synchronous file system calls on the event loop',
    fix: 'Use fs.promises (or the callback API) so the event loop keeps serving while the disk works; batch small writes.',
    run: (input) => (input.cpu ? fromBlame(blame(input.cpu, 'cpu', (f) => f.file === 'node:fs' && /Sync$/.test(f.name)), 2, 'synchronous fs calls') : []),
  },
  {
    id: 'sync-zlib',
    title: 'Synchronous compression on the event loop',
    fix: 'Use the asynchronous zlib API (zlib.gzip with a callback, or streams), which runs in the thread pool.',
    run: (input) => (input.cpu ? fromBlame(blame(input.cpu, 'cpu', (f) => f.file === 'node:zlib' && /Sync$/.test(f.name)), 2, 'synchronous zlib calls') : []),
  },
  {
    id: 'sync-crypto',
    title: 'Synchronous key derivation or key generation on the event loop',
    fix: 'Use crypto.pbkdf2 / scrypt / generateKeyPair with callbacks (the thread pool), or cache derived keys.',
    run: (input) =>
      input.cpu ? fromBlame(blame(input.cpu, 'cpu', (f) => /^node:(internal\/)?crypto/.test(f.file) && /^(pbkdf2Sync|scryptSync|generateKeyPairSync|generateKeySync|randomFillSync|hkdfSync|generatePrimeSync)$/.test(f.name)), 2, 'synchronous crypto') : [],
  },
  {
    id: 'gc-share',
    title: 'Garbage collection takes a large share of CPU',
    fix: 'Allocate less on hot paths: reuse buffers and objects, avoid temporary arrays and strings per request; see the heap profile for the sites.',
    run: (input) => {
      if (!input.cpu) return [];
      const node = blame(input.cpu, 'cpu', named(/^\(garbage collector\)$/));
      const go = blame(input.cpu, 'cpu', named(/^runtime\.(gcBgMarkWorker|gcAssistAlloc|bgsweep)$/));
      return [...fromBlame(node, 10, 'V8 garbage collector'), ...fromBlame(go, 10, 'Go garbage collector')];
    },
  },
  {
    id: 'buffer-concat',
    title: 'Buffer or string concatenation takes a large share of CPU',
    fix: 'In a loop, collect the pieces and Buffer.concat or join them once at the end (Go: strings.Builder or bytes.Buffer); better still, hand the pieces on as they are (writev, streams) instead of copying them into one.',
    run: (input) =>
      input.cpu
        ? fromBlame(blame(input.cpu, 'cpu', (f) => (f.file === 'node:buffer' && f.name === 'concat') || /^runtime\.(concatstrings|concatstring\d)$/.test(f.name)), 3, 'concatenation')
        : [],
  },
  {
    id: 'hot-logging',
    title: 'Logging on a hot path',
    fix: 'Log less on hot paths (sample, or raise the level), use a structured logger that formats off the event loop, and avoid formatting objects that are not printed.',
    run: (input) =>
      input.cpu
        ? fromBlame(
            blame(input.cpu, 'cpu', (f) => /^node:internal\/console\//.test(f.file) || /node_modules[\\/](pino|winston|bunyan|log4js|debug)[\\/]/.test(f.file) || /^log\.\(\*Logger\)\.(Output|Printf|Println)$/.test(f.name)),
            3,
            'logging',
          )
        : [],
  },
  {
    id: 'large-allocation-site',
    title: 'One allocation site holds much of the live heap',
    fix: 'Check that this memory is meant to live: bound the cache or buffer it belongs to, or release it when done.',
    run: (input) => {
      if (!input.heap) return [];
      const a = attribute(input.heap, 'inuse_space');
      return [...a.functions.values()]
        .filter((f) => pct(f.value, a.total) >= 20 && f.value >= 8 * MiB)
        .sort((x, y) => y.value - x.value)
        .slice(0, 3)
        .map((f) => {
          const line = [...f.lines.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 0;
          return { percent: pct(f.value, a.total), site: { name: f.name, file: f.file, line }, evidence: `${f.name} holds ${(f.value / MiB).toFixed(1)} MiB, ${fmt(pct(f.value, a.total))} of the live heap` };
        });
    },
  },
  {
    id: 'heap-growth',
    title: 'Live heap growing between profiles',
    fix: 'Memory kept here grows from profile to profile: look for a collection that is only ever added to (a cache without eviction, listeners never removed).',
    run: (input) => {
      const out: Finding[] = [];
      for (const series of input.heapSeries ?? []) {
        if (series.length < 3) continue;
        const steps = series.map((p) => attribute(p, 'inuse_space'));
        const last = steps.at(-1)!;
        for (const [key, f] of last.functions) {
          const values = steps.map((s) => s.functions.get(key)?.value ?? 0);
          const grew = values.every((v, i) => i === 0 || v > values[i - 1]!);
          const growth = values.at(-1)! - values[0]!;
          if (!grew || growth < 4 * MiB || values.at(-1)! < 1.5 * values[0]!) continue;
          const line = [...f.lines.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 0;
          out.push({
            percent: pct(values.at(-1)!, last.total),
            site: { name: f.name, file: f.file, line },
            evidence: `${f.name} held ${(values[0]! / MiB).toFixed(1)} → ${(values.at(-1)! / MiB).toFixed(1)} MiB (${fmt(pct(values.at(-1)!, last.total))} of the live heap) over ${series.length} consecutive heap profiles, growing in each`,
          });
        }
      }
      return dedupe(out).slice(0, 3);
    },
  },
  {
    id: 'go-mallocgc',
    title: 'Go spends much of its CPU allocating',
    fix: 'Reduce allocations on the hot path: preallocate slices (make with a capacity), reuse buffers (sync.Pool), avoid converting between string and []byte.',
    run: (input) => (input.cpu ? fromBlame(blame(input.cpu, 'cpu', named(/^runtime\.mallocgc$/)), 15, 'runtime.mallocgc') : []),
  },
  {
    id: 'go-contention',
    title: 'Goroutines wait on locks or channels',
    fix: 'Hold locks for less time (no I/O under a lock), shard the protected state, or use sync.RWMutex or atomics for read-mostly data.',
    run: (input) => {
      const out: Finding[] = [];
      const seconds = Math.max(1, input.seconds ?? 60);
      for (const [kind, profile] of [['mutex', input.mutex], ['block', input.block]] as const) {
        if (!profile) continue;
        const b = blame(profile, 'delay', () => true);
        for (const s of b.sites.slice(0, 3)) {
          const perSecond = s.value / 1e6 / seconds;
          if (perSecond < 10) continue;
          out.push({ percent: pct(s.value, b.total), site: s.site, evidence: `${kind} profile: ${perSecond.toFixed(0)} ms of waiting per second at ${s.site.name}${s.site.line ? ` line ${s.site.line}` : ''} (${fmt(pct(s.value, b.total))} of all ${kind} delay)` });
        }
      }
      return out;
    },
  },
  {
    id: 'event-loop-sync-hash',
    title: 'Hashing or compressing large payloads on the event loop',
    fix: 'Hash or compress in a worker thread or with the asynchronous API, or only for payloads that need it.',
    run: (input) => (input.cpu ? fromBlame(blame(input.cpu, 'cpu', (f) => f.file === '(native)' && /^(digest|update|Hash|Hmac)$/.test(f.name)), 5, 'hashing on the event loop') : []),
  },
];

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of findings) {
    const key = `${f.site.name}\0${f.site.file}`;
    const old = seen.get(key);
    if (!old || f.percent > old.percent) seen.set(key, f);
  }
  return [...seen.values()].sort((a, b) => b.percent - a.percent);
}

/** Every rule over the input; findings strongest first. */
export function recommend(input: RuleInput, rules: readonly Rule[] = RULES): Recommendation[] {
  const out: Recommendation[] = [];
  for (const rule of rules) {
    for (const f of rule.run(input)) {
      out.push({ rule: rule.id, title: rule.title, severity: f.percent >= 10 ? 'warning' : 'info', function: f.site.name, file: f.site.file, line: f.site.line, percent: f.percent, evidence: f.evidence, fix: rule.fix });
    }
  }
  return out.sort((a, b) => b.percent - a.percent);
}
