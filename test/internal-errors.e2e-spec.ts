import { InventoryRepository } from '../src/inventory/persistence/inventory.repository';
import { postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

const SECRET = 'SQLITE_CORRUPT: select * from stock_levels where secret_column';

/** A repository that fails the way a broken database would. */
class BrokenRepository extends InventoryRepository {
  findLevel(): Promise<never> {
    return Promise.reject(new Error(SECRET));
  }
  findLevelsOfProduct(): Promise<never> {
    return Promise.reject(new Error(SECRET));
  }
  levelPage(): Promise<never> {
    return Promise.reject(new Error(SECRET));
  }
  write(): Promise<never> {
    return Promise.reject(new Error(SECRET));
  }
}

describe('unexpected failures', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ override: (builder) => builder.overrideProvider(InventoryRepository).useValue(new BrokenRepository()) });
  });

  afterAll(async () => {
    await app.close();
  });

  it.each([
    ['a read', () => app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'demo').set('X-Request-Id', 'req-500')],
    ['an update', () => postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'x' }, 'demo', { 'X-Request-Id': 'req-500' })],
  ])('answer %s with a 500 problem carrying only the request id', async (_name, call) => {
    const response = await call().expect(500).expect('Content-Type', /application\/problem\+json/);
    expect(response.body).toEqual({
      type: '/problems/internal-error',
      title: 'Internal server error',
      status: 500,
      detail: 'the request could not be completed; quote the requestId when reporting it',
      code: 'INTERNAL_ERROR',
      requestId: 'req-500',
      instance: expect.any(String),
    });
    expect(response.text).not.toContain('SQLITE');
    expect(response.text).not.toContain('secret');
  });

  it('keeps serving after failures', async () => {
    await app.http().get('/docs-json').expect(200);
  });
});
