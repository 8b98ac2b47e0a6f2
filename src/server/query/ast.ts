/** The syntax tree of SGQL. Every node keeps its source range (0-based offsets, end exclusive). */
import type { ChartKind } from '../../protocol/query';

export interface Span {
  start: number;
  end: number;
}

export interface Name {
  text: string;
  span: Span;
}

export type BinaryOp = 'or' | 'and' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '=~' | '!~' | '+' | '-' | '*' | '/' | '%' | 'contains' | 'startswith' | 'endswith' | 'matches';

export type Expr =
  | { kind: 'number'; value: number; float: boolean; span: Span }
  | { kind: 'duration'; value: number; span: Span }
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'bool'; value: boolean; span: Span }
  | { kind: 'name'; name: string; span: Span }
  /** `labels.route` */
  | { kind: 'member'; object: Expr; member: Name; span: Span }
  /** `labels["http.route"]` */
  | { kind: 'index'; object: Expr; index: Expr; span: Span }
  /** `p99(duration_ms)`; `close` is the offset of `)` when present. */
  | { kind: 'call'; name: Name; args: Expr[]; open: number; close?: number; span: Span }
  | { kind: 'unary'; op: '-' | 'not'; operand: Expr; span: Span }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; opSpan: Span; span: Span }
  | { kind: 'in'; negated: boolean; operand: Expr; list: Expr[]; span: Span }
  | { kind: 'between'; operand: Expr; low: Expr; high: Expr; span: Span };

/** `name = expr`, or an expression whose column name is derived from it. */
export interface NamedExpr {
  name?: Name;
  expr: Expr;
  span: Span;
}

export interface SortKey {
  expr: Expr;
  desc: boolean;
  span: Span;
}

export interface JoinKey {
  left: Name;
  right: Name;
}

export type Source = { kind: 'name'; name: Name; span: Span } | { kind: 'pipeline'; pipeline: Pipeline; span: Span };

export type Step = { keyword: Name; span: Span } & (
  | { kind: 'where'; expr: Expr }
  | { kind: 'project'; items: NamedExpr[] }
  | { kind: 'extend'; items: NamedExpr[] }
  | { kind: 'summarize'; aggregates: NamedExpr[]; by: NamedExpr[] }
  | { kind: 'sort'; keys: SortKey[] }
  | { kind: 'take'; count: Expr }
  | { kind: 'top'; count: Expr; key: SortKey }
  | { kind: 'distinct'; items: NamedExpr[] }
  | { kind: 'count' }
  | { kind: 'join'; joinKind: 'inner' | 'left'; source: Source; on: JoinKey[] }
  | { kind: 'chart'; chart: ChartKind; chartName: Name }
  /** A step that did not parse; its problem is in the script's problems. */
  | { kind: 'error' }
);

export interface Pipeline {
  source: Source;
  steps: Step[];
  span: Span;
}

export type Statement =
  | { kind: 'let'; name: Name; value: { kind: 'pipeline'; pipeline: Pipeline } | { kind: 'expr'; expr: Expr }; span: Span }
  | { kind: 'query'; pipeline: Pipeline; span: Span }
  | { kind: 'error'; span: Span };

export interface SyntaxProblem {
  message: string;
  span: Span;
  suggestion?: string;
}

export interface Script {
  statements: Statement[];
  problems: SyntaxProblem[];
}

export const STEP_KEYWORDS = ['where', 'project', 'extend', 'summarize', 'sort', 'order', 'take', 'limit', 'top', 'distinct', 'count', 'join', 'chart'] as const;

/** Calls every expression of a step (not nested pipelines). */
export function stepExprs(step: Step): Expr[] {
  switch (step.kind) {
    case 'where':
      return [step.expr];
    case 'project':
    case 'extend':
    case 'distinct':
      return step.items.map((i) => i.expr);
    case 'summarize':
      return [...step.aggregates, ...step.by].map((i) => i.expr);
    case 'sort':
      return step.keys.map((k) => k.expr);
    case 'take':
      return [step.count];
    case 'top':
      return [step.count, step.key.expr];
    case 'count':
    case 'join':
    case 'chart':
    case 'error':
      return [];
  }
}

/** Visits an expression and all its sub-expressions, outermost first. */
export function walkExpr(expr: Expr, visit: (e: Expr) => void): void {
  visit(expr);
  switch (expr.kind) {
    case 'member':
      walkExpr(expr.object, visit);
      break;
    case 'index':
      walkExpr(expr.object, visit);
      walkExpr(expr.index, visit);
      break;
    case 'call':
      for (const a of expr.args) walkExpr(a, visit);
      break;
    case 'unary':
      walkExpr(expr.operand, visit);
      break;
    case 'binary':
      walkExpr(expr.left, visit);
      walkExpr(expr.right, visit);
      break;
    case 'in':
      walkExpr(expr.operand, visit);
      for (const e of expr.list) walkExpr(e, visit);
      break;
    case 'between':
      walkExpr(expr.operand, visit);
      walkExpr(expr.low, visit);
      walkExpr(expr.high, visit);
      break;
    case 'number':
    case 'duration':
    case 'string':
    case 'bool':
    case 'name':
      break;
  }
}
