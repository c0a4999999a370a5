import { Client } from 'pg';
import { startApp, type TestApp } from '../helpers/test-app';
import { waitFor } from '../helpers/wait';

const LEVEL = { storeId: 'store-1', productId: 'SKU-002' };

/**
 * Holds are given back when they run out by whichever instance first locks their level, without
 * locking their reservation. A commit on another instance locks the reservation first and its
 * levels after: if the hold was given back in between, the commit must see that, and sell from
 * what is available (as the README promises for a commit after expiry), not fail.
 */
describe('a commit while another instance gives the expired hold back (PostgreSQL)', () => {
  let app: TestApp;
  let other: Client;
  let observer: Client;

  beforeAll(async () => {
    // This instance never sweeps during the test: the other instance gives the hold back.
    app = await startApp({ env: { RESERVATION_MIN_TTL_SECONDS: '1', RESERVATION_SWEEP_INTERVAL_MS: '600000', PROCESSING_TIMEOUT_MS: '20000' } });
    other = new Client({ connectionString: app.store.env.DATABASE_URL });
    await other.connect();
    observer = new Client({ connectionString: app.store.env.DATABASE_URL });
    await observer.connect();
  });

  afterAll(async () => {
    await other.end();
    await observer.end();
    await app.close();
  });

  it('sells the units at once from what is available', async () => {
    const held = await app
      .http()
      .post('/v1/reservations')
      .set('X-API-Key', 'demo')
      .send({ storeId: LEVEL.storeId, lines: [{ productId: LEVEL.productId, quantity: 2 }], ttlSeconds: 1, idempotencyKey: 'expiring-hold' })
      .expect(201);
    const { reservationId, expiresAt } = held.body as { reservationId: string; expiresAt: string };
    await waitFor('the hold to run out', () => Date.now() > Date.parse(expiresAt) + 50);

    // The other instance's transaction locks the level, as its sweep would.
    await other.query('begin');
    await other.query('select * from stock_levels where store_id = $1 and product_id = $2 for update', [LEVEL.storeId, LEVEL.productId]);
    const committing = app.http().post(`/v1/reservations/${reservationId}/commit`).set('X-API-Key', 'demo').send({}).then((response) => response);
    // The commit has locked its reservation and waits for the level.
    await waitFor('the commit waiting on the level lock', async () => {
      const { rows } = await observer.query<{ waiting: number }>(
        `select count(*)::int as waiting from pg_stat_activity where datname = current_database() and application_name = 'inventory-service' and wait_event_type = 'Lock'`,
      );
      return rows[0].waiting > 0;
    });
    // It gives the hold back (as GroupPlan does for a due hold) and commits.
    await other.query(`update reservation_lines set state = 'expired' where reservation_id = $1`, [reservationId]);
    await other.query('update stock_levels set reserved = reserved - 2, version = version + 1 where store_id = $1 and product_id = $2', [LEVEL.storeId, LEVEL.productId]);
    await other.query('commit');

    const committed = await committing;
    expect(committed.status).toBe(200);
    expect(committed.body).toMatchObject({ status: 'committed', lines: [{ productId: LEVEL.productId, quantity: 2, committed: 2 }] });
    // SKU-002: 23 on hand, version 8 (demo data); reserved, given back by the other instance, then sold.
    const level = await app.http().get(`/v1/stores/${LEVEL.storeId}/inventory/${LEVEL.productId}`).set('X-API-Key', 'demo').expect(200);
    expect(level.body).toMatchObject({ quantity: 21, reserved: 0, available: 21, version: 11 });
  });
});
