/**
 * Captured values as a user sees them: DAP variables (text, type, children), the plain JSON of
 * `sg debug snapshot --json`, and lookups of `a.b["c"][0]` paths in what was captured.
 */
import type { PlainValue } from '../protocol/dap';
import type { CapturedValue } from '../protocol/nats';
import type { PathStep } from '../common/debugExpressions';

export { parsePath, type PathStep } from '../common/debugExpressions';

export const REDACTED = '[redacted]';

/** Children of a captured value, in display order; undefined for values without any. */
export function childrenOf(value: CapturedValue): { name: string; value: CapturedValue; hint?: string }[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  switch (value.t) {
    case 'object':
      return [...value.props.map(([name, v]) => ({ name, value: v })), ...moreEntry(value.more, 'properties')];
    case 'array':
      return [...value.items.map((v, i) => ({ name: String(i), value: v })), ...moreEntry(value.more, 'elements')];
    case 'map':
      return [...value.entries.map(([k, v]) => ({ name: keyText(k), value: v })), ...moreEntry(value.more, 'entries')];
    case 'set':
      return [...value.items.map((v, i) => ({ name: String(i), value: v })), ...moreEntry(value.more, 'values')];
    default:
      return undefined;
  }
}

function moreEntry(more: number | undefined, what: string): { name: string; value: CapturedValue; hint: string }[] {
  if (!more) return [];
  return [{ name: '…', value: { t: 'omitted', reason: `${more} more ${what} not captured (captureLimits.maxProperties)` }, hint: 'virtual' }];
}

function keyText(key: CapturedValue): string {
  return typeof key === 'string' ? key : `[${describe(key)}]`;
}

export function hasChildren(value: CapturedValue): boolean {
  const children = childrenOf(value);
  return children !== undefined && children.length > 0;
}

/** One line of text for a value, as the Variables view and hovers show it. */
export function describe(value: CapturedValue): string {
  if (value === null) return 'null';
  if (value === REDACTED) return REDACTED;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  switch (value.t) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `${JSON.stringify(value.v).slice(0, -1)}…" (${value.length} characters, the first ${value.v.length} captured)`;
    case 'number':
    case 'date':
    case 'regexp':
    case 'symbol':
      return value.v;
    case 'bigint':
      return `${value.v}n`;
    case 'function':
      return `ƒ ${value.name}()`;
    case 'object':
      return `${value.class === 'Object' ? '' : `${value.class} `}{${preview(value.props.map(([k, v]) => `${k}: ${short(v)}`), value.more)}}`;
    case 'array':
      return `${value.class}(${value.length}) [${preview(value.items.map(short), value.more)}]`;
    case 'map':
      return `${value.class}(${value.size}) {${preview(value.entries.map(([k, v]) => `${short(k)} => ${short(v)}`), value.more)}}`;
    case 'set':
      return `${value.class}(${value.size}) {${preview(value.items.map(short), value.more)}}`;
    case 'bytes':
      return `<${value.class} ${value.hex.replace(/(..)/g, '$1 ').trim()}${value.length * 2 > value.hex.length ? ' …' : ''}> (${value.length} bytes)`;
    case 'error':
      return `${value.class}: ${value.message}`;
    case 'promise':
      return `${value.class} (state not captured)`;
    case 'proxy':
      return 'Proxy (not looked into: its traps are application code)';
    case 'getter':
      return '(getter, not called: getters may have side effects; add it as a watch to evaluate it side-effect free)';
    case 'cycle':
      return `[Circular ${value.class}]`;
    case 'deep':
      return `${value.class}${value.size !== undefined ? `(${value.size})` : ''} {…} (not captured: deeper than captureLimits.maxDepth; add it as a watch, or raise maxDepth, to capture it)`;
    case 'omitted':
      return `(left out: ${value.reason})`;
    case 'thrown':
      return `(threw: ${value.message})`;
  }
}

function short(value: CapturedValue): string {
  if (value !== null && typeof value === 'object') {
    switch (value.t) {
      case 'object':
        return value.class === 'Object' ? '{…}' : `${value.class} {…}`;
      case 'array':
        return `${value.class}(${value.length})`;
      case 'map':
      case 'set':
        return `${value.class}(${value.size})`;
      case 'deep':
        return `${value.class} {…}`;
      default:
        break;
    }
  }
  const text = describe(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function preview(parts: string[], more: number | undefined): string {
  let text = parts.slice(0, 5).join(', ');
  if (parts.length > 5 || more) text += ', …';
  return text;
}

export function typeOf(value: CapturedValue): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  switch (value.t) {
    case 'object':
    case 'array':
    case 'map':
    case 'set':
    case 'bytes':
    case 'error':
    case 'promise':
    case 'cycle':
    case 'deep':
      return value.class;
    default:
      return value.t;
  }
}

/** The plain JSON of `sg debug snapshot --json`: values as captured, special ones as descriptive strings. */
export function plain(value: CapturedValue): PlainValue {
  if (value === null || typeof value !== 'object') return value;
  switch (value.t) {
    case 'undefined':
      return null;
    case 'string':
    case 'number':
    case 'date':
    case 'regexp':
    case 'symbol':
      return value.v;
    case 'bigint':
      return value.v;
    case 'object':
      return Object.fromEntries(value.props.map(([k, v]) => [k, plain(v)]));
    case 'array':
    case 'set':
      return value.items.map(plain);
    case 'map':
      return Object.fromEntries(value.entries.map(([k, v]) => [typeof k === 'string' ? k : describe(k), plain(v)]));
    default:
      return `[${describe(value)}]`;
  }
}

export type Lookup = { found: true; value: CapturedValue } | { found: false; reason: 'missing' | 'not-captured'; at?: string };

/** Follows `steps` (after the first) into a captured value. */
export function follow(root: CapturedValue, steps: PathStep[]): Lookup {
  let value = root;
  for (const step of steps) {
    if (typeof value === 'string' && value !== REDACTED && step === 'length') {
      value = value.length;
      continue;
    }
    if (value === null || typeof value !== 'object') return { found: false, reason: value === REDACTED ? 'not-captured' : 'missing' };
    let next: CapturedValue | undefined;
    switch (value.t) {
      case 'object':
        next = value.props.find(([k]) => k === String(step))?.[1];
        if (next === undefined && value.more) return { found: false, reason: 'not-captured', at: String(step) };
        break;
      case 'array':
        if (step === 'length') next = value.length;
        else if (typeof step === 'number') {
          next = value.items[step];
          if (next === undefined && step < value.length) return { found: false, reason: 'not-captured', at: String(step) };
        }
        break;
      case 'map':
        if (step === 'size') next = value.size;
        else next = value.entries.find(([k]) => k === step)?.[1];
        break;
      case 'set':
        if (step === 'size') next = value.size;
        break;
      case 'string':
        if (step === 'length') next = value.length;
        break;
      case 'deep':
      case 'omitted':
      case 'getter':
      case 'proxy':
        return { found: false, reason: 'not-captured', at: String(step) };
      default:
        break;
    }
    if (next === undefined) return { found: false, reason: 'missing', at: String(step) };
    value = next;
  }
  return { found: true, value };
}
