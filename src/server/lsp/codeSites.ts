/**
 * Where the code records metrics and handles routes: found with regular expressions over a document's text
 * (cheap, language-agnostic, configurable), for the live values on hover and the code lenses.
 */

/**
 * Each pattern's first capture group is a metric name:
 * - the StreamGate agent and its wrappers: `x.counter('name', …)`, `.gauge("name")`, `.histogram(`name`)`;
 * - the Prometheus Go client: `prometheus.CounterOpts{Name: "name"}` and friends;
 * - prom-client for Node: `new client.Counter({ name: 'name' … })`.
 */
export const DEFAULT_METRIC_CALL_PATTERNS = [
  String.raw`\.(?:counter|gauge|histogram)\(\s*['"\x60]([A-Za-z_:][A-Za-z0-9_:.]*)['"\x60]`,
  String.raw`(?:Counter|Gauge|Histogram|Summary)(?:Vec)?Opts\{[^}]*?\bName:\s*"([A-Za-z_:][A-Za-z0-9_:]*)"`,
  String.raw`new\s+(?:\w+\.)?(?:Counter|Gauge|Histogram|Summary)\(\s*\{\s*name:\s*['"]([A-Za-z_:][A-Za-z0-9_:]*)['"]`,
];

/** A route handler: `case 'POST /v1/sessions':` (a router switch) or `app.post('/v1/sessions', …)` (Express style). */
const ROUTE_PATTERNS: { regex: RegExp; route: (m: RegExpExecArray) => string }[] = [
  { regex: /\bcase\s+['"]((?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \/[^'"]*)['"]\s*:/g, route: (m) => m[1]! },
  { regex: /\b(?:app|router)\.(get|post|put|patch|delete)\(\s*['"](\/[^'"]*)['"]/g, route: (m) => `${m[1]!.toUpperCase()} ${m[2]!}` },
];

export interface MetricSite {
  name: string;
  line: number;
  /** Character range of the name on its line. */
  start: number;
  end: number;
}

export interface RouteSite {
  route: string;
  line: number;
  character: number;
}

/** Compiles the configured patterns; a bad one is reported, not fatal. */
export function compilePatterns(patterns: readonly string[], report: (message: string) => void): RegExp[] {
  const out: RegExp[] = [];
  for (const pattern of patterns) {
    try {
      const regex = new RegExp(pattern, 'gd');
      if (!/\((?!\?)/.test(pattern)) report(`the metric pattern ${pattern} has no capture group for the name: ignored`);
      else out.push(regex);
    } catch (error) {
      report(`the metric pattern ${pattern} is not a regular expression (${error instanceof Error ? error.message : String(error)}): ignored`);
    }
  }
  return out;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function position(starts: number[], offset: number): { line: number; character: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - starts[lo]! };
}

export function findMetricSites(text: string, patterns: readonly RegExp[]): MetricSite[] {
  const starts = lineStarts(text);
  const sites: MetricSite[] = [];
  const seen = new Set<number>();
  for (const pattern of patterns) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
      if (m[0].length === 0) pattern.lastIndex++;
      const name = m[1];
      const span = m.indices?.[1];
      if (!name || !span) continue;
      const offset = span[0];
      if (seen.has(offset)) continue;
      seen.add(offset);
      const { line, character } = position(starts, offset);
      sites.push({ name, line, start: character, end: character + name.length });
    }
  }
  return sites.sort((a, b) => a.line - b.line || a.start - b.start);
}

export function findRouteSites(text: string): RouteSite[] {
  const starts = lineStarts(text);
  const sites: RouteSite[] = [];
  for (const { regex, route } of ROUTE_PATTERNS) {
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m; m = regex.exec(text)) sites.push({ route: route(m), ...position(starts, m.index) });
  }
  return sites.sort((a, b) => a.line - b.line);
}
