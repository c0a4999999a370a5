import { type AliasedRawBuilder, sql } from 'kysely';
import type { DialectName } from './database-connection';

/**
 * Pages of many rows (a store's levels, a level's history) are written as JSON without a
 * JavaScript object per row where that is cheaper. On SQLite the database renders each item
 * (json_object): building a row object to read it, and serialising it again to answer, was most
 * of a page's CPU. On PostgreSQL json_build_object costs more than it saves (about 15 µs a row in
 * the server, measured on the chain dataset): the columns are read and each item is written out
 * here. Either way an item's fields mirror its response DTO's `of()`, and test/rendered-pages
 * checks on both databases that they agree.
 */

/** An item's field: its name in the API and the column it is read from, or `available` computed as max(0, a - b). */
export type ItemField = readonly [name: string, column: string] | readonly [name: string, nonNegativeDifference: readonly [string, string]];

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

/** How a page's query selects its items, and how its rows become them. */
export class ItemRenderer {
  constructor(
    private readonly dialect: DialectName,
    private readonly fields: readonly ItemField[],
  ) {}

  /** What a page's query selects besides its key: the item (SQLite), or the columns it is made of. */
  selections(): Array<AliasedRawBuilder<unknown, string>> {
    if (this.dialect === 'sqlite') {
      const pairs = sql.join(
        this.fields.map(([name, source]) => (typeof source === 'string' ? sql`${sql.lit(name)}, ${sql.ref(source)}` : sql`${sql.lit(name)}, max(0, ${sql.ref(source[0])} - ${sql.ref(source[1])})`)),
      );
      return [sql<string>`json_object(${pairs})`.as('item')];
    }
    const columns = [...new Set(this.fields.flatMap(([, source]) => (typeof source === 'string' ? [source] : [...source])))];
    return columns.map((column) => sql.ref(column).as(column));
  }

  /** A row as its item's JSON text. */
  item(row: Readonly<Record<string, unknown>>): string {
    if (this.dialect === 'sqlite') {
      return row.item as string;
    }
    const item: Record<string, unknown> = {};
    for (const [name, source] of this.fields) {
      item[name] = typeof source === 'string' ? row[source] : Math.max(0, Number(row[source[0]]) - Number(row[source[1]]));
    }
    return JSON.stringify(item);
  }
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
