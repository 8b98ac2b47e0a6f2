/**
 * Typed plans to SQL, one compiler for DuckDB and ClickHouse (18.16 as installed, and current releases).
 *
 * Steps fold into one SELECT while they can (a where, a projection, a sort, a take) and a new SELECT wraps the
 * previous one when they cannot (a where after a summarize or a take). Every SELECT names its outputs with
 * generated aliases (`__c12`) and the outermost one renames them to the query's column names: ClickHouse
 * resolves aliases anywhere in a SELECT, so an alias equal to a source column would change its WHERE.
 * An order that must survive a wrap is carried as hidden columns and applied again outside.
 *
 * Values are never written into the SQL: every constant is a `?` with its value in params (ClickHouse's store
 * renders them as escaped literals in one place, sql.ts). Identifiers are the catalog's or generated ones.
 * Quantiles of `sketch` merge the stored DDSketch bins per group in SQL, then read the quantile from the merged
 * bins the way telemetry/histogram.ts does (sketchQuantileSql).
 */
import type { Sql, SqlValue } from '../store/sql';
import { sketchQuantileSql, type AggregateContext } from './functions';
import type { Plan, RelColumn, TExpr } from './plan';
import { frag, ident, joinSql, rawSql, type Dialect } from './sqlFragment';

/** A column's SQL: one expression, or one per part for labels (keys, values) and sketch (keys, counts, …). */
type ColumnSql = Sql | Record<string, Sql>;


interface Block {
  from: Sql;
  where: Sql[];
  /** Column id → its SQL in this block (over FROM, or aggregates when grouped). */
  cols: Map<number, ColumnSql>;
  columns: RelColumn[];
  orderBy?: { sql: Sql; desc: boolean }[];
  limit?: number;
}

export interface CompileOptions {
  dialect: Dialect;
  /** The outermost LIMIT: one more than the rows wanted, so the caller sees whether there were more. */
  limit: number;
}

export function compile(plan: Plan, options: CompileOptions): Sql {
  return new Compiler(options.dialect).query(plan, options.limit);
}

class Compiler {
  private next = 0;

  constructor(private readonly dialect: Dialect) {}

  private alias(prefix = 'c'): string {
    return `__${prefix}${this.next++}`;
  }

  query(plan: Plan, limit: number): Sql {
    const block = this.block(plan);
    const { sql, aliases, order } = this.render(block);
    const select = block.columns.map((c) => {
      const a = aliases.get(c.id)!;
      if (typeof a !== 'string') throw new Error(`internal: ${c.name} has parts`);
      return `${ident(a)} AS ${ident(c.name)}`;
    });
    const orderBy = order.length ? ` ORDER BY ${order.map((o) => `${ident(o.alias)} ${o.desc ? 'DESC' : 'ASC'}`).join(', ')}` : '';
    return frag`SELECT ${rawSql(select.join(', '))} FROM (${sql}) AS __result${rawSql(orderBy)} LIMIT ${limit}`;
  }

  // --- Blocks ----------------------------------------------------------------------------------------------

  private block(plan: Plan): Block {
    switch (plan.kind) {
      case 'table': {
        const cols = new Map<number, ColumnSql>();
        for (const column of plan.columns) cols.set(column.id, this.tableColumn(column));
        return { from: rawSql(ident(plan.table)), where: [], cols, columns: plan.columns };
      }
      case 'where': {
        let b = this.block(plan.input);
        if (b.limit !== undefined) b = this.wrap(b);
        b.where.push(this.expr(plan.condition, b.cols));
        return b;
      }
      case 'project': {
        const b = this.block(plan.input);
        const cols = new Map<number, ColumnSql>();
        for (const { column, expr } of plan.outputs) cols.set(column.id, expr.op === 'column' ? this.colOf(b.cols, expr.column) : this.expr(expr, b.cols));
        return { ...b, cols, columns: plan.columns };
      }
      case 'summarize': {
        let b = this.block(plan.input);
        if (b.limit !== undefined) b = this.wrap(b);
        const context: AggregateContext = plan.widthSeconds !== undefined ? { widthSeconds: plan.widthSeconds } : {};
        if (plan.aggregates.some((a) => a.expr.op === 'aggregate' && a.expr.sketch)) return this.sketchSummarize(b, plan, context);
        // Grouped by the groups' aliases: DuckDB cannot tell that two copies of an expression with `?` in them
        // are the same, and a SELECT of its own gives later steps plain columns.
        const cols = new Map<number, ColumnSql>();
        const items: Sql[] = [];
        const groupAliases: string[] = [];
        const item = (id: number, sql: Sql, prefix: string) => {
          const a = this.alias(prefix);
          items.push(frag`${sql} AS ${rawSql(ident(a))}`);
          cols.set(id, rawSql(ident(a)));
          return a;
        };
        for (const { column, expr } of plan.groups) groupAliases.push(item(column.id, this.expr(expr, b.cols), 'g'));
        for (const { column, expr } of plan.aggregates) item(column.id, this.expr(expr, b.cols, context), 'a');
        let sql = frag`SELECT ${joinSql(items, ', ')} FROM ${b.from}`;
        if (b.where.length) sql = frag`${sql} WHERE ${joinSql(b.where.map((w) => frag`(${w})`), ' AND ')}`;
        // A summarize with no groups gives one row; GROUP BY () is not ClickHouse 18.16 SQL, so none is written.
        if (groupAliases.length) sql = frag`${sql} GROUP BY ${rawSql(groupAliases.map((a) => ident(a)).join(', '))}`;
        return { from: frag`(${sql}) AS ${rawSql(ident(this.alias('t')))}`, where: [], cols, columns: plan.columns };
      }
      case 'sort': {
        let b = this.block(plan.input);
        if (b.limit !== undefined) b = this.wrap(b);
        b.orderBy = plan.keys.map((k) => ({ sql: this.expr(k.expr, b.cols), desc: k.desc }));
        return b;
      }
      case 'take': {
        const b = this.block(plan.input);
        b.limit = Math.min(b.limit ?? Infinity, plan.count);
        return b;
      }
      case 'join':
        return this.join(plan);
    }
  }

  private tableColumn(column: RelColumn): ColumnSql {
    if (column.type === 'labels') return { keys: rawSql('label_keys'), values: rawSql('label_values') };
    if (column.type === 'sketch') return { keys: rawSql('bin_keys'), counts: rawSql('bin_counts'), count: rawSql(ident('count')), zero: rawSql(ident('zero')), min: rawSql(ident('min')), max: rawSql(ident('max')) };
    return rawSql(ident(column.name));
  }

  private colOf(cols: Map<number, ColumnSql>, column: RelColumn): ColumnSql {
    const sql = cols.get(column.id);
    if (!sql) throw new Error(`internal: column ${column.name} (#${column.id}) is not in scope`);
    return sql;
  }

  /** The block as one SELECT, every column under a fresh alias; its order as hidden columns. */
  private render(b: Block, extra: { alias: string; sql: Sql }[] = []): { sql: Sql; aliases: Map<number, string | Record<string, string>>; order: { alias: string; desc: boolean }[] } {
    const items: Sql[] = [];
    const aliases = new Map<number, string | Record<string, string>>();
    for (const column of b.columns) {
      if (aliases.has(column.id)) continue;
      const sql = this.colOf(b.cols, column);
      if (isPlain(sql)) {
        const a = this.alias();
        aliases.set(column.id, a);
        items.push(frag`${sql} AS ${rawSql(ident(a))}`);
      } else {
        const parts: Record<string, string> = {};
        for (const [part, partSql] of Object.entries(sql)) {
          parts[part] = this.alias();
          items.push(frag`${partSql} AS ${rawSql(ident(parts[part]))}`);
        }
        aliases.set(column.id, parts);
      }
    }
    for (const e of extra) items.push(frag`${e.sql} AS ${rawSql(ident(e.alias))}`);
    const order: { alias: string; desc: boolean }[] = [];
    for (const key of b.orderBy ?? []) {
      const a = this.alias('s');
      order.push({ alias: a, desc: key.desc });
      items.push(frag`${key.sql} AS ${rawSql(ident(a))}`);
    }
    if (items.length === 0) items.push(rawSql('1 AS __empty'));
    let sql = frag`SELECT ${joinSql(items, ', ')} FROM ${b.from}`;
    if (b.where.length) sql = frag`${sql} WHERE ${joinSql(b.where.map((w) => frag`(${w})`), ' AND ')}`;
    if (b.orderBy?.length) sql = frag`${sql} ORDER BY ${joinSql(b.orderBy.map((o) => frag`${o.sql} ${rawSql(o.desc ? 'DESC' : 'ASC')}`), ', ')}`;
    if (b.limit !== undefined) sql = frag`${sql} LIMIT ${b.limit}`;
    return { sql, aliases, order };
  }

  /** A new SELECT over the block, keeping its order. */
  private wrap(b: Block): Block {
    const { sql, aliases, order } = this.render(b);
    const table = this.alias('t');
    const cols = new Map<number, ColumnSql>();
    for (const [id, a] of aliases) cols.set(id, typeof a === 'string' ? rawSql(ident(a)) : Object.fromEntries(Object.entries(a).map(([k, v]) => [k, rawSql(ident(v))])));
    const wrapped: Block = { from: frag`(${sql}) AS ${rawSql(ident(table))}`, where: [], cols, columns: b.columns };
    if (order.length) wrapped.orderBy = order.map((o) => ({ sql: rawSql(ident(o.alias)), desc: o.desc }));
    return wrapped;
  }

  private join(plan: Extract<Plan, { kind: 'join' }>): Block {
    // ClickHouse fills a missing right row with defaults (0, ''), not nulls; a marker column tells them apart
    // (join_use_nulls would also null the arrays a sketch merge joins, which ClickHouse cannot hold).
    const marker = plan.joinKind === 'left' && this.dialect === 'clickhouse' ? this.alias('m') : undefined;
    const side = (p: Plan, keys: RelColumn[], keyAliases: string[], withMarker?: string) => {
      const b = this.block(p);
      const extra = keys.map((k, i) => ({ alias: keyAliases[i]!, sql: this.plain(this.colOf(b.cols, k)) }));
      if (withMarker) extra.push({ alias: withMarker, sql: rawSql('1') });
      const { orderBy: _unordered, ...rest } = b;
      return this.render(rest, extra);
    };
    const keyAliases = plan.keys.map(() => this.alias('k'));
    const left = side(plan.left, plan.keys.map(([l]) => l), keyAliases);
    const right = side(plan.right, plan.keys.map(([, r]) => r), keyAliases, marker);
    const using = keyAliases.map((a) => ident(a)).join(', ');
    const kind = plan.joinKind === 'left' ? 'LEFT' : 'INNER';
    const joinText = this.dialect === 'duckdb' ? `${kind} JOIN` : `ALL ${kind} JOIN`;
    const l = this.alias('t');
    const r = this.alias('t');
    const from = frag`(${left.sql}) AS ${rawSql(ident(l))} ${rawSql(joinText)} (${right.sql}) AS ${rawSql(ident(r))} USING (${rawSql(using)})`;
    const cols = new Map<number, ColumnSql>();
    for (const output of plan.outputs) {
      const a = (output.side === 'left' ? left : right).aliases.get(output.source.id)!;
      const read = (alias: string) => (marker && output.side === 'right' ? rawSql(`if(${ident(marker)} = 1, ${ident(alias)}, NULL)`) : rawSql(ident(alias)));
      cols.set(output.column.id, typeof a === 'string' ? read(a) : Object.fromEntries(Object.entries(a).map(([k, v]) => [k, rawSql(ident(v))])));
    }
    return { from, where: [], cols, columns: plan.columns };
  }

  /**
   * summarize with quantiles of a sketch: the group's other aggregates and sketch stats in one SELECT, the bins
   * merged by key (running counts ascending) in another, joined on the group keys; then the quantiles.
   */
  private sketchSummarize(b: Block, plan: Extract<Plan, { kind: 'summarize' }>, context: AggregateContext): Block {
    const sketches = plan.aggregates.filter((a) => a.expr.op === 'aggregate' && a.expr.sketch);
    const sketchColumn = (sketches[0]!.expr as Extract<TExpr, { op: 'aggregate' }>).args[0];
    if (sketchColumn?.op !== 'column') throw new Error('internal: a sketch quantile of something other than a column');
    for (const s of sketches) {
      const arg = (s.expr as Extract<TExpr, { op: 'aggregate' }>).args[0];
      if (arg?.op !== 'column' || arg.column.id !== sketchColumn.column.id) throw new Error('quantiles of two different sketches in one summarize: summarize each separately');
    }
    const sketch = this.colOf(b.cols, sketchColumn.column);
    if (isPlain(sketch)) throw new Error('internal: a sketch without parts');
    const duck = this.dialect === 'duckdb';
    const groupAliases = plan.groups.map(() => this.alias('g'));
    const groups = plan.groups.map((g, i) => frag`${this.expr(g.expr, b.cols)} AS ${rawSql(ident(groupAliases[i]!))}`);
    const keys = groupAliases.length ? groupAliases : [this.alias('g')];
    const groupItems = groupAliases.length ? groups : [frag`0 AS ${rawSql(ident(keys[0]!))}`];
    const keyList = keys.map((k) => ident(k)).join(', ');
    const where = b.where.length ? frag` WHERE ${joinSql(b.where.map((w) => frag`(${w})`), ' AND ')}` : rawSql('');
    const others = plan.aggregates.filter((a) => !(a.expr.op === 'aggregate' && a.expr.sketch));
    const otherAliases = others.map(() => this.alias('a'));
    const hasObservations = frag`${sketch.count!} > 0`;
    const stat = (duckFn: string, clickFn: string, part: Sql) => (duck ? frag`${rawSql(duckFn)}(${part}) FILTER (WHERE ${hasObservations})` : frag`${rawSql(clickFn)}(${part}, ${hasObservations})`);
    const [sc, sz, smn, smx] = ['sc', 'sz', 'smn', 'smx'].map((p) => this.alias(p)) as [string, string, string, string];
    const statsItems = [
      ...groupItems,
      ...others.map((o, i) => frag`${this.expr(o.expr, b.cols, context)} AS ${rawSql(ident(otherAliases[i]!))}`),
      frag`sum(${sketch.count!}) AS ${rawSql(ident(sc))}`,
      frag`sum(${sketch.zero!}) AS ${rawSql(ident(sz))}`,
      frag`${stat('min', 'minIf', sketch.min!)} AS ${rawSql(ident(smn))}`,
      frag`${stat('max', 'maxIf', sketch.max!)} AS ${rawSql(ident(smx))}`,
    ];
    const stats = frag`SELECT ${joinSql(statsItems, ', ')} FROM ${b.from}${where} GROUP BY ${rawSql(keyList)}`;
    const [k, n, ks, cum] = ['k', 'n', 'ks', 'cum'].map((p) => this.alias(p)) as [string, string, string, string];
    let bins: Sql;
    if (duck) {
      const partition = groupAliases.length ? `PARTITION BY ${keyList} ` : '';
      const unnested = frag`SELECT ${joinSql(groupItems, ', ')}, unnest(${sketch.keys!}) AS ${rawSql(ident(k))}, unnest(${sketch.counts!}) AS ${rawSql(ident(n))} FROM ${b.from}${where}`;
      const running = frag`SELECT ${rawSql(keyList)}, ${rawSql(ident(k))}, sum(sum(${rawSql(ident(n))})) OVER (${rawSql(partition)}ORDER BY ${rawSql(ident(k))}) AS ${rawSql(ident(cum))} FROM (${unnested}) AS __u GROUP BY ${rawSql(keyList)}, ${rawSql(ident(k))}`;
      bins = frag`SELECT ${rawSql(keyList)}, list(${rawSql(ident(k))} ORDER BY ${rawSql(ident(k))}) AS ${rawSql(ident(ks))}, list(${rawSql(ident(cum))} ORDER BY ${rawSql(ident(k))}) AS ${rawSql(ident(cum))} FROM (${running}) AS __w GROUP BY ${rawSql(keyList)}`;
    } else {
      const c = this.alias('c');
      const merged = frag`SELECT ${joinSql(groupItems, ', ')}, ${rawSql(ident(k))}, sum(${rawSql(ident(c))}) AS ${rawSql(ident(n))} FROM ${b.from} ARRAY JOIN ${sketch.keys!} AS ${rawSql(ident(k))}, ${sketch.counts!} AS ${rawSql(ident(c))}${where} GROUP BY ${rawSql(keyList)}, ${rawSql(ident(k))}`;
      bins = frag`SELECT ${rawSql(keyList)}, arraySort(groupArray(${rawSql(ident(k))})) AS ${rawSql(ident(ks))}, arrayCumSum(arraySort((__n, __k) -> __k, groupArray(${rawSql(ident(n))}), groupArray(${rawSql(ident(k))}))) AS ${rawSql(ident(cum))} FROM (${merged}) AS __m GROUP BY ${rawSql(keyList)}`;
    }
    const cols = new Map<number, ColumnSql>();
    plan.groups.forEach((g, i) => cols.set(g.column.id, rawSql(ident(groupAliases[i]!))));
    others.forEach((o, i) => cols.set(o.column.id, rawSql(ident(otherAliases[i]!))));
    const parts = { keys: rawSql(ident(ks)), cumulative: rawSql(ident(cum)), count: rawSql(ident(sc)), zero: rawSql(ident(sz)), min: rawSql(ident(smn)), max: rawSql(ident(smx)) };
    for (const s of sketches) cols.set(s.column.id, sketchQuantileSql(this.dialect, (s.expr as Extract<TExpr, { op: 'aggregate' }>).quantile!, parts));
    const joined = duck ? frag`(${stats}) AS __s LEFT JOIN (${bins}) AS __b USING (${rawSql(keyList)})` : frag`(${stats}) AS __s ANY LEFT JOIN (${bins}) AS __b USING ${rawSql(keyList)}`;
    // The quantiles read the join's columns; a SELECT of their own gives later steps plain columns.
    return this.wrap({ from: joined, where: [], cols, columns: plan.columns });
  }

  // --- Expressions ---------------------------------------------------------------------------------------

  private plain(sql: ColumnSql): Sql {
    if (!isPlain(sql)) throw new Error('internal: a labels or sketch column where a value is needed');
    return sql;
  }

  private value(value: SqlValue): Sql {
    return { text: '?', params: [value] };
  }

  private expr(e: TExpr, cols: Map<number, ColumnSql>, context: AggregateContext = {}): Sql {
    const d = this.dialect;
    const sub = (x: TExpr) => this.expr(x, cols, context);
    switch (e.op) {
      case 'const':
        return this.value(e.value);
      case 'column':
        return this.plain(this.colOf(cols, e.column));
      case 'label': {
        const labels = this.colOf(cols, e.column);
        if (isPlain(labels)) throw new Error('internal: labels without parts');
        return d === 'duckdb' ? frag`coalesce(${labels.values!}[list_position(${labels.keys!}, ${e.key})], '')` : frag`arrayElement(${labels.values!}, indexOf(${labels.keys!}, ${e.key}))`;
      }
      case 'call':
        return e.fn.sql!(d, e.args.map(sub), e.args.map((a) => a.type), context);
      case 'aggregate':
        if (e.quantile !== undefined && !e.sketch) {
          const x = sub(e.args[0]!);
          return d === 'duckdb'
            ? frag`list_sort(list(${x}))[CAST(floor(${e.quantile} * (count(${x}) - 1)) AS BIGINT) + 1]`
            : frag`arrayElement(arraySort(groupArray(${x})), toUInt64(floor(${e.quantile} * (count(${x}) - 1))) + 1)`;
        }
        return e.fn.sql!(d, e.args.map(sub), e.args.map((a) => a.type), context);
      case 'unary':
        return e.operator === 'not' ? frag`(NOT ${sub(e.operand)})` : frag`(-${sub(e.operand)})`;
      case 'in': {
        const list = joinSql(e.list.map(sub), ', ');
        return frag`(${sub(e.operand)} ${rawSql(e.negated ? 'NOT IN' : 'IN')} (${list}))`;
      }
      case 'binary':
        return this.binary(e, sub);
    }
  }

  private binary(e: Extract<TExpr, { op: 'binary' }>, sub: (x: TExpr) => Sql): Sql {
    const l = sub(e.left);
    const r = sub(e.right);
    const duck = this.dialect === 'duckdb';
    switch (e.operator) {
      case 'and':
        return frag`(${l} AND ${r})`;
      case 'or':
        return frag`(${l} OR ${r})`;
      case '==':
        return frag`(${l} = ${r})`;
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=':
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
        return frag`(${l} ${rawSql(e.operator)} ${r})`;
      case '=~':
      case '!~': {
        const lower = duck ? 'lower' : 'lowerUTF8';
        return frag`(${rawSql(lower)}(${l}) ${rawSql(e.operator === '=~' ? '=' : '!=')} ${rawSql(lower)}(${r}))`;
      }
      case 'contains':
        return duck ? frag`(strpos(${l}, ${r}) > 0)` : frag`(position(${l}, ${r}) > 0)`;
      case 'startswith':
        return duck ? frag`starts_with(${l}, ${r})` : frag`(length(${l}) >= length(${r}) AND substring(${l}, 1, length(${r})) = ${r})`;
      case 'endswith':
        return duck ? frag`suffix(${l}, ${r})` : frag`(length(${l}) >= length(${r}) AND substring(${l}, length(${l}) - length(${r}) + 1, length(${r})) = ${r})`;
      case 'matches':
        return duck ? frag`regexp_matches(${l}, ${r})` : frag`match(${l}, ${r})`;
    }
  }
}

function isPlain(sql: ColumnSql): sql is Sql {
  return typeof (sql as Sql).text === 'string' && Array.isArray((sql as Sql).params);
}
