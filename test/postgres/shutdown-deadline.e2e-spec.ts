import { Client } from 'pg';
import { createTestStore, type TestStore } from '../helpers/dialect';
import { jsonLines, type ServiceProcess, spawnService } from '../helpers/service-process';
import { waitFor } from '../helpers/wait';

/** A shutdown that cannot finish (an update stuck on a lock) ends at the deadline with exit 1. */
describe('shutdown deadline (PostgreSQL)', () => {
  let store: TestStore;
  let service: ServiceProcess | undefined;
  let holder: Client | undefined;
  let observer: Client | undefined;

  beforeAll(async () => {
    store = await createTestStore('postgres');
  });

  afterAll(async () => {
    await holder?.end();
    await observer?.end();
    await service?.stop('SIGKILL');
    await store.dispose();
  });

  it('gives up after SHUTDOWN_TIMEOUT_MS and exits 1', async () => {
    // Lock waits last up to 2 s (a quarter of the processing timeout, capped at 2 s).
    // No grace period: the deadline is what is measured.
    service = await spawnService({ ...store.env, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '300', SHUTDOWN_GRACE_MS: '0', PROCESSING_TIMEOUT_MS: '60000' });
    const running = service;
    holder = new Client({ connectionString: store.env.DATABASE_URL });
    await holder.connect();
    await holder.query('begin');
    await holder.query(`select * from stock_levels where store_id = 'store-1' and product_id = 'SKU-001' for update`);
    // Outside any transaction, so that every look at pg_stat_activity is fresh.
    observer = new Client({ connectionString: store.env.DATABASE_URL });
    await observer.connect();

    const stuck = fetch(`${running.url}/v1/inventory/updates`, {
      method: 'POST',
      headers: { 'X-API-Key': 'demo', 'Content-Type': 'application/json' },
      body: JSON.stringify({ storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'stuck-001' }),
    }).catch(() => undefined);
    // The update is stuck once the service's transaction waits for the holder's row lock.
    await waitFor('the update waiting on the row lock', async () => {
      const { rows } = await observer!.query<{ waiting: number }>(
        `select count(*)::int as waiting from pg_stat_activity
         where datname = current_database() and application_name = 'inventory-service' and wait_event_type = 'Lock'`,
      );
      return rows[0].waiting > 0;
    });
    const signalledAt = Date.now();
    running.child.kill('SIGTERM');
    const { code } = await running.exited;
    const tookMs = Date.now() - signalledAt;
    await stuck;

    expect(code).toBe(1);
    expect(tookMs).toBeGreaterThanOrEqual(280);
    expect(tookMs).toBeLessThan(1500);
    expect(jsonLines(running.output).map((line) => line.msg)).toContain('shutdown did not finish in time');
    await holder.query('rollback');
  });
});
