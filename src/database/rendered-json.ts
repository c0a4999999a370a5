import { type Expression, type RawBuilder, sql } from 'kysely';
import type { DialectName } from './database-connection';

/**
 * Pages of many rows (a store's levels, a level's history) are rendered as JSON by the database
 * itself: SQLite's json_object, PostgreSQL's json_build_object. Building a JavaScript object per
 * row to read it, and serialising it again to answer, was most of a page's CPU; the database
 * writes the same item in one step. Each item's fields mirror its response DTO's `of()`, and
 * test/rendered-pages checks on both databases that the two agree.
 */

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

/** An item's fields, in the DTO's order: the name in the API and the SQL that computes it. */
export type RenderedFields = ReadonlyArray<readonly [string, Expression<unknown>]>;

/** The JSON object of one row, as text. */
export function jsonObjectOf(dialect: DialectName, fields: RenderedFields): RawBuilder<string> {
  const pairs = sql.join(fields.map(([name, value]) => sql`${sql.lit(name)}, ${value}`));
  // PostgreSQL's json is sent as text when cast; left as json, the driver would parse it.
  return dialect === 'sqlite' ? sql<string>`json_object(${pairs})` : sql<string>`json_build_object(${pairs})::text`;
}

/** max(0, value): SQLite's two-argument max is PostgreSQL's greatest. */
export function notBelowZero(dialect: DialectName, value: Expression<number>): RawBuilder<number> {
  return dialect === 'sqlite' ? sql<number>`max(0, ${value})` : sql<number>`greatest(0, ${value})`;
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
