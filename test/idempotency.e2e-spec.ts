import { getLevel, ledgerRows, postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';
import { waitFor } from './helpers/wait';

const update = (idempotencyKey?: string, overrides: Record<string, unknown> = {}) => ({
  storeId: 'store-1',
  productId: 'SKU-009',
  delta: 1,
  version: 7,
  ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
  ...overrides,
});

describe('idempotency', () => {
  let app: TestApp;

  beforeEach(async () => {
    app = await startApp();
  });

  afterEach(async () => {
    await app?.close();
  });

  it('takes the key from the Idempotency-Key header', async () => {
    const first = await postUpdate(app, update(), 'demo', { 'Idempotency-Key': 'header-001' }).expect(200);
    const again = await postUpdate(app, update(), 'demo', { 'Idempotency-Key': 'header-001' }).expect(200).expect('Idempotent-Replayed', 'true');
    expect(again.text).toBe(first.text);
    // The header and the field name the same key.
    const viaField = await postUpdate(app, update('header-001')).expect(200).expect('Idempotent-Replayed', 'true');
    expect(viaField.text).toBe(first.text);
    expect(await ledgerRows(app)).toHaveLength(1);
  });

  it('accepts header and field together when equal, refuses them when different', async () => {
    await postUpdate(app, update('same'), 'demo', { 'Idempotency-Key': 'same' }).expect(200);
    const response = await postUpdate(app, update('one', { version: 8 }), 'demo', { 'Idempotency-Key': 'two' }).expect(400);
    expect(response.body.errors).toEqual([{ field: 'Idempotency-Key', issue: expect.stringContaining('differs') }]);
  });

  it('requires a key', async () => {
    const response = await postUpdate(app, update()).expect(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'idempotencyKey', issue: expect.stringContaining('required') }] });
    expect(await getLevel(app, 'store-1', 'SKU-009')).toMatchObject({ version: 7 });
  });

  it('refuses the same key with a different payload (422), on the fast path and after a restart', async () => {
    await postUpdate(app, update('reuse-001')).expect(200);
    const response = await postUpdate(app, update('reuse-001', { delta: 2 })).expect(422).expect('Content-Type', /application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });

    await app.close({ keepData: true });
    app = await startApp({ store: app.store });
    await postUpdate(app, update('reuse-001', { productId: 'SKU-001' })).expect(422);
    expect(await getLevel(app, 'store-1', 'SKU-009')).toMatchObject({ quantity: 90, version: 8 });
  });

  it('replays from the database after a restart (empty cache), byte for byte', async () => {
    const first = await postUpdate(app, update('restart-001')).expect(200);
    await app.close({ keepData: true });
    app = await startApp({ store: app.store });
    const again = await postUpdate(app, update('restart-001')).expect(200).expect('Idempotent-Replayed', 'true');
    expect(again.text).toBe(first.text);
    expect(await ledgerRows(app)).toHaveLength(1);
  });

  it('applies 20 concurrent identical requests once, and answers all 20 alike', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => postUpdate(app, update('burst-001'))));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(new Set(responses.map((response) => response.text)).size).toBe(1);
    expect(responses.filter((response) => response.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await getLevel(app, 'store-1', 'SKU-009')).toMatchObject({ quantity: 90, version: 8 });
    const ledger = await ledgerRows(app);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ idempotency_key: 'burst-001', delta: 1, version_after: 8 });
  });

  it('replays definitive rejections: a 409 stays a 409 even after the version moved on', async () => {
    const conflict = await postUpdate(app, update('stale-001', { version: 3 })).expect(409);
    await postUpdate(app, update('move-001')).expect(200);
    const again = await postUpdate(app, update('stale-001', { version: 3 })).expect(409).expect('Idempotent-Replayed', 'true');
    expect(again.text).toBe(conflict.text);
    const missing = await postUpdate(app, update('missing-001', { productId: 'SKU-404' })).expect(404);
    const missingAgain = await postUpdate(app, update('missing-001', { productId: 'SKU-404' })).expect(404).expect('Idempotent-Replayed', 'true');
    expect(missingAgain.text).toBe(missing.text);
  });

  it('does not store input errors: the corrected retry with the same key executes', async () => {
    await postUpdate(app, update('fix-001', { delta: 'one' })).expect(400);
    await postUpdate(app, update('fix-001'), 'nope').expect(401);
    await postUpdate(app, update('fix-001', { storeId: 'store-2' }), 'pos1').expect(403);
    const fixed = await postUpdate(app, update('fix-001')).expect(200);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    expect(fixed.body).toMatchObject({ newQuantity: 90, newVersion: 8 });
  });

  it('scopes keys to the API key: another client’s identical key is its own', async () => {
    const mine = await postUpdate(app, update('shared-key'), 'demo').expect(200);
    const theirs = await postUpdate(app, update('shared-key', { version: 8 }), 'pos1').expect(200);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.newVersion).toBe(9);
    // pos1 replays its own outcome, never demo's.
    const theirsAgain = await postUpdate(app, update('shared-key', { version: 8 }), 'pos1').expect(200).expect('Idempotent-Replayed', 'true');
    expect(theirsAgain.text).toBe(theirs.text);
    expect(theirsAgain.text).not.toBe(mine.text);
    // demo's payload under pos1 is a different payload for pos1's key.
    await postUpdate(app, update('shared-key'), 'pos1').expect(422);
  });

  it('replays batch items, and a whole batch retried answers as before', async () => {
    const batch = {
      storeId: 'store-1',
      updates: [
        { productId: 'SKU-009', delta: 1, version: 7, idempotencyKey: 'b-1' },
        { productId: 'SKU-010', delta: 1, version: 999, idempotencyKey: 'b-2' },
      ],
    };
    const first = await postUpdate(app, batch).expect(200);
    const again = await postUpdate(app, batch).expect(200).expect('Idempotent-Replayed', 'true');
    expect(again.text).toBe(first.text);
    // A single request with an item's key and payload replays that item.
    const single = await postUpdate(app, { storeId: 'store-1', productId: 'SKU-009', delta: 1, version: 7, idempotencyKey: 'b-1' }).expect(200);
    expect(single.text).toBe(JSON.stringify(first.body.results[0]));
    // A batch item reusing a key for another payload fails alone.
    const mixed = await postUpdate(app, {
      storeId: 'store-1',
      updates: [
        { productId: 'SKU-009', delta: 5, version: 8, idempotencyKey: 'b-1' },
        { productId: 'SKU-010', delta: 1, version: 5, idempotencyKey: 'b-3' },
      ],
    }).expect(200);
    expect(mixed.headers['idempotent-replayed']).toBeUndefined();
    expect(mixed.body.results[0]).toEqual({ productId: 'SKU-009', applied: false, error: 'idempotency key already used with a different payload', code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(mixed.body.results[1]).toMatchObject({ applied: true, newVersion: 6 });
    expect(await ledgerRows(app)).toHaveLength(2);
  });

  it('forgets keys after the retention period and sweeps the records', async () => {
    await app.close();
    app = await startApp({ env: { IDEMPOTENCY_TTL_SECONDS: '1' } });
    const first = await postUpdate(app, update('ttl-001')).expect(200);
    const storedAt = Date.now();
    // Until its record expires the key replays; then the same key is a new request (it
    // conflicts, since the version moved on).
    const after = await waitFor(
      'the key to expire',
      async () => {
        const response = await postUpdate(app, update('ttl-001'));
        if (response.status === 200 && response.headers['idempotent-replayed'] === 'true' && response.text === first.text) {
          return undefined;
        }
        return response;
      },
      { intervalMs: 100 },
    );
    expect(Date.now() - storedAt).toBeGreaterThanOrEqual(950);
    expect(after.status).toBe(409);
    expect(after.headers['idempotent-replayed']).toBeUndefined();
    expect(await ledgerRows(app)).toHaveLength(1);
    // With this TTL the sweeper runs every second: both records (the first answer and the
    // conflict) go once they have expired.
    await waitFor('the expired records to be swept', async () => (await app.connection.db.selectFrom('idempotency_records').select('idempotency_key').execute()).length === 0);
  });
});
