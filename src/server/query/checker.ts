/**
 * Checks a parsed script: every name resolves (tables, columns, lets, functions), every expression has a type
 * that fits where it stands, and every problem has an exact range and, where one is close, a suggestion
 * ("unknown column duraton_ms: did you mean duration_ms?"). The result is a typed plan per query for the
 * compiler, and for the editor: the columns in scope at each step, and what each name refers to.
 */
import type { ChartSpec, QueryProblem } from '../../protocol/query';
import type { Expr, NamedExpr, Pipeline, Script, Source, Span, Statement, Step } from './ast';
import { CATALOG, findTable, isNumeric, type Type } from './catalog';
import { FUNCTION_BY_NAME, FUNCTIONS, type ConstValue } from './functions';
import { parse } from './parser';
import type { Output, Plan, Reference, RelColumn, TExpr, TimeRange } from './plan';
import { closest } from './suggest';

export interface StepScope {
  /** From the step's `|` (or the source) to its end, including trailing space up to the next step. */
  span: Span;
  /** The columns the step can use. */
  columns: RelColumn[];
  /** The table the pipeline reads, when it is one. */
  table?: string;
  /** The metric a `where name == "…"` picked, for completing labels. */
  metric?: string;
  step?: Step['kind'];
}

export interface QueryInfo {
  statement: Extract<Statement, { kind: 'query' }>;
  plan?: Plan;
  chart?: ChartSpec;
}

export interface LetInfo {
  name: string;
  span: Span;
  kind: 'pipeline' | 'expr';
  plan?: Plan;
  expr?: TExpr;
  table?: string;
  metric?: string;
}

export interface Analysis {
  text: string;
  script: Script;
  problems: QueryProblem[];
  queries: QueryInfo[];
  lets: Map<string, LetInfo>;
  scopes: StepScope[];
  references: Reference[];
}

export interface CheckOptions {
  /** What ago() and now() count from. */
  now: number;
}

const CHART_NUMERIC = new Set<Type>(['int', 'float', 'duration']);

export function analyze(text: string, options: CheckOptions): Analysis {
  const script = parse(text);
  const checker = new Checker(text, options);
  for (const p of script.problems) checker.problem(p.message, p.span, p.suggestion);
  for (const statement of script.statements) checker.statement(statement);
  return { text, script, problems: checker.problems, queries: checker.queries, lets: checker.lets, scopes: checker.scopes, references: checker.references };
}

/** Thrown inside expression typing once a problem is reported, so that one mistake gives one message. */
class Reported extends Error {}

interface ExprEnv {
  columns: RelColumn[];
  /** `aggregate`: an item of summarize (aggregates allowed, bare columns not); `inside`: an aggregate's arguments. */
  mode: 'row' | 'aggregate' | 'inside' | 'constant';
  table?: string;
  /** Set while typing rate() so the summarize knows it needs a time span. */
  onRate?: (span: Span) => void;
  topLevel?: boolean;
}

interface Relation {
  plan: Plan;
  table?: string;
  metric?: string;
}

class Checker {
  readonly problems: QueryProblem[] = [];
  readonly queries: QueryInfo[] = [];
  readonly lets = new Map<string, LetInfo>();
  readonly scopes: StepScope[] = [];
  readonly references: Reference[] = [];
  private nextId = 1;

  constructor(private readonly text: string, private readonly options: CheckOptions) {}

  problem(message: string, span: Span, suggestion?: string, severity: 'error' | 'warning' = 'error'): void {
    this.problems.push({ message, start: span.start, end: span.end, severity, ...(suggestion !== undefined ? { suggestion } : {}) });
  }

  private fail(message: string, span: Span, suggestion?: string): never {
    this.problem(message, span, suggestion);
    throw new Reported(message);
  }

  private column(name: string, type: Type, extra: Partial<RelColumn> = {}): RelColumn {
    return { id: this.nextId++, name, type, ...extra };
  }

  statement(statement: Statement): void {
    switch (statement.kind) {
      case 'error':
        return;
      case 'let': {
        const name = statement.name.text;
        if (findTable(name)) this.problem(`${name} is a table: a let cannot take its name`, statement.name.span);
        if (this.lets.has(name)) this.problem(`${name} is already defined by an earlier let`, statement.name.span);
        if (FUNCTION_BY_NAME.has(name)) this.problem(`${name} is a function: a let cannot take its name`, statement.name.span);
        const value = statement.value;
        if (value.kind === 'pipeline' && !this.isScalarAlias(value.pipeline)) {
          const relation = this.pipeline(value.pipeline);
          if (value.pipeline.steps.some((s) => s.kind === 'chart')) this.problem('a let cannot chart: put chart on the query that uses it', value.pipeline.span);
          this.lets.set(name, { name, span: statement.name.span, kind: 'pipeline', ...(relation ? { plan: relation.plan, ...(relation.table ? { table: relation.table } : {}), ...(relation.metric ? { metric: relation.metric } : {}) } : {}) });
          return;
        }
        const expr = value.kind === 'expr' ? value.expr : ({ kind: 'name', name: (value.pipeline.source as { name: { text: string } }).name.text, span: value.pipeline.span } as Expr);
        let typed: TExpr | undefined;
        try {
          typed = this.expr(expr, { columns: [], mode: 'constant' });
        } catch (error) {
          if (!(error instanceof Reported)) throw error;
        }
        this.lets.set(name, { name, span: statement.name.span, kind: 'expr', ...(typed ? { expr: typed } : {}) });
        return;
      }
      case 'query': {
        const relation = this.pipeline(statement.pipeline, true);
        const info: QueryInfo = { statement };
        if (relation) {
          info.plan = relation.plan;
          const chartStep = statement.pipeline.steps.find((s) => s.kind === 'chart');
          if (chartStep?.kind === 'chart') {
            const chart = this.chart(chartStep.chart, relation.plan.columns, chartStep.span);
            if (chart) info.chart = chart;
          }
        }
        for (const column of relation?.plan.columns ?? []) {
          if (column.type === 'sketch' || column.type === 'labels') {
            this.problem(`the result cannot hold ${column.name} (a ${column.type}): project the columns you want, or summarize it (p99(sketch), labels.route)`, statement.pipeline.span);
            delete info.plan;
            break;
          }
        }
        this.queries.push(info);
        return;
      }
    }
  }

  /** `let x = y;` where y is a scalar let (or a name that is no table or pipeline) is a scalar alias. */
  private isScalarAlias(pipeline: Pipeline): boolean {
    if (pipeline.steps.length > 0 || pipeline.source.kind !== 'name') return false;
    const name = pipeline.source.name.text;
    return this.lets.get(name)?.kind === 'expr' || (!findTable(name) && !this.lets.has(name));
  }

  private chart(kind: ChartSpec['kind'], columns: RelColumn[], span: Span): ChartSpec | undefined {
    if (columns.length === 0) return undefined;
    const x = columns.find((c) => c.type === 'time') ?? columns[0]!;
    const y = columns.filter((c) => c !== x && CHART_NUMERIC.has(c.type)).map((c) => c.name);
    const series = columns.filter((c) => c !== x && (c.type === 'string' || c.type === 'bool')).map((c) => c.name);
    if (kind !== 'table' && y.length === 0) {
      this.problem(`chart ${kind} needs a numeric column to draw besides ${x.name}: summarize one (count(), p99(…))`, span);
      return undefined;
    }
    return { kind, x: x.name, y, series };
  }

  // --- Pipelines -----------------------------------------------------------------------------------------

  private source(source: Source): Relation | undefined {
    if (source.kind === 'pipeline') return this.pipeline(source.pipeline);
    const name = source.name.text;
    const table = findTable(name);
    if (table) {
      this.references.push({ kind: 'table', table: table.name, span: source.name.span });
      const columns = table.columns.map((c) => this.column(c.name, c.type, { doc: c.doc, origin: `${table.name}.${c.name}` }));
      return { plan: { kind: 'table', table: table.name, columns, range: {} }, table: table.name };
    }
    const let_ = this.lets.get(name);
    if (let_) {
      this.references.push({ kind: 'let', name, definition: let_.span, letKind: let_.kind, span: source.name.span });
      if (let_.kind === 'expr') this.fail(`${name} is a value, not a table: a pipeline starts with a table or a let of a pipeline`, source.name.span);
      if (!let_.plan) throw new Reported(`${name} has errors`);
      return { plan: let_.plan, ...(let_.table ? { table: let_.table } : {}), ...(let_.metric ? { metric: let_.metric } : {}) };
    }
    const guess = closest(name, [...CATALOG.map((t) => t.name), ...[...this.lets.values()].filter((l) => l.kind === 'pipeline').map((l) => l.name)]);
    this.fail(`unknown table ${name}${guess ? `: did you mean ${guess}?` : ': the tables are metrics, spans, logs, events and incidents'}`, source.name.span, guess);
  }

  private pipeline(pipeline: Pipeline, isQuery = false): Relation | undefined {
    let relation: Relation | undefined;
    try {
      relation = this.source(pipeline.source);
    } catch (error) {
      if (!(error instanceof Reported)) throw error;
    }
    const sourceEnd = pipeline.steps[0]?.span.start ?? pipeline.span.end;
    this.scopes.push({ span: { start: pipeline.source.span.start, end: sourceEnd }, columns: [], ...(relation?.table ? { table: relation.table } : {}) });
    pipeline.steps.forEach((step, i) => {
      const next = pipeline.steps[i + 1];
      const end = next ? next.span.start : Math.max(step.span.end, this.scopeEnd(pipeline.span.end));
      this.scopes.push({ span: { start: step.span.start, end }, columns: relation?.plan.columns ?? [], ...(relation?.table ? { table: relation.table } : {}), ...(relation?.metric ? { metric: relation.metric } : {}), step: step.kind });
      if (step.kind === 'chart') {
        if (!isQuery) return;
        if (next) this.problem('chart must be the last step', next.span);
        return;
      }
      if (!relation || step.kind === 'error') {
        relation = undefined;
        return;
      }
      try {
        relation = this.step(relation, step);
      } catch (error) {
        if (!(error instanceof Reported)) throw error;
        relation = undefined;
      }
    });
    return relation;
  }

  /** A step's scope runs on to the end of the statement, so completion after `| where x > 1 ` still knows it. */
  private scopeEnd(end: number): number {
    let i = end;
    while (i < this.text.length && this.text[i] !== ';' && this.text[i] !== ')' && this.text[i] !== '|') i++;
    return i;
  }

  private step(input: Relation, step: Step): Relation {
    const plan = input.plan;
    const env = (mode: ExprEnv['mode'] = 'row'): ExprEnv => ({ columns: plan.columns, mode, ...(input.table ? { table: input.table } : {}) });
    switch (step.kind) {
      case 'where': {
        const condition = this.expr(step.expr, env());
        this.expect(condition, ['bool'], step.expr.span, 'a where condition');
        const metric = input.table === 'metrics' ? (this.metricOf(condition) ?? input.metric) : input.metric;
        const next: Plan = { kind: 'where', input: plan, condition, columns: plan.columns, range: narrow(plan.range, condition) };
        return { plan: next, ...(input.table ? { table: input.table } : {}), ...(metric ? { metric } : {}) };
      }
      case 'project':
      case 'extend': {
        const outputs: Output[] = step.kind === 'extend' ? plan.columns.map((c) => ({ column: c, expr: { op: 'column', column: c, type: c.type } })) : [];
        const seen = new Map<string, Span>();
        for (const item of step.items) {
          if (step.kind === 'extend' && !item.name) this.fail('extend needs a name for each new column: extend name = expression', item.span);
          const expr = this.expr(item.expr, env());
          const name = this.outputName(item, expr, step.kind === 'project' ? outputs.length : undefined);
          this.checkNew(name, item, seen);
          if ((expr.type === 'sketch' || expr.type === 'labels') && expr.op !== 'column') this.fail(`a ${expr.type} column can only be kept as it is`, item.expr.span);
          const column = expr.op === 'column' && !item.name ? expr.column : this.column(name, expr.type, { ...(expr.op === 'column' && expr.column.doc ? { doc: expr.column.doc } : {}) });
          const existing = outputs.findIndex((o) => o.column.name === name);
          if (existing >= 0) outputs[existing] = { column, expr };
          else outputs.push({ column, expr });
        }
        return { ...input, plan: { kind: 'project', input: plan, outputs, columns: outputs.map((o) => o.column), range: plan.range } };
      }
      case 'summarize':
        return this.summarize(input, step.aggregates, step.by, step.span);
      case 'distinct':
        return this.summarize(input, [], step.items, step.span);
      case 'count': {
        const count = FUNCTION_BY_NAME.get('count')!;
        const column = this.column('count', 'int');
        return { plan: { kind: 'summarize', input: plan, groups: [], aggregates: [{ column, expr: { op: 'aggregate', fn: count, args: [], type: 'int' } }], columns: [column], range: plan.range } };
      }
      case 'sort': {
        const keys = step.keys.map((k) => ({ expr: this.orderable(this.expr(k.expr, env()), k.expr.span), desc: k.desc }));
        return { ...input, plan: { kind: 'sort', input: plan, keys, columns: plan.columns, range: plan.range } };
      }
      case 'take': {
        const count = this.count(step.count, env(), 'take');
        return { ...input, plan: { kind: 'take', input: plan, count, columns: plan.columns, range: plan.range } };
      }
      case 'top': {
        const count = this.count(step.count, env(), 'top');
        const key = { expr: this.orderable(this.expr(step.key.expr, env()), step.key.expr.span), desc: step.key.desc };
        const sorted: Plan = { kind: 'sort', input: plan, keys: [key], columns: plan.columns, range: plan.range };
        return { ...input, plan: { kind: 'take', input: sorted, count, columns: plan.columns, range: plan.range } };
      }
      case 'join':
        return this.join(input, step);
      case 'chart':
      case 'error':
        return input;
    }
  }

  private count(expr: Expr, env: ExprEnv, step: string): number {
    const typed = this.expr(expr, { ...env, mode: 'constant' });
    if (typed.op !== 'const' || typeof typed.value !== 'number' || !Number.isInteger(typed.value) || typed.value < 0) this.fail(`${step} needs a whole number of rows, e.g. ${step} 10`, expr.span);
    return typed.value;
  }

  private orderable(expr: TExpr, span: Span): TExpr {
    if (expr.type === 'sketch' || expr.type === 'labels') this.fail(`cannot sort by a ${expr.type}`, span);
    return expr;
  }

  private checkNew(name: string, item: NamedExpr, seen: Map<string, Span>): void {
    if (name.startsWith('__')) this.fail('names starting with __ are reserved', item.name?.span ?? item.span);
    if (seen.has(name)) this.fail(`two columns are named ${name}: name one of them (other_name = …)`, item.name?.span ?? item.span);
    seen.set(name, item.span);
  }

  /** KQL's naming: a column keeps its name, bin(ts, …) is ts, p99(duration_ms) is p99_duration_ms, count() is count. */
  private outputName(item: NamedExpr, expr: TExpr, position?: number): string {
    if (item.name) return item.name.text;
    const e = item.expr;
    if (e.kind === 'name' && expr.op === 'column') return expr.column.name;
    if (e.kind === 'member') return e.member.text;
    if (e.kind === 'index' && e.index.kind === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(e.index.value)) return e.index.value;
    if (e.kind === 'call') {
      const fn = e.name.text.toLowerCase();
      const first = e.args[0];
      if (fn === 'bin' && first?.kind === 'name') return first.name;
      if (expr.op === 'aggregate' && expr.sketch) return fn;
      if (first?.kind === 'name') return `${fn}_${first.name}`;
      if (e.args.length === 0) return fn;
      return fn;
    }
    return `col${(position ?? 0) + 1}`;
  }

  private summarize(input: Relation, aggregateItems: NamedExpr[], byItems: NamedExpr[], span: Span): Relation {
    const plan = input.plan;
    const seen = new Map<string, Span>();
    const groups: Output[] = [];
    let widthSeconds: number | undefined;
    for (const item of byItems) {
      const expr = this.expr(item.expr, { columns: plan.columns, mode: 'row', ...(input.table ? { table: input.table } : {}) });
      if (expr.type === 'sketch' || expr.type === 'labels') this.fail(`cannot group by a ${expr.type}: group by one label instead (labels.route)`, item.expr.span);
      const name = this.outputName(item, expr, groups.length);
      this.checkNew(name, item, seen);
      if (expr.op === 'call' && expr.fn.name === 'bin' && expr.args[0]?.type === 'time' && expr.args[1]?.op === 'const') widthSeconds = Number(expr.args[1].value) / 1000;
      groups.push({ column: expr.op === 'column' && !item.name ? expr.column : this.column(name, expr.type), expr });
    }
    const rates: Span[] = [];
    const aggregates: Output[] = [];
    for (const item of aggregateItems) {
      const expr = this.expr(item.expr, { columns: plan.columns, mode: 'aggregate', topLevel: true, onRate: (s) => rates.push(s), ...(input.table ? { table: input.table } : {}) });
      if (!containsAggregate(expr)) this.fail('each item before by must be an aggregate, e.g. count() or avg(duration_ms); put columns to group by after by', item.expr.span);
      const name = this.outputName(item, expr, groups.length + aggregates.length);
      this.checkNew(name, item, seen);
      aggregates.push({ column: this.column(name, expr.type), expr });
    }
    if (rates.length > 0 && widthSeconds === undefined) {
      const range = plan.range;
      if (range.from !== undefined) widthSeconds = ((range.to ?? this.options.now) - range.from) / 1000;
      if (widthSeconds === undefined || widthSeconds <= 0) {
        this.fail('rate() needs a time span to divide by: summarize … by bin(ts, 1m), or limit the time first (where ts > ago(1h))', rates[0]!);
      }
    }
    void span;
    const columns = [...groups, ...aggregates].map((o) => o.column);
    return { plan: { kind: 'summarize', input: plan, groups, aggregates, columns, range: plan.range, ...(widthSeconds !== undefined ? { widthSeconds } : {}) } };
  }

  private join(input: Relation, step: Extract<Step, { kind: 'join' }>): Relation {
    const right = this.source(step.source);
    if (!right) throw new Reported('join source');
    const keys: [RelColumn, RelColumn][] = [];
    for (const key of step.on) {
      const l = this.lookup(input.plan.columns, key.left.text, key.left.span, 'the left side of the join');
      const r = this.lookup(right.plan.columns, key.right.text, key.right.span, 'the joined table');
      if (l.type !== r.type || l.type === 'sketch' || l.type === 'labels') this.fail(`cannot join ${l.name} (${l.type}) with ${r.name} (${r.type}): join on ids of the same type, e.g. trace_id`, key.left.span);
      keys.push([l, r]);
    }
    const outputs: Extract<Plan, { kind: 'join' }>['outputs'] = input.plan.columns.map((c) => ({ column: c, side: 'left', source: c }));
    const taken = new Set(outputs.map((o) => o.column.name));
    for (const c of right.plan.columns) {
      if (keys.some(([l, r]) => r === c && l.name === c.name)) continue;
      let name = c.name;
      for (let i = 1; taken.has(name); i++) name = `${c.name}${i}`;
      taken.add(name);
      outputs.push({ column: this.column(name, c.type, { ...(c.doc ? { doc: c.doc } : {}) }), side: 'right', source: c });
    }
    const plan: Plan = { kind: 'join', left: input.plan, right: right.plan, joinKind: step.joinKind, keys, outputs, columns: outputs.map((o) => o.column), range: input.plan.range };
    return { plan, ...(input.table ? { table: input.table } : {}), ...(input.metric ? { metric: input.metric } : {}) };
  }

  private lookup(columns: RelColumn[], name: string, span: Span, where: string): RelColumn {
    const column = columns.find((c) => c.name === name);
    if (column) {
      this.references.push({ kind: 'column', column, span });
      return column;
    }
    const guess = closest(name, columns.map((c) => c.name));
    this.fail(`unknown column ${name} in ${where}${guess ? `: did you mean ${guess}?` : ''}`, span, guess);
  }

  /** The metric a condition picks with `name == "…"` (for label completion and hovers). */
  private metricOf(condition: TExpr): string | undefined {
    if (condition.op === 'binary' && condition.operator === 'and') return this.metricOf(condition.left) ?? this.metricOf(condition.right);
    if (condition.op === 'binary' && condition.operator === '==') {
      const [col, value] = condition.left.op === 'column' ? [condition.left, condition.right] : [condition.right, condition.left];
      if (col.op === 'column' && col.column.origin === 'metrics.name' && value.op === 'const' && typeof value.value === 'string') return value.value;
    }
    return undefined;
  }

  private expect(expr: TExpr, types: readonly Type[], span: Span, what: string): void {
    if (!types.includes(expr.type)) this.fail(`${what} must be ${types.join(' or ')}, not ${expr.type}`, span);
  }

  // --- Expressions ---------------------------------------------------------------------------------------

  private expr(e: Expr, env: ExprEnv): TExpr {
    switch (e.kind) {
      case 'number':
        return { op: 'const', value: e.value, type: e.float || !Number.isSafeInteger(e.value) ? 'float' : 'int' };
      case 'duration':
        return { op: 'const', value: e.value, type: 'duration' };
      case 'string':
        return { op: 'const', value: e.value, type: 'string' };
      case 'bool':
        return { op: 'const', value: e.value, type: 'bool' };
      case 'name':
        return this.name(e.name, e.span, env);
      case 'member':
        return this.label(e.object, e.member.text, e.member.span, env);
      case 'index': {
        const key = this.expr(e.index, { ...env, mode: 'constant' });
        if (key.op !== 'const' || typeof key.value !== 'string') this.fail('a label is named by a constant text: labels["route"]', e.index.span);
        return this.label(e.object, key.value, e.index.span, env);
      }
      case 'call':
        return this.call(e, env);
      case 'unary': {
        const operand = this.expr(e.operand, { ...env, topLevel: false });
        if (e.op === 'not') {
          this.expect(operand, ['bool'], e.operand.span, 'the operand of not');
          return operand.op === 'const' ? { op: 'const', value: !operand.value, type: 'bool' } : { op: 'unary', operator: 'not', operand, type: 'bool' };
        }
        if (!isNumeric(operand.type) || operand.type === 'time') this.fail(`cannot negate ${operand.type}`, e.span);
        return operand.op === 'const' ? { op: 'const', value: -Number(operand.value), type: operand.type } : { op: 'unary', operator: '-', operand, type: operand.type };
      }
      case 'binary':
        return this.binary(e, env);
      case 'in': {
        const operand = this.expr(e.operand, { ...env, topLevel: false });
        const list = e.list.map((item) => {
          const typed = this.expr(item, { ...env, mode: 'constant' });
          if (typed.op !== 'const') this.fail('the values of an in list must be constants', item.span);
          if (!comparable(operand.type, typed.type)) this.fail(`cannot compare ${operand.type} with ${typed.type}`, item.span);
          return typed;
        });
        return { op: 'in', negated: e.negated, operand, list, type: 'bool' };
      }
      case 'between': {
        const operand = this.expr(e.operand, { ...env, topLevel: false });
        const low = this.expr(e.low, { ...env, topLevel: false });
        const high = this.expr(e.high, { ...env, topLevel: false });
        for (const [bound, span] of [[low, e.low.span], [high, e.high.span]] as const) {
          if (!comparable(operand.type, bound.type) || operand.type === 'bool') this.fail(`cannot compare ${operand.type} with ${bound.type}`, span);
        }
        const ge: TExpr = { op: 'binary', operator: '>=', left: operand, right: low, type: 'bool' };
        const le: TExpr = { op: 'binary', operator: '<=', left: operand, right: high, type: 'bool' };
        return { op: 'binary', operator: 'and', left: ge, right: le, type: 'bool' };
      }
    }
  }

  private name(name: string, span: Span, env: ExprEnv): TExpr {
    const column = env.columns.find((c) => c.name === name);
    if (column && env.mode !== 'constant') {
      if (env.mode === 'aggregate') this.fail(`${name} is a column: in summarize, use it inside an aggregate (sum(${name})) or group by it (by ${name})`, span);
      this.references.push({ kind: 'column', column, span, ...(env.table ? { table: env.table } : {}) });
      return { op: 'column', column, type: column.type };
    }
    const let_ = this.lets.get(name);
    if (let_) {
      this.references.push({ kind: 'let', name, definition: let_.span, letKind: let_.kind, span });
      if (let_.kind === 'pipeline') this.fail(`${name} is a pipeline: use it as a source (${name} | …) or in a join`, span);
      if (!let_.expr) throw new Reported(`${name} has errors`);
      return let_.expr;
    }
    if (FUNCTION_BY_NAME.has(name)) this.fail(`${name} is a function: call it, ${name}(…)`, span);
    if (env.mode === 'constant' && env.columns.length === 0) {
      const guess = closest(name, [...this.lets.values()].filter((l) => l.kind === 'expr').map((l) => l.name));
      this.fail(`unknown name ${name}${guess ? `: did you mean ${guess}?` : ' (a let value is defined before it is used; text goes in quotes)'}`, span, guess);
    }
    if (column) this.fail(`${name} is a column: a constant is needed here`, span);
    const candidates = [...env.columns.map((c) => c.name), ...[...this.lets.values()].filter((l) => l.kind === 'expr').map((l) => l.name)];
    const guess = closest(name, candidates);
    this.fail(`unknown column ${name}${guess ? `: did you mean ${guess}?` : env.columns.length ? `; the columns here are ${env.columns.map((c) => c.name).join(', ')}` : ''}`, span, guess);
  }

  private label(object: Expr, key: string, keySpan: Span, env: ExprEnv): TExpr {
    const base = this.expr(object, { ...env, topLevel: false });
    if (base.op !== 'column' || base.type !== 'labels') this.fail(`only labels has named parts (labels.route); ${object.kind === 'name' ? object.name : 'this'} is ${base.type}`, object.span);
    this.references.push({ kind: 'label', label: key, span: keySpan });
    return { op: 'label', column: base.column, key, type: 'string' };
  }

  private call(e: Extract<Expr, { kind: 'call' }>, env: ExprEnv): TExpr {
    const lower = e.name.text.toLowerCase();
    if (lower === 'not' && e.args.length === 1) {
      const operand = this.expr(e.args[0]!, { ...env, topLevel: false });
      this.expect(operand, ['bool'], e.args[0]!.span, 'the argument of not');
      return { op: 'unary', operator: 'not', operand, type: 'bool' };
    }
    const fn = FUNCTION_BY_NAME.get(lower);
    if (!fn) {
      const guess = closest(lower, FUNCTIONS.map((f) => f.name));
      this.fail(`unknown function ${e.name.text}${guess ? `: did you mean ${guess}?` : ''}`, e.name.span, guess);
    }
    this.references.push({ kind: 'function', fn, span: e.name.span });
    if (fn.kind === 'aggregate') {
      if (env.mode === 'inside') this.fail(`${fn.name}() inside another aggregate: aggregates do not nest`, e.name.span);
      if (env.mode !== 'aggregate') this.fail(`${fn.name}() is an aggregate: use it in summarize (summarize ${fn.name}(…) by …)`, e.name.span);
    }
    const required = fn.params.filter((p) => !p.optional).length;
    const variadic = fn.params.some((p) => p.variadic);
    if (e.args.length < required || (!variadic && e.args.length > fn.params.length)) {
      const count = fn.params.length === required ? `${required}` : variadic ? `at least ${required}` : `${required} to ${fn.params.length}`;
      this.fail(`${fn.name}() takes ${count} argument${fn.params.length === 1 ? '' : 's'}: ${fn.name}(${fn.params.map((p) => p.name).join(', ')})`, { start: e.span.start, end: e.span.end });
    }
    const argEnv: ExprEnv = { ...env, mode: fn.kind === 'aggregate' ? 'inside' : env.mode, topLevel: false };
    const args = e.args.map((arg, i) => {
      const param = fn.params[Math.min(i, fn.params.length - 1)]!;
      const typed = this.expr(arg, param.constant ? { ...argEnv, mode: 'constant' } : argEnv);
      if (param.constant && typed.op !== 'const') this.fail(`${param.name} of ${fn.name}() must be a constant`, arg.span);
      if (!param.accepts.includes(typed.type) && !(typed.type === 'int' && param.accepts.includes('float'))) {
        this.fail(`${param.name} of ${fn.name}() must be ${param.accepts.join(' or ')}, not ${typed.type}`, arg.span);
      }
      return typed;
    });
    const constants = args.map((a) => (a.op === 'const' ? a.value : undefined));
    const invalid = fn.validate?.(constants);
    if (invalid) this.fail(`${fn.name}(): ${invalid}`, e.span);
    if (fn.name === 'rate') {
      if (args[0]?.op === 'column' && args[0].column.origin === 'metrics.total') {
        this.fail('rate(total) would add up running totals: use rate(value), the increases (counter-aware: a pod restart adds its new total, never a negative step)', e.args[0]!.span, 'value');
      }
      env.onRate?.(e.span);
    }
    const types = args.map((a) => a.type);
    if (fn.fold) {
      if (constants.some((c) => c === undefined)) this.fail(`${fn.name}() needs constant arguments`, e.span);
      const folded = fn.fold(constants as ConstValue[], this.options.now);
      if ('error' in folded) this.fail(folded.error, e.span);
      return { op: 'const', value: folded.value, type: folded.type };
    }
    const type = fn.returns(types);
    if (fn.kind === 'aggregate') {
      const sketch = types[0] === 'sketch';
      if (sketch && !env.topLevel) this.fail(`a quantile of a sketch must be a whole summarize item: name it (p = ${fn.name}(sketch)) and compute with it in an extend after summarize`, e.span);
      if (fn.name === 'iff') throw new Error('unreachable');
      return { op: 'aggregate', fn, args, type, ...(fn.quantile ? { quantile: fn.quantile(constants as ConstValue[]), sketch } : {}) };
    }
    if (fn.name === 'iff' && args[1] && args[2] && !comparable(args[1].type, args[2].type)) this.fail(`iff(): then and else must have the same type (${args[1].type}, ${args[2].type})`, e.span);
    if (fn.name === 'substring' && (!args[0] || args[0].type !== 'string')) this.fail('substring() takes text', e.span);
    return { op: 'call', fn, args, type };
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, env: ExprEnv): TExpr {
    const sub = { ...env, topLevel: false };
    const left = this.expr(e.left, sub);
    const right = this.expr(e.right, sub);
    const op = e.op;
    const bad = (): never => this.fail(`cannot use ${op} on ${left.type} and ${right.type}`, e.opSpan);
    switch (op) {
      case 'and':
      case 'or':
        this.expect(left, ['bool'], e.left.span, `the left side of ${op}`);
        this.expect(right, ['bool'], e.right.span, `the right side of ${op}`);
        return { op: 'binary', operator: op, left, right, type: 'bool' };
      case '==':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (!comparable(left.type, right.type)) bad();
        if ((left.type === 'bool' || left.type === 'sketch' || left.type === 'labels') && op !== '==' && op !== '!=') bad();
        this.noteMetric(left, right, e.right.span);
        this.noteMetric(right, left, e.left.span);
        return { op: 'binary', operator: op, left, right, type: 'bool' };
      case '=~':
      case '!~':
      case 'contains':
      case 'startswith':
      case 'endswith':
        if (left.type !== 'string' || right.type !== 'string') bad();
        return { op: 'binary', operator: op, left, right, type: 'bool' };
      case 'matches':
        if (left.type !== 'string' || right.type !== 'string') bad();
        if (right.op !== 'const') this.fail('the regular expression of matches regex must be a constant', e.right.span);
        try {
          new RegExp(String(right.value));
        } catch (error) {
          this.fail(`not a regular expression: ${(error as Error).message}`, e.right.span);
        }
        return { op: 'binary', operator: op, left, right, type: 'bool' };
      case '+':
      case '-':
      case '*':
      case '/':
      case '%': {
        const type = arithmetic(op, left.type, right.type);
        if (!type) bad();
        if (left.op === 'const' && right.op === 'const' && typeof left.value === 'number' && typeof right.value === 'number') {
          const value = foldArithmetic(op, left.value, right.value);
          if (value !== undefined) return { op: 'const', value, type: type! };
        }
        return { op: 'binary', operator: op, left, right, type: type! };
      }
    }
  }

  /** `name == "gw_…"` on metrics: a reference to the metric (hover shows its live value). */
  private noteMetric(column: TExpr, value: TExpr, span: Span): void {
    if (column.op === 'column' && column.column.origin === 'metrics.name' && value.op === 'const' && typeof value.value === 'string') {
      this.references.push({ kind: 'metric', metric: value.value, span });
    }
  }
}

function containsAggregate(expr: TExpr): boolean {
  switch (expr.op) {
    case 'aggregate':
      return true;
    case 'call':
      return expr.args.some(containsAggregate);
    case 'unary':
      return containsAggregate(expr.operand);
    case 'binary':
      return containsAggregate(expr.left) || containsAggregate(expr.right);
    case 'in':
      return containsAggregate(expr.operand);
    case 'const':
    case 'column':
    case 'label':
      return false;
  }
}

function comparable(a: Type, b: Type): boolean {
  if (a === b) return true;
  return isNumeric(a) && isNumeric(b);
}

function arithmetic(op: '+' | '-' | '*' | '/' | '%', a: Type, b: Type): Type | undefined {
  const num = (t: Type) => t === 'int' || t === 'float';
  if (num(a) && num(b)) return op === '/' ? 'float' : a === 'float' || b === 'float' ? 'float' : 'int';
  if (op === '-' && a === 'time' && b === 'time') return 'duration';
  if ((op === '+' || op === '-') && a === 'time' && (b === 'duration' || b === 'int')) return 'time';
  if (op === '+' && b === 'time' && (a === 'duration' || a === 'int')) return 'time';
  if ((op === '+' || op === '-' || op === '%') && a === 'duration' && b === 'duration') return 'duration';
  if (op === '/' && a === 'duration' && b === 'duration') return 'float';
  if ((op === '*' || op === '/') && a === 'duration' && num(b)) return 'duration';
  if (op === '*' && num(a) && b === 'duration') return 'duration';
  return undefined;
}

function foldArithmetic(op: '+' | '-' | '*' | '/' | '%', a: number, b: number): number | undefined {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : a / b;
    case '%':
      return b === 0 ? undefined : a % b;
  }
}

/** Narrows a time range with a where condition's conjuncts on the source table's ts. */
function narrow(range: TimeRange, condition: TExpr): TimeRange {
  const out = { ...range };
  const visit = (e: TExpr) => {
    if (e.op !== 'binary') return;
    if (e.operator === 'and') {
      visit(e.left);
      visit(e.right);
      return;
    }
    let { left, right } = e;
    let operator = e.operator;
    if (right.op === 'column' && left.op === 'const') {
      [left, right] = [right, left];
      operator = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as Record<string, typeof operator>)[operator] ?? operator;
    }
    if (left.op !== 'column' || !left.column.origin?.endsWith('.ts') || right.op !== 'const' || typeof right.value !== 'number') return;
    const value = right.value;
    if (operator === '>' || operator === '>=') out.from = Math.max(out.from ?? -Infinity, value);
    else if (operator === '<' || operator === '<=') out.to = Math.min(out.to ?? Infinity, value);
    else if (operator === '==') {
      out.from = value;
      out.to = value;
    }
  };
  visit(condition);
  return out;
}
