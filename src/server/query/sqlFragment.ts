/** Building SQL out of pieces that each carry their own bound values (src/server/store/sql.ts's `Sql`). */
import type { Sql, SqlValue } from '../store/sql';

export type Dialect = 'duckdb' | 'clickhouse';

export function isSql(value: unknown): value is Sql {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'text' in value && 'params' in value;
}

/** A template whose `Sql` parts are spliced with their params and whose plain values become `?` placeholders. */
export function frag(strings: TemplateStringsArray, ...parts: (Sql | SqlValue)[]): Sql {
  let text = strings[0]!;
  const params: SqlValue[] = [];
  parts.forEach((part, i) => {
    if (isSql(part)) {
      text += part.text;
      params.push(...part.params);
    } else {
      text += '?';
      params.push(part);
    }
    text += strings[i + 1]!;
  });
  return { text, params };
}

export function joinSql(parts: readonly Sql[], separator: string): Sql {
  return { text: parts.map((p) => p.text).join(separator), params: parts.flatMap((p) => p.params) };
}

export function rawSql(text: string): Sql {
  return { text, params: [] };
}

/** Identifiers here are generated (`__c3`) or catalog names, never user text; quoting keeps reserved words safe. */
export function ident(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`internal: ${JSON.stringify(name)} is not an identifier`);
  return `"${name}"`;
}
