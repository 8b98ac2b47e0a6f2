/**
 * Where a logging call is in the source: the caller's frame, taken with a one-frame stack trace (V8's
 * structured call sites, no string formatting), mapped through the script's source map to the TypeScript
 * line. Mapping happens once per call position, so a logging statement costs a lookup after its first line.
 */
import type { LogSite } from '../protocol/nats';
import { scriptPath, SourceMapper } from './sourcemaps';

const MAX_SITES = 10_000;

export class CallSites {
  private readonly mapper = new SourceMapper();
  private readonly cache = new Map<string, LogSite | null>();

  /** The call site of the code that called `callee` (a function on the stack), or undefined when unknown. */
  callerOf(callee: (...args: never[]) => unknown): LogSite | undefined {
    const frame = topFrame(callee);
    if (!frame) return undefined;
    const file = frame.getFileName() ?? frame.getScriptNameOrSourceURL();
    const line = frame.getLineNumber();
    const column = frame.getColumnNumber();
    if (!file || !line) return undefined;
    const key = `${file}:${line}:${column ?? 0}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const site = this.resolve(file, line, column ?? 1, frame.getFunctionName() ?? undefined);
    if (this.cache.size >= MAX_SITES) this.cache.clear();
    this.cache.set(key, site ?? null);
    return site;
  }

  private resolve(file: string, line: number, column: number, fn: string | undefined): LogSite | undefined {
    const path = scriptPath(file);
    if (!path || path.includes('/node_modules/')) return path ? { file: path, line, column, ...(fn ? { function: fn } : {}) } : undefined;
    const mapped = this.mapper.map(file, line, column - 1);
    if (mapped) return { file: mapped.file, line: mapped.line, ...(fn ? { function: mapped.name ?? fn } : {}) };
    return { file: path, line, column, ...(fn ? { function: fn } : {}) };
  }
}

function topFrame(callee: (...args: never[]) => unknown): NodeJS.CallSite | undefined {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.stackTraceLimit = 1;
    Error.captureStackTrace(holder, callee);
    // Read while prepareStackTrace is ours: V8 builds `stack` on first access.
    const frames = holder.stack;
    return Array.isArray(frames) ? (frames[0] as NodeJS.CallSite | undefined) : undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/** A call site as OpenTelemetry's code attributes (what the server reads a log record's site from). */
export function siteAttributes(site: LogSite): Record<string, string | number> {
  return { 'code.filepath': site.file, 'code.lineno': site.line, ...(site.column ? { 'code.column': site.column } : {}), ...(site.function ? { 'code.function': site.function } : {}) };
}
