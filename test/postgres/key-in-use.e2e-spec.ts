import { Client } from 'pg';
import { ApiKeyRegistry } from '../../src/common/auth/api-key-registry';
import { parseApiKeys } from '../../src/config/app-config';
import { fingerprintUpdate } from '../../src/idempotency/fingerprint';
import { getLevel, postUpdate } from '../helpers/inventory-client';
import { startApp, type TestApp } from '../helpers/test-app';
import { waitFor } from '../helpers/wait';

const demoClientId = new ApiKeyRegistry(parseApiKeys('demo:*', [])).authenticate('demo')!.id;

/** Resolves once a connection of the service is in the state `condition` names (waiting on a lock, sleeping). */
async function serviceBackendWaiting(observer: Client, what: string, condition: string): Promise<void> {
  await waitFor(what, async () => {
    const { rows } = await observer.query<{ waiting: number }>(
      `select count(*)::int as waiting from pg_stat_activity
       where datname = current_database() and application_name = 'inventory-service' and ${condition}`,
    );
    return rows[0].waiting > 0;
  });
}

const waitingOnLock = (observer: Client) => serviceBackendWaiting(observer, 'the service waiting on a lock', `wait_event_type = 'Lock'`);

/**
 * Another instance's transaction holds an idempotency key (it claimed it and has not committed):
 * this instance waits for it up to the lock timeout, then answers 409 IDEMPOTENCY_KEY_IN_USE,
 * without holding up unrelated updates.
 */
describe('a key held by another transaction (PostgreSQL)', () => {
  // Lock timeout = processing timeout / 4 = 1 s; statements may run 4 s.
  const PROCESSING_TIMEOUT_MS = 4000;
  const LOCK_TIMEOUT_MS = 1000;
  let app: TestApp;
  let holder: Client;
  let observer: Client;

  beforeAll(async () => {
    app = await startApp({ env: { PROCESSING_TIMEOUT_MS: String(PROCESSING_TIMEOUT_MS) } });
    holder = new Client({ connectionString: app.store.env.DATABASE_URL });
    await holder.connect();
    // Outside any transaction, so that every look at pg_stat_activity is fresh.
    observer = new Client({ connectionString: app.store.env.DATABASE_URL });
    await observer.connect();
  });

  afterAll(async () => {
    await holder.end();
    await observer.end();
    await app.close();
  });

  async function holdKey(key: string): Promise<void> {
    await holder.query('begin');
    await holder.query(
      `insert into idempotency_records (client_id, idempotency_key, fingerprint, status_code, response_body, created_at, expires_at)
       values ($1, $2, 'x', 0, null, '2026-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z')`,
      [demoClientId, key],
    );
  }

  it('answers 409 IDEMPOTENCY_KEY_IN_USE while held, serves other keys meanwhile, and executes once released', async () => {
    await holdKey('held-001');
    const held = postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'held-001' }).then((response) => response);
    await waitingOnLock(observer);

    // Sent while the service waits for the held key; answered once that wait gives up at the lock
    // timeout, and long before the holder lets go.
    const otherSentAt = Date.now();
    const otherResponse = await postUpdate(app, { storeId: 'store-1', productId: 'SKU-002', delta: 1, version: 8, idempotencyKey: 'free-001' });
    const otherTookMs = Date.now() - otherSentAt;
    expect(otherResponse.status).toBe(200);
    expect(otherTookMs).toBeLessThan(LOCK_TIMEOUT_MS + 1000);

    const heldResponse = await held;
    expect(heldResponse.status).toBe(409);
    expect(heldResponse.headers['retry-after']).toBe('1');
    expect(heldResponse.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE', status: 409 });
    expect(await getLevel(app, 'store-1', 'SKU-001')).toMatchObject({ quantity: 45, version: 12 });

    // Only now does the holder let go.
    await holder.query('rollback');
    const released = await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'held-001' }).expect(200);
    expect(released.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 503 DATABASE_UNAVAILABLE with Retry-After when a level stays locked by another transaction, and executes the retry once it is free', async () => {
    await holder.query('begin');
    await holder.query(`select * from stock_levels where store_id = 'store-1' and product_id = 'SKU-004' for update`);
    const update = { storeId: 'store-1', productId: 'SKU-004', delta: -1, version: 6, idempotencyKey: 'level-held-001' };
    const hold = { storeId: 'store-1', lines: [{ productId: 'SKU-004', quantity: 1 }], idempotencyKey: 'level-held-002' };
    const [updated, reserved] = await Promise.all([
      postUpdate(app, update).then((response) => response),
      app.http().post('/v1/reservations').set('X-API-Key', 'demo').send(hold).then((response) => response),
      waitingOnLock(observer),
    ]);
    // Nothing was done and nothing is wrong with the request: a retry, not an internal error.
    for (const response of [updated, reserved]) {
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body).toMatchObject({ code: 'DATABASE_UNAVAILABLE', status: 503 });
    }
    expect(await getLevel(app, 'store-1', 'SKU-004')).toMatchObject({ quantity: 12, reserved: 0, version: 6 });

    await holder.query('rollback');
    const retried = await postUpdate(app, update).expect(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.body).toMatchObject({ newQuantity: 11, newVersion: 7 });
    await app.http().post('/v1/reservations').set('X-API-Key', 'demo').send(hold).expect(201);
  });

  it('returns the other transaction’s outcome when it commits in time', async () => {
    await holdKey('held-002');
    const waiting = postUpdate(app, { storeId: 'store-1', productId: 'SKU-003', delta: 1, version: 15, idempotencyKey: 'held-002' }).then((response) => response);
    await waitingOnLock(observer);
    // The other instance finishes the same update first: its stored answer is this request's.
    const stored = '{"productId":"SKU-003","applied":false,"error":"decided elsewhere","code":"VERSION_CONFLICT","currentVersion":99}';
    const fingerprint = fingerprintUpdate({ storeId: 'store-1', productId: 'SKU-003', delta: 1, version: 15 });
    await holder.query(`update idempotency_records set status_code = 409, response_body = $1, fingerprint = $2 where idempotency_key = 'held-002'`, [stored, fingerprint]);
    await holder.query('commit');
    const response = await waiting;
    expect(response.status).toBe(409);
    expect(response.headers['idempotent-replayed']).toBe('true');
    expect(response.text).toBe(stored);
    expect(await getLevel(app, 'store-1', 'SKU-003')).toMatchObject({ quantity: 67, version: 15 });
  });
});

/**
 * docs/security.md: statements are bounded (statement_timeout), so one stuck statement cannot
 * stall an instance. A trigger makes updates of one product sleep 30 s inside the write statement.
 */
describe('a statement slower than the bound (PostgreSQL)', () => {
  // Statements are cut after the processing timeout.
  const PROCESSING_TIMEOUT_MS = 1000;
  const SLEEP_SECONDS = 30;
  let app: TestApp;
  let admin: Client;

  beforeAll(async () => {
    app = await startApp({ env: { PROCESSING_TIMEOUT_MS: String(PROCESSING_TIMEOUT_MS) } });
    admin = new Client({ connectionString: app.store.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`create function sleep_for_sku_007() returns trigger language plpgsql as $$
      begin
        if new.product_id = 'SKU-007' then
          perform pg_sleep(${SLEEP_SECONDS});
        end if;
        return new;
      end $$`);
    await admin.query('create trigger sleep_for_sku_007 before update on stock_levels for each row execute function sleep_for_sku_007()');
  });

  afterAll(async () => {
    await admin.end();
    await app.close();
  });

  it('is cut at statement_timeout: the instance keeps serving, and the retry executes once the cause is gone', async () => {
    const slowUpdate = { storeId: 'store-1', productId: 'SKU-007', delta: 1, version: 9, idempotencyKey: 'slow-001' };
    const slow = postUpdate(app, slowUpdate).then((response) => response);
    await serviceBackendWaiting(admin, 'the service’s write statement sleeping in the trigger', `wait_event = 'PgSleep'`);
    const timedOut = await slow;
    expect(timedOut.status).toBe(504);
    expect(timedOut.body).toMatchObject({ code: 'PROCESSING_TIMEOUT' });

    // Processed after the slow statement in the same queue: answered only once that statement is cut.
    const sentAt = Date.now();
    await postUpdate(app, { storeId: 'store-1', productId: 'SKU-008', delta: 1, version: 11, idempotencyKey: 'fast-001' }).expect(200);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    const { rows } = await admin.query<{ sleeping: number }>(
      `select count(*)::int as sleeping from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'`,
    );
    expect(rows[0].sleeping).toBe(0);
    // The cut statement was rolled back.
    expect(await getLevel(app, 'store-1', 'SKU-007')).toMatchObject({ quantity: 15, version: 9 });

    await admin.query('drop trigger sleep_for_sku_007 on stock_levels');
    const retried = await postUpdate(app, slowUpdate).expect(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.body).toMatchObject({ productId: 'SKU-007', newQuantity: 16, newVersion: 10, applied: true });
  });
});
