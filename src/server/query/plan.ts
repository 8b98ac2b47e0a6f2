/** The checked form of a query: typed expressions over typed relations, which the compiler turns into SQL. */
import type { BinaryOp, Span } from './ast';
import type { Type } from './catalog';
import type { ConstValue, FunctionSpec } from './functions';
import type { TableName } from '../store/schema';

export interface RelColumn {
  /** Unique within one analysis: what the compiler keys its SQL on. */
  id: number;
  name: string;
  type: Type;
  doc?: string;
  /** `table.column` when the column is a table's own, unchanged. */
  origin?: string;
}

export type TExpr =
  | { op: 'const'; value: ConstValue; type: Type }
  | { op: 'column'; column: RelColumn; type: Type }
  | { op: 'label'; column: RelColumn; key: string; type: 'string' }
  | { op: 'call'; fn: FunctionSpec; args: TExpr[]; type: Type }
  | { op: 'unary'; operator: '-' | 'not'; operand: TExpr; type: Type }
  | { op: 'binary'; operator: BinaryOp; left: TExpr; right: TExpr; type: Type }
  | { op: 'in'; negated: boolean; operand: TExpr; list: TExpr[]; type: 'bool' }
  /** An aggregate call; `quantile` and `sketch` when it is a percentile (merged from sketches when `sketch`). */
  | { op: 'aggregate'; fn: FunctionSpec; args: TExpr[]; type: Type; quantile?: number; sketch?: boolean };

export interface Output {
  column: RelColumn;
  expr: TExpr;
}

/** What `where` conditions on the source's `ts` say of the rows' times (epoch ms; to is exclusive or inclusive alike). */
export interface TimeRange {
  from?: number;
  to?: number;
}

interface Base {
  columns: RelColumn[];
  range: TimeRange;
}

export type Plan = Base &
  (
    | { kind: 'table'; table: TableName }
    | { kind: 'where'; input: Plan; condition: TExpr }
    | { kind: 'project'; input: Plan; outputs: Output[] }
    | { kind: 'summarize'; input: Plan; groups: Output[]; aggregates: Output[]; widthSeconds?: number }
    | { kind: 'sort'; input: Plan; keys: { expr: TExpr; desc: boolean }[] }
    | { kind: 'take'; input: Plan; count: number }
    | { kind: 'join'; left: Plan; right: Plan; joinKind: 'inner' | 'left'; keys: [RelColumn, RelColumn][]; outputs: { column: RelColumn; side: 'left' | 'right'; source: RelColumn }[] }
  );

/** Where each name in the text points, for hovers and go to definition. */
export type Reference = { span: Span } & (
  | { kind: 'table'; table: string }
  | { kind: 'column'; column: RelColumn; table?: string }
  | { kind: 'function'; fn: FunctionSpec }
  | { kind: 'let'; name: string; definition: Span; letKind: 'pipeline' | 'expr' }
  | { kind: 'metric'; metric: string }
  | { kind: 'label'; label: string; metric?: string }
);
