import { type Kysely, Migrator, sql } from 'kysely';
import type { DatabaseConnection } from './database-connection';
import { INITIAL_MIGRATION, migrationProvider } from './migrations';

export interface MigrationReport {
  /** Names of the migrations this call applied (empty when the schema was current). */
  readonly applied: readonly string[];
  /** True when this call created the schema, i.e. the database was empty. */
  readonly createdSchema: boolean;
}

/** How long an instance waits for another one's migrations to finish before giving up. */
const MIGRATION_LOCK_WAIT = '10min';

/**
 * Brings the schema to the latest version, in one transaction, while no other instance does.
 * On PostgreSQL the run holds the lock of a row of `migration_lock` (FOR UPDATE): engines that
 * speak PostgreSQL but ignore advisory locks (CockroachDB, YugabyteDB) honour row locks too.
 */
export async function migrateToLatest(connection: DatabaseConnection): Promise<MigrationReport> {
  if (connection.dialect === 'postgres') {
    await ensureMigrationLockRow(connection.db);
    return connection.db.connection().execute(async (db) => {
      await sql`begin`.execute(db);
      try {
        await sql`select set_config('lock_timeout', ${MIGRATION_LOCK_WAIT}, true), set_config('statement_timeout', '0', true)`.execute(db);
        await sql`select id from migration_lock where id = 1 for update`.execute(db);
        // The transaction is this function's, so the migrator must not open one of its own.
        const report = await runMigrator(db, { disableTransactions: true });
        await sql`commit`.execute(db);
        return report;
      } catch (error) {
        await sql`rollback`.execute(db);
        throw error;
      }
    });
  }
  // Kysely runs SQLite migrations without a transaction or lock. One immediate transaction
  // around the whole run makes it atomic and makes a second process wait for the first.
  return connection.db.connection().execute(async (db) => {
    await sql`begin immediate`.execute(db);
    try {
      const report = await runMigrator(db);
      await sql`commit`.execute(db);
      return report;
    } catch (error) {
      await sql`rollback`.execute(db);
      throw error;
    }
  });
}

/**
 * The lock row must exist before anyone can lock it. Instances starting together may both try to
 * create it: whoever loses that race finds it there.
 */
async function ensureMigrationLockRow<T>(db: Kysely<T>): Promise<void> {
  try {
    await sql`create table if not exists migration_lock (id integer primary key)`.execute(db);
  } catch (error) {
    // Concurrent CREATE TABLE IF NOT EXISTS can still fail on the catalog's unique index.
    const { rows } = await sql<{ present: boolean }>`select to_regclass('migration_lock') is not null as present`.execute(db);
    if (!rows[0].present) {
      throw error;
    }
  }
  await sql`insert into migration_lock (id) values (1) on conflict (id) do nothing`.execute(db);
}

async function runMigrator<T>(db: Kysely<T>, options: { readonly disableTransactions?: boolean } = {}): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: migrationProvider, ...options });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`, { cause: error });
  }
  const applied = results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
  return { applied, createdSchema: applied.includes(INITIAL_MIGRATION) };
}
