import { type Kysely, type Migration, sql, SqliteAdapter } from 'kysely';

/**
 * Reservations: holds of a cart's lines in one store, with a TTL. A level keeps the sum of its
 * active holds in `reserved`, which the database keeps within what is on hand; the ledger records
 * what every change did to it and which reservation made it.
 */
/**
 * What is held never exceeds what is on hand. A negative quantity is left to its own check
 * (stock_levels_quantity_non_negative), so that a violation names the rule it broke.
 */
const RESERVED_WITHIN_QUANTITY = sql`reserved >= 0 and (reserved <= quantity or quantity < 0)`;

export const reservations: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
    if (sqlite) {
      // SQLite adds a CHECK with the column (it cannot add a table constraint later).
      await db.schema
        .alterTable('stock_levels')
        .addColumn('reserved', 'bigint', (column) => column.notNull().defaultTo(0).check(RESERVED_WITHIN_QUANTITY))
        .execute();
    } else {
      await db.schema.alterTable('stock_levels').addColumn('reserved', 'bigint', (column) => column.notNull().defaultTo(0)).execute();
      // The last line of defence against promising more than is on hand.
      await db.schema.alterTable('stock_levels').addCheckConstraint('stock_levels_reserved_within_quantity', RESERVED_WITHIN_QUANTITY).execute();
    }
    await db.schema.alterTable('ledger').addColumn('reserved_after', 'bigint', (column) => column.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('ledger').addColumn('reservation_id', 'varchar(40)').execute();

    await db.schema
      .createTable('reservations')
      .addColumn('id', 'varchar(40)', (column) => column.primaryKey())
      .addColumn('client_id', 'varchar(64)', (column) => column.notNull())
      .addColumn('store_id', 'varchar(64)', (column) => column.notNull())
      // active, committed or released; an active reservation past expires_at is expired.
      .addColumn('status', 'varchar(16)', (column) => column.notNull())
      .addColumn('reference', 'varchar(255)')
      .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
      .addColumn('updated_at', 'varchar(32)', (column) => column.notNull())
      .addColumn('expires_at', 'varchar(32)', (column) => column.notNull())
      .execute();
    await db.schema.createIndex('reservations_active_by_expiry').on('reservations').columns(['status', 'expires_at']).execute();

    await db.schema
      .createTable('reservation_lines')
      .addColumn('reservation_id', 'varchar(40)', (column) => column.notNull())
      .addColumn('store_id', 'varchar(64)', (column) => column.notNull())
      .addColumn('product_id', 'varchar(64)', (column) => column.notNull())
      .addColumn('quantity', 'bigint', (column) => column.notNull())
      .addColumn('committed', 'bigint')
      // held, committed, released or expired
      .addColumn('state', 'varchar(16)', (column) => column.notNull())
      // The reservation's, copied so that due holds are found per level by one index.
      .addColumn('expires_at', 'varchar(32)', (column) => column.notNull())
      .addPrimaryKeyConstraint('reservation_lines_pk', ['reservation_id', 'product_id'])
      .execute();
    await db.schema
      .createIndex('reservation_lines_held_by_level')
      .on('reservation_lines')
      .columns(['store_id', 'product_id', 'expires_at'])
      .where(sql.ref('state'), '=', 'held')
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('reservation_lines').execute();
    await db.schema.dropTable('reservations').execute();
    await db.schema.alterTable('ledger').dropColumn('reservation_id').execute();
    await db.schema.alterTable('ledger').dropColumn('reserved_after').execute();
    await db.schema.alterTable('stock_levels').dropColumn('reserved').execute();
  },
};
