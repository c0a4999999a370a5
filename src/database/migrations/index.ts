import type { Migration, MigrationProvider } from 'kysely';
import { initialSchema } from './0001-initial';
import { ledgerDetails } from './0002-ledger-details';
import { reservations } from './0003-reservations';
import { ledgerRetention } from './0004-ledger-retention';
import { historyCoveringIndex } from './0005-history-covering-index';
import { storedLedgerEntries } from './0006-stored-ledger-entries';

/** Every migration, in order. Names sort lexically, so keep the numeric prefix. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initialSchema,
  '0002-ledger-details': ledgerDetails,
  '0003-reservations': reservations,
  '0004-ledger-retention': ledgerRetention,
  '0005-history-covering-index': historyCoveringIndex,
  '0006-stored-ledger-entries': storedLedgerEntries,
};

export const INITIAL_MIGRATION = '0001-initial';

/** Every migration's name, in the order they apply. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
