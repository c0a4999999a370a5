import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * Set by jest.config.js when PostgreSQL answered at start-up (always, when CI=true).
 * Points at an administrative database, used only to create and drop test databases.
 */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL;
/** Names of this run's databases share a prefix, so the global teardown can drop leftovers. */
export const TEST_DATABASE_PREFIX = `inventory_test_${process.env.TEST_RUN_ID ?? 'local'}_`;

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  if (POSTGRES_ADMIN_URL === undefined) {
    throw new Error('PostgreSQL is not available to this test run');
  }
  const client = new Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database with a random name. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${TEST_DATABASE_PREFIX}${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database "${name}"`));
  const url = new URL(POSTGRES_ADMIN_URL!);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => dropDatabase(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((client) => client.query(`drop database if exists "${name}" with (force)`));
}

export async function dropDatabasesWithPrefix(prefix: string): Promise<void> {
  await admin(async (client) => {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${prefix}%`]);
    for (const { datname } of rows) {
      await client.query(`drop database if exists "${datname}" with (force)`);
    }
  });
}
