import { storage } from 'nestjs-pino/storage';
import { postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

/**
 * On Node 20 an AsyncLocalStorage that has been used hooks every promise of the process from
 * then on. With tracing off (OpenTelemetry's context needs one), nothing here may use one: a
 * request's work is handed its log instead.
 */
describe('request context without AsyncLocalStorage', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('serves reads, updates, refusals and errors without entering nestjs-pino’s storage', async () => {
    await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
    expect((await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'ctx-1' })).status).toBe(200);
    expect((await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 'x', version: 12, idempotencyKey: 'ctx-2' })).status).toBe(400);
    await app.http().get('/v1/stores/store-1/inventory/SKU-001').expect(401);
    expect((storage as unknown as { enabled: boolean }).enabled).toBe(false);
  });
});
