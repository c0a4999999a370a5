import { getLevel, postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

describe('atomic batches', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('tells a failed item against the committed level, never the rolled-back changes of the batch', async () => {
    // SKU-005: 8 on hand at version 3. The second item builds on the first, which never commits.
    const response = await postUpdate(app, {
      storeId: 'store-1',
      atomic: true,
      updates: [
        { productId: 'SKU-005', delta: -5, version: 3, idempotencyKey: 'chain-1' },
        { productId: 'SKU-005', delta: -5, version: 4, idempotencyKey: 'chain-2' },
      ],
    }).expect(200);
    expect(response.body.results).toEqual([
      { productId: 'SKU-005', applied: false, error: 'not applied: another update in the atomic batch failed', code: 'BATCH_ABORTED' },
      { productId: 'SKU-005', applied: false, error: 'version conflict: expected 3, got 4', code: 'VERSION_CONFLICT', currentVersion: 3 },
    ]);
    expect(await getLevel(app, 'store-1', 'SKU-005')).toMatchObject({ quantity: 8, version: 3 });
  });

  it('calls an item that failed only because of the batch’s own changes aborted, since alone it would apply', async () => {
    // SKU-004: 12 at version 6. Alone, the second item fits; after the first it does not.
    const response = await postUpdate(app, {
      storeId: 'store-1',
      atomic: true,
      updates: [
        { productId: 'SKU-004', delta: -10, version: 6, idempotencyKey: 'fit-1' },
        { productId: 'SKU-003', delta: 1, version: 999, idempotencyKey: 'fit-2' },
        { productId: 'SKU-004', delta: -5, version: 6, idempotencyKey: 'fit-3' },
      ],
    }).expect(200);
    expect(response.body.results.map((result: { code?: string }) => result.code)).toEqual(['BATCH_ABORTED', 'VERSION_CONFLICT', 'BATCH_ABORTED']);
    // The corrected batch may reuse every key: nothing of the rolled-back one was stored.
    await postUpdate(app, { storeId: 'store-1', atomic: true, updates: [{ productId: 'SKU-004', delta: -5, version: 6, idempotencyKey: 'fit-3' }] }).expect(200);
    expect(await getLevel(app, 'store-1', 'SKU-004')).toMatchObject({ quantity: 7, version: 7 });
  });
});
