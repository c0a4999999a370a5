import { sql } from 'kysely';
import { DEMO_LEVELS } from '../src/database/demo-data';
import { postUpdate } from './helpers/inventory-client';
import type { LevelView } from './helpers/reservations';
import { startApp, type TestApp } from './helpers/test-app';

const STORES = 20;
const PRODUCTS = 50;
const CHAIN = { SEED_DEMO: 'chain', SEED_CHAIN_STORES: String(STORES), SEED_CHAIN_PRODUCTS: String(PRODUCTS) };

/** The ids and starting quantity of the chain dataset, from 0-based indexes. */
const storeId = (store: number) => `store-${String(store + 1).padStart(4, '0')}`;
const productId = (product: number) => `P-${String(product + 1).padStart(5, '0')}`;
const startingQuantity = (store: number, product: number) => (store * 31 + product * 17) % 200;

/** Levels per store, straight from the database. */
async function levelsPerStore(app: TestApp): Promise<Record<string, number>> {
  const rows = await app.connection.db
    .selectFrom('stock_levels')
    .select(['store_id', sql<number | string>`count(*)`.as('levels')])
    .groupBy('store_id')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.store_id, Number(row.levels)]));
}

function expectedPerStore(stores: number): Record<string, number> {
  return { 'store-1': DEMO_LEVELS.length, ...Object.fromEntries(Array.from({ length: stores }, (_, store) => [storeId(store), PRODUCTS])) };
}

describe(`SEED_DEMO=chain (${STORES} stores × ${PRODUCTS} products)`, () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ env: CHAIN });
  });

  afterAll(async () => {
    await app.close();
  });

  const get = (path: string) => app.http().get(path).set('X-API-Key', 'demo');

  it('creates every chain level, with its starting quantity at version 0, besides store-1’s walkthrough levels', async () => {
    expect(await levelsPerStore(app)).toEqual(expectedPerStore(STORES));
    const rows = await app.connection.db.selectFrom('stock_levels').select(['store_id', 'product_id', 'quantity', 'reserved', 'version']).where('store_id', '!=', 'store-1').execute();
    const expected = new Map<string, { quantity: number; reserved: number; version: number }>();
    for (let store = 0; store < STORES; store += 1) {
      for (let product = 0; product < PRODUCTS; product += 1) {
        expected.set(`${storeId(store)}/${productId(product)}`, { quantity: startingQuantity(store, product), reserved: 0, version: 0 });
      }
    }
    const actual = new Map(rows.map((row) => [`${row.store_id}/${row.product_id}`, { quantity: row.quantity, reserved: row.reserved, version: row.version }]));
    expect(actual.size).toBe(STORES * PRODUCTS);
    expect(actual).toEqual(expected);
    // Seeding writes levels, not changes: the feed starts empty.
    expect((await get('/v1/changes?after=0').expect(200)).body).toEqual({ changes: [], lastSeq: 0 });
  });

  it.each([
    [0, 0, 0],
    [0, 49, 33],
    [6, 12, 190],
    [12, 41, 69],
    [19, 0, 189],
    [19, 49, 22],
  ])('serves store index %i, product index %i with quantity %i through the API', async (store, product, quantity) => {
    expect(startingQuantity(store, product)).toBe(quantity);
    const response = await get(`/v1/stores/${storeId(store)}/inventory/${productId(product)}`).expect(200);
    expect(response.body).toMatchObject({ storeId: storeId(store), productId: productId(product), quantity, reserved: 0, available: quantity, version: 0 });
  });

  it('creates nothing beyond the configured chain, and leaves store-1 as the walkthrough has it', async () => {
    await get(`/v1/stores/${storeId(STORES)}/inventory/${productId(0)}`).expect(404);
    await get(`/v1/stores/${storeId(0)}/inventory/${productId(PRODUCTS)}`).expect(404);
    expect((await get(`/v1/stores/${storeId(STORES)}/inventory`).expect(200)).body.items).toEqual([]);
    const storeOne = (await get('/v1/stores/store-1/inventory?limit=500').expect(200)).body.items as LevelView[];
    expect(storeOne.map(({ productId: id, quantity, version }) => ({ productId: id, quantity, version }))).toEqual(DEMO_LEVELS);
  });

  it('lists one store’s 50 levels page by page, in product order', async () => {
    const store = 6;
    const seen: LevelView[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '?limit=20' : `?limit=20&cursor=${cursor}`;
      const page = (await get(`/v1/stores/${storeId(store)}/inventory${query}`).expect(200)).body as { items: LevelView[]; nextCursor: string | null };
      pageSizes.push(page.items.length);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null && pageSizes.length < 10);
    expect(pageSizes).toEqual([20, 20, 10]);
    expect(seen.map((level) => level.productId)).toEqual(Array.from({ length: PRODUCTS }, (_, product) => productId(product)));
    expect(seen.every((level) => level.storeId === storeId(store))).toBe(true);
    expect(seen.map((level) => level.quantity)).toEqual(Array.from({ length: PRODUCTS }, (_, product) => startingQuantity(store, product)));
    const whole = (await get(`/v1/stores/${storeId(store)}/inventory?limit=500`).expect(200)).body as { items: LevelView[]; nextCursor: string | null };
    expect([whole.items.length, whole.nextCursor]).toEqual([PRODUCTS, null]);
  });

  it('does not seed again when restarted on the same database', async () => {
    // Changed in between: one level through the API, another removed behind the service's back.
    const changed = await postUpdate(app, { storeId: storeId(2), productId: productId(9), delta: -5, version: 0, idempotencyKey: 'chain-change' }).expect(200);
    const before = startingQuantity(2, 9);
    expect(changed.body).toMatchObject({ newQuantity: before - 5, newVersion: 1 });
    await app.connection.db.deleteFrom('stock_levels').where('store_id', '=', storeId(3)).where('product_id', '=', productId(0)).execute();
    await app.close({ keepData: true });

    // A larger chain configured now: a second seeding would add a store.
    app = await startApp({ store: app.store, env: { ...CHAIN, SEED_CHAIN_STORES: String(STORES + 1) } });
    const level = (await get(`/v1/stores/${storeId(2)}/inventory/${productId(9)}`).expect(200)).body as LevelView;
    expect({ quantity: level.quantity, version: level.version }).toEqual({ quantity: before - 5, version: 1 });
    await get(`/v1/stores/${storeId(3)}/inventory/${productId(0)}`).expect(404);
    await get(`/v1/stores/${storeId(STORES)}/inventory/${productId(0)}`).expect(404);
    expect(await levelsPerStore(app)).toEqual({ ...expectedPerStore(STORES), [storeId(3)]: PRODUCTS - 1 });
    // The change is still the only one in the feed.
    const feed = (await get('/v1/changes?after=0').expect(200)).body as { changes: Array<{ idempotencyKey: string }>; lastSeq: number };
    expect(feed.changes.map((change) => change.idempotencyKey)).toEqual(['chain-change']);
  });
});
