/**
 * The editor's view of SGQL, as pure functions of the text and an offset (lsp.ts turns them into LSP
 * answers): completion, hover, signature help, go to definition, formatting and the places of queries.
 * Completion reads only the cached catalog, never the store, so it answers at once.
 */
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem } from 'vscode-languageserver-types';
import { CHART_KINDS, type QueryCatalog } from '../../protocol/query';
import { STEP_KEYWORDS, type Span } from './ast';
import { CATALOG, findTable, TYPE_DOCS } from './catalog';
import { analyze, type Analysis, type StepScope } from './checker';
import { FUNCTION_BY_NAME, FUNCTIONS, signatureOf, type FunctionSpec } from './functions';
import { tokenize, type Token } from './lexer';
import type { RelColumn } from './plan';
import { STEPS } from './reference';

export function analyzeAt(text: string, now = Date.now()): Analysis {
  return analyze(text, { now });
}

// --- Completion ------------------------------------------------------------------------------------------

export interface Completion {
  items: CompletionItem[];
  /** The text the items replace (the word or string being typed). */
  replace: Span;
}

const EXPRESSION_KEYWORDS: Record<string, string[]> = {
  where: ['and', 'or', 'not', 'in', 'between', 'contains', 'startswith', 'endswith', 'matches regex'],
  summarize: ['by'],
  sort: ['asc', 'desc'],
  order: ['asc', 'desc'],
  top: ['by', 'asc', 'desc'],
  join: ['on'],
};

/** Tokens before the offset, and the one the offset is in or right after. */
function tokensAround(text: string, offset: number): { before: Token[]; at?: Token } {
  const tokens = tokenize(text.slice(0, offset)).filter((t) => t.kind !== 'eof');
  const last = tokens[tokens.length - 1];
  // An unterminated string up to the cursor is a string being typed; so is an identifier ending at the cursor.
  if (last && last.end === offset && (last.kind === 'ident' || (last.kind === 'bad' && /^["']/.test(last.text)) || last.kind === 'string')) {
    return { before: tokens.slice(0, -1), at: last };
  }
  return { before: tokens };
}

/** The step the offset is in (its keyword), and whether `by` came after that keyword. */
function stepContext(before: Token[]): { keyword?: string; afterBy: boolean; afterOn: boolean; sawKind: boolean } {
  let depth = 0;
  let afterBy = false;
  let afterOn = false;
  let sawKind = false;
  for (let i = before.length - 1; i >= 0; i--) {
    const t = before[i]!;
    if (t.kind === 'op' && t.text === ')') depth++;
    else if (t.kind === 'op' && t.text === '(') {
      if (depth === 0) return { keyword: '(', afterBy, afterOn, sawKind };
      depth--;
    } else if (depth === 0 && t.kind === 'op' && (t.text === '|' || t.text === ';')) {
      const keyword = before[i + 1];
      return { ...(t.text === '|' && keyword?.kind === 'ident' ? { keyword: keyword.text.toLowerCase() } : {}), afterBy, afterOn, sawKind };
    } else if (depth === 0 && t.kind === 'ident') {
      const w = t.text.toLowerCase();
      if (w === 'by') afterBy = true;
      if (w === 'on') afterOn = true;
      if (w === 'kind') sawKind = true;
    }
  }
  return { afterBy, afterOn, sawKind };
}

function scopeAt(analysis: Analysis, offset: number): StepScope | undefined {
  let best: StepScope | undefined;
  for (const scope of analysis.scopes) {
    if (scope.span.start <= offset && offset <= scope.span.end && (!best || scope.span.start >= best.span.start)) best = scope;
  }
  return best;
}

function columnItem(c: RelColumn): CompletionItem {
  return { label: c.name, kind: CompletionItemKind.Field, detail: c.type, documentation: { kind: MarkupKind.Markdown, value: `\`${c.name}\`: ${c.type}${c.doc ? `\n\n${c.doc}` : ''}` }, sortText: `0${c.name}` };
}

/** A function's documentation comes on resolve: a list of every function with its docs would be ~20 kB per keystroke. */
function functionItem(f: FunctionSpec): CompletionItem {
  return {
    label: f.name,
    kind: CompletionItemKind.Function,
    detail: signatureOf(f),
    data: { fn: f.name },
    insertText: f.params.length ? `${f.name}($1)` : `${f.name}()`,
    insertTextFormat: InsertTextFormat.Snippet,
    sortText: `1${f.name}`,
    ...(f.params.length ? { command: { title: 'Signature help', command: 'editor.action.triggerParameterHints' } } : {}),
  };
}

export function resolveCompletion(item: CompletionItem): CompletionItem {
  const name = (item.data as { fn?: unknown } | undefined)?.fn;
  const f = typeof name === 'string' ? FUNCTION_BY_NAME.get(name) : undefined;
  return f ? { ...item, documentation: { kind: MarkupKind.Markdown, value: `${f.doc}\n\n\`\`\`sgql\n${f.example}\n\`\`\`` } } : item;
}

function keywordItem(word: string, doc?: string): CompletionItem {
  return { label: word, kind: CompletionItemKind.Keyword, ...(doc ? { documentation: { kind: MarkupKind.Markdown, value: doc } } : {}), sortText: `2${word}` };
}

function sourceItems(analysis: Analysis, offset: number): CompletionItem[] {
  const tables = CATALOG.map<CompletionItem>((t) => ({ label: t.name, kind: CompletionItemKind.Class, detail: 'table', documentation: { kind: MarkupKind.Markdown, value: `${t.doc}\n\nColumns: ${t.columns.map((c) => `\`${c.name}\``).join(', ')}` }, sortText: `0${t.name}` }));
  const lets = [...analysis.lets.values()].filter((l) => l.kind === 'pipeline' && l.span.end <= offset).map<CompletionItem>((l) => ({ label: l.name, kind: CompletionItemKind.Variable, detail: 'let (pipeline)', sortText: `0${l.name}` }));
  return [...tables, ...lets];
}

export function complete(text: string, offset: number, catalog: QueryCatalog, now = Date.now()): Completion {
  const { before, at } = tokensAround(text, offset);
  const replace: Span = at ? { start: at.start, end: at.end } : { start: offset, end: offset };
  const prev = before[before.length - 1];
  const prev2 = before[before.length - 2];
  const isOp = (t: Token | undefined, op: string) => t?.kind === 'op' && t.text === op;
  const analysis = analyzeAt(text, now);
  const scope = scopeAt(analysis, Math.max(0, replace.start - 1)) ?? scopeAt(analysis, offset);

  // Inside a string: metric names, label values, column values.
  if (at && at.kind !== 'ident') {
    const inner: Span = { start: at.start + 1, end: offset };
    return { items: stringItems(before, scope, catalog), replace: inner };
  }

  if (!prev || isOp(prev, ';')) return { items: [...sourceItems(analysis, offset), keywordItem('let', 'Names a value or a pipeline: `let errors = spans | where status_code == 2;`')], replace };
  if (isOp(prev, '|')) return { items: STEPS.map((s) => ({ ...keywordItem(s.keyword, `\`${s.syntax}\`\n\n${s.doc}\n\n\`\`\`sgql\n${s.example}\n\`\`\``), detail: s.syntax, sortText: `0${STEP_KEYWORDS.indexOf(s.keyword as (typeof STEP_KEYWORDS)[number]).toString().padStart(2, '0')}` })), replace };
  if (prev.kind === 'ident' && prev.text.toLowerCase() === 'chart' && isOp(prev2, '|')) return { items: CHART_KINDS.map((k) => keywordItem(k)), replace };
  if (isOp(prev, '=') && prev2?.kind === 'ident' && prev2.text.toLowerCase() === 'let') return { items: [], replace };
  if (isOp(prev, '.') && prev2?.kind === 'ident' && prev2.text === 'labels') return { items: labelNameItems(scope, catalog), replace };
  if (isOp(prev, '=') && prev2?.kind === 'ident' && prev2.text.toLowerCase() === 'kind') return { items: ['inner', 'left'].map((k) => keywordItem(k)), replace };

  const context = stepContext(before);
  if (context.keyword === 'join' && !context.afterOn) {
    if (prev.kind === 'ident' && prev.text.toLowerCase() === 'join') return { items: [keywordItem('kind=inner'), keywordItem('kind=left'), ...sourceItems(analysis, offset)], replace };
    if (prev.kind === 'ident' && prev.text.toLowerCase() !== 'join' && !context.sawKind) return { items: [keywordItem('on')], replace };
    if (isOp(prev, '(') || (prev.kind === 'ident' && /^(inner|left)$/i.test(prev.text))) return { items: sourceItems(analysis, offset), replace };
  }
  if (context.keyword === '(' && isOp(prev, '(') && before.length >= 2 && before[before.length - 2]?.kind === 'ident' && before[before.length - 2]!.text.toLowerCase() === 'join') {
    return { items: sourceItems(analysis, offset), replace };
  }
  const columns = scope?.columns ?? [];
  // After a finished operand: the operators and keywords that can follow.
  if (prev.kind === 'number' || prev.kind === 'duration' || prev.kind === 'string' || isOp(prev, ')') || (prev.kind === 'ident' && columns.some((c) => c.name === prev.text) && !isOp(prev2, '|'))) {
    const words = EXPRESSION_KEYWORDS[context.keyword ?? ''] ?? [];
    const filtered = context.keyword === 'summarize' && context.afterBy ? [] : words;
    if (filtered.length) return { items: filtered.map((w) => keywordItem(w)), replace };
  }
  const aggregates = context.keyword === 'summarize' && !context.afterBy;
  const items: CompletionItem[] = [...columns.map(columnItem)];
  for (const f of FUNCTIONS) if (f.kind === 'scalar' || aggregates) items.push(functionItem(f));
  for (const l of analysis.lets.values()) if (l.kind === 'expr' && l.span.end <= offset) items.push({ label: l.name, kind: CompletionItemKind.Variable, detail: `let: ${l.expr?.type ?? 'value'}`, sortText: `0${l.name}` });
  if (context.keyword === 'where') items.push(keywordItem('not'));
  return { items, replace };
}

function labelNameItems(scope: StepScope | undefined, catalog: QueryCatalog): CompletionItem[] {
  const metrics = scope?.metric ? catalog.metrics.filter((m) => m.name === scope.metric) : catalog.metrics;
  const labels = new Map<string, string[]>();
  for (const m of metrics) for (const l of m.labels) labels.set(l, [...(labels.get(l) ?? []), m.name]);
  return [...labels.entries()].map(([label, names]) => ({ label, kind: CompletionItemKind.Property, detail: `label of ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`, sortText: `0${label}` }));
}

function stringItems(before: Token[], scope: StepScope | undefined, catalog: QueryCatalog): CompletionItem[] {
  // Walk back over an `in (…` list and the comparison operator to what the string is compared with.
  let i = before.length - 1;
  while (before[i]?.kind === 'op' && before[i]!.text === ',') {
    i--;
    if (before[i]?.kind === 'string') i--;
  }
  const inList = before[i]?.kind === 'op' && before[i]!.text === '(';
  if (inList) i--;
  const op = before[i];
  if (inList) {
    if (!(op?.kind === 'ident' && op.text.toLowerCase() === 'in')) return [];
    i -= before[i - 1]?.text === '!' ? 2 : 1;
  } else if (op?.kind === 'op' && ['==', '!=', '=~', '!~'].includes(op.text)) i--;
  else if (op?.kind === 'op' && op.text === '[' && before[i - 1]?.text === 'labels') return labelNameItems(scope, catalog);
  else if (op?.kind === 'ident' && /^(contains|startswith|endswith)$/i.test(op.text)) i--;
  else return [];
  const subject = before[i];
  if (!subject) return [];
  // labels.route == "…" or labels["route"] == "…"
  let label: string | undefined;
  if (subject.kind === 'ident' && before[i - 1]?.text === '.' && before[i - 2]?.text === 'labels') label = subject.text;
  if (subject.kind === 'op' && subject.text === ']' && before[i - 1]?.kind === 'string' && before[i - 2]?.text === '[') label = String(before[i - 1]!.value);
  const table = scope?.table;
  if (label !== undefined) {
    const metrics = scope?.metric ? [scope.metric] : catalog.metrics.map((m) => m.name);
    const values = new Set<string>();
    for (const m of metrics) for (const v of catalog.labelValues[`${m}\u0000${label}`] ?? []) values.add(v);
    return [...values].map((v) => ({ label: v, kind: CompletionItemKind.Value, detail: `${label} value`, sortText: `0${v}` }));
  }
  if (subject.kind !== 'ident') return [];
  if (subject.text === 'name' && table === 'metrics') {
    return catalog.metrics.map((m) => ({ label: m.name, kind: CompletionItemKind.Constant, detail: `${m.kind} metric`, documentation: { kind: MarkupKind.Markdown, value: `**${m.name}** (${m.kind})${m.labels.length ? `\n\nlabels: ${m.labels.map((l) => `\`${l}\``).join(', ')}` : ''}` }, sortText: `0${m.name}` }));
  }
  if (subject.text === 'kind' && table === 'metrics') return ['counter', 'gauge', 'histogram'].map((k) => ({ label: k, kind: CompletionItemKind.Value }));
  const values = table ? (catalog.columnValues[`${table}.${subject.text}`] ?? []) : [];
  return values.map((v) => ({ label: v, kind: CompletionItemKind.Value, detail: `${table}.${subject.text}`, sortText: `0${v}` }));
}

// --- Hover, definition, signature help ------------------------------------------------------------------

export type HoverAnswer = { span: Span; markdown: string } | { span: Span; metric: string };

export function hover(analysis: Analysis, offset: number): HoverAnswer | undefined {
  const ref = [...analysis.references].reverse().find((r) => r.span.start <= offset && offset <= r.span.end);
  if (ref) {
    switch (ref.kind) {
      case 'table': {
        const table = findTable(ref.table)!;
        return { span: ref.span, markdown: [`**${table.name}** (table)`, '', table.doc, '', '| column | type |', '|---|---|', ...table.columns.map((c) => `| \`${c.name}\` | ${c.type} |`)].join('\n') };
      }
      case 'column':
        return { span: ref.span, markdown: `\`${ref.column.name}\`: **${ref.column.type}** — ${TYPE_DOCS[ref.column.type]}${ref.column.doc ? `\n\n${ref.column.doc}` : ''}${ref.column.origin ? `\n\n(${ref.column.origin})` : ''}` };
      case 'function':
        return { span: ref.span, markdown: `\`\`\`\n${signatureOf(ref.fn)}\n\`\`\`\n${ref.fn.kind === 'aggregate' ? '*aggregate* — ' : ''}${ref.fn.doc}\n\n\`\`\`sgql\n${ref.fn.example}\n\`\`\`` };
      case 'let': {
        const def = analysis.script.statements.find((s) => s.kind === 'let' && s.name.span.start === ref.definition.start);
        const source = def ? analysis.text.slice(def.span.start, def.span.end) : ref.name;
        return { span: ref.span, markdown: `\`\`\`sgql\n${source}\n\`\`\`` };
      }
      case 'metric':
        return { span: ref.span, metric: ref.metric };
      case 'label':
        return { span: ref.span, markdown: `label \`${ref.label}\` of a metric point` };
    }
  }
  const token = tokenize(analysis.text).find((t) => t.start <= offset && offset <= t.end && t.kind === 'ident');
  const step = token && STEPS.find((s) => s.keyword === token.text.toLowerCase() || (token.text.toLowerCase() === 'order' && s.keyword === 'sort') || (token.text.toLowerCase() === 'limit' && s.keyword === 'take'));
  if (token && step) return { span: { start: token.start, end: token.end }, markdown: `\`${step.syntax}\`\n\n${step.doc}\n\n\`\`\`sgql\n${step.example}\n\`\`\`` };
  return undefined;
}

export function definition(analysis: Analysis, offset: number): Span | undefined {
  const ref = analysis.references.find((r) => r.kind === 'let' && r.span.start <= offset && offset <= r.span.end);
  return ref?.kind === 'let' ? ref.definition : undefined;
}

export interface SignatureAnswer {
  fn: FunctionSpec;
  label: string;
  parameters: { label: [number, number]; doc: string }[];
  active: number;
}

export function signatureHelp(text: string, offset: number): SignatureAnswer | undefined {
  const tokens = tokenize(text.slice(0, offset)).filter((t) => t.kind !== 'eof');
  let depth = 0;
  let commas = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i]!;
    if (t.kind !== 'op') continue;
    if (t.text === ')' || t.text === ']') depth++;
    else if (t.text === '(' || t.text === '[') {
      if (depth > 0) {
        depth--;
        continue;
      }
      const name = tokens[i - 1];
      const fn = name?.kind === 'ident' ? FUNCTION_BY_NAME.get(name.text.toLowerCase()) : undefined;
      if (!fn) return undefined;
      const label = signatureOf(fn);
      const open = label.indexOf('(') + 1;
      const parameters: SignatureAnswer['parameters'] = [];
      let at = open;
      for (const p of fn.params) {
        const start = label.indexOf(p.name, at);
        const end = label.indexOf(p.variadic ? '…' : p.name === fn.params[fn.params.length - 1]!.name ? ')' : ',', start);
        parameters.push({ label: [start, end < 0 ? start + p.name.length : end + (p.variadic ? 1 : 0)], doc: p.doc });
        at = end < 0 ? start : end;
      }
      const active = Math.min(commas, Math.max(0, fn.params.length - 1));
      return { fn, label, parameters, active };
    } else if (depth === 0 && t.text === ',') commas++;
    else if (depth === 0 && (t.text === '|' || t.text === ';')) return undefined;
  }
  return undefined;
}

// --- Where the queries are ------------------------------------------------------------------------------

export function querySpans(analysis: Analysis): Span[] {
  return analysis.script.statements.filter((s) => s.kind === 'query').map((s) => s.span);
}

// --- Formatting -----------------------------------------------------------------------------------------

const TIGHT_AFTER = new Set(['(', '[', '.', '!']);
const TIGHT_BEFORE = new Set([')', ']', ',', '.', ';', '[']);
const AFTER_OPERATOR_WORDS = /^(where|by|and|or|not|take|limit|top|in|between|on|summarize|project|extend|let|contains|startswith|endswith|regex)$/i;

/**
 * The text laid out the KQL way: one step per line starting with `| `, one space around operators and after
 * commas, none inside brackets, a blank line between queries, comments kept. Undefined when the text does not
 * parse (nothing is moved then).
 */
export function format(text: string): string | undefined {
  if (analyze(text, { now: 0 }).script.problems.length) return undefined;
  const tokens = tokenize(text, { comments: true }).filter((t) => t.kind !== 'eof');
  const lines: string[] = [];
  let line = '';
  let depth = 0;
  let prev: Token | undefined;
  let prevUnary = false;
  let statementIsQuery: boolean | undefined;
  const flush = () => {
    lines.push(line.trimEnd());
    line = '';
  };
  tokens.forEach((t, i) => {
    if (t.kind === 'comment') {
      const ownLine = prev === undefined || text.slice(prev.end, t.start).includes('\n');
      if (ownLine && line.trim()) flush();
      line = line.trim() ? `${line} ${t.text}` : t.text;
      flush();
      prev = t;
      return;
    }
    const op = t.kind === 'op' ? t.text : undefined;
    if (op === '|' && depth === 0) {
      if (line.trim()) flush();
      line = '| ';
      prev = t;
      return;
    }
    if (op === ';' && depth === 0) {
      line = `${line.trimEnd()};`;
      flush();
      if (statementIsQuery && i < tokens.length - 1) lines.push('');
      statementIsQuery = undefined;
      prev = t;
      return;
    }
    statementIsQuery ??= !(t.kind === 'ident' && t.text.toLowerCase() === 'let');
    if (op === '(' || op === '[') depth++;
    if (op === ')' || op === ']') depth = Math.max(0, depth - 1);
    const unary = op === '-' && (!prev || (prev.kind === 'op' && prev.text !== ')' && prev.text !== ']') || (prev.kind === 'ident' && AFTER_OPERATOR_WORDS.test(prev.text)));
    const kindEquals = (op === '=' && prev?.kind === 'ident' && prev.text.toLowerCase() === 'kind') || (prev?.kind === 'op' && prev.text === '=' && tokens[i - 2]?.text.toLowerCase() === 'kind');
    let space: boolean;
    if (line === '' || line === '| ') space = false;
    else if (prev?.kind === 'op' && TIGHT_AFTER.has(prev.text)) space = false;
    else if (prevUnary || kindEquals) space = false;
    else if (op !== undefined && TIGHT_BEFORE.has(op)) space = false;
    else if (op === '(') space = !(prev?.kind === 'ident' && FUNCTION_BY_NAME.has(prev.text.toLowerCase()));
    else space = true;
    line += `${space ? ' ' : ''}${t.text}`;
    prevUnary = unary;
    prev = t;
  });
  if (line.trim()) flush();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return `${lines.join('\n')}\n`;
}
