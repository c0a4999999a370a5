import type { ColumnType } from 'kysely';
import type { HoldState, StoredReservationStatus } from '../reservations/domain/reservation';

/** Table shapes as the query layer sees them (snake_case columns, times as ISO-8601 UTC text). */

export interface StockLevelsTable {
  store_id: string;
  product_id: string;
  quantity: number;
  /** The sum of the level's active holds; never above `quantity`. */
  reserved: ColumnType<number, number | undefined, number>;
  version: number;
  last_updated: string;
}

export interface LedgerTable {
  seq: number;
  store_id: string;
  product_id: string;
  delta: number;
  quantity_after: number;
  version_after: number;
  idempotency_key: string | null;
  client_id: string | null;
  request_id: string | null;
  created_at: string;
  kind: ColumnType<LedgerKind, LedgerKind | undefined, never>;
  reason: string | null;
  reference: string | null;
  reserved_after: ColumnType<number, number | undefined, never>;
  reservation_id: string | null;
  // PostgreSQL also has `entry`, the row's JSON as history shows it (migration 0006), written and
  // read only by the statements that append rows and read pages of history.
}

/**
 * adjust: a delta was applied; set: an absolute quantity was set; create: the level was created;
 * reserve, commit, release, expire, extend: a reservation's hold was taken, turned into a sale,
 * given back, ran out, or was prolonged.
 */
export type LedgerKind = 'adjust' | 'set' | 'create' | 'reserve' | 'commit' | 'release' | 'expire' | 'extend';

/** One row holding the last ledger seq handed out; see KyselyInventoryRepository.appendLedger. */
export interface LedgerHeadTable {
  id: number;
  last_seq: number;
}

/** One row: ledger rows with seq <= pruned_through were pruned by retention. */
export interface LedgerFloorTable {
  id: number;
  pruned_through: number;
}

export interface IdempotencyRecordsTable {
  client_id: string;
  idempotency_key: string;
  fingerprint: string;
  /** 0 while the claiming transaction is still deciding; the HTTP status afterwards. */
  status_code: number;
  response_body: string | null;
  /** Null for application/json. */
  content_type: string | null;
  created_at: string;
  expires_at: string;
}

export interface ReservationsTable {
  id: string;
  client_id: string;
  store_id: string;
  /** active, committed or released; an active reservation is expired once `expires_at` has passed. */
  status: StoredReservationStatus;
  reference: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string;
}

export interface ReservationLinesTable {
  reservation_id: string;
  store_id: string;
  product_id: string;
  /** Units held. */
  quantity: number;
  /** Units sold when the reservation was committed; null before. */
  committed: number | null;
  state: HoldState;
  expires_at: string;
}

export interface DatabaseSchema {
  stock_levels: StockLevelsTable;
  ledger: LedgerTable;
  ledger_head: LedgerHeadTable;
  ledger_floor: LedgerFloorTable;
  idempotency_records: IdempotencyRecordsTable;
  reservations: ReservationsTable;
  reservation_lines: ReservationLinesTable;
}
