import { type Kysely, Migrator, sql } from 'kysely';
import type { DatabaseConnection } from './database-connection';
import { INITIAL_MIGRATION, migrationProvider } from './migrations';

export interface MigrationReport {
  /** Names of the migrations this call applied (empty when the schema was current). */
  readonly applied: readonly string[];
  /** True when this call created the schema, i.e. the database was empty. */
  readonly createdSchema: boolean;
}

/**
 * Brings the schema to the latest version. Kysely's migrator serialises concurrent runs
 * (on PostgreSQL with an advisory lock), so instances starting together do not race.
 */
export async function migrateToLatest(connection: DatabaseConnection): Promise<MigrationReport> {
  if (connection.dialect === 'postgres') {
    return runMigrator(connection.db);
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

async function runMigrator<T>(db: Kysely<T>): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`, { cause: error });
  }
  const applied = results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
  return { applied, createdSchema: applied.includes(INITIAL_MIGRATION) };
}
