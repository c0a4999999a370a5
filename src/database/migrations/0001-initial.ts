import { type Kysely, type Migration, sql } from 'kysely';

export const initialSchema: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('stock_levels')
      .addColumn('store_id', 'varchar(64)', (column) => column.notNull())
      .addColumn('product_id', 'varchar(64)', (column) => column.notNull())
      .addColumn('quantity', 'bigint', (column) => column.notNull())
      .addColumn('version', 'bigint', (column) => column.notNull())
      .addColumn('last_updated', 'varchar(32)', (column) => column.notNull())
      .addPrimaryKeyConstraint('stock_levels_pk', ['store_id', 'product_id'])
      // The last line of defence against overselling: the database itself refuses it.
      .addCheckConstraint('stock_levels_quantity_non_negative', sql`quantity >= 0`)
      .addCheckConstraint('stock_levels_version_non_negative', sql`version >= 0`)
      .execute();
    await db.schema.createIndex('stock_levels_by_product').on('stock_levels').columns(['product_id', 'store_id']).execute();

    await db.schema
      .createTable('ledger')
      .addColumn('seq', 'bigint', (column) => column.primaryKey())
      .addColumn('store_id', 'varchar(64)', (column) => column.notNull())
      .addColumn('product_id', 'varchar(64)', (column) => column.notNull())
      .addColumn('delta', 'bigint', (column) => column.notNull())
      .addColumn('quantity_after', 'bigint', (column) => column.notNull())
      .addColumn('version_after', 'bigint', (column) => column.notNull())
      .addColumn('idempotency_key', 'varchar(255)')
      .addColumn('client_id', 'varchar(64)')
      .addColumn('request_id', 'varchar(128)')
      .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
      .execute();
    await db.schema.createIndex('ledger_by_level').on('ledger').columns(['store_id', 'product_id', 'seq']).execute();

    await db.schema
      .createTable('ledger_head')
      .addColumn('id', 'integer', (column) => column.primaryKey())
      .addColumn('last_seq', 'bigint', (column) => column.notNull())
      .execute();
    await sql`insert into ledger_head (id, last_seq) values (1, 0)`.execute(db);

    await db.schema
      .createTable('idempotency_records')
      .addColumn('client_id', 'varchar(64)', (column) => column.notNull())
      .addColumn('idempotency_key', 'varchar(255)', (column) => column.notNull())
      .addColumn('fingerprint', 'varchar(64)', (column) => column.notNull())
      .addColumn('status_code', 'integer', (column) => column.notNull())
      .addColumn('response_body', 'text')
      .addColumn('created_at', 'varchar(32)', (column) => column.notNull())
      .addColumn('expires_at', 'varchar(32)', (column) => column.notNull())
      .addPrimaryKeyConstraint('idempotency_records_pk', ['client_id', 'idempotency_key'])
      .execute();
    await db.schema.createIndex('idempotency_records_by_expiry').on('idempotency_records').column('expires_at').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['idempotency_records', 'ledger_head', 'ledger', 'stock_levels']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
