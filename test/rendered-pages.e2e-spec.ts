import { sql } from 'kysely';
import { ChangeResponseDto } from '../src/changes/dto/change.dto';
import { encodeCursor } from '../src/common/http/cursor';
import { KyselyChangesRepository } from '../src/changes/persistence/kysely-changes.repository';
import { StockLevelResponseDto } from '../src/inventory/dto/stock-level.dto';
import { toStockLevel } from '../src/inventory/persistence/kysely-inventory.repository';
import { TEST_DIALECT } from './helpers/dialect';
import { insertLevels } from './helpers/direct-database';
import { postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

/**
 * Pages of levels and of history are rendered as JSON by the database (src/database/rendered-json.ts),
 * while single reads go through the response DTOs' `of()`. The two must write the same items: the
 * same fields, in the same order, with the same values — nulls, a clamped `available`, text that
 * JSON must escape — and the pages must still page.
 */
const STORE = 'render-store';
const PRODUCTS = ['R-1', 'R-2', 'R-3', 'R-4', 'R-5'];
/** Printable ASCII a reference may hold, with what JSON escapes. */
const AWKWARD = 'order "7" \\ back/slash <tag> & 100% {json: [1]}';
/** An idempotency key and a request id may hold them too. */
const AWKWARD_KEY = 'render-1 "quoted" \\ \\" key';
const AWKWARD_REQUEST_ID = 'req-"1"\\x';

describe(`pages rendered by the database (${TEST_DIALECT})`, () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
    await insertLevels(app.store, STORE, PRODUCTS, 10);
    // History with and without reason and reference, and a hold (reserved > 0).
    await postUpdate(app, { storeId: STORE, productId: 'R-1', delta: 5, version: 0, idempotencyKey: AWKWARD_KEY, reason: 'received', reference: AWKWARD }, 'demo', { 'X-Request-Id': AWKWARD_REQUEST_ID }).expect(200);
    await postUpdate(app, { storeId: STORE, productId: 'R-1', delta: -3, version: 1, idempotencyKey: 'render-2' }).expect(200);
    await postUpdate(app, { storeId: STORE, productId: 'R-2', delta: -10, version: 0, idempotencyKey: 'render-3', reason: 'sale' }).expect(200);
    await app.http().post('/v1/reservations').set('X-API-Key', 'demo').send({ storeId: STORE, lines: [{ productId: 'R-3', quantity: 4 }], idempotencyKey: 'render-hold' }).expect(201);
  });

  afterAll(async () => {
    await app.close();
  });

  const get = (path: string) => app.http().get(path).set('X-API-Key', 'demo').expect(200);

  it('a page of levels: each item as StockLevelResponseDto.of writes it, field for field and in its order', async () => {
    const rows = await app.connection.db.selectFrom('stock_levels').selectAll().where('store_id', '=', STORE).orderBy('product_id').execute();
    const expected = rows.map((row) => StockLevelResponseDto.of(toStockLevel(row)));
    const response = await get(`/v1/stores/${STORE}/inventory?limit=500`);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const items = (response.body as { items: object[] }).items;
    expect(items).toEqual(expected);
    expect(items.map((item) => Object.keys(item))).toEqual(expected.map((item) => Object.keys(item)));
    expect(items.find((item) => (item as { productId: string }).productId === 'R-3')).toMatchObject({ quantity: 10, reserved: 4, available: 6 });
    expect(response.body).toEqual({ items: expected, nextCursor: null, lastSeq: expect.any(Number) });
  });

  it('a page of history: each entry as ChangeResponseDto.of writes it, nulls and escaped text included', async () => {
    const repository = new KyselyChangesRepository(app.connection);
    const ledger = await repository.range(0, await repository.head(), 1000);
    const expected = ledger
      .filter((change) => change.storeId === STORE && change.productId === 'R-1')
      .reverse()
      .map((change) => ChangeResponseDto.of(change));
    expect(expected.map((item) => item.reference)).toEqual([null, AWKWARD]);
    expect(expected[1].requestId).toBe(AWKWARD_REQUEST_ID);
    const response = await get(`/v1/stores/${STORE}/inventory/R-1/history`);
    const items = (response.body as { items: object[] }).items;
    expect(items).toEqual(expected);
    expect(items.map((item) => Object.keys(item))).toEqual(expected.map((item) => Object.keys(item)));
    expect(response.body).toEqual({ items: expected, nextCursor: null, prunedThroughSeq: 0, retention: '30d' });
  });

  // SQLite keeps the entries in ledger_by_level, not in a column: test/chain-queries shows a page reads them there.
  if (TEST_DIALECT === 'postgres') {
    it('PostgreSQL: each ledger row is appended with its entry, and a row without one gets it written as the page is read', async () => {
      const repository = new KyselyChangesRepository(app.connection);
      const ledger = (await repository.range(0, await repository.head(), 1000)).filter((change) => change.storeId === STORE);
      expect(new Set(ledger.map((change) => change.kind))).toEqual(new Set(['adjust', 'reserve']));
      const { rows } = await sql<{ seq: string; entry: string | null }>`select seq, entry from ledger where store_id = ${STORE} order by seq`.execute(app.connection.db);
      expect(rows.map((row) => row.entry)).toEqual(ledger.map((change) => JSON.stringify(ChangeResponseDto.of(change))));

      // As rows appended before migration 0006, or by an instance of the version before it, are.
      const before = (await get(`/v1/stores/${STORE}/inventory/R-1/history`)).text;
      await sql`update ledger set entry = null where store_id = ${STORE} and product_id = 'R-1'`.execute(app.connection.db);
      expect((await get(`/v1/stores/${STORE}/inventory/R-1/history`)).text).toBe(before);
    });
  }

  it('writes a page with its exact length and type, and HEAD with the same headers and no body', async () => {
    for (const path of [`/v1/stores/${STORE}/inventory?limit=500`, `/v1/stores/${STORE}/inventory/R-1/history`]) {
      const response = await get(path);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.text, 'utf8'));
      const head = await app.http().head(path).set('X-API-Key', 'demo').expect(200);
      expect(head.headers['content-type']).toBe(response.headers['content-type']);
      expect(head.headers['content-length']).toBe(response.headers['content-length']);
      expect(head.text ?? '').toBe('');
    }
  });

  it('pages through levels and history with the cursor, each item once, and an empty page of a known level', async () => {
    const levels: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await get(`/v1/stores/${STORE}/inventory?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)).body as { items: Array<{ productId: string }>; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      levels.push(...page.items.map((item) => item.productId));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(levels).toEqual(PRODUCTS);

    const first = (await get(`/v1/stores/${STORE}/inventory/R-1/history?limit=1`)).body as { items: Array<{ idempotencyKey: string }>; nextCursor: string };
    const second = (await get(`/v1/stores/${STORE}/inventory/R-1/history?limit=1&cursor=${first.nextCursor}`)).body as { items: Array<{ idempotencyKey: string }>; nextCursor: string | null };
    expect([...first.items, ...second.items].map((item) => item.idempotencyKey)).toEqual(['render-2', AWKWARD_KEY]);
    expect(second.nextCursor).toBeNull();
    // A cursor is a ledger position, whichever level it came from: R-2's only entry is newer than R-1's first one.
    const r2 = (await get(`/v1/stores/${STORE}/inventory/R-2/history`)).body as { items: Array<{ seq: number }> };
    expect((await get(`/v1/stores/${STORE}/inventory/R-2/history?cursor=${encodeCursor(r2.items[0].seq + 1)}`)).body).toMatchObject({ items: r2.items });
    expect((await get(`/v1/stores/${STORE}/inventory/R-2/history?cursor=${first.nextCursor}`)).body).toMatchObject({ items: [], nextCursor: null });

    expect((await get(`/v1/stores/${STORE}/inventory/R-5/history`)).body).toEqual({ items: [], nextCursor: null, prunedThroughSeq: 0, retention: '30d' });
    await app.http().get(`/v1/stores/${STORE}/inventory/R-9/history`).set('X-API-Key', 'demo').expect(404);
    expect((await get('/v1/stores/no-such-store/inventory')).body).toEqual({ items: [], nextCursor: null, lastSeq: expect.any(Number) });
  });
});
