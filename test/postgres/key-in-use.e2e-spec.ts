import { Client } from 'pg';
import { ApiKeyRegistry } from '../../src/common/auth/api-key-registry';
import { parseApiKeys } from '../../src/config/app-config';
import { fingerprintUpdate } from '../../src/idempotency/fingerprint';
import { getLevel, postUpdate } from '../helpers/inventory-client';
import { startApp, type TestApp } from '../helpers/test-app';

/**
 * Another instance's transaction holds an idempotency key (it claimed it and has not committed):
 * this instance waits for it up to the lock timeout, then answers 409 IDEMPOTENCY_KEY_IN_USE,
 * without holding up unrelated updates.
 */
describe('a key held by another transaction (PostgreSQL)', () => {
  let app: TestApp;
  let holder: Client;
  const demoClientId = new ApiKeyRegistry(parseApiKeys('demo:*', [])).authenticate('demo')!.id;

  beforeAll(async () => {
    // Lock timeout = processing timeout / 4 = 500 ms.
    app = await startApp({ env: { PROCESSING_TIMEOUT_MS: '2000' } });
    holder = new Client({ connectionString: app.store.env.DATABASE_URL });
    await holder.connect();
  });

  afterAll(async () => {
    await holder.end();
    await app.close();
  });

  it('answers 409 IDEMPOTENCY_KEY_IN_USE while held, serves other keys meanwhile, and executes once released', async () => {
    await holder.query('begin');
    await holder.query(
      `insert into idempotency_records (client_id, idempotency_key, fingerprint, status_code, response_body, created_at, expires_at)
       values ($1, 'held-001', 'x', 0, null, '2026-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z')`,
      [demoClientId],
    );

    const held = postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'held-001' }).then((response) => response);
    const other = postUpdate(app, { storeId: 'store-1', productId: 'SKU-002', delta: 1, version: 8, idempotencyKey: 'free-001' }).then((response) => response);
    const [heldResponse, otherResponse] = await Promise.all([held, other]);

    expect(heldResponse.status).toBe(409);
    expect(heldResponse.headers['retry-after']).toBe('1');
    expect(heldResponse.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE', status: 409 });
    expect(otherResponse.status).toBe(200);
    expect(await getLevel(app, 'store-1', 'SKU-001')).toMatchObject({ quantity: 45, version: 12 });

    await holder.query('rollback');
    await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'held-001' }).expect(200);
  });

  it('returns the other transaction’s outcome when it commits in time', async () => {
    await holder.query('begin');
    await holder.query(
      `insert into idempotency_records (client_id, idempotency_key, fingerprint, status_code, response_body, created_at, expires_at)
       values ($1, 'held-002', 'x', 0, null, '2026-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z')`,
      [demoClientId],
    );
    const waiting = postUpdate(app, { storeId: 'store-1', productId: 'SKU-003', delta: 1, version: 15, idempotencyKey: 'held-002' }).then((response) => response);
    await new Promise((resolve) => setTimeout(resolve, 150));
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
