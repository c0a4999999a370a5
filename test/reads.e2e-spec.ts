import { ISO_TIMESTAMP, postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

describe('reads', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  const getLevel = (path: string) => app.http().get(path).set('X-API-Key', 'demo');

  it('returns one level with its version as ETag', async () => {
    const response = await getLevel('/v1/stores/store-1/inventory/SKU-004').expect(200).expect('ETag', '"6"');
    expect(response.body).toEqual({ storeId: 'store-1', productId: 'SKU-004', quantity: 12, reserved: 0, available: 12, version: 6, lastUpdated: expect.stringMatching(ISO_TIMESTAMP) });
    expect(Object.keys(response.body)).toEqual(['storeId', 'productId', 'quantity', 'reserved', 'available', 'version', 'lastUpdated']);
  });

  it('answers 304 to If-None-Match while the level is unchanged, 200 once it changes', async () => {
    const unchanged = await getLevel('/v1/stores/store-1/inventory/SKU-010').set('If-None-Match', '"5"').expect(304);
    expect(unchanged.text).toBe('');
    await postUpdate(app, { storeId: 'store-1', productId: 'SKU-010', delta: -1, version: 5, idempotencyKey: 'etag-001' }).expect(200);
    const changed = await getLevel('/v1/stores/store-1/inventory/SKU-010').set('If-None-Match', '"5"').expect(200).expect('ETag', '"6"');
    expect(changed.body).toMatchObject({ quantity: 18, version: 6 });
  });

  it('answers 404 problems for unknown levels and products', async () => {
    const level = await getLevel('/v1/stores/store-1/inventory/SKU-404').expect(404).expect('Content-Type', /problem\+json/);
    expect(level.body).toMatchObject({ code: 'LEVEL_NOT_FOUND' });
    const product = await getLevel('/v1/inventory/SKU-404').expect(404);
    expect(product.body).toMatchObject({ code: 'PRODUCT_NOT_FOUND' });
  });

  it('answers 400 naming the path parameter for an invalid id', async () => {
    const response = await getLevel('/v1/stores/store%201/inventory/SKU-001').expect(400);
    expect(response.body.errors).toEqual([{ field: 'storeId', issue: expect.any(String) }]);
    const product = await getLevel(`/v1/inventory/${'P'.repeat(65)}`).expect(400);
    expect(product.body.errors).toEqual([{ field: 'productId', issue: expect.any(String) }]);
  });

  it('keeps totalQuantity exact: level quantities are bounded so that any sum over the stores is an exact number', async () => {
    const put = (storeId: string, quantity: number) => app.http().put(`/v1/stores/${storeId}/inventory/BIG-1`).set('X-API-Key', 'ops').send({ quantity });
    const refused = await put('store-1', Number.MAX_SAFE_INTEGER).expect(400);
    expect(refused.body.errors).toEqual([{ field: 'quantity', issue: 'must be an integer from 0 to 10000000000' }]);
    const stores = ['big-a', 'big-b', 'big-c'];
    for (const storeId of stores) {
      await put(storeId, 10_000_000_000).expect(201);
    }
    const total = await getLevel('/v1/inventory/BIG-1').expect(200);
    expect(total.text).toContain('"totalQuantity":30000000000,');
    // Nor can an update take a level past the bound.
    const beyond = await postUpdate(app, { storeId: 'big-a', productId: 'BIG-1', delta: 1, version: 1, idempotencyKey: 'big-001' }).expect(409);
    expect(beyond.body).toMatchObject({ code: 'QUANTITY_LIMIT_EXCEEDED', currentQuantity: 10_000_000_000 });
  });
});
