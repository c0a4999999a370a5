import { Injectable } from '@nestjs/common';
import { type Selectable, sql } from 'kysely';
import type { StoreScope } from '../../config/app-config';
import { DatabaseConnection } from '../../database/database-connection';
import { PreparedQuery, RenderedPageQuery } from '../../database/prepared-query';
import { ledgerEntryJson } from '../../database/ledger-entry';
import { type RenderedPage, renderedPage } from '../../database/rendered-json';
import type { LedgerTable } from '../../database/schema';
import type { LedgerChange } from '../ledger-change';
import { type ChangePage, ChangesRepository } from './changes.repository';

/** Every column of the ledger, named: a prepared statement must not `select *`. */
const LEDGER_COLUMNS = [
  'seq',
  'store_id',
  'product_id',
  'delta',
  'quantity_after',
  'version_after',
  'idempotency_key',
  'client_id',
  'request_id',
  'created_at',
  'kind',
  'reason',
  'reference',
  'reserved_after',
  'reservation_id',
] as const satisfies ReadonlyArray<keyof LedgerTable>;

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
  /** The reads of every page request, compiled once: their values are the only thing that changes between requests. */
  private readonly reads;

  constructor(private readonly connection: DatabaseConnection) {
    super();
    // The floor in the same snapshot as the rows: on PostgreSQL a column of the page's statement
    // (one round trip), on SQLite a statement of its own in the same read transaction.
    const floor = connection.db.selectFrom('ledger_floor').select('pruned_through as floor').where('id', '=', sql.lit(1));
    // Entries as they were written with their rows (migration 0006): on SQLite read from
    // ledger_by_level, which holds this very expression; on PostgreSQL from ledger.entry, written
    // here only for rows appended without one.
    const entry = connection.dialect === 'sqlite' ? ledgerEntryJson('sqlite') : sql<string>`coalesce(entry, ${ledgerEntryJson('postgres')})`;
    const page = (before: boolean) => {
      let query = connection.db
        .selectFrom('ledger')
        .select(entry.as('item'))
        .$if(connection.dialect === 'postgres', (query) => query.select(floor.as('floor')))
        .where('store_id', '=', '')
        .where('product_id', '=', '');
      if (before) {
        query = query.where('seq', '<', 0);
      }
      return query.orderBy('seq', 'desc').limit(1);
    };
    this.reads = {
      head: new PreparedQuery(connection, 'read-ledger-head', connection.db.selectFrom('ledger_head').select('last_seq').where('id', '=', sql.lit(1))),
      floor: new PreparedQuery(connection, 'read-ledger-floor', floor),
      firstHistoryPage: new RenderedPageQuery(connection, 'read-history-page-first', page(false), floor),
      historyPage: new RenderedPageQuery(connection, 'read-history-page', page(true), floor),
      // Each newly committed range, read once for every subscriber of this instance.
      range: new PreparedQuery(connection, 'read-ledger-range', connection.db.selectFrom('ledger').select(LEDGER_COLUMNS).where('seq', '>', 0).where('seq', '<=', 0).orderBy('seq').limit(1)),
    };
  }

  async head(): Promise<number> {
    const [row] = await this.reads.head.run([]);
    return row.last_seq;
  }

  async floor(): Promise<number> {
    const [row] = await this.reads.floor.run([]);
    return row.floor;
  }

  async changesAfter(after: number, scope: StoreScope, limit: number): Promise<ChangePage & { readonly floor: number }> {
    // The head first: every row up to it is committed (rows and head commit together), so the
    // rows read next are complete up to it even while later transactions commit.
    const head = await this.head();
    let changes: LedgerChange[] = [];
    if (after < head && (scope === '*' || scope.length > 0)) {
      let query = this.connection.db.selectFrom('ledger').select(LEDGER_COLUMNS).where('seq', '>', after).where('seq', '<=', head);
      if (scope !== '*') {
        query = query.where('store_id', 'in', [...scope]);
      }
      changes = (await query.orderBy('seq').limit(limit).execute()).map(toChange);
    }
    // The floor last: a prune that removed any row the read above should have seen has committed
    // before the floor is read, so it shows in the floor.
    return { changes, head, floor: await this.floor() };
  }

  async range(after: number, upTo: number, limit: number): Promise<LedgerChange[]> {
    const rows = await this.reads.range.run([after, upTo, limit]);
    return rows.map(toChange);
  }

  async historyPage(storeId: string, productId: string, before: number | undefined, limit: number): Promise<RenderedPage<number> & { floor: number }> {
    const { items, alongside } =
      before === undefined
        ? await this.reads.firstHistoryPage.read([storeId, productId, limit + 1])
        : await this.reads.historyPage.read([storeId, productId, before, limit + 1]);
    const floor = alongside === undefined ? await this.floor() : Number(alongside.floor);
    return { ...renderedPage<number>(items, limit, 'seq'), floor };
  }

  async pruneBatch(cutoff: Date, batch: number): Promise<{ pruned: number; floor: number }> {
    return this.connection.writeTransaction(async (transaction) => {
      const { pruned_through: floor } = await transaction.selectFrom('ledger_floor').select('pruned_through').where('id', '=', 1).executeTakeFirstOrThrow();
      const candidates = await transaction
        .selectFrom('ledger')
        .select(['seq', 'created_at'])
        .where('seq', '>', floor)
        .orderBy('seq')
        .limit(batch)
        .execute();
      // Rows are created in seq order, so the old ones are a prefix.
      let through = floor;
      for (const row of candidates) {
        if (Date.parse(row.created_at) >= cutoff.getTime()) {
          break;
        }
        through = row.seq;
      }
      if (through === floor) {
        return { pruned: 0, floor };
      }
      // Raising the floor first takes its row lock: two instances pruning at once take turns,
      // and the second finds nothing left to do.
      const raised = await transaction.updateTable('ledger_floor').set({ pruned_through: through }).where('id', '=', 1).where('pruned_through', '=', floor).executeTakeFirst();
      if (raised.numUpdatedRows === 0n) {
        return { pruned: 0, floor };
      }
      const deleted = await transaction.deleteFrom('ledger').where('seq', '>', floor).where('seq', '<=', through).executeTakeFirst();
      return { pruned: Number(deleted.numDeletedRows), floor: through };
    });
  }
}
