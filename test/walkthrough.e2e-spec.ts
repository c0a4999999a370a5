import { ISO_TIMESTAMP, getLevel, postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

/**
 * The README walkthrough and every documented update example, in order, on a fresh database seeded
 * with the demo data: each answer must be exactly the documented one.
 */
describe('walkthrough (fresh demo database)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('starts with the demo data', async () => {
    const response = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
    expect(response.body).toEqual({
      productId: 'SKU-001',
      totalQuantity: 45,
      totalReserved: 0,
      totalAvailable: 45,
      levels: [{ storeId: 'store-1', quantity: 45, reserved: 0, available: 45, version: 12, lastUpdated: expect.stringMatching(ISO_TIMESTAMP) }],
    });
    expect(Object.keys(response.body.levels[0])).toEqual(['storeId', 'quantity', 'reserved', 'available', 'version', 'lastUpdated']);
  });

  it('1. applies an update at the current version', async () => {
    const response = await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12, idempotencyKey: 'test-001' })
      .expect(200)
      .expect('Content-Type', /application\/json/);
    expect(response.text).toMatch(/^\{"productId":"SKU-001","newQuantity":50,"newVersion":13,"applied":true,"lastUpdated":"[^"]+"\}$/);
    expect(response.body.lastUpdated).toMatch(ISO_TIMESTAMP);
    expect(response.headers['idempotent-replayed']).toBeUndefined();
    expect(await getLevel(app, 'store-1', 'SKU-001')).toMatchObject({ quantity: 50, version: 13 });
  });

  it('2. refuses a stale version with 409 and the current version', async () => {
    const response = await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 3, version: 10, idempotencyKey: 'conflict-001' }).expect(409);
    expect(response.text).toBe(
      '{"productId":"SKU-001","applied":false,"error":"version conflict: expected 13, got 10","code":"VERSION_CONFLICT","currentVersion":13}',
    );
    expect(await getLevel(app, 'store-1', 'SKU-001')).toMatchObject({ quantity: 50, version: 13 });
  });

  it('3. replays a duplicate byte for byte, applying it once', async () => {
    const body = { storeId: 'store-1', productId: 'SKU-002', delta: 2, version: 8, idempotencyKey: 'duplicate-001' };
    const first = await postUpdate(app, body).expect(200);
    expect(first.body).toEqual({ productId: 'SKU-002', newQuantity: 25, newVersion: 9, applied: true, lastUpdated: expect.stringMatching(ISO_TIMESTAMP) });
    const second = await postUpdate(app, body).expect(200).expect('Idempotent-Replayed', 'true');
    expect(second.text).toBe(first.text);
    expect(await getLevel(app, 'store-1', 'SKU-002')).toMatchObject({ quantity: 25, version: 9 });
  });

  it('4. answers a batch with mixed results item by item', async () => {
    const response = await postUpdate(app, {
      storeId: 'store-1',
      updates: [
        { productId: 'SKU-003', delta: 10, version: 15, idempotencyKey: 'batch-success-001' },
        { productId: 'SKU-004', delta: -5, version: 999, idempotencyKey: 'batch-conflict-001' },
      ],
    }).expect(200);
    expect(response.text).toMatch(
      new RegExp(
        '^\\{"results":\\[\\{"productId":"SKU-003","newQuantity":77,"newVersion":16,"applied":true,"lastUpdated":"[^"]+"\\},' +
          '\\{"productId":"SKU-004","applied":false,"error":"version conflict: expected 6, got 999","code":"VERSION_CONFLICT","currentVersion":6\\}\\],' +
          '"summary":\\{"total":2,"succeeded":1,"failed":1\\}\\}$',
      ),
    );
    expect(await getLevel(app, 'store-1', 'SKU-004')).toMatchObject({ quantity: 12, version: 6 });
  });

  it('5. lets exactly one of two concurrent updates at the same version win', async () => {
    const [first, second] = await Promise.all([
      postUpdate(app, { storeId: 'store-1', productId: 'SKU-003', delta: 1, version: 16, idempotencyKey: 'concurrent-001' }),
      postUpdate(app, { storeId: 'store-1', productId: 'SKU-003', delta: 2, version: 16, idempotencyKey: 'concurrent-002' }),
    ]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = first.status === 200 ? first : second;
    const loser = first.status === 200 ? second : first;
    expect(loser.body).toEqual({ productId: 'SKU-003', applied: false, error: 'version conflict: expected 17, got 16', code: 'VERSION_CONFLICT', currentVersion: 17 });
    const winningDelta = winner === first ? 1 : 2;
    expect(await getLevel(app, 'store-1', 'SKU-003')).toMatchObject({ quantity: 77 + winningDelta, version: 17 });
  });

  it('answers 409 INSUFFICIENT_STOCK rather than going below zero', async () => {
    const response = await postUpdate(app, { storeId: 'store-1', productId: 'SKU-005', delta: -9, version: 3, idempotencyKey: 'oversell-001' }).expect(409);
    expect(response.body).toEqual({
      productId: 'SKU-005',
      applied: false,
      error: 'insufficient stock: available 8, requested 9',
      code: 'INSUFFICIENT_STOCK',
      currentVersion: 3,
      currentQuantity: 8,
      available: 8,
    });
    await postUpdate(app, { storeId: 'store-1', productId: 'SKU-005', delta: -8, version: 3, idempotencyKey: 'sell-out-001' }).expect(200);
    expect(await getLevel(app, 'store-1', 'SKU-005')).toMatchObject({ quantity: 0, version: 4 });
  });

  it('answers 404 for an unknown store/product', async () => {
    const response = await postUpdate(app, { storeId: 'store-1', productId: 'SKU-999', delta: 1, version: 0, idempotencyKey: 'missing-001' }).expect(404);
    expect(response.body).toEqual({ productId: 'SKU-999', applied: false, error: 'no stock level for product SKU-999 in store store-1', code: 'LEVEL_NOT_FOUND' });
  });

  it('answers a batch item for an unknown level as failed, beside a success', async () => {
    const response = await postUpdate(app, {
      storeId: 'store-1',
      updates: [
        { productId: 'SKU-009', delta: 1, version: 7, idempotencyKey: 'batch-found' },
        { productId: 'SKU-404', delta: 1, version: 0, idempotencyKey: 'batch-missing' },
      ],
    }).expect(200);
    expect(response.body.results[1]).toEqual({ productId: 'SKU-404', applied: false, error: 'no stock level for product SKU-404 in store store-1', code: 'LEVEL_NOT_FOUND' });
    expect(response.body.summary).toEqual({ total: 2, succeeded: 1, failed: 1 });
  });

  it('applies an atomic batch all or nothing', async () => {
    const failing = await postUpdate(app, {
      storeId: 'store-1',
      atomic: true,
      updates: [
        { productId: 'SKU-007', delta: -2, version: 9, idempotencyKey: 'atomic-001' },
        { productId: 'SKU-008', delta: -2, version: 10, idempotencyKey: 'atomic-002' },
      ],
    }).expect(200);
    expect(failing.body).toEqual({
      results: [
        { productId: 'SKU-007', applied: false, error: 'not applied: another update in the atomic batch failed', code: 'BATCH_ABORTED' },
        { productId: 'SKU-008', applied: false, error: 'version conflict: expected 11, got 10', code: 'VERSION_CONFLICT', currentVersion: 11 },
      ],
      summary: { total: 2, succeeded: 0, failed: 2 },
    });
    expect(await getLevel(app, 'store-1', 'SKU-007')).toMatchObject({ quantity: 15, version: 9 });

    const fixed = await postUpdate(app, {
      storeId: 'store-1',
      atomic: true,
      updates: [
        { productId: 'SKU-007', delta: -2, version: 9, idempotencyKey: 'atomic-001' },
        { productId: 'SKU-008', delta: -2, version: 11, idempotencyKey: 'atomic-002' },
      ],
    }).expect(200);
    expect(fixed.body.summary).toEqual({ total: 2, succeeded: 2, failed: 0 });
    expect(await getLevel(app, 'store-1', 'SKU-007')).toMatchObject({ quantity: 13, version: 10 });
    expect(await getLevel(app, 'store-1', 'SKU-008')).toMatchObject({ quantity: 32, version: 12 });
  });

  it('serves Swagger UI at /docs and the OpenAPI document at /docs-json without a key', async () => {
    const ui = await app.http().get('/docs').expect(200);
    expect(ui.text).toContain('swagger-ui');
    const document = await app.http().get('/docs-json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining(['/v1/inventory/updates', '/v1/inventory/{productId}', '/v1/stores/{storeId}/inventory/{productId}']),
    );
  });
});
