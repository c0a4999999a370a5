import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/app-config';
import { MIGRATION_NAMES } from '../src/database/migrations';
import { openDatabase } from '../src/database/database-connection';
import { DEMO_LEVELS } from '../src/database/demo-data';
import { createTestStore, type TestStore } from './helpers/dialect';
import { type ServiceProcess, spawnServices } from './helpers/service-process';

const ROOT = join(__dirname, '..');

function runMigrateCommand(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'database', 'migrate-cli.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('migrations', () => {
  let store: TestStore;
  let services: ServiceProcess[] = [];

  beforeEach(async () => {
    store = await createTestStore();
  });

  afterEach(async () => {
    await Promise.all(services.map((service) => service.stop('SIGKILL')));
    services = [];
    await store.dispose();
  });

  async function inspect<T>(work: (connection: ReturnType<typeof openDatabase>) => Promise<T>): Promise<T> {
    const connection = openDatabase(loadConfig(store.env));
    try {
      return await work(connection);
    } finally {
      await connection.close();
    }
  }

  it('npm run migrate migrates and seeds an empty database on its own, and is a no-op the second time', async () => {
    const first = await runMigrateCommand(store.env);
    expect(first.code).toBe(0);
    expect(first.output).toContain(`"migrationsApplied":${JSON.stringify(MIGRATION_NAMES)}`);
    expect(first.output).toContain('demo data seeded');
    const second = await runMigrateCommand(store.env);
    expect(second.code).toBe(0);
    expect(second.output).toContain('"migrationsApplied":[]');
    expect(second.output).not.toContain('demo data seeded');
    const count = await inspect((connection) => connection.db.selectFrom('stock_levels').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow());
    expect(Number(count.n)).toBe(DEMO_LEVELS.length);
  });

  it('lets two instances started at the same moment on an empty database both come up', async () => {
    services = await spawnServices(2, store.env);
    for (const service of services) {
      const response = await fetch(`${service.url}/v1/stores/store-1/inventory/SKU-001`, { headers: { 'X-API-Key': 'demo' } });
      expect(response.status).toBe(200);
    }
    const state = await inspect(async (connection) => ({
      migrations: await connection.db.selectFrom('kysely_migration' as never).select(sql<string>`name`.as('name')).orderBy(sql`name`).execute(),
      levels: await connection.db.selectFrom('stock_levels').select(['product_id', 'quantity', 'version']).orderBy('product_id').execute(),
    }));
    expect(state.migrations).toEqual(MIGRATION_NAMES.map((name) => ({ name })));
    expect(state.levels.map((level) => ({ productId: level.product_id, quantity: level.quantity, version: level.version }))).toEqual(DEMO_LEVELS);
  });
});
