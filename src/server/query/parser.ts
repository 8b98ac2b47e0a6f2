/**
 * SGQL's parser: recursive descent over the tokens, with recovery so that the editor gets a tree (for
 * completion and hovers) and every problem at once. A step that does not parse becomes an `error` step and the
 * parser resumes at the next `|`; a statement that does not, at the next `;`. Nesting is bounded, so no input
 * can exhaust the stack.
 */
import { CHART_KINDS, type ChartKind } from '../../protocol/query';
import { STEP_KEYWORDS, type BinaryOp, type Expr, type JoinKey, type Name, type NamedExpr, type Pipeline, type Script, type SortKey, type Source, type Span, type Statement, type Step, type SyntaxProblem } from './ast';
import { tokenize, type Token } from './lexer';
import { closest } from './suggest';

export const MAX_NESTING = 64;
export const MAX_STATEMENTS = 200;

class ParseError extends Error {
  constructor(message: string, readonly span: Span, readonly suggestion?: string) {
    super(message);
  }
}

const COMPARISONS: Record<string, BinaryOp> = { '==': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=', '=~': '=~', '!~': '!~' };
const WORD_COMPARISONS = new Set(['contains', 'startswith', 'endswith', 'matches']);
const STEP_LIST = 'where, project, extend, summarize, sort, take, top, distinct, count, join or chart';

export function parse(text: string): Script {
  return new Parser(text).script();
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;
  readonly problems: SyntaxProblem[] = [];

  constructor(text: string) {
    this.tokens = tokenize(text);
    for (const t of this.tokens) if (t.kind === 'bad') this.problems.push({ message: t.error ?? 'unexpected input', span: { start: t.start, end: t.end } });
    // Bad tokens are reported once, above, and then skipped like whitespace.
    this.tokens = this.tokens.filter((t) => t.kind !== 'bad');
  }

  private get tok(): Token {
    return this.tokens[this.pos]!;
  }

  private atEnd(): boolean {
    return this.tok.kind === 'eof';
  }

  private peek(offset = 1): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.tok;
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isOp(text: string, t = this.tok): boolean {
    return t.kind === 'op' && t.text === text;
  }

  private isWord(text: string, t = this.tok): boolean {
    return t.kind === 'ident' && t.text.toLowerCase() === text;
  }

  private expectOp(text: string, what: string): Token {
    if (!this.isOp(text)) throw this.error(`expected ${text} ${what}${this.found()}`);
    return this.next();
  }

  private found(t = this.tok): string {
    return t.kind === 'eof' ? ', found the end of the query' : `, found ${JSON.stringify(t.text)}`;
  }

  private error(message: string, span: Span = this.tok, suggestion?: string): ParseError {
    return new ParseError(message, { start: span.start, end: Math.max(span.end, span.start) }, suggestion);
  }

  private report(error: unknown): void {
    if (error instanceof ParseError) this.problems.push({ message: error.message, span: error.span, ...(error.suggestion ? { suggestion: error.suggestion } : {}) });
    else throw error;
  }

  private nest<T>(fn: () => T): T {
    if (++this.depth > MAX_NESTING) {
      this.depth--;
      throw this.error(`the query nests deeper than ${MAX_NESTING} levels`);
    }
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  script(): Script {
    const statements: Statement[] = [];
    while (this.tok.kind !== 'eof') {
      if (this.isOp(';')) {
        this.next();
        continue;
      }
      if (statements.length >= MAX_STATEMENTS) {
        this.problems.push({ message: `a script holds at most ${MAX_STATEMENTS} statements`, span: { start: this.tok.start, end: this.tokens[this.tokens.length - 1]!.end } });
        break;
      }
      const start = this.tok.start;
      try {
        statements.push(this.statement());
        if (!this.isOp(';') && !this.atEnd()) {
          throw this.error(`expected | or ; after the query${this.found()} (end each query and let with ;)`);
        }
      } catch (error) {
        this.report(error);
        this.skipTo([';']);
        statements.push({ kind: 'error', span: { start, end: this.tok.start } });
      }
    }
    return { statements, problems: this.problems };
  }

  private statement(): Statement {
    const start = this.tok.start;
    if (this.isWord('let') && this.peek().kind === 'ident') {
      this.next();
      const name = this.name('a name after let');
      this.expectOp('=', `after let ${name.text}`);
      const value = this.letValue();
      return { kind: 'let', name, value, span: { start, end: this.prevEnd() } };
    }
    const pipeline = this.pipeline();
    return { kind: 'query', pipeline, span: pipeline.span };
  }

  /** A pipeline when it starts with a name or `(` and goes on with `|`, or is a bare name; an expression otherwise. */
  private letValue(): { kind: 'pipeline'; pipeline: Pipeline } | { kind: 'expr'; expr: Expr } {
    const save = this.pos;
    if (this.tok.kind === 'ident' && (this.isOp('|', this.peek()) || this.isOp(';', this.peek()) || this.peek().kind === 'eof')) {
      return { kind: 'pipeline', pipeline: this.pipeline() };
    }
    if (this.isOp('(')) {
      // `(spans | where …)` is a pipeline; `(1h)` an expression.
      let depth = 0;
      let i = this.pos;
      for (; i < this.tokens.length - 1; i++) {
        const t = this.tokens[i]!;
        if (this.isOp('(', t)) depth++;
        else if (this.isOp(')', t)) depth--;
        else if (depth === 1 && this.isOp('|', t)) return { kind: 'pipeline', pipeline: this.pipeline() };
        if (depth === 0) break;
      }
    }
    this.pos = save;
    return { kind: 'expr', expr: this.expr() };
  }

  private prevEnd(): number {
    return this.tokens[Math.max(0, this.pos - 1)]!.end;
  }

  private skipTo(stops: string[]): void {
    let depth = 0;
    while (this.tok.kind !== 'eof') {
      if (this.isOp('(') || this.isOp('[')) depth++;
      else if (this.isOp(')') || this.isOp(']')) depth = Math.max(0, depth - 1);
      else if (depth === 0 && this.tok.kind === 'op' && stops.includes(this.tok.text)) return;
      this.next();
    }
  }

  private name(what: string): Name {
    const t = this.tok;
    if (t.kind !== 'ident') throw this.error(`expected ${what}${this.found()}`);
    this.next();
    return { text: t.text, span: { start: t.start, end: t.end } };
  }

  private pipeline(): Pipeline {
    return this.nest(() => {
      const start = this.tok.start;
      const source = this.source();
      const steps: Step[] = [];
      while (this.isOp('|')) {
        const bar = this.next();
        const stepStart = this.tok.start;
        try {
          steps.push(this.step(bar));
        } catch (error) {
          this.report(error);
          this.skipTo(['|', ';', ')']);
          const keyword: Name = { text: '', span: { start: stepStart, end: stepStart } };
          steps.push({ kind: 'error', keyword, span: { start: bar.start, end: Math.max(stepStart, this.prevEnd()) } });
        }
      }
      return { source, steps, span: { start, end: this.prevEnd() } };
    });
  }

  private source(): Source {
    const t = this.tok;
    if (t.kind === 'ident') {
      this.next();
      return { kind: 'name', name: { text: t.text, span: { start: t.start, end: t.end } }, span: { start: t.start, end: t.end } };
    }
    if (this.isOp('(')) {
      this.next();
      const pipeline = this.pipeline();
      const close = this.expectOp(')', 'to close the pipeline');
      return { kind: 'pipeline', pipeline, span: { start: t.start, end: close.end } };
    }
    throw this.error(`expected a table (metrics, spans, logs, events, incidents), a let name or ( pipeline )${this.found()}`);
  }

  private step(bar: Token): Step {
    const t = this.tok;
    if (t.kind !== 'ident') throw this.error(`expected a step after |: ${STEP_LIST}${this.found()}`, { start: bar.start, end: t.kind === 'eof' ? bar.end : t.end });
    const word = t.text.toLowerCase();
    if (!(STEP_KEYWORDS as readonly string[]).includes(word)) {
      const guess = closest(word, STEP_KEYWORDS);
      throw this.error(`unknown step "${t.text}"${guess ? `: did you mean ${guess}?` : `: the steps are ${STEP_LIST}`}`, t, guess);
    }
    this.next();
    const keyword: Name = { text: word, span: { start: t.start, end: t.end } };
    const start = bar.start;
    const done = <S extends object>(step: S) => ({ ...step, keyword, span: { start, end: this.prevEnd() } });
    switch (word) {
      case 'where':
        return done({ kind: 'where' as const, expr: this.expr() });
      case 'project':
        return done({ kind: 'project' as const, items: this.namedList('a column or name = expression after project') });
      case 'extend':
        return done({ kind: 'extend' as const, items: this.namedList('name = expression after extend') });
      case 'summarize': {
        const aggregates = this.isWord('by') ? [] : this.namedList('an aggregate such as count() or p99(duration_ms)');
        let by: NamedExpr[] = [];
        if (this.isWord('by')) {
          this.next();
          by = this.namedList('what to group by after by, e.g. bin(ts, 1m)');
        }
        if (aggregates.length === 0 && by.length === 0) throw this.error(`expected aggregates or by after summarize${this.found()}`);
        return done({ kind: 'summarize' as const, aggregates, by });
      }
      case 'sort':
      case 'order': {
        if (!this.isWord('by')) throw this.error(`expected by after ${word}${this.found()}`);
        this.next();
        const keys: SortKey[] = [this.sortKey()];
        while (this.isOp(',')) {
          this.next();
          keys.push(this.sortKey());
        }
        return done({ kind: 'sort' as const, keys });
      }
      case 'take':
      case 'limit':
        return done({ kind: 'take' as const, count: this.expr() });
      case 'top': {
        const count = this.expr();
        if (!this.isWord('by')) throw this.error(`expected by after top ${this.describe(count)}${this.found()}`);
        this.next();
        return done({ kind: 'top' as const, count, key: this.sortKey() });
      }
      case 'distinct':
        return done({ kind: 'distinct' as const, items: this.namedList('columns after distinct') });
      case 'count':
        return done({ kind: 'count' as const });
      case 'join':
        return done(this.join());
      case 'chart': {
        const c = this.tok;
        const kind = c.kind === 'ident' ? c.text.toLowerCase() : '';
        if (!(CHART_KINDS as readonly string[]).includes(kind)) {
          const guess = c.kind === 'ident' ? closest(kind, CHART_KINDS) : undefined;
          throw this.error(`expected a chart kind: line, bar, area or table${this.found()}${guess ? ` (did you mean ${guess}?)` : ''}`, c, guess);
        }
        this.next();
        return done({ kind: 'chart' as const, chart: kind as ChartKind, chartName: { text: kind, span: { start: c.start, end: c.end } } });
      }
      default:
        throw this.error(`unknown step "${t.text}"`, t);
    }
  }

  private describe(e: Expr): string {
    return e.kind === 'number' ? String(e.value) : 'N';
  }

  private join(): { kind: 'join'; joinKind: 'inner' | 'left'; source: Source; on: JoinKey[] } {
    let joinKind: 'inner' | 'left' = 'inner';
    if (this.isWord('kind') && this.isOp('=', this.peek())) {
      this.next();
      this.next();
      const k = this.tok;
      if (!this.isWord('inner') && !this.isWord('left')) throw this.error(`expected kind=inner or kind=left${this.found(k)}`, k);
      joinKind = this.next().text.toLowerCase() as 'inner' | 'left';
    }
    const source = this.source();
    if (!this.isWord('on')) throw this.error(`expected on after the joined table, e.g. join logs on trace_id${this.found()}`);
    this.next();
    const on: JoinKey[] = [this.joinKey()];
    while (this.isOp(',')) {
      this.next();
      on.push(this.joinKey());
    }
    return { kind: 'join', joinKind, source, on };
  }

  private joinKey(): JoinKey {
    const left = this.name('a column to join on');
    if (this.isOp('==')) {
      this.next();
      return { left, right: this.name('the column of the joined table after ==') };
    }
    return { left, right: left };
  }

  private sortKey(): SortKey {
    const expr = this.expr();
    let desc = true; // KQL's default: sort descending
    let end = expr.span.end;
    if (this.isWord('asc') || this.isWord('desc')) {
      const t = this.next();
      desc = t.text.toLowerCase() === 'desc';
      end = t.end;
    }
    return { expr, desc, span: { start: expr.span.start, end } };
  }

  private namedList(what: string): NamedExpr[] {
    const items = [this.named(what)];
    while (this.isOp(',')) {
      this.next();
      items.push(this.named(what));
    }
    return items;
  }

  private named(what: string): NamedExpr {
    const t = this.tok;
    if (t.kind === 'eof' || this.isOp('|') || this.isOp(';')) throw this.error(`expected ${what}${this.found()}`);
    if (t.kind === 'ident' && this.isOp('=', this.peek())) {
      this.next();
      this.next();
      const expr = this.expr();
      return { name: { text: t.text, span: { start: t.start, end: t.end } }, expr, span: { start: t.start, end: expr.span.end } };
    }
    const expr = this.expr();
    return { expr, span: expr.span };
  }

  // --- Expressions, loosest first ------------------------------------------------------------------------

  expr(): Expr {
    return this.nest(() => this.or());
  }

  private binary(left: Expr, op: BinaryOp, opToken: Token, right: Expr): Expr {
    return { kind: 'binary', op, left, right, opSpan: { start: opToken.start, end: opToken.end }, span: { start: left.span.start, end: right.span.end } };
  }

  private or(): Expr {
    let left = this.and();
    while (this.isWord('or')) {
      const op = this.next();
      left = this.binary(left, 'or', op, this.and());
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isWord('and')) {
      const op = this.next();
      left = this.binary(left, 'and', op, this.not());
    }
    return left;
  }

  private not(): Expr {
    if (this.isWord('not') && !this.isOp('(', this.peek())) {
      const t = this.next();
      const operand = this.nest(() => this.not());
      return { kind: 'unary', op: 'not', operand, span: { start: t.start, end: operand.span.end } };
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.additive();
    const t = this.tok;
    if (t.kind === 'op' && COMPARISONS[t.text]) {
      this.next();
      return this.binary(left, COMPARISONS[t.text]!, t, this.additive());
    }
    if (t.kind === 'ident' && WORD_COMPARISONS.has(t.text.toLowerCase())) {
      this.next();
      const op = t.text.toLowerCase() as BinaryOp;
      if (op === 'matches') {
        if (!this.isWord('regex')) throw this.error(`expected regex after matches${this.found()}`);
        this.next();
      }
      return this.binary(left, op, t, this.additive());
    }
    if (this.isOp('=')) throw this.error('use == to compare (= names a column in project, extend and summarize)', t, '==');
    const negated = this.isOp('!') && this.isWord('in', this.peek());
    if (negated || this.isWord('in')) {
      if (negated) this.next();
      this.next();
      this.expectOp('(', 'after in');
      const list: Expr[] = [];
      if (!this.isOp(')')) {
        list.push(this.expr());
        while (this.isOp(',')) {
          this.next();
          list.push(this.expr());
        }
      }
      const close = this.expectOp(')', 'to close the in list');
      if (list.length === 0) throw this.error('an in list needs at least one value', { start: t.start, end: close.end });
      return { kind: 'in', negated, operand: left, list, span: { start: left.span.start, end: close.end } };
    }
    if (this.isWord('between')) {
      this.next();
      this.expectOp('(', 'after between');
      const low = this.additive();
      this.expectOp('..', 'between the two ends of a range, e.g. between (ago(2h) .. ago(1h))');
      const high = this.additive();
      const close = this.expectOp(')', 'to close the range');
      return { kind: 'between', operand: left, low, high, span: { start: left.span.start, end: close.end } };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next();
      left = this.binary(left, op.text as BinaryOp, op, this.multiplicative());
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.next();
      left = this.binary(left, op.text as BinaryOp, op, this.unary());
    }
    return left;
  }

  private unary(): Expr {
    if (this.isOp('-')) {
      const t = this.next();
      const operand = this.nest(() => this.unary());
      if (operand.kind === 'number' || operand.kind === 'duration') return { ...operand, value: -operand.value, span: { start: t.start, end: operand.span.end } };
      return { kind: 'unary', op: '-', operand, span: { start: t.start, end: operand.span.end } };
    }
    return this.postfix();
  }

  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.isOp('.') && this.peek().kind === 'ident') {
        this.next();
        const m = this.next();
        e = { kind: 'member', object: e, member: { text: m.text, span: { start: m.start, end: m.end } }, span: { start: e.span.start, end: m.end } };
      } else if (this.isOp('.')) {
        throw this.error(`expected a name after .${this.found(this.peek())}`, this.peek());
      } else if (this.isOp('[')) {
        this.next();
        const index = this.expr();
        const close = this.expectOp(']', 'to close the index');
        e = { kind: 'index', object: e, index, span: { start: e.span.start, end: close.end } };
      } else {
        return e;
      }
    }
  }

  private primary(): Expr {
    const t = this.tok;
    const span = { start: t.start, end: t.end };
    switch (t.kind) {
      case 'number':
        this.next();
        return { kind: 'number', value: t.value as number, float: /[.eE]/.test(t.text), span };
      case 'duration':
        this.next();
        return { kind: 'duration', value: t.value as number, span };
      case 'string':
        this.next();
        return { kind: 'string', value: t.value as string, span };
      case 'ident': {
        const lower = t.text.toLowerCase();
        if (lower === 'true' || lower === 'false') {
          this.next();
          return { kind: 'bool', value: lower === 'true', span };
        }
        this.next();
        if (this.isOp('(')) return this.call({ text: t.text, span });
        return { kind: 'name', name: t.text, span };
      }
      case 'op':
        if (t.text === '(') {
          this.next();
          const inner = this.expr();
          this.expectOp(')', 'to close (');
          return inner;
        }
        break;
      case 'comment':
      case 'eof':
      case 'bad':
        break;
    }
    throw this.error(`expected a value, column or function${this.found()}`);
  }

  private call(name: Name): Expr {
    const open = this.next();
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      args.push(this.expr());
      while (this.isOp(',')) {
        this.next();
        args.push(this.expr());
      }
    }
    if (!this.isOp(')')) throw this.error(`expected , or ) in the arguments of ${name.text}${this.found()}`);
    const close = this.next();
    return { kind: 'call', name, args, open: open.start, close: close.start, span: { start: name.span.start, end: close.end } };
  }
}
