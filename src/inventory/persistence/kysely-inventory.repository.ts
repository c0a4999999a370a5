import { Injectable } from '@nestjs/common';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { StoreScope } from '../../config/app-config';
import { DatabaseConnection, type DialectName } from '../../database/database-connection';
import type { DatabaseSchema, StockLevelsTable } from '../../database/schema';
import type { StoredResponse } from '../../idempotency/stored-response';
import type { StockLevel } from '../domain/stock-level';
import {
  type IdempotencyClaim,
  type IdempotencyRecord,
  InventoryRepository,
  type InventoryWriteTransaction,
  type LedgerEntryDraft,
} from './inventory.repository';

/** SQLite allows 32766 bound parameters per statement; a ledger row binds 10. */
const LEDGER_ROWS_PER_INSERT = 1000;

function toStockLevel(row: Selectable<StockLevelsTable>): StockLevel {
  return {
    storeId: row.store_id,
    productId: row.product_id,
    quantity: row.quantity,
    version: row.version,
    lastUpdated: new Date(row.last_updated),
  };
}

/** One adapter for both dialects; the few differences are explicit below. */
@Injectable()
export class KyselyInventoryRepository extends InventoryRepository {
  private readonly db: Kysely<DatabaseSchema>;
  private readonly dialect: DialectName;

  constructor(connection: DatabaseConnection) {
    super();
    this.db = connection.db;
    this.dialect = connection.dialect;
  }

  async findLevel(storeId: string, productId: string): Promise<StockLevel | undefined> {
    const row = await this.db
      .selectFrom('stock_levels')
      .selectAll()
      .where('store_id', '=', storeId)
      .where('product_id', '=', productId)
      .executeTakeFirst();
    return row && toStockLevel(row);
  }

  async findLevelsOfProduct(productId: string, scope: StoreScope): Promise<StockLevel[]> {
    if (scope !== '*' && scope.length === 0) {
      return [];
    }
    let query = this.db.selectFrom('stock_levels').selectAll().where('product_id', '=', productId);
    if (scope !== '*') {
      query = query.where('store_id', 'in', [...scope]);
    }
    const rows = await query.orderBy('store_id').execute();
    return rows.map(toStockLevel);
  }

  write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new KyselyWriteTransaction(trx, this.dialect)));
  }
}

class KyselyWriteTransaction implements InventoryWriteTransaction {
  constructor(
    private readonly trx: Transaction<DatabaseSchema>,
    private readonly dialect: DialectName,
  ) {}

  async claimIdempotencyKey(claim: IdempotencyClaim): Promise<boolean> {
    const createdAt = claim.now.toISOString();
    // An expired record may be taken over before the sweeper deletes it.
    const claimed = await this.trx
      .insertInto('idempotency_records')
      .values({
        client_id: claim.clientId,
        idempotency_key: claim.key,
        fingerprint: claim.fingerprint,
        status_code: 0,
        response_body: null,
        created_at: createdAt,
        expires_at: claim.expiresAt.toISOString(),
      })
      .onConflict((conflict) =>
        conflict
          .columns(['client_id', 'idempotency_key'])
          .doUpdateSet((eb) => ({
            fingerprint: eb.ref('excluded.fingerprint'),
            status_code: 0,
            response_body: null,
            created_at: eb.ref('excluded.created_at'),
            expires_at: eb.ref('excluded.expires_at'),
          }))
          .where('idempotency_records.expires_at', '<=', createdAt),
      )
      .returning('client_id')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  async findIdempotencyRecord(clientId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.trx
      .selectFrom('idempotency_records')
      .select(['fingerprint', 'status_code', 'response_body', 'expires_at'])
      .where('client_id', '=', clientId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (row === undefined || row.response_body === null) {
      return undefined;
    }
    return {
      fingerprint: row.fingerprint,
      response: { status: row.status_code, body: row.response_body },
      expiresAt: new Date(row.expires_at),
    };
  }

  async completeIdempotencyRecord(clientId: string, key: string, response: StoredResponse): Promise<void> {
    await this.trx
      .updateTable('idempotency_records')
      .set({ status_code: response.status, response_body: response.body })
      .where('client_id', '=', clientId)
      .where('idempotency_key', '=', key)
      .execute();
  }

  async findLevelForUpdate(storeId: string, productId: string): Promise<StockLevel | undefined> {
    let query = this.trx
      .selectFrom('stock_levels')
      .selectAll()
      .where('store_id', '=', storeId)
      .where('product_id', '=', productId);
    // SQLite transactions here are `begin immediate`: the whole database is already locked.
    if (this.dialect === 'postgres') {
      query = query.forUpdate();
    }
    const row = await query.executeTakeFirst();
    return row && toStockLevel(row);
  }

  async saveLevel(next: StockLevel, expectedVersion: number): Promise<void> {
    const result = await this.trx
      .updateTable('stock_levels')
      .set({ quantity: next.quantity, version: next.version, last_updated: next.lastUpdated.toISOString() })
      .where('store_id', '=', next.storeId)
      .where('product_id', '=', next.productId)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) {
      throw new Error(`stock level ${next.storeId}/${next.productId} changed under a held lock`);
    }
  }

  async appendLedger(entries: readonly LedgerEntryDraft[]): Promise<void> {
    if (entries.length === 0) {
      return;
    }
    // Taking the seqs from one locked row (not a sequence) keeps them gap-free and makes
    // transactions commit in seq order, so a feed reader never skips a late-committing seq.
    const head = await this.trx
      .updateTable('ledger_head')
      .set((eb) => ({ last_seq: eb('last_seq', '+', entries.length) }))
      .where('id', '=', 1)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    const firstSeq = head.last_seq - entries.length + 1;
    const rows = entries.map((entry, index) => ({
      seq: firstSeq + index,
      store_id: entry.storeId,
      product_id: entry.productId,
      delta: entry.delta,
      quantity_after: entry.quantityAfter,
      version_after: entry.versionAfter,
      idempotency_key: entry.idempotencyKey,
      client_id: entry.clientId,
      request_id: entry.requestId,
      created_at: entry.createdAt.toISOString(),
    }));
    for (let start = 0; start < rows.length; start += LEDGER_ROWS_PER_INSERT) {
      await this.trx.insertInto('ledger').values(rows.slice(start, start + LEDGER_ROWS_PER_INSERT)).execute();
    }
  }

  async savepoint(name: string): Promise<void> {
    await sql`savepoint ${sql.id(name)}`.execute(this.trx);
  }

  async rollbackToSavepoint(name: string): Promise<void> {
    await sql`rollback to savepoint ${sql.id(name)}`.execute(this.trx);
  }

  async releaseSavepoint(name: string): Promise<void> {
    await sql`release savepoint ${sql.id(name)}`.execute(this.trx);
  }
}
