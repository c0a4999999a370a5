import { type AliasedRawBuilder, type RawBuilder, sql } from 'kysely';
import type { DialectName } from './database-connection';

/**
 * Pages of many rows (a store's levels, a level's history) are written as JSON by the database,
 * one text per item, and joined here: reading a row object for each item only to serialise it
 * again was most of a page's CPU (on PostgreSQL the driver's parsing of every column alone cost
 * more than the server's whole read). SQLite builds each item with json_object. PostgreSQL
 * concatenates the fields' texts: json_build_object costs its server about 15 µs a row, and even
 * to_json of each field about 0.2 µs a field, which made the rendering of a page of history
 * (101 entries of 15 fields) cost more than reading it. A number's text is its JSON; a text
 * field is quoted and its `\` and `"` escaped with replace(). Either way an item's fields mirror
 * its response DTO's `of()`, and test/rendered-pages checks on both databases that they agree.
 */

/**
 * What a column holds. `text` must never hold a control character (U+0000 to U+001F), which JSON
 * would need escaped as \uXXXX: true of every text column a page shows, since every write
 * validates it (identifiers, reasons, references, idempotency keys and request ids are printable
 * ASCII; kinds, reservation ids and timestamps are the service's own).
 */
export type ColumnType = 'number' | 'text';

/** An item's field: its name in the API and the column it is read from, or `available` computed as max(0, a - b). */
export type ItemField = readonly [name: string, column: string, type: ColumnType] | readonly [name: string, nonNegativeDifference: readonly [string, string]];

/** A row of a rendered page: its key (for the next cursor) and its item as JSON text. */
export interface RenderedRow<K> {
  readonly key: K;
  readonly item: string;
}

/** Up to `limit` items as one JSON array, and the key of the last one when more follow it. */
export interface RenderedPage<K> {
  /** A JSON array. */
  readonly items: string;
  readonly count: number;
  readonly nextAfter: K | undefined;
}

/** The selection that has the database write a page's item as JSON text, aliased `item`. */
export function renderedItem(dialect: DialectName, fields: readonly ItemField[]): AliasedRawBuilder<string, 'item'> {
  if (dialect === 'sqlite') {
    const pairs = sql.join(
      fields.map(([name, source]) => (typeof source === 'string' ? sql`${sql.lit(name)}, ${sql.ref(source)}` : sql`${sql.lit(name)}, max(0, ${sql.ref(source[0])} - ${sql.ref(source[1])})`)),
    );
    return sql<string>`json_object(${pairs})`.as('item');
  }
  const parts = fields.map((field, index) => {
    const label = sql.lit(`${index === 0 ? '{' : ','}${JSON.stringify(field[0])}:`);
    return sql`${label} || ${postgresValue(field)}`;
  });
  return sql<string>`${sql.join(parts, sql` || `)} || '}'`.as('item');
}

/** A field's JSON text on PostgreSQL (`null` for NULL). E'' literals: a backslash means the same whatever standard_conforming_strings says. */
function postgresValue(field: ItemField): RawBuilder<string> {
  const [, source] = field;
  if (typeof source !== 'string') {
    return sql`greatest(0, ${sql.ref(source[0])} - ${sql.ref(source[1])})::text`;
  }
  const column = sql.ref(source);
  return field[2] === 'number' ? sql`coalesce(${column}::text, 'null')` : sql`coalesce('"' || replace(replace(${column}, E'\\\\', E'\\\\\\\\'), '"', E'\\\\"') || '"', 'null')`;
}

/** The page of rows read with `limit + 1`: the extra row only says that more follow. */
export function renderedPage<K>(rows: ReadonlyArray<RenderedRow<K>>, limit: number): RenderedPage<K> {
  const kept = rows.length > limit ? rows.slice(0, limit) : rows;
  return {
    items: `[${kept.map((row) => row.item).join(',')}]`,
    count: kept.length,
    nextAfter: rows.length > limit ? kept[kept.length - 1].key : undefined,
  };
}
