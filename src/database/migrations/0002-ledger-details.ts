import type { Kysely, Migration } from 'kysely';

/**
 * What kind of change a ledger row records (an adjustment by delta, an absolute set, a level's
 * creation), why (`reason`) and for what (`reference`, e.g. an order id); and the content type
 * of stored answers, which are not all application/json once problem answers are stored too.
 */
export const ledgerDetails: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('ledger').addColumn('kind', 'varchar(16)', (column) => column.notNull().defaultTo('adjust')).execute();
    await db.schema.alterTable('ledger').addColumn('reason', 'varchar(64)').execute();
    await db.schema.alterTable('ledger').addColumn('reference', 'varchar(255)').execute();
    await db.schema.alterTable('idempotency_records').addColumn('content_type', 'varchar(64)').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('idempotency_records').dropColumn('content_type').execute();
    for (const column of ['reference', 'reason', 'kind']) {
      await db.schema.alterTable('ledger').dropColumn(column).execute();
    }
  },
};
