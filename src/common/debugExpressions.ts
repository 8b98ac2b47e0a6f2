/**
 * Checks a debug expression (condition, watch, logpoint part, REPL input) before it reaches any pod, and
 * compiles conditions and logpoint parts into the form pods run as V8 breakpoint conditions.
 *
 * Why so strict: V8 cannot interrupt a breakpoint condition, and conditions run without V8's side-effect
 * check. So an expression may only read: no assignments, updates, `new`, `delete`, `await`, function or class
 * literals (loops and recursion), regular expressions (a catastrophic pattern stalls the pod), spreads
 * (iterators run user code), tagged templates, or calls other than a short list of pure built-ins with
 * bounded cost. Those calls are compiled into calls of the pod's debug gate, which checks at run time that
 * the receiver really is a string, array, Map or Set before calling the built-in, so `x.includes(y)` cannot
 * reach a user-defined `includes`. What remains possible, and is documented: a property getter or a
 * `valueOf` of the app's own objects runs when the expression reads or compares it, as it would in the app.
 *
 * Shared by the debug adapter (reject early, with a message that says why) and the agent (never trust input).
 */
import { parseExpressionAt, tokenizer, type Node } from 'acorn';

/** The global the agent installs for compiled expressions; user expressions may not name it. */
export const GATE_GLOBAL = '__streamgate_debug__';
export const MAX_EXPRESSION_LENGTH = 1000;

export const STRING_METHODS = ['startsWith', 'endsWith', 'includes', 'indexOf', 'lastIndexOf', 'charAt', 'charCodeAt', 'codePointAt', 'at', 'slice', 'substring', 'toLowerCase', 'toUpperCase', 'trim', 'trimStart', 'trimEnd'] as const;
export const ARRAY_METHODS = ['includes', 'indexOf', 'lastIndexOf', 'at'] as const;
export const COLLECTION_METHODS = ['has', 'get'] as const;
export const NUMBER_METHODS = ['toFixed', 'toString'] as const;
export const PURE_FUNCTIONS = [
  'Math.abs', 'Math.min', 'Math.max', 'Math.floor', 'Math.ceil', 'Math.round', 'Math.trunc', 'Math.sign', 'Math.sqrt',
  'Number', 'String', 'Boolean', 'isNaN', 'isFinite', 'Number.isInteger', 'Number.isFinite', 'Number.isNaN', 'Array.isArray', 'Object.keys',
] as const;
const METHODS = new Set<string>([...STRING_METHODS, ...ARRAY_METHODS, ...COLLECTION_METHODS, ...NUMBER_METHODS]);
const FUNCTIONS = new Set<string>(PURE_FUNCTIONS);

export type ExpressionCheck = { ok: true; source: string; compiled: string } | { ok: false; reason: string };

/** Thrown inside the walk with the reason an expression is refused. */
class Refusal extends Error {}

interface AnyNode extends Node {
  [key: string]: unknown;
}

/**
 * Checks `source`; on success `compiled` is the same expression with allowed calls routed through the gate
 * (for V8 conditions) and `source` the expression as written (for V8 evaluations with throwOnSideEffect).
 */
export function checkExpression(source: string): ExpressionCheck {
  const text = source.trim();
  if (!text) return { ok: false, reason: 'is empty' };
  if (text.length > MAX_EXPRESSION_LENGTH) return { ok: false, reason: `is ${text.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed` };
  if (/\b__streamgate/.test(text)) return { ok: false, reason: "uses __streamgate…, the debugger's own names" };
  let root: AnyNode;
  try {
    root = parseExpressionAt(text, 0, { ecmaVersion: 'latest', preserveParens: true, allowAwaitOutsideFunction: true }) as AnyNode;
    const rest = tokenizer(text.slice(root.end), { ecmaVersion: 'latest' }).getToken();
    if (rest.type.label !== 'eof') return { ok: false, reason: `is not a single expression (unexpected "${text.slice(root.end).trim().slice(0, 20)}")` };
  } catch (error) {
    return { ok: false, reason: `does not parse: ${(error as Error).message}` };
  }
  try {
    return { ok: true, source: text.slice(root.start, root.end), compiled: compile(root, text) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.message };
    throw error;
  }
}

function snippet(node: Node, text: string): string {
  const s = text.slice(node.start, node.end).replace(/\s+/g, ' ');
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

/** Returns the compiled text of `node`, refusing what may write, run long or run user code by design. */
function compile(node: AnyNode, text: string): string {
  switch (node.type) {
    case 'AssignmentExpression':
      throw new Refusal(`assigns to ${snippet(node.left as Node, text)}: conditions and watches may only read`);
    case 'UpdateExpression':
      throw new Refusal(`changes ${snippet(node.argument as Node, text)} with ${String(node.operator)}: conditions and watches may only read`);
    case 'NewExpression':
      throw new Refusal(`creates an object with new (${snippet(node, text)}), which runs a constructor`);
    case 'AwaitExpression':
    case 'YieldExpression':
      throw new Refusal(`uses ${node.type === 'AwaitExpression' ? 'await' : 'yield'}: a snapshot is taken synchronously`);
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      throw new Refusal('defines a function: loops and recursion could run without end, and V8 cannot interrupt a condition');
    case 'ClassExpression':
      throw new Refusal('defines a class');
    case 'TaggedTemplateExpression':
      throw new Refusal(`calls the tag function of ${snippet(node, text)}, which may have side effects`);
    case 'SpreadElement':
      throw new Refusal(`spreads ${snippet(node.argument as Node, text)}, which runs its iterator`);
    case 'ImportExpression':
      throw new Refusal('imports a module');
    case 'MetaProperty':
      throw new Refusal(`uses ${snippet(node, text)}`);
    case 'UnaryExpression':
      if (node.operator === 'delete') throw new Refusal(`deletes ${snippet(node.argument as Node, text)}: conditions and watches may only read`);
      break;
    case 'Literal':
      if (node.regex) throw new Refusal('uses a regular expression: a catastrophic pattern could stall the pod, and V8 cannot interrupt a condition');
      break;
    case 'Identifier':
      if (String(node.name).startsWith('__streamgate')) throw new Refusal(`uses ${String(node.name)}, the debugger's own name`);
      break;
    case 'CallExpression':
      return compileCall(node, text);
    default:
      break;
  }
  return rewriteChildren(node, text);
}

/** The node's source with each child replaced by its compiled text. */
function rewriteChildren(node: AnyNode, text: string): string {
  const children: AnyNode[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'type' || key === 'start' || key === 'end' || key === 'loc' || key === 'range') continue;
    if (isNode(value)) children.push(value);
    else if (Array.isArray(value)) for (const item of value) if (isNode(item)) children.push(item);
  }
  children.sort((a, b) => a.start - b.start);
  let out = '';
  let at = node.start;
  for (const child of children) {
    if (child.start < at) continue; // a shorthand property's key and value are one node range
    out += text.slice(at, child.start) + compile(child, text);
    at = child.end;
  }
  return out + text.slice(at, node.end);
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as Node).type === 'string' && typeof (value as Node).start === 'number';
}

function allowedList(): string {
  return `only reads and ${[...METHODS].slice(0, 6).map((m) => `.${m}()`).join(', ')}, … and ${PURE_FUNCTIONS.slice(0, 4).join(', ')}, … are allowed`;
}

function compileCall(node: AnyNode, text: string): string {
  const callee = node.callee as AnyNode;
  const args = (node.arguments as AnyNode[]).map((a) => compile(a, text));
  const optionalCall = node.optional === true;
  const name = qualifiedName(callee);
  if (name && FUNCTIONS.has(name)) {
    return `${GATE_GLOBAL}.f(${JSON.stringify(name)}${args.map((a) => `, ${a}`).join('')})`;
  }
  if (callee.type === 'MemberExpression') {
    const method = memberName(callee);
    if (method && METHODS.has(method)) {
      const receiver = compile(callee.object as AnyNode, text);
      const optional = callee.optional === true || optionalCall;
      return `${GATE_GLOBAL}.m(${receiver}, ${JSON.stringify(method)}, ${optional}${args.map((a) => `, ${a}`).join('')})`;
    }
  }
  // A callee that is itself refused (a function literal, say) is the better reason to give.
  if (callee.type === 'MemberExpression') compile(callee.object as AnyNode, text);
  else if (callee.type !== 'Identifier') compile(callee, text);
  throw new Refusal(`calls ${snippet(callee, text)}(), a function with possible side effects or unbounded cost (${allowedList()})`);
}

/** `Math.max` → "Math.max", `Number` → "Number"; undefined for anything else. */
function qualifiedName(node: AnyNode): string | undefined {
  if (node.type === 'Identifier') return String(node.name);
  if (node.type === 'MemberExpression' && !node.computed && (node.object as AnyNode).type === 'Identifier' && !node.optional) {
    return `${String((node.object as AnyNode).name)}.${String((node.property as AnyNode).name)}`;
  }
  return undefined;
}

function memberName(node: AnyNode): string | undefined {
  const property = node.property as AnyNode;
  if (!node.computed && property.type === 'Identifier') return String(property.name);
  if (node.computed && property.type === 'Literal' && typeof property.value === 'string') return property.value;
  return undefined;
}

// --- Logpoint templates and hit conditions -----------------------------------------------------------------------

export type TemplatePart = { text: string } | { expression: string };

/** Splits "user {user.id} took {ms}ms" into text and expressions; `{{` and `}}` are literal braces. */
export function parseLogTemplate(template: string): { ok: true; parts: TemplatePart[] } | { ok: false; reason: string } {
  const parts: TemplatePart[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch === '{' && template[i + 1] === '{') {
      text += '{';
      i++;
    } else if (ch === '}' && template[i + 1] === '}') {
      text += '}';
      i++;
    } else if (ch === '{') {
      let depth = 1;
      let j = i + 1;
      for (; j < template.length && depth > 0; j++) {
        if (template[j] === '{') depth++;
        else if (template[j] === '}') depth--;
      }
      if (depth > 0) return { ok: false, reason: `has a "{" at ${i + 1} without its "}"` };
      if (text) parts.push({ text });
      text = '';
      parts.push({ expression: template.slice(i + 1, j - 1) });
      i = j - 1;
    } else {
      text += ch;
    }
  }
  if (text) parts.push({ text });
  return { ok: true, parts };
}

export interface HitCondition {
  op: '>=' | '>' | '==' | '<' | '<=' | '%';
  n: number;
  /** For `%`: the remainder that fires (default 0). */
  remainder?: number;
}

/** `>= 10`, `> 3`, `== 5`, `< 4`, `% 100 == 0`, or `N` (the same as `>= N`). */
export function parseHitCondition(text: string): { ok: true; value: HitCondition } | { ok: false; reason: string } {
  const t = text.trim();
  const bare = /^(\d+)$/.exec(t);
  if (bare) return { ok: true, value: { op: '>=', n: Number(bare[1]) } };
  const mod = /^%\s*(\d+)(?:\s*={2,3}\s*(\d+))?$/.exec(t);
  if (mod) {
    const n = Number(mod[1]);
    if (n < 1) return { ok: false, reason: '% needs a divisor of at least 1' };
    return { ok: true, value: { op: '%', n, remainder: Number(mod[2] ?? 0) } };
  }
  const cmp = /^(>=|<=|={2,3}|>|<)\s*(\d+)$/.exec(t);
  if (cmp) return { ok: true, value: { op: (cmp[1]!.startsWith('==') ? '==' : cmp[1]) as HitCondition['op'], n: Number(cmp[2]) } };
  return { ok: false, reason: `"${text}" is not a hit condition: use >= 10, > 3, == 5, < 4, % 100 == 0 or a number` };
}

export function hitConditionMet(condition: HitCondition, hits: number): boolean {
  switch (condition.op) {
    case '>=':
      return hits >= condition.n;
    case '>':
      return hits > condition.n;
    case '==':
      return hits === condition.n;
    case '<':
      return hits < condition.n;
    case '<=':
      return hits <= condition.n;
    case '%':
      return hits % condition.n === (condition.remainder ?? 0);
  }
}

// --- Paths -------------------------------------------------------------------------------------------------------

export type PathStep = string | number;

/** `req.headers["x-tenant"][0]` → ['req', 'headers', 'x-tenant', 0]; undefined when it is not a plain path. */
export function parsePath(expression: string): PathStep[] | undefined {
  const text = expression.trim();
  const head = /^[A-Za-z_$][\w$]*/.exec(text);
  if (!head) return undefined;
  const steps: PathStep[] = [head[0]];
  let rest = text.slice(head[0].length);
  while (rest.length) {
    const m = /^\s*(?:\?\.|\.)\s*([A-Za-z_$][\w$]*)|^\s*\[\s*(\d+)\s*\]|^\s*\[\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\]/.exec(rest);
    if (!m) return undefined;
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else {
      const quoted = m[3]!;
      steps.push(quoted.startsWith("'") ? quoted.slice(1, -1).replace(/\\'/g, "'") : (JSON.parse(quoted) as string));
    }
    rest = rest.slice(m[0].length);
  }
  return steps;
}

