import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrationProvider } from '../../src/database/migrations';
import { jsonLines } from '../helpers/service-process';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from '../helpers/wait';

const ROOT = join(__dirname, '..', '..');

interface MigrateRun {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

/** `npm run migrate` without the build: the migration command, transpiled on the fly. */
function startMigrate(databaseUrl: string): MigrateRun {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'database', 'migrate-cli.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop()!;
    output.push(...lines);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output, exited };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const tableExists = (client: Client, table: string) =>
  client.query<{ present: boolean }>('select to_regclass($1) is not null as present', [table]).then(({ rows }) => rows[0].present);

/** What each run logged it applied (its `database ready` line). */
function appliedBy(run: MigrateRun): string[] {
  const ready = jsonLines(run.output).find((line) => line.msg === 'database ready');
  if (ready === undefined) {
    throw new Error(`no 'database ready' line in:\n${run.output.join('\n')}`);
  }
  return ready.migrationsApplied as string[];
}

/**
 * Migrations serialise on the lock of row 1 of `migration_lock` (SELECT … FOR UPDATE), which
 * engines without advisory locks honour too: a run waits while another transaction holds it.
 */
describe('migrations under the migration_lock row lock', () => {
  const databases: TestDatabase[] = [];
  const runs: MigrateRun[] = [];

  afterAll(async () => {
    for (const run of runs) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill('SIGKILL');
      }
    }
    await Promise.all(runs.map((run) => run.exited));
    for (const database of databases) {
      await database.drop();
    }
  });

  const allMigrations = async () => Object.keys(await migrationProvider.getMigrations()).sort();

  it(
    'waits while another transaction holds the lock row, then migrates once it is released',
    async () => {
      const database = await createTestDatabase();
      databases.push(database);
      await withClient(database.url, async (holder) => {
        await holder.query('create table migration_lock (id integer primary key)');
        await holder.query('insert into migration_lock (id) values (1)');
        await holder.query('begin');
        await holder.query('select id from migration_lock where id = 1 for update');

        const run = startMigrate(database.url);
        runs.push(run);
        await withClient(database.url, async (observer) => {
          const waiting = await waitFor(
            'the migration to wait for the lock row',
            async () => {
              if (run.child.exitCode !== null) {
                throw new Error(`the migration ended (${run.child.exitCode}) instead of waiting:\n${run.output.join('\n')}`);
              }
              const { rows } = await observer.query<{ query: string }>(
                `select query from pg_stat_activity
                  where datname = current_database() and application_name = 'inventory-service' and wait_event_type = 'Lock' and query ilike '%migration_lock%'`,
              );
              return rows.length > 0 && rows;
            },
            { timeoutMs: 90_000, intervalMs: 50 },
          );
          expect(waiting).toHaveLength(1);
          // Waiting, it has created nothing.
          expect(await tableExists(observer, 'stock_levels')).toBe(false);
          expect(await tableExists(observer, 'kysely_migration')).toBe(false);
          expect(run.child.exitCode).toBeNull();

          await holder.query('commit');
          expect(await run.exited).toBe(0);
          expect(appliedBy(run)).toEqual(await allMigrations());
          expect(await tableExists(observer, 'stock_levels')).toBe(true);
          const { rows } = await observer.query<{ name: string }>('select name from kysely_migration order by name');
          expect(rows.map((row) => row.name)).toEqual(await allMigrations());
        });
      });
    },
    LOADED_MACHINE_TIMEOUT_MS,
  );

  it(
    'four runs started together on an empty database all succeed and apply each migration once',
    async () => {
      const database = await createTestDatabase();
      databases.push(database);
      const together = Array.from({ length: 4 }, () => startMigrate(database.url));
      runs.push(...together);
      const codes = await Promise.all(together.map((run) => run.exited));
      expect({ codes, output: codes.some((code) => code !== 0) ? together.map((run) => run.output.join('\n')) : [] }).toEqual({ codes: [0, 0, 0, 0], output: [] });

      // One run applied everything; the others found the schema current.
      const applied = together.map(appliedBy);
      expect(applied.flat().sort()).toEqual(await allMigrations());
      expect(applied.filter((names) => names.length > 0)).toHaveLength(1);
      await withClient(database.url, async (client) => {
        const { rows } = await client.query<{ name: string }>('select name from kysely_migration order by name');
        expect(rows.map((row) => row.name)).toEqual(await allMigrations());
        expect(await tableExists(client, 'stock_levels')).toBe(true);
        const lockRows = await client.query<{ id: number }>('select id from migration_lock');
        expect(lockRows.rows).toEqual([{ id: 1 }]);
      });
    },
    LOADED_MACHINE_TIMEOUT_MS,
  );
});
