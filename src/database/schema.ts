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
}

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
  created_at: string;
  expires_at: string;
}

export interface DatabaseSchema {
  stock_levels: StockLevelsTable;
  ledger: LedgerTable;
  ledger_head: LedgerHeadTable;
  idempotency_records: IdempotencyRecordsTable;
}
