import type { RawBuilder } from 'kysely';
import type { DialectName } from './database-connection';
import { type ItemField, renderedJson } from './rendered-json';

/**
 * A ledger entry as ChangeResponseDto.of renders it, field for field: the JSON a page of history
 * answers with. Rows are never changed once written, so this JSON is written once too (migration
 * 0006): on SQLite ledger_by_level holds it, on PostgreSQL ledger.entry. That makes it part of
 * the schema: a change here needs a migration that rebuilds ledger_by_level and rewrites
 * ledger.entry, or existing databases keep answering with the old fields (test/rendered-pages
 * compares every page with the DTO).
 */
export const LEDGER_ENTRY: readonly ItemField[] = [
  ['seq', 'seq', 'number'],
  ['storeId', 'store_id', 'token'],
  ['productId', 'product_id', 'token'],
  ['kind', 'kind', 'token'],
  ['delta', 'delta', 'number'],
  ['quantity', 'quantity_after', 'number'],
  ['reserved', 'reserved_after', 'number'],
  ['available', ['quantity_after', 'reserved_after']],
  ['version', 'version_after', 'number'],
  ['reason', 'reason', 'token'],
  ['reference', 'reference', 'text'],
  ['idempotencyKey', 'idempotency_key', 'text'],
  ['reservationId', 'reservation_id', 'token'],
  ['requestId', 'request_id', 'text'],
  ['createdAt', 'created_at', 'token'],
];

/** The expression that writes a ledger row's entry as JSON from the row's own columns. */
export function ledgerEntryJson(dialect: DialectName): RawBuilder<string> {
  return renderedJson(dialect, LEDGER_ENTRY);
}
