import type { ColumnType } from 'kysely';

/** Table shapes as the query layer sees them (snake_case columns, times as ISO-8601 UTC text). */

export interface StockLevelsTable {
  store_id: string;
  product_id: string;
  quantity: number;
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
}

/** adjust: a delta was applied; set: an absolute quantity was set; create: the level was created. */
export type LedgerKind = 'adjust' | 'set' | 'create';

/** One row holding the last ledger seq handed out; see KyselyInventoryRepository.appendLedger. */
export interface LedgerHeadTable {
  id: number;
  last_seq: number;
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

export interface DatabaseSchema {
  stock_levels: StockLevelsTable;
  ledger: LedgerTable;
  ledger_head: LedgerHeadTable;
  idempotency_records: IdempotencyRecordsTable;
}
