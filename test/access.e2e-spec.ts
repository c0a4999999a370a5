import { allLevels, postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

const update = { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'auth-001' };

describe('API keys and store scopes', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
    // A level in store-2, so scoped reads have something to hide.
    await app.connection.db
      .insertInto('stock_levels')
      .values({ store_id: 'store-2', product_id: 'SKU-001', quantity: 7, version: 1, last_updated: new Date().toISOString() })
      .execute();
  });

  afterAll(async () => {
    await app.close();
  });

  it.each([
    ['no key', undefined],
    ['an unknown key', 'guess'],
    ['a key differing in case', 'DEMO'],
    ['an empty key', ''],
  ])('answers 401 problem+json for %s, on writes and reads', async (_name, key) => {
    const before = await allLevels(app);
    let post = app.http().post('/v1/inventory/updates');
    let get = app.http().get('/v1/inventory/SKU-001');
    if (key !== undefined) {
      post = post.set('X-API-Key', key);
      get = get.set('X-API-Key', key);
    }
    const written = await post.send(update).expect(401).expect('Content-Type', /application\/problem\+json/);
    expect(written.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    await get.expect(401);
    expect(await allLevels(app)).toEqual(before);
  });

  it('answers 403 when the key may not touch the store: single, batch and read', async () => {
    const before = await allLevels(app);
    const single = await postUpdate(app, update, 'pos2').expect(403);
    expect(single.body).toMatchObject({ status: 403, code: 'STORE_FORBIDDEN', detail: "this API key may not access store 'store-1'" });
    await postUpdate(app, { storeId: 'store-1', updates: [{ productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'b' }] }, 'pos2').expect(403);
    await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'pos2').expect(403);
    // Forbidden is answered before existence: an unknown level in a foreign store is still 403.
    await app.http().get('/v1/stores/store-1/inventory/NOPE').set('X-API-Key', 'pos2').expect(403);
    expect(await allLevels(app)).toEqual(before);
  });

  it('lets a scoped key work in its own store', async () => {
    await postUpdate(app, { storeId: 'store-2', productId: 'SKU-001', delta: 1, version: 1, idempotencyKey: 'pos2-001' }, 'pos2').expect(200);
    await app.http().get('/v1/stores/store-2/inventory/SKU-001').set('X-API-Key', 'pos2').expect(200);
  });

  it('shows a product only in the stores the key may see', async () => {
    const all = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
    expect((all.body as { levels: Array<{ storeId: string }> }).levels.map((level) => level.storeId)).toEqual(['store-1', 'store-2']);
    expect(all.body.totalQuantity).toBe(45 + 8);
    const scoped = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'pos1').expect(200);
    expect(scoped.body).toMatchObject({ productId: 'SKU-001', totalQuantity: 45, levels: [{ storeId: 'store-1' }] });
    // A product present only in stores the key may not see does not exist for it.
    await app.connection.db.insertInto('stock_levels').values({ store_id: 'store-2', product_id: 'ONLY-2', quantity: 1, version: 0, last_updated: new Date().toISOString() }).execute();
    const hidden = await app.http().get('/v1/inventory/ONLY-2').set('X-API-Key', 'pos1').expect(404);
    expect(hidden.body.code).toBe('PRODUCT_NOT_FOUND');
  });

  it('echoes X-Request-Id, or mints one, on every answer including errors', async () => {
    const echoed = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').set('X-Request-Id', 'trace-123').expect(200);
    expect(echoed.headers['x-request-id']).toBe('trace-123');
    const failed = await postUpdate(app, update, 'nope', { 'X-Request-Id': 'trace-456' }).expect(401);
    expect(failed.headers['x-request-id']).toBe('trace-456');
    expect(failed.body.requestId).toBe('trace-456');
    const minted = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').set('X-Request-Id', 'bad id with spaces').expect(200);
    expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const response = await app.http().get('/v1/nothing-here').set('X-API-Key', 'demo').expect(404);
    expect(response.body).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
  });
});

/** The routes that need no key; every other route in the document must refuse a request without a valid one. */
const PUBLIC_ROUTES = ['GET /health/live', 'GET /health/ready', 'GET /metrics', 'GET /problems', 'GET /problems/{type}'];
const PATH_VALUES: Record<string, string> = { storeId: 'store-1', productId: 'SKU-001', type: 'version-conflict' };

describe('authentication by default', () => {
  let app: TestApp;
  let operations: Array<{ method: string; path: string }>;

  beforeAll(async () => {
    // Failed authentications are what this suite sends: the per-address limit would cut it short.
    app = await startApp({ env: { AUTH_FAILURES_PER_MINUTE: '0' } });
    const document = (await app.http().get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
  });

  afterAll(async () => {
    await app.close();
  });

  it('refuses every route of the OpenAPI document but the public ones without a key and with a wrong key (401), changing nothing', async () => {
    const before = await allLevels(app);
    const guarded = operations.filter(({ method, path }) => !PUBLIC_ROUTES.includes(`${method} ${path}`));
    expect(guarded.length).toBeGreaterThanOrEqual(8);
    const answers: string[] = [];
    for (const { method, path } of guarded) {
      const url = path.replace(/\{(\w+)\}/g, (_match, name: string) => PATH_VALUES[name] ?? 'x');
      for (const key of [undefined, 'wrong-key']) {
        const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(key === undefined ? {} : { 'X-API-Key': key }) };
        const response = await fetch(`${app.url}${url}`, { method, headers, body: method === 'GET' ? undefined : '{}' });
        const body = (await response.json()) as { code?: string };
        answers.push(`${method} ${path} ${key ?? 'no key'}: ${response.status} ${body.code}`);
      }
    }
    expect(answers).toEqual(answers.map((answer) => answer.replace(/: .*$/, ': 401 UNAUTHENTICATED')));
    expect(await allLevels(app)).toEqual(before);
  });

  it('answers the public routes without a key', async () => {
    for (const route of PUBLIC_ROUTES) {
      expect(operations.map(({ method, path }) => `${method} ${path}`)).toContain(route);
      const [, path] = route.split(' ');
      const response = await fetch(`${app.url}${path.replace('{type}', 'version-conflict')}`);
      expect({ route, status: response.status }).toEqual({ route, status: 200 });
    }
  });
});
