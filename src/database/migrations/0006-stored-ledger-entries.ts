import { type Kysely, type Migration, SqliteAdapter } from 'kysely';
import { ledgerEntryJson } from '../ledger-entry';

/**
 * A ledger row's entry, the JSON a page of history shows, is written once, with the row: rows
 * never change, and writing 101 entries' JSON on every read of a page cost the database more than
 * reading them (SQLite about 60 of 90 µs in a tight loop, PostgreSQL about 150 of 250 µs).
 *
 * SQLite: ledger_by_level holds the entry (an index on an expression) after the level's key, in
 * place of 0005's copy of every column; SQLite answers a page from the index alone, reading the
 * entries instead of writing them. Building it reads the whole ledger once, before the service
 * starts serving. It is the larger index (about 300 against 80 bytes an entry).
 *
 * PostgreSQL: ledger.entry, written by the group statement that appends the row. Adding a column
 * without a default changes only the catalogue, so instances running the previous version keep
 * writing while this runs; rows appended before it, or by such instances, have no entry, and the
 * page writes theirs as it reads them (retention prunes them in time). About 270 bytes an entry
 * more in the table.
 */
export const storedLedgerEntries: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    if (db.getExecutor().adapter instanceof SqliteAdapter) {
      await db.schema.dropIndex('ledger_by_level').execute();
      await db.schema.createIndex('ledger_by_level').on('ledger').columns(['store_id', 'product_id', 'seq']).expression(ledgerEntryJson('sqlite')).execute();
      return;
    }
    await db.schema.alterTable('ledger').addColumn('entry', 'text').execute();
  },
};
