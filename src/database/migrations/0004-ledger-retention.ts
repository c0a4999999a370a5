import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Ledger retention: old ledger rows may be pruned. `ledger_floor` keeps the seq through which
 * they were, so that a feed position behind it is refused (410) instead of silently skipping the
 * pruned changes. A table of its own, not a column of the hot `ledger_head` row, so that pruning
 * never waits for (or holds up) a group transaction.
 */
export const ledgerRetention: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('ledger_floor')
      .addColumn('id', 'integer', (column) => column.primaryKey())
      .addColumn('pruned_through', 'bigint', (column) => column.notNull())
      .execute();
    await sql`insert into ledger_floor (id, pruned_through) values (1, 0)`.execute(db);
  },
};
