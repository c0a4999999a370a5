import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from './postgres';

export type Dialect = 'sqlite' | 'postgres';

/** The dialect this jest project runs the e2e suites on (see jest.config.js). */
export const TEST_DIALECT: Dialect = process.env.TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite';

/** Dialects available to suites that compare both in one file. */
export const AVAILABLE_DIALECTS: readonly Dialect[] = process.env.TEST_POSTGRES_URL === undefined ? ['sqlite'] : ['sqlite', 'postgres'];

export interface TestStore {
  /** Environment that points the service at this store. */
  readonly env: Record<string, string>;
  readonly dataDir: string;
  dispose(): Promise<void>;
}

/** A fresh, empty store of the given dialect: a SQLite directory, or a new PostgreSQL database. */
export async function createTestStore(dialect: Dialect = TEST_DIALECT): Promise<TestStore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'inventory-test-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (dialect === 'sqlite') {
    return { env: { DATA_DIR: dataDir }, dataDir, dispose: () => Promise.resolve(removeDir()) };
  }
  const database = await createTestDatabase();
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: database.url },
    dataDir,
    dispose: async () => {
      removeDir();
      await database.drop();
    },
  };
}
