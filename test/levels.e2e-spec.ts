import { postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

describe('store listing and level history', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  const get = (path: string, apiKey = 'demo') => app.http().get(path).set('X-API-Key', apiKey);

  it('lists a store’s levels page by page, ordered by product, with the feed position', async () => {
    await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'list-1' }).expect(200);
    const first = await get('/v1/stores/store-1/inventory?limit=4').expect(200);
    expect(first.body.items.map((item: { productId: string }) => item.productId)).toEqual(['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004']);
    expect(first.body.items[0]).toEqual({ storeId: 'store-1', productId: 'SKU-001', quantity: 46, reserved: 0, available: 46, version: 13, lastUpdated: expect.any(String) });
    expect(first.body.lastSeq).toBe(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await get(`/v1/stores/store-1/inventory?limit=4&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.items.map((item: { productId: string }) => item.productId)).toEqual(['SKU-005', 'SKU-006', 'SKU-007', 'SKU-008']);
    const last = await get(`/v1/stores/store-1/inventory?limit=4&cursor=${second.body.nextCursor}`).expect(200);
    expect(last.body.items.map((item: { productId: string }) => item.productId)).toEqual(['SKU-009', 'SKU-010']);
    expect(last.body.nextCursor).toBeNull();
  });

  it('stays stable while levels change and appear between pages: nothing skipped, nothing repeated', async () => {
    const first = await get('/v1/stores/store-1/inventory?limit=5').expect(200);
    // Between pages: a level on the first page changes, a new level sorts before the cursor, another after it.
    await postUpdate(app, { storeId: 'store-1', productId: 'SKU-002', delta: 1, version: 8, idempotencyKey: 'list-2' }).expect(200);
    const now = new Date().toISOString();
    await app.connection.db
      .insertInto('stock_levels')
      .values([
        { store_id: 'store-1', product_id: 'SKU-000', quantity: 1, version: 0, last_updated: now },
        { store_id: 'store-1', product_id: 'SKU-0075', quantity: 1, version: 0, last_updated: now },
      ])
      .execute();
    const second = await get(`/v1/stores/store-1/inventory?limit=100&cursor=${first.body.nextCursor}`).expect(200);
    const seen = [...first.body.items, ...second.body.items].map((item: { productId: string }) => item.productId);
    expect(seen).toEqual(['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005', 'SKU-006', 'SKU-007', 'SKU-0075', 'SKU-008', 'SKU-009', 'SKU-010']);
  });

  it('refuses a store the key may not see, a forged cursor and a bad limit', async () => {
    await get('/v1/stores/store-1/inventory', 'pos2').expect(403);
    const forged = await get('/v1/stores/store-1/inventory?cursor=not-a-cursor').expect(400);
    expect(forged.body.errors).toEqual([{ field: 'cursor', issue: expect.any(String) }]);
    const wrongKind = await get(`/v1/stores/store-1/inventory?cursor=c1.${Buffer.from('42').toString('base64url')}`).expect(400);
    expect(wrongKind.body.errors[0].field).toBe('cursor');
    await get('/v1/stores/store-1/inventory?limit=501').expect(400);
    const unknownStore = await get('/v1/stores/store-9/inventory').expect(200);
    expect(unknownStore.body).toEqual({ items: [], nextCursor: null, lastSeq: expect.any(Number) });
  });

  it('shows a level’s history newest first, paginated', async () => {
    for (let version = 6; version < 11; version += 1) {
      await postUpdate(app, { storeId: 'store-1', productId: 'SKU-004', delta: -1, version, idempotencyKey: `hist-${version}` }).expect(200);
    }
    const first = await get('/v1/stores/store-1/inventory/SKU-004/history?limit=2').expect(200);
    expect(first.body.items.map((item: { version: number }) => item.version)).toEqual([11, 10]);
    expect(first.body.items[0]).toMatchObject({ storeId: 'store-1', productId: 'SKU-004', kind: 'adjust', delta: -1, quantity: 7, version: 11, idempotencyKey: 'hist-10' });
    const rest = await get(`/v1/stores/store-1/inventory/SKU-004/history?limit=10&cursor=${first.body.nextCursor}`).expect(200);
    expect(rest.body.items.map((item: { version: number }) => item.version)).toEqual([9, 8, 7]);
    expect(rest.body.nextCursor).toBeNull();
    const untouched = await get('/v1/stores/store-1/inventory/SKU-006/history').expect(200);
    expect(untouched.body).toEqual({ items: [], nextCursor: null, prunedThroughSeq: 0, retention: '30d' });
  });

  it('answers 404 for the history of an unknown level and 403 for a foreign store', async () => {
    const missing = await get('/v1/stores/store-1/inventory/SKU-404/history').expect(404);
    expect(missing.body.code).toBe('LEVEL_NOT_FOUND');
    await get('/v1/stores/store-1/inventory/SKU-004/history', 'pos2').expect(403);
    await get('/v1/stores/store-1/inventory/SKU-404/history', 'pos2').expect(403);
  });
});
