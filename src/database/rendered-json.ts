import { type AliasedRawBuilder, type RawBuilder, sql } from 'kysely';
import type { DialectName } from './database-connection';

/**
 * Pages of many rows (a store's levels, a level's history) are written as JSON by the database,
 * one text per item, and joined here: reading a row object for each item only to serialise it
 * again was most of a page's CPU (on PostgreSQL the driver's parsing of every column alone cost
 * more than the server's whole read). SQLite builds each item with json_object. PostgreSQL
 * concatenates the fields' texts: json_build_object costs its server about 15 µs a row, and
 * to_json about 0.2 µs a field, which made rendering a page of history (101 entries of 15
 * fields) cost more than reading it; so to_json writes only text a client chose, and the rest is
 * written as it is. Either way an item's fields mirror its response DTO's `of()`, and
 * test/rendered-pages checks on both databases that they agree. A ledger entry's JSON is written
 * once, with its row (src/database/ledger-entry.ts); a level's, which changes, on every read.
 */

/**
 * What a column holds, for PostgreSQL to write it. `number`: its text is its JSON. `token`: text
 * that can hold nothing JSON escapes (no `"`, `\` or control character), because every write
 * checks it against a pattern that allows none: identifiers, reasons, kinds, reservation ids and
 * timestamps; it is written quoted as it is. `text`: anything else (references, idempotency keys,
 * request ids), written by to_json.
 */
export type ColumnType = 'number' | 'token' | 'text';

/** An item's field: its name in the API and the column it is read from, or `available` computed as max(0, a - b). */
export type ItemField = readonly [name: string, column: string, type: ColumnType] | readonly [name: string, nonNegativeDifference: readonly [string, string]];

/** Up to `limit` items as one JSON array, and the key of the last one when more follow it. */
export interface RenderedPage<K> {
  /** A JSON array. */
  readonly items: string;
  readonly count: number;
  readonly nextAfter: K | undefined;
}

/** The selection that has the database write a page's item as JSON text, aliased `item`. */
export function renderedItem(dialect: DialectName, fields: readonly ItemField[]): AliasedRawBuilder<string, 'item'> {
  return renderedJson(dialect, fields).as('item');
}

/** The expression that writes a row as one JSON object of `fields`, from the row's columns. */
export function renderedJson(dialect: DialectName, fields: readonly ItemField[]): RawBuilder<string> {
  if (dialect === 'sqlite') {
    const pairs = sql.join(
      fields.map(([name, source]) => (typeof source === 'string' ? sql`${sql.lit(name)}, ${sql.ref(source)}` : sql`${sql.lit(name)}, max(0, ${sql.ref(source[0])} - ${sql.ref(source[1])})`)),
    );
    return sql<string>`json_object(${pairs})`;
  }
  const parts = fields.map((field, index) => {
    const label = sql.lit(`${index === 0 ? '{' : ','}${JSON.stringify(field[0])}:`);
    return sql`${label} || ${postgresValue(field)}`;
  });
  return sql<string>`${sql.join(parts, sql` || `)} || '}'`;
}

/** A field's JSON text on PostgreSQL (`null` for NULL). */
function postgresValue(field: ItemField): RawBuilder<string> {
  const [, source] = field;
  if (typeof source !== 'string') {
    return sql`greatest(0, ${sql.ref(source[0])} - ${sql.ref(source[1])})::text`;
  }
  const column = sql.ref(source);
  if (field[2] === 'number') {
    return sql`coalesce(${column}::text, 'null')`;
  }
  return field[2] === 'token' ? sql`coalesce('"' || ${column} || '"', 'null')` : sql`coalesce(to_json(${column})::text, 'null')`;
}

/**
 * The page of items read with `limit + 1`: the extra item only says that more follow. The next
 * page starts after the last item's `keyField`, read from that one item rather than as a column
 * of every row.
 */
export function renderedPage<K extends string | number>(items: readonly string[], limit: number, keyField: string): RenderedPage<K> {
  const kept = items.length > limit ? items.slice(0, limit) : items;
  return {
    items: `[${kept.join(',')}]`,
    count: kept.length,
    nextAfter: items.length > limit ? (JSON.parse(kept[kept.length - 1]) as Record<string, K>)[keyField] : undefined,
  };
}
