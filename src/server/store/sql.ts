/**
 * Read queries with values kept apart from the SQL text. DuckDB binds them to `?` placeholders in a prepared
 * statement; ClickHouse 18.16 has no query parameters, so its store renders each value as a literal through
 * `clickHouseLiteral`, the only place a value becomes SQL text. Identifiers are never taken from input: the
 * callers choose them from fixed lists.
 */

export type SqlValue = string | number | boolean | readonly string[] | readonly number[];

export interface Sql {
  text: string;
  params: SqlValue[];
}

/** Builds SQL from a template: interpolated values become `?` placeholders and params. */
export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): Sql {
  let text = strings[0]!;
  for (let i = 0; i < values.length; i++) text += `?${strings[i + 1]!}`;
  return { text, params: values };
}

/** Joins pieces (each with its own params) with a separator. */
export function join(parts: readonly Sql[], separator: string): Sql {
  return { text: parts.map((p) => p.text).join(separator), params: parts.flatMap((p) => p.params) };
}

/** The message ids among `ids` that have rows in `table` since `minTs` (the same SQL on both engines). */
export function presentIdsQuery(table: string, ids: readonly string[], minTs: number): Sql {
  return { text: `SELECT DISTINCT msg_id FROM ${table} WHERE ts >= ? AND msg_id IN (${ids.map(() => '?').join(', ')})`, params: [Math.floor(minTs), ...ids] };
}

/** SQL text that is already safe (fixed fragments, chosen identifiers). */
export function raw(text: string): Sql {
  return { text, params: [] };
}

export function clickHouseLiteral(value: SqlValue): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${value} cannot be a SQL value`);
    return Number.isInteger(value) ? value.toFixed(0) : String(value);
  }
  return `[${value.map((v) => clickHouseLiteral(v)).join(', ')}]`;
}

/** The text with every `?` replaced by its value as a ClickHouse literal. */
export function renderClickHouse(query: Sql): string {
  const pieces = query.text.split('?');
  if (pieces.length - 1 !== query.params.length) {
    throw new Error(`internal: the query has ${pieces.length - 1} placeholders and ${query.params.length} values`);
  }
  let out = pieces[0]!;
  for (let i = 0; i < query.params.length; i++) out += clickHouseLiteral(query.params[i]!) + pieces[i + 1]!;
  return out;
}
