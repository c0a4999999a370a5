import { Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type { StoreScope } from '../../config/app-config';
import { DatabaseConnection } from '../../database/database-connection';
import type { LedgerTable } from '../../database/schema';
import type { LedgerChange } from '../ledger-change';
import { type ChangePage, ChangesRepository } from './changes.repository';

function toChange(row: Selectable<LedgerTable>): LedgerChange {
  return {
    seq: row.seq,
    storeId: row.store_id,
    productId: row.product_id,
    kind: row.kind,
    delta: row.delta,
    quantity: row.quantity_after,
    reserved: row.reserved_after,
    version: row.version_after,
    reason: row.reason,
    reference: row.reference,
    idempotencyKey: row.idempotency_key,
    requestId: row.request_id,
    reservationId: row.reservation_id,
    createdAt: new Date(row.created_at),
  };
}

@Injectable()
export class KyselyChangesRepository extends ChangesRepository {
  constructor(private readonly connection: DatabaseConnection) {
    super();
  }

  async head(): Promise<number> {
    const row = await this.connection.db.selectFrom('ledger_head').select('last_seq').where('id', '=', 1).executeTakeFirstOrThrow();
    return row.last_seq;
  }

  async changesAfter(after: number, scope: StoreScope, limit: number): Promise<ChangePage> {
    // The head first: every row up to it is committed (rows and head commit together), so the
    // rows read next are complete up to it even while later transactions commit.
    const head = await this.head();
    if (after >= head || (scope !== '*' && scope.length === 0)) {
      return { changes: [], head };
    }
    let query = this.connection.db.selectFrom('ledger').selectAll().where('seq', '>', after).where('seq', '<=', head);
    if (scope !== '*') {
      query = query.where('store_id', 'in', [...scope]);
    }
    const rows = await query.orderBy('seq').limit(limit).execute();
    return { changes: rows.map(toChange), head };
  }

  async history(storeId: string, productId: string, before: number | undefined, limit: number): Promise<LedgerChange[]> {
    let query = this.connection.db.selectFrom('ledger').selectAll().where('store_id', '=', storeId).where('product_id', '=', productId);
    if (before !== undefined) {
      query = query.where('seq', '<', before);
    }
    const rows = await query.orderBy('seq', 'desc').limit(limit).execute();
    return rows.map(toChange);
  }
}
