import { Migrator } from 'kysely';
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
  const migrator = new Migrator({ db: connection.db, provider: migrationProvider });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`, { cause: error });
  }
  const applied = results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
  return { applied, createdSchema: applied.includes(INITIAL_MIGRATION) };
}
