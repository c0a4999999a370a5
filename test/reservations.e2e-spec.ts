import { ISO_TIMESTAMP, ledgerRows, postUpdate } from './helpers/inventory-client';
import {
  actOn,
  changesAfter,
  createLevel,
  getReservation,
  historyOf,
  levelOf,
  type LevelView,
  postReservation,
  reserve,
  type ReservationBody,
} from './helpers/reservations';
import { metricSample, metricsOf } from './helpers/metrics';
import { startApp, type TestApp } from './helpers/test-app';
import { waitFor } from './helpers/wait';

const PROBLEM_JSON = /^application\/problem\+json/;

/** What a level's reads show, without its timestamp. */
function stateOf(level: LevelView): Pick<LevelView, 'quantity' | 'reserved' | 'available' | 'version'> {
  return { quantity: level.quantity, reserved: level.reserved, available: level.available, version: level.version };
}

const fieldsOf = (body: { errors?: Array<{ field: string }> }) => (body.errors ?? []).map((error) => error.field);

describe('reservations: holding stock for checkouts', () => {
  let app: TestApp;

  beforeAll(async () => {
    // A default TTL and bounds other than the built-in ones, so the tests see the configured values at work.
    app = await startApp({ env: { RESERVATION_TTL_SECONDS: '1200', RESERVATION_MIN_TTL_SECONDS: '30', RESERVATION_MAX_TTL_SECONDS: '7200' } });
  });

  afterAll(async () => {
    await app.close();
  });

  const state = async (productId: string) => stateOf(await levelOf(app, productId));

  describe('POST /v1/reservations', () => {
    it('holds a cart: 201 with the reservation and its Location; lines of one product added up and sorted; each level reserved and one version on', async () => {
      const before = Date.now();
      const created = await postReservation(app, {
        storeId: 'store-1',
        lines: [
          { productId: 'SKU-002', quantity: 1 },
          { productId: 'SKU-001', quantity: 2 },
          { productId: 'SKU-001', quantity: 1 },
        ],
        ttlSeconds: 600,
        reference: 'cart-8812',
        idempotencyKey: 'checkout-8812',
      })
        .expect(201)
        .expect('Content-Type', /^application\/json/);
      const after = Date.now();
      const body = created.body as ReservationBody;
      expect(body).toEqual({
        reservationId: expect.stringMatching(/^res_[A-Za-z0-9_-]{16}$/),
        storeId: 'store-1',
        status: 'active',
        expiresAt: expect.stringMatching(ISO_TIMESTAMP),
        lines: [
          { productId: 'SKU-001', quantity: 3 },
          { productId: 'SKU-002', quantity: 1 },
        ],
        reference: 'cart-8812',
        createdAt: expect.stringMatching(ISO_TIMESTAMP),
        updatedAt: expect.stringMatching(ISO_TIMESTAMP),
      });
      const createdAt = Date.parse(body.createdAt);
      expect(createdAt).toBeGreaterThanOrEqual(before - 1);
      expect(createdAt).toBeLessThanOrEqual(after + 1);
      expect(body.updatedAt).toBe(body.createdAt);
      expect(Date.parse(body.expiresAt) - createdAt).toBe(600_000);
      expect(created.headers.location).toBe(`/v1/reservations/${body.reservationId}`);
      expect(created.headers['idempotent-replayed']).toBeUndefined();

      // The demo levels: SKU-001 45 units at version 12, SKU-002 23 at version 8.
      expect(await state('SKU-001')).toEqual({ quantity: 45, reserved: 3, available: 42, version: 13 });
      expect(await state('SKU-002')).toEqual({ quantity: 23, reserved: 1, available: 22, version: 9 });
      const product = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
      expect(product.body).toMatchObject({ totalQuantity: 45, totalReserved: 3, totalAvailable: 42 });

      const read = await app.http().get(created.headers.location).set('X-API-Key', 'demo').expect(200);
      expect(read.body).toEqual(body);
    });

    it('lasts the configured RESERVATION_TTL_SECONDS when the request does not say', async () => {
      await createLevel(app, 'TTL-A', 5);
      const held = await reserve(app, { 'TTL-A': 1 });
      expect(Date.parse(held.expiresAt) - Date.parse(held.createdAt)).toBe(1_200_000);
    });

    it('takes ttlSeconds from RESERVATION_MIN_TTL_SECONDS to RESERVATION_MAX_TTL_SECONDS, both included', async () => {
      await createLevel(app, 'TTL-B', 5);
      const shortest = await reserve(app, { 'TTL-B': 1 }, { ttlSeconds: 30 });
      expect(Date.parse(shortest.expiresAt) - Date.parse(shortest.createdAt)).toBe(30_000);
      const longest = await reserve(app, { 'TTL-B': 1 }, { ttlSeconds: 7200 });
      expect(Date.parse(longest.expiresAt) - Date.parse(longest.createdAt)).toBe(7_200_000);
      await actOn(app, shortest.reservationId, 'release').expect(200);
    });

    it('replays a retry with the same key and payload byte for byte, holding nothing twice; another payload under the key is 422', async () => {
      await createLevel(app, 'IDEM-A', 10);
      const body = { storeId: 'store-1', lines: [{ productId: 'IDEM-A', quantity: 2 }], idempotencyKey: 'res-idem-1' };
      const first = await postReservation(app, body).expect(201);
      const again = await postReservation(app, body).expect(201).expect('Idempotent-Replayed', 'true');
      expect(again.text).toBe(first.text);
      expect(again.headers.location).toBe(first.headers.location);
      expect(await state('IDEM-A')).toEqual({ quantity: 10, reserved: 2, available: 8, version: 2 });

      const reused = await postReservation(app, { ...body, lines: [{ productId: 'IDEM-A', quantity: 3 }] })
        .expect(422)
        .expect('Content-Type', PROBLEM_JSON);
      expect(reused.body).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
      expect(await state('IDEM-A')).toEqual({ quantity: 10, reserved: 2, available: 8, version: 2 });
      expect((await historyOf(app, 'IDEM-A')).map((entry) => entry.kind)).toEqual(['reserve', 'create']);
    });

    it('takes the key from the Idempotency-Key header, bare or quoted; missing is 400, a header that differs from the field is 400', async () => {
      await createLevel(app, 'IDEM-B', 10);
      const body = { storeId: 'store-1', lines: [{ productId: 'IDEM-B', quantity: 1 }] };
      const bare = await postReservation(app, body, 'demo', { 'Idempotency-Key': 'res-header-1' }).expect(201);
      const quoted = await postReservation(app, body, 'demo', { 'Idempotency-Key': '"res-header-1"' }).expect(201).expect('Idempotent-Replayed', 'true');
      const field = await postReservation(app, { ...body, idempotencyKey: 'res-header-1' }).expect(201).expect('Idempotent-Replayed', 'true');
      const both = await postReservation(app, { ...body, idempotencyKey: 'res-header-1' }, 'demo', { 'Idempotency-Key': 'res-header-1' })
        .expect(201)
        .expect('Idempotent-Replayed', 'true');
      expect([quoted.text, field.text, both.text]).toEqual([bare.text, bare.text, bare.text]);

      const missing = await postReservation(app, body).expect(400).expect('Content-Type', PROBLEM_JSON);
      expect(missing.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'idempotencyKey', issue: expect.stringContaining('required') }] });
      const differs = await postReservation(app, { ...body, idempotencyKey: 'res-header-2' }, 'demo', { 'Idempotency-Key': 'res-header-3' }).expect(400);
      expect(fieldsOf(differs.body)).toEqual(['Idempotency-Key']);
      expect(await state('IDEM-B')).toEqual({ quantity: 10, reserved: 1, available: 9, version: 2 });

      // A refused request is not kept under its key: corrected, it executes.
      await postReservation(app, { ...body, lines: [{ productId: 'IDEM-B', quantity: 0 }], idempotencyKey: 'res-header-4' }).expect(400);
      const corrected = await postReservation(app, { ...body, idempotencyKey: 'res-header-4' }).expect(201);
      expect(corrected.headers['idempotent-replayed']).toBeUndefined();
      expect(await state('IDEM-B')).toEqual({ quantity: 10, reserved: 2, available: 8, version: 3 });
    });

    it('answers 20 concurrent copies of one request with one hold and the same 201', async () => {
      await createLevel(app, 'IDEM-C', 50);
      const body = { storeId: 'store-1', lines: [{ productId: 'IDEM-C', quantity: 2 }], idempotencyKey: 'res-burst' };
      const answers = await Promise.all(Array.from({ length: 20 }, () => postReservation(app, body)));
      expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 20 }, () => 201));
      expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
      expect(await state('IDEM-C')).toEqual({ quantity: 50, reserved: 2, available: 48, version: 2 });
    });

    it('holds all lines or none: each short line named with requested and available (409), nothing held', async () => {
      await createLevel(app, 'AON-A', 5);
      await createLevel(app, 'AON-B', 2);
      await createLevel(app, 'AON-C', 1);
      const body = {
        storeId: 'store-1',
        lines: [
          { productId: 'AON-C', quantity: 2 },
          { productId: 'AON-A', quantity: 3 },
          { productId: 'AON-B', quantity: 3 },
        ],
        idempotencyKey: 'aon-1',
      };
      const refused = await postReservation(app, body).expect(409).expect('Content-Type', PROBLEM_JSON);
      expect(refused.body).toMatchObject({
        type: '/problems/insufficient-available',
        status: 409,
        code: 'INSUFFICIENT_AVAILABLE',
        lines: [
          { productId: 'AON-B', requested: 3, available: 2 },
          { productId: 'AON-C', requested: 2, available: 1 },
        ],
      });
      expect(refused.body.lines).toHaveLength(2);
      for (const productId of ['AON-A', 'AON-B', 'AON-C']) {
        expect((await levelOf(app, productId)).reserved).toBe(0);
        expect((await levelOf(app, productId)).version).toBe(1);
      }
      // The refusal is a definitive outcome: kept under its key, like an update's 409.
      const retried = await postReservation(app, body).expect(409).expect('Idempotent-Replayed', 'true');
      expect(retried.text).toBe(refused.text);
    });

    it('adds up lines of one product: two lines that fit alone but not together are refused; held units count against available', async () => {
      await createLevel(app, 'SUM-A', 5);
      const twoLines = (first: number, second: number, idempotencyKey: string) => ({
        storeId: 'store-1',
        lines: [
          { productId: 'SUM-A', quantity: first },
          { productId: 'SUM-A', quantity: second },
        ],
        idempotencyKey,
      });
      const refused = await postReservation(app, twoLines(3, 3, 'sum-1')).expect(409);
      expect(refused.body.lines).toEqual([{ productId: 'SUM-A', requested: 6, available: 5 }]);
      expect(await state('SUM-A')).toEqual({ quantity: 5, reserved: 0, available: 5, version: 1 });

      const held = await postReservation(app, twoLines(3, 2, 'sum-2')).expect(201);
      expect(held.body.lines).toEqual([{ productId: 'SUM-A', quantity: 5 }]);
      expect(await state('SUM-A')).toEqual({ quantity: 5, reserved: 5, available: 0, version: 2 });
      expect((await historyOf(app, 'SUM-A')).map((entry) => [entry.kind, entry.reserved])).toEqual([
        ['reserve', 5],
        ['create', 0],
      ]);

      const nothingLeft = await postReservation(app, { storeId: 'store-1', lines: [{ productId: 'SUM-A', quantity: 1 }], idempotencyKey: 'sum-3' }).expect(409);
      expect(nothingLeft.body.lines).toEqual([{ productId: 'SUM-A', requested: 1, available: 0 }]);
    });

    it('refuses lines without a level (404 LEVEL_NOT_FOUND naming productIds), holding nothing', async () => {
      await createLevel(app, 'NF-A', 5);
      const missing = await postReservation(app, {
        storeId: 'store-1',
        lines: [
          { productId: 'NF-A', quantity: 1 },
          { productId: 'NF-MISSING-2', quantity: 1 },
          { productId: 'NF-MISSING-1', quantity: 1 },
        ],
        idempotencyKey: 'nf-1',
      })
        .expect(404)
        .expect('Content-Type', PROBLEM_JSON);
      expect(missing.body).toMatchObject({ status: 404, code: 'LEVEL_NOT_FOUND', productIds: ['NF-MISSING-1', 'NF-MISSING-2'] });
      expect(await state('NF-A')).toEqual({ quantity: 5, reserved: 0, available: 5, version: 1 });
      // A level of another store is not one of this store.
      const otherStore = await postReservation(app, { storeId: 'store-2', lines: [{ productId: 'NF-A', quantity: 1 }], idempotencyKey: 'nf-2' }).expect(404);
      expect(otherStore.body.productIds).toEqual(['NF-A']);
    });

    const line = { productId: 'VAL-A', quantity: 1 };
    it.each([
      ['no lines', { lines: [] }, 'lines'],
      ['lines missing', { lines: undefined }, 'lines'],
      ['lines not an array', { lines: line }, 'lines'],
      ['101 lines', { lines: Array.from({ length: 101 }, (_, index) => ({ productId: `VAL-${index}`, quantity: 1 })) }, 'lines'],
      ['a quantity of 0', { lines: [line, { productId: 'VAL-A', quantity: 0 }] }, 'lines[1].quantity'],
      ['a negative quantity', { lines: [{ productId: 'VAL-A', quantity: -1 }] }, 'lines[0].quantity'],
      ['a fractional quantity', { lines: [{ productId: 'VAL-A', quantity: 1.5 }] }, 'lines[0].quantity'],
      ['a quantity as a string', { lines: [{ productId: 'VAL-A', quantity: '1' }] }, 'lines[0].quantity'],
      ['a bad productId', { lines: [{ productId: 'VAL A', quantity: 1 }] }, 'lines[0].productId'],
      ['an unknown field in a line', { lines: [{ ...line, price: 3 }] }, 'lines[0].price'],
      ['an unknown field', { lines: [line], version: 1 }, 'version'],
      ['no storeId', { storeId: undefined, lines: [line] }, 'storeId'],
      ['ttlSeconds below RESERVATION_MIN_TTL_SECONDS', { lines: [line], ttlSeconds: 29 }, 'ttlSeconds'],
      ['ttlSeconds above RESERVATION_MAX_TTL_SECONDS', { lines: [line], ttlSeconds: 7201 }, 'ttlSeconds'],
      ['ttlSeconds 0', { lines: [line], ttlSeconds: 0 }, 'ttlSeconds'],
      ['ttlSeconds null', { lines: [line], ttlSeconds: null }, 'ttlSeconds'],
      ['ttlSeconds fractional', { lines: [line], ttlSeconds: 60.5 }, 'ttlSeconds'],
      ['an empty reference', { lines: [line], reference: '' }, 'reference'],
      ['a numeric idempotencyKey', { lines: [line], idempotencyKey: 7 }, 'idempotencyKey'],
      ['a line that is an array of lines', { lines: [[line]] }, 'lines'],
      ['a valid line and an array', { lines: [line, []] }, 'lines'],
    ])('refuses %s with 400 naming %s, changing nothing', async (_name, overrides, field) => {
      if ((await app.http().get('/v1/stores/store-1/inventory/VAL-A').set('X-API-Key', 'demo')).status === 404) {
        await createLevel(app, 'VAL-A', 5);
      }
      const ledgerBefore = (await ledgerRows(app)).length;
      const response = await postReservation(app, { storeId: 'store-1', idempotencyKey: `val-${field}`, ...overrides })
        .expect(400)
        .expect('Content-Type', PROBLEM_JSON);
      expect(response.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(fieldsOf(response.body)).toEqual([field]);
      expect((await ledgerRows(app)).length).toBe(ledgerBefore);
      expect(await state('VAL-A')).toEqual({ quantity: 5, reserved: 0, available: 5, version: 1 });
    });

    it('says in its own words what is wrong with a body or a field of the wrong type', async () => {
      const lines = await postReservation(app, { storeId: 'store-1', lines: null, idempotencyKey: 'lines-null' }).expect(400);
      expect(lines.body.errors).toEqual([{ field: 'lines', issue: 'must be an array of 1-100 lines' }]);
      const commit = await app.http().post('/v1/reservations/res_AAAAAAAAAAAAAAAA/commit').set('X-API-Key', 'demo').send([]).expect(400);
      expect(commit.body.errors).toEqual([{ field: 'body', issue: 'must be a JSON object' }]);
      const created = await postReservation(app, [{ storeId: 'store-1', lines: [{ productId: 'VAL-A', quantity: 1 }] }]).expect(400);
      expect(created.body.errors).toEqual([{ field: 'body', issue: 'must be a JSON object' }]);
      const extended = await app.http().post('/v1/reservations/res_AAAAAAAAAAAAAAAA/extend').set('X-API-Key', 'demo').send([{ ttlSeconds: 120 }]).expect(400);
      expect(extended.body.errors).toEqual([{ field: 'body', issue: 'must be a JSON object' }]);
    });

    it('names the configured ttlSeconds range, never a wider one', async () => {
      const issueOf = async (ttlSeconds: unknown) =>
        ((await postReservation(app, { storeId: 'store-1', lines: [{ productId: 'VAL-A', quantity: 1 }], ttlSeconds, idempotencyKey: 'ttl-range' }).expect(400)).body.errors as Array<{ issue: string }>)[0].issue;
      expect(await issueOf(30 * 86_400)).toBe('must be from 30 to 7200 seconds');
      expect(await issueOf(29)).toBe('must be from 30 to 7200 seconds');
      expect(await issueOf(60.5)).toBe('must be a whole number of seconds');
      expect(await issueOf('600')).toBe('must be a whole number of seconds');
    });

    it('is for keys of the store only: 403 for another store’s key, 401 without a key', async () => {
      await createLevel(app, 'ACC-A', 5);
      const body = { storeId: 'store-1', lines: [{ productId: 'ACC-A', quantity: 1 }], idempotencyKey: 'acc-1' };
      const forbidden = await postReservation(app, body, 'pos2').expect(403).expect('Content-Type', PROBLEM_JSON);
      expect(forbidden.body.code).toBe('STORE_FORBIDDEN');
      const anonymous = await app.http().post('/v1/reservations').send(body).expect(401);
      expect(anonymous.body.code).toBe('UNAUTHENTICATED');
      await postReservation(app, body, 'unknown-key').expect(401);
      expect(await state('ACC-A')).toEqual({ quantity: 5, reserved: 0, available: 5, version: 1 });
      // The store's own key may.
      await postReservation(app, body, 'pos1').expect(201);
      expect(await state('ACC-A')).toEqual({ quantity: 5, reserved: 1, available: 4, version: 2 });
    });

    it('holds while stock lasts under concurrency: 30 carts for 20 units, 20 held and 10 refused, no version conflicts, versions gap-free', async () => {
      await createLevel(app, 'HOT-A', 20);
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, index) => postReservation(app, { storeId: 'store-1', lines: [{ productId: 'HOT-A', quantity: 1 }], idempotencyKey: `hot-${index}` })),
      );
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(20);
      expect(answers.filter((answer) => answer.status === 409).map((answer): unknown => answer.body.code)).toEqual(Array.from({ length: 10 }, () => 'INSUFFICIENT_AVAILABLE'));
      expect(await state('HOT-A')).toEqual({ quantity: 20, reserved: 20, available: 0, version: 21 });
      const holds = (await historyOf(app, 'HOT-A')).filter((entry) => entry.kind === 'reserve');
      expect(holds.map((entry) => entry.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index + 2));
      expect(holds.map((entry) => entry.reserved).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    });
  });

  describe('GET /v1/reservations/:id', () => {
    it('answers the reservation to keys of its store: 200, 403 for another store’s key, 401 without a key, 404 for an unknown id', async () => {
      await createLevel(app, 'GET-A', 5);
      const held = await reserve(app, { 'GET-A': 2 }, { reference: 'cart-get' });
      const read = await getReservation(app, held.reservationId, 'pos1').expect(200);
      expect(read.body).toEqual(held);

      const forbidden = await getReservation(app, held.reservationId, 'pos2').expect(403);
      expect(forbidden.body.code).toBe('STORE_FORBIDDEN');
      await app.http().get(`/v1/reservations/${held.reservationId}`).expect(401);
      const unknown = await getReservation(app, 'res_AAAAAAAAAAAAAAAA').expect(404).expect('Content-Type', PROBLEM_JSON);
      expect(unknown.body).toMatchObject({ status: 404, code: 'RESERVATION_NOT_FOUND', type: '/problems/reservation-not-found' });
      const malformed = await getReservation(app, 'res%20x').expect(400);
      expect(fieldsOf(malformed.body)).toEqual(['reservationId']);
    });
  });

  describe('POST /v1/reservations/:id/commit', () => {
    it('sells everything held: on hand and reserved drop by the units, a commit entry per line with the reservation id', async () => {
      await createLevel(app, 'COM-A', 10);
      await createLevel(app, 'COM-B', 4);
      const held = await reserve(app, { 'COM-A': 2, 'COM-B': 1 }, { reference: 'order-1' });
      const committed = await actOn(app, held.reservationId, 'commit').expect(200).expect('Content-Type', /^application\/json/);
      expect(committed.body).toEqual({
        ...held,
        status: 'committed',
        lines: [
          { productId: 'COM-A', quantity: 2, committed: 2 },
          { productId: 'COM-B', quantity: 1, committed: 1 },
        ],
        updatedAt: expect.stringMatching(ISO_TIMESTAMP),
      });
      expect(await state('COM-A')).toEqual({ quantity: 8, reserved: 0, available: 8, version: 3 });
      expect(await state('COM-B')).toEqual({ quantity: 3, reserved: 0, available: 3, version: 3 });
      expect((await historyOf(app, 'COM-A'))[0]).toMatchObject({ kind: 'commit', delta: -2, quantity: 8, reserved: 0, version: 3, reservationId: held.reservationId, reference: 'order-1' });
      expect((await historyOf(app, 'COM-B'))[0]).toMatchObject({ kind: 'commit', delta: -1, quantity: 3, reserved: 0, version: 3, reservationId: held.reservationId });
      expect((await getReservation(app, held.reservationId).expect(200)).body).toEqual(committed.body);
    });

    it('sells fewer units with lines; a product left out sells none and its hold is released; the same commit again answers the same', async () => {
      await createLevel(app, 'PART-A', 10);
      await createLevel(app, 'PART-B', 4);
      const held = await reserve(app, { 'PART-A': 3, 'PART-B': 2 });
      const committed = await actOn(app, held.reservationId, 'commit', { lines: [{ productId: 'PART-A', quantity: 1 }] }).expect(200);
      expect(committed.body).toMatchObject({
        status: 'committed',
        lines: [
          { productId: 'PART-A', quantity: 3, committed: 1 },
          { productId: 'PART-B', quantity: 2, committed: 0 },
        ],
      });
      expect(await state('PART-A')).toEqual({ quantity: 9, reserved: 0, available: 9, version: 3 });
      expect(await state('PART-B')).toEqual({ quantity: 4, reserved: 0, available: 4, version: 3 });
      expect((await historyOf(app, 'PART-A'))[0]).toMatchObject({ kind: 'commit', delta: -1, reserved: 0, reservationId: held.reservationId });
      expect((await historyOf(app, 'PART-B'))[0]).toMatchObject({ kind: 'release', delta: 0, quantity: 4, reserved: 0, reservationId: held.reservationId });

      // Repeated, as sent or spelled out (a product at 0 is a product left out): the same answer, nothing changes.
      const repeated = await actOn(app, held.reservationId, 'commit', { lines: [{ productId: 'PART-A', quantity: 1 }] }).expect(200);
      expect(repeated.text).toBe(committed.text);
      const spelledOut = await actOn(app, held.reservationId, 'commit', {
        lines: [
          { productId: 'PART-B', quantity: 0 },
          { productId: 'PART-A', quantity: 1 },
        ],
      }).expect(200);
      expect(spelledOut.text).toBe(committed.text);
      expect((await state('PART-A')).version).toBe(3);
      expect((await state('PART-B')).version).toBe(3);

      // Another commit of a committed reservation is refused.
      const other = await actOn(app, held.reservationId, 'commit', { lines: [{ productId: 'PART-A', quantity: 2 }] }).expect(409).expect('Content-Type', PROBLEM_JSON);
      expect(other.body).toMatchObject({ status: 409, code: 'RESERVATION_NOT_ACTIVE', reservationStatus: 'committed' });
      expect((await state('PART-A')).version).toBe(3);
    });

    it('repeats a full commit with the same answer and changes nothing', async () => {
      await createLevel(app, 'REP-A', 6);
      const held = await reserve(app, { 'REP-A': 2 });
      const committed = await actOn(app, held.reservationId, 'commit').expect(200);
      const again = await actOn(app, held.reservationId, 'commit').expect(200);
      expect(again.text).toBe(committed.text);
      expect(await state('REP-A')).toEqual({ quantity: 4, reserved: 0, available: 4, version: 3 });
      expect((await historyOf(app, 'REP-A')).map((entry) => entry.kind)).toEqual(['commit', 'reserve', 'create']);
    });

    it('refuses to commit a released reservation (409 RESERVATION_NOT_ACTIVE, status released)', async () => {
      await createLevel(app, 'CREL-A', 6);
      const held = await reserve(app, { 'CREL-A': 2 });
      await actOn(app, held.reservationId, 'release').expect(200);
      const refused = await actOn(app, held.reservationId, 'commit').expect(409).expect('Content-Type', PROBLEM_JSON);
      expect(refused.body).toMatchObject({ code: 'RESERVATION_NOT_ACTIVE', type: '/problems/reservation-not-active' });
      expect(refused.body).toMatchObject({ status: 409, reservationStatus: 'released' });
      expect(await state('CREL-A')).toEqual({ quantity: 6, reserved: 0, available: 6, version: 3 });
    });

    it('refuses lines that are not held with 400 naming each line as sent, and changes nothing', async () => {
      await createLevel(app, 'BAD-A', 10);
      await createLevel(app, 'BAD-B', 10);
      const held = await reserve(app, { 'BAD-A': 2, 'BAD-B': 1 });
      const cases: Array<[unknown, string[]]> = [
        [{ lines: [{ productId: 'BAD-Z', quantity: 1 }, { productId: 'BAD-A', quantity: 1 }] }, ['lines[0].productId']],
        [{ lines: [{ productId: 'BAD-B', quantity: 1 }, { productId: 'BAD-A', quantity: 3 }] }, ['lines[1].quantity']],
        [{ lines: [{ productId: 'BAD-A', quantity: 1 }, { productId: 'BAD-B', quantity: 1 }, { productId: 'BAD-A', quantity: 2 }] }, ['lines[2].quantity']],
        [{ lines: [] }, ['lines']],
        [{ lines: [{ productId: 'BAD-A', quantity: -1 }] }, ['lines[0].quantity']],
        [{ lines: [{ productId: 'BAD-A', quantity: 1, price: 2 }] }, ['lines[0].price']],
        [{ sell: true }, ['sell']],
      ];
      for (const [body, fields] of cases) {
        const refused = await actOn(app, held.reservationId, 'commit', body).expect(400).expect('Content-Type', PROBLEM_JSON);
        expect({ body, fields: fieldsOf(refused.body) }).toEqual({ body, fields });
        expect(refused.body.code).toBe('VALIDATION_FAILED');
      }
      expect(await state('BAD-A')).toEqual({ quantity: 10, reserved: 2, available: 8, version: 2 });
      expect((await getReservation(app, held.reservationId)).body.status).toBe('active');
      // Still active: a valid commit goes through.
      await actOn(app, held.reservationId, 'commit', { lines: [{ productId: 'BAD-A', quantity: 2 }] }).expect(200);
    });

    it('is 404 RESERVATION_NOT_FOUND for an unknown id, 403 for another store’s key, 401 without a key', async () => {
      const unknown = await actOn(app, 'res_AAAAAAAAAAAAAAAA', 'commit').expect(404).expect('Content-Type', PROBLEM_JSON);
      expect(unknown.body.code).toBe('RESERVATION_NOT_FOUND');
      await createLevel(app, 'COMACC-A', 5);
      const held = await reserve(app, { 'COMACC-A': 1 });
      expect((await actOn(app, held.reservationId, 'commit', undefined, 'pos2').expect(403)).body.code).toBe('STORE_FORBIDDEN');
      await app.http().post(`/v1/reservations/${held.reservationId}/commit`).expect(401);
      expect(await state('COMACC-A')).toEqual({ quantity: 5, reserved: 1, available: 4, version: 2 });
    });
  });

  describe('POST /v1/reservations/:id/release', () => {
    it('gives the held units back (200, a release entry), answers a repeat the same, and refuses a body with fields', async () => {
      await createLevel(app, 'REL-A', 6);
      await createLevel(app, 'REL-B', 3);
      const held = await reserve(app, { 'REL-A': 4, 'REL-B': 3 });
      expect(await state('REL-B')).toEqual({ quantity: 3, reserved: 3, available: 0, version: 2 });

      const withFields = await actOn(app, held.reservationId, 'release', { reason: 'abandoned' }).expect(400).expect('Content-Type', PROBLEM_JSON);
      expect(fieldsOf(withFields.body)).toEqual(['reason']);
      expect((await state('REL-A')).reserved).toBe(4);

      const released = await actOn(app, held.reservationId, 'release', {}).expect(200);
      expect(released.body).toEqual({ ...held, status: 'released', updatedAt: expect.stringMatching(ISO_TIMESTAMP) });
      expect(await state('REL-A')).toEqual({ quantity: 6, reserved: 0, available: 6, version: 3 });
      expect(await state('REL-B')).toEqual({ quantity: 3, reserved: 0, available: 3, version: 3 });
      expect((await historyOf(app, 'REL-A'))[0]).toMatchObject({ kind: 'release', delta: 0, quantity: 6, reserved: 0, available: 6, version: 3, reservationId: held.reservationId });

      const again = await actOn(app, held.reservationId, 'release').expect(200);
      expect(again.text).toBe(released.text);
      expect((await state('REL-A')).version).toBe(3);
      // The units are there to hold again.
      await reserve(app, { 'REL-B': 3 });
    });

    it('refuses to release a committed reservation (409 RESERVATION_NOT_ACTIVE, status committed)', async () => {
      await createLevel(app, 'RELC-A', 6);
      const held = await reserve(app, { 'RELC-A': 2 });
      await actOn(app, held.reservationId, 'commit').expect(200);
      const refused = await actOn(app, held.reservationId, 'release').expect(409).expect('Content-Type', PROBLEM_JSON);
      expect(refused.body.code).toBe('RESERVATION_NOT_ACTIVE');
      expect(refused.body).toMatchObject({ status: 409, reservationStatus: 'committed' });
      expect(await state('RELC-A')).toEqual({ quantity: 4, reserved: 0, available: 4, version: 3 });
    });

    it('is 404 for an unknown id and 403 for another store’s key', async () => {
      expect((await actOn(app, 'res_AAAAAAAAAAAAAAAA', 'release').expect(404)).body.code).toBe('RESERVATION_NOT_FOUND');
      await createLevel(app, 'RELACC-A', 5);
      const held = await reserve(app, { 'RELACC-A': 1 });
      await actOn(app, held.reservationId, 'release', undefined, 'pos2').expect(403);
      expect((await state('RELACC-A')).reserved).toBe(1);
    });
  });

  describe('POST /v1/reservations/:id/extend', () => {
    it('holds for ttlSeconds from now (200, an extend entry per line), within the configured bounds', async () => {
      await createLevel(app, 'EXT-A', 5);
      await createLevel(app, 'EXT-B', 5);
      const held = await reserve(app, { 'EXT-A': 1, 'EXT-B': 2 }, { ttlSeconds: 60 });
      for (const [body, field] of [
        [{ ttlSeconds: 29 }, 'ttlSeconds'],
        [{ ttlSeconds: 7201 }, 'ttlSeconds'],
        [{}, 'ttlSeconds'],
        [{ ttlSeconds: '600' }, 'ttlSeconds'],
        [{ ttlSeconds: 600, until: 'later' }, 'until'],
      ] as const) {
        const refused = await actOn(app, held.reservationId, 'extend', body).expect(400);
        expect({ body, fields: fieldsOf(refused.body) }).toEqual({ body, fields: [field] });
      }
      expect((await state('EXT-A')).version).toBe(2);

      const before = Date.now();
      const extended = await actOn(app, held.reservationId, 'extend', { ttlSeconds: 3600 }).expect(200);
      const body = extended.body as ReservationBody;
      expect(body).toEqual({ ...held, expiresAt: expect.stringMatching(ISO_TIMESTAMP), updatedAt: expect.stringMatching(ISO_TIMESTAMP) });
      expect(Date.parse(body.expiresAt) - Date.parse(body.updatedAt)).toBe(3_600_000);
      expect(Date.parse(body.updatedAt)).toBeGreaterThanOrEqual(before - 1);
      expect(await state('EXT-A')).toEqual({ quantity: 5, reserved: 1, available: 4, version: 3 });
      expect(await state('EXT-B')).toEqual({ quantity: 5, reserved: 2, available: 3, version: 3 });
      expect((await historyOf(app, 'EXT-B'))[0]).toMatchObject({ kind: 'extend', delta: 0, quantity: 5, reserved: 2, version: 3, reservationId: held.reservationId });
      expect((await getReservation(app, held.reservationId)).body.expiresAt).toBe(body.expiresAt);
    });

    it('refuses to extend a committed or released reservation (409 RESERVATION_NOT_ACTIVE with its status), 404 for an unknown id', async () => {
      await createLevel(app, 'EXTN-A', 5);
      const committed = await reserve(app, { 'EXTN-A': 1 });
      await actOn(app, committed.reservationId, 'commit').expect(200);
      const afterCommit = await actOn(app, committed.reservationId, 'extend', { ttlSeconds: 600 }).expect(409);
      expect(afterCommit.body.code).toBe('RESERVATION_NOT_ACTIVE');
      expect(afterCommit.body).toMatchObject({ status: 409, reservationStatus: 'committed' });

      const released = await reserve(app, { 'EXTN-A': 1 });
      await actOn(app, released.reservationId, 'release').expect(200);
      const afterRelease = await actOn(app, released.reservationId, 'extend', { ttlSeconds: 600 }).expect(409);
      expect(afterRelease.body.code).toBe('RESERVATION_NOT_ACTIVE');
      expect(afterRelease.body).toMatchObject({ status: 409, reservationStatus: 'released' });
      expect(await state('EXTN-A')).toEqual({ quantity: 4, reserved: 0, available: 4, version: 5 });

      expect((await actOn(app, 'res_AAAAAAAAAAAAAAAA', 'extend', { ttlSeconds: 600 }).expect(404)).body.code).toBe('RESERVATION_NOT_FOUND');
      await actOn(app, committed.reservationId, 'extend', { ttlSeconds: 600 }, 'pos2').expect(403);
    });
  });

  describe('promises kept', () => {
    it('refuses an update decrease that would take available below zero (409 INSUFFICIENT_STOCK naming available)', async () => {
      await createLevel(app, 'PROM-A', 5);
      await reserve(app, { 'PROM-A': 3 });
      const refused = await postUpdate(app, { storeId: 'store-1', productId: 'PROM-A', delta: -3, version: 2, idempotencyKey: 'prom-1' }).expect(409);
      expect(refused.body).toEqual({
        productId: 'PROM-A',
        applied: false,
        error: 'insufficient stock: available 2, requested 3',
        code: 'INSUFFICIENT_STOCK',
        currentVersion: 2,
        currentQuantity: 5,
        available: 2,
      });
      const sold = await postUpdate(app, { storeId: 'store-1', productId: 'PROM-A', delta: -2, version: 2, idempotencyKey: 'prom-2' }).expect(200);
      expect(sold.body).toMatchObject({ newQuantity: 3, newVersion: 3 });
      expect(await state('PROM-A')).toEqual({ quantity: 3, reserved: 3, available: 0, version: 3 });
    });

    it('refuses an admin set below what is reserved (409 QUANTITY_BELOW_RESERVED), and takes one down to it', async () => {
      await createLevel(app, 'PROM-B', 5);
      await reserve(app, { 'PROM-B': 3 });
      const put = (quantity: number) => app.http().put('/v1/stores/store-1/inventory/PROM-B').set('X-API-Key', 'ops').send({ quantity, version: 2 });
      const refused = await put(2).expect(409).expect('Content-Type', PROBLEM_JSON);
      expect(refused.body).toMatchObject({ status: 409, code: 'QUANTITY_BELOW_RESERVED', type: '/problems/quantity-below-reserved', reserved: 3, currentVersion: 2 });
      expect(await state('PROM-B')).toEqual({ quantity: 5, reserved: 3, available: 2, version: 2 });
      const set = await put(3).expect(200);
      expect(set.body).toMatchObject({ quantity: 3, reserved: 3, available: 0, version: 3 });
    });
  });

  it('records every hold, extension, commit and release as a ledger entry of its kind, one version each, in the history and the change feed', async () => {
    await createLevel(app, 'LED-A', 10);
    await createLevel(app, 'LED-B', 7);
    const head = (await changesAfter(app, 0)).at(-1)!.seq;
    const sale = await reserve(app, { 'LED-A': 2 }, { key: 'led-sale', reference: 'cart-led' });
    await actOn(app, sale.reservationId, 'extend', { ttlSeconds: 600 }).expect(200);
    await actOn(app, sale.reservationId, 'commit').expect(200);
    const abandoned = await reserve(app, { 'LED-B': 3 });
    await actOn(app, abandoned.reservationId, 'release').expect(200);

    const pick = (entry: { kind: string; delta: number; quantity: number; reserved: number; available: number; version: number; reservationId: string | null }) => ({
      kind: entry.kind,
      delta: entry.delta,
      quantity: entry.quantity,
      reserved: entry.reserved,
      available: entry.available,
      version: entry.version,
      reservationId: entry.reservationId,
    });
    const saleId = sale.reservationId;
    const abandonedId = abandoned.reservationId;
    expect((await historyOf(app, 'LED-A')).map(pick)).toEqual([
      { kind: 'commit', delta: -2, quantity: 8, reserved: 0, available: 8, version: 4, reservationId: saleId },
      { kind: 'extend', delta: 0, quantity: 10, reserved: 2, available: 8, version: 3, reservationId: saleId },
      { kind: 'reserve', delta: 0, quantity: 10, reserved: 2, available: 8, version: 2, reservationId: saleId },
      { kind: 'create', delta: 10, quantity: 10, reserved: 0, available: 10, version: 1, reservationId: null },
    ]);
    const changes = await changesAfter(app, head);
    expect(changes.map(pick)).toEqual([
      { kind: 'reserve', delta: 0, quantity: 10, reserved: 2, available: 8, version: 2, reservationId: saleId },
      { kind: 'extend', delta: 0, quantity: 10, reserved: 2, available: 8, version: 3, reservationId: saleId },
      { kind: 'commit', delta: -2, quantity: 8, reserved: 0, available: 8, version: 4, reservationId: saleId },
      { kind: 'reserve', delta: 0, quantity: 7, reserved: 3, available: 4, version: 2, reservationId: abandonedId },
      { kind: 'release', delta: 0, quantity: 7, reserved: 0, available: 7, version: 3, reservationId: abandonedId },
    ]);
    expect(changes[0]).toMatchObject({ productId: 'LED-A', idempotencyKey: 'led-sale', reference: 'cart-led' });
    expect(changes.map((change) => change.seq)).toEqual(Array.from({ length: 5 }, (_, index) => head + 1 + index));
  });
});

describe('reservation metrics', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('counts operations by outcome and the active reservations', async () => {
    await createLevel(app, 'MET-A', 10);
    await createLevel(app, 'MET-B', 1);
    const operations = (text: string, operation: string, outcome: string) => metricSample(text, 'inventory_reservation_operations_total', { operation, outcome }) ?? 0;
    const body = { storeId: 'store-1', lines: [{ productId: 'MET-A', quantity: 2 }], idempotencyKey: 'met-1' };
    const first = (await postReservation(app, body).expect(201)).body as ReservationBody;
    await postReservation(app, body).expect(201);
    await postReservation(app, { ...body, lines: [{ productId: 'MET-A', quantity: 3 }] }).expect(422);
    await postReservation(app, { storeId: 'store-1', lines: [{ productId: 'MET-B', quantity: 2 }], idempotencyKey: 'met-2' }).expect(409);
    const second = await reserve(app, { 'MET-A': 1 });

    // The sweeper counts the active reservations on its passes (every second here).
    let text = await waitFor('the sweeper to count 2 active reservations', async () => {
      const scraped = await metricsOf(app);
      return metricSample(scraped, 'inventory_reservations_active') === 2 && scraped;
    });
    expect(operations(text, 'reserve', 'ok')).toBe(2);
    expect(operations(text, 'reserve', 'replayed')).toBe(1);
    expect(operations(text, 'reserve', 'key_reused')).toBe(1);
    expect(operations(text, 'reserve', 'INSUFFICIENT_AVAILABLE')).toBe(1);

    await actOn(app, first.reservationId, 'extend', { ttlSeconds: 600 }).expect(200);
    await actOn(app, first.reservationId, 'commit').expect(200);
    await actOn(app, second.reservationId, 'release').expect(200);
    await actOn(app, second.reservationId, 'release').expect(200);
    await actOn(app, second.reservationId, 'commit').expect(409);
    await actOn(app, first.reservationId, 'extend', { ttlSeconds: 600 }).expect(409);

    text = await waitFor('the sweeper to count no active reservation', async () => {
      const scraped = await metricsOf(app);
      return metricSample(scraped, 'inventory_reservations_active') === 0 && scraped;
    });
    expect(operations(text, 'extend', 'ok')).toBe(1);
    expect(operations(text, 'commit', 'ok')).toBe(1);
    expect(operations(text, 'release', 'ok')).toBe(2);
    expect(operations(text, 'commit', 'RESERVATION_NOT_ACTIVE')).toBe(1);
    expect(operations(text, 'extend', 'RESERVATION_NOT_ACTIVE')).toBe(1);
    expect(metricSample(text, 'inventory_reservation_holds_expired_total')).toBe(0);
  });
});

describe('reservation expiry with the sweeper off', () => {
  let app: TestApp;

  beforeAll(async () => {
    // One-second holds; the sweeper's first pass is ten minutes away, so only transactions give holds back.
    app = await startApp({ env: { RESERVATION_MIN_TTL_SECONDS: '1', RESERVATION_SWEEP_INTERVAL_MS: '600000' } });
  });

  afterAll(async () => {
    await app.close();
  });

  const state = async (productId: string) => stateOf(await levelOf(app, productId));

  async function expired(held: ReservationBody): Promise<ReservationBody> {
    return waitFor(`reservation ${held.reservationId} to expire`, async () => {
      const read = await getReservation(app, held.reservationId).expect(200);
      return read.body.status === 'expired' && (read.body as ReservationBody);
    });
  }

  it('shows a reservation past expiresAt as expired; the level keeps the hold until a transaction locks it, which gives it back first (one expire entry)', async () => {
    await createLevel(app, 'EXP-A', 5);
    const first = await reserve(app, { 'EXP-A': 5 }, { ttlSeconds: 1 });
    const read = await expired(first);
    expect(read).toEqual({ ...first, status: 'expired' });
    expect(Date.parse(read.expiresAt)).toBeLessThanOrEqual(Date.now());
    // Nothing has touched the level yet.
    expect(await state('EXP-A')).toEqual({ quantity: 5, reserved: 5, available: 0, version: 2 });

    // The expired hold does not block a new one: the transaction gives it back first.
    const second = await reserve(app, { 'EXP-A': 5 }, { ttlSeconds: 600 });
    expect(await state('EXP-A')).toEqual({ quantity: 5, reserved: 5, available: 0, version: 4 });
    expect((await historyOf(app, 'EXP-A')).map((entry) => [entry.kind, entry.reserved, entry.version, entry.reservationId])).toEqual([
      ['reserve', 5, 4, second.reservationId],
      ['expire', 0, 3, first.reservationId],
      ['reserve', 5, 2, first.reservationId],
      ['create', 0, 1, null],
    ]);
    expect((await historyOf(app, 'EXP-A'))[1]).toMatchObject({ delta: 0, quantity: 5, available: 5, requestId: null });
    // Touched again, the hold is not given back twice.
    await actOn(app, second.reservationId, 'release').expect(200);
    expect((await historyOf(app, 'EXP-A')).filter((entry) => entry.kind === 'expire')).toHaveLength(1);
    expect(await state('EXP-A')).toEqual({ quantity: 5, reserved: 0, available: 5, version: 5 });
    expect(metricSample(await metricsOf(app), 'inventory_reservation_holds_expired_total')).toBe(1);
  });

  it('applies an update decrement at the version read, though an expired hold is given back first', async () => {
    await createLevel(app, 'EXP-B', 3);
    const held = await reserve(app, { 'EXP-B': 3 }, { ttlSeconds: 1 });
    await expired(held);
    const read = await levelOf(app, 'EXP-B');
    expect(stateOf(read)).toEqual({ quantity: 3, reserved: 3, available: 0, version: 2 });

    // A client sells the 3 units at the version it read. The expiry, given back in the same
    // transaction, is a change of its own (one version) that the client could not have seen: the
    // sale applies at once, neither refused for stock nor for its version.
    const answer = await postUpdate(app, { storeId: 'store-1', productId: 'EXP-B', delta: -3, version: read.version, idempotencyKey: 'exp-b-1' });
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: expect.objectContaining({ applied: true, newQuantity: 0, newVersion: 4 }) });
    expect(await state('EXP-B')).toEqual({ quantity: 0, reserved: 0, available: 0, version: 4 });
    expect((await historyOf(app, 'EXP-B')).map((entry) => [entry.kind, entry.delta, entry.reserved, entry.version])).toEqual([
      ['adjust', -3, 0, 4],
      ['expire', 0, 0, 3],
      ['reserve', 0, 3, 2],
      ['create', 3, 0, 1],
    ]);
  });

  it('commits an expired reservation while its units are available, taking them at once', async () => {
    await createLevel(app, 'EXP-C', 5);
    const held = await reserve(app, { 'EXP-C': 2 }, { ttlSeconds: 1 });
    await expired(held);
    const committed = await actOn(app, held.reservationId, 'commit').expect(200);
    expect(committed.body).toMatchObject({ status: 'committed', lines: [{ productId: 'EXP-C', quantity: 2, committed: 2 }] });
    expect(await state('EXP-C')).toEqual({ quantity: 3, reserved: 0, available: 3, version: 4 });
    expect((await historyOf(app, 'EXP-C')).map((entry) => [entry.kind, entry.delta, entry.quantity, entry.reserved, entry.reservationId])).toEqual([
      ['commit', -2, 3, 0, held.reservationId],
      ['expire', 0, 5, 0, held.reservationId],
      ['reserve', 0, 5, 2, held.reservationId],
      ['create', 5, 5, 0, null],
    ]);
  });

  it('refuses to commit an expired reservation whose units were sold meanwhile (409 RESERVATION_EXPIRED naming the short lines), changing nothing', async () => {
    await createLevel(app, 'EXP-D', 2);
    await createLevel(app, 'EXP-E', 5);
    const late = await reserve(app, { 'EXP-D': 2, 'EXP-E': 1 }, { ttlSeconds: 1 });
    await expired(late);
    // Someone else buys EXP-D's two units.
    const other = await reserve(app, { 'EXP-D': 2 }, { ttlSeconds: 600 });
    await actOn(app, other.reservationId, 'commit').expect(200);
    const before = { d: await state('EXP-D'), e: await state('EXP-E') };
    expect(before.d).toEqual({ quantity: 0, reserved: 0, available: 0, version: 5 });

    const refused = await actOn(app, late.reservationId, 'commit').expect(409).expect('Content-Type', PROBLEM_JSON);
    expect(refused.body).toMatchObject({ code: 'RESERVATION_EXPIRED', type: '/problems/reservation-expired', lines: [{ productId: 'EXP-D', requested: 2, available: 0 }] });
    expect(refused.body.lines).toHaveLength(1);
    expect(refused.body).toMatchObject({ status: 409, reservationStatus: 'expired' });
    // Nothing sold, EXP-E's expired hold given back once.
    expect(await state('EXP-D')).toEqual(before.d);
    expect(await state('EXP-E')).toEqual({ quantity: 5, reserved: 0, available: 5, version: 3 });
    expect((await getReservation(app, late.reservationId)).body.status).toBe('expired');
    // A commit of what is still available goes through.
    await actOn(app, late.reservationId, 'commit', { lines: [{ productId: 'EXP-E', quantity: 1 }] }).expect(200);
    expect(await state('EXP-E')).toEqual({ quantity: 4, reserved: 0, available: 4, version: 4 });
  });

  it('refuses to extend an expired reservation (409 RESERVATION_EXPIRED); releasing it makes it released for good, so a late commit is refused', async () => {
    await createLevel(app, 'EXP-F', 5);
    const held = await reserve(app, { 'EXP-F': 2 }, { ttlSeconds: 1 });
    await expired(held);
    const refused = await actOn(app, held.reservationId, 'extend', { ttlSeconds: 600 }).expect(409).expect('Content-Type', PROBLEM_JSON);
    expect(refused.body.code).toBe('RESERVATION_EXPIRED');
    expect(refused.body).toMatchObject({ status: 409, reservationStatus: 'expired' });
    const released = await actOn(app, held.reservationId, 'release').expect(200);
    expect(released.body).toEqual({ ...held, status: 'released', updatedAt: expect.any(String), lines: held.lines });
    expect(Date.parse(released.body.updatedAt)).toBeGreaterThan(Date.parse(held.updatedAt));
    // Repeating the release answers the same; a commit now is refused, although the units are there.
    expect((await actOn(app, held.reservationId, 'release').expect(200)).body).toEqual(released.body);
    const lateCommit = await actOn(app, held.reservationId, 'commit').expect(409);
    expect(lateCommit.body).toMatchObject({ code: 'RESERVATION_NOT_ACTIVE', reservationStatus: 'released' });
    expect((await getReservation(app, held.reservationId)).body.status).toBe('released');
    // The hold went back once, by its expiry; the release changed no level.
    expect((await historyOf(app, 'EXP-F')).map((entry) => entry.kind)).toEqual(['expire', 'reserve', 'create']);
    expect(await state('EXP-F')).toEqual({ quantity: 5, reserved: 0, available: 5, version: 3 });
  });
});

describe('reservation expiry with the sweeper on', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ env: { RESERVATION_MIN_TTL_SECONDS: '1', RESERVATION_SWEEP_INTERVAL_MS: '200' } });
  });

  afterAll(async () => {
    await app.close();
  });

  const state = async (productId: string) => stateOf(await levelOf(app, productId));
  const allGivenBack = (productIds: readonly string[]) =>
    waitFor(`the holds on ${productIds.join(', ')} to be given back`, async () => {
      const levels = await Promise.all(productIds.map((productId) => levelOf(app, productId)));
      return levels.every((level) => level.reserved === 0) && levels;
    });

  it('gives expired holds back by itself: reads show reserved 0, each expired line has exactly one expire entry', async () => {
    const products = ['SWP-A', 'SWP-B', 'SWP-C'];
    for (const productId of products) {
      await createLevel(app, productId, 10);
    }
    const holds = [
      await reserve(app, { 'SWP-A': 1, 'SWP-B': 2 }, { ttlSeconds: 1 }),
      await reserve(app, { 'SWP-A': 2, 'SWP-C': 1 }, { ttlSeconds: 1 }),
      await reserve(app, { 'SWP-B': 1, 'SWP-C': 3 }, { ttlSeconds: 1 }),
      await reserve(app, { 'SWP-A': 1, 'SWP-B': 1, 'SWP-C': 1 }, { ttlSeconds: 1 }),
    ];
    const expectedLines = holds.flatMap((held) => held.lines.map((line) => `${held.reservationId}/${line.productId}`)).sort();
    const levels = await allGivenBack(products);
    expect(levels.map(stateOf)).toEqual(products.map(() => ({ quantity: 10, reserved: 0, available: 10, version: expect.any(Number) })));

    // One more hold expires and is swept: the sweeper has passed over the first ones again since.
    await createLevel(app, 'SWP-Z', 1);
    await reserve(app, { 'SWP-Z': 1 }, { ttlSeconds: 1 });
    await allGivenBack(['SWP-Z']);

    const expiries: string[] = [];
    for (const productId of products) {
      const history = await historyOf(app, productId);
      const reserves = history.filter((entry) => entry.kind === 'reserve');
      const expires = history.filter((entry) => entry.kind === 'expire');
      expiries.push(...expires.map((entry) => `${entry.reservationId}/${productId}`));
      // Every entry one version: create, its holds, their expiries.
      expect(history.map((entry) => entry.version)).toEqual(Array.from({ length: history.length }, (_, index) => history.length - index));
      expect(history).toHaveLength(1 + reserves.length + expires.length);
      expect(expires.every((entry) => entry.delta === 0 && entry.quantity === 10 && entry.available === 10 - entry.reserved)).toBe(true);
      expect(history[0]).toMatchObject({ kind: 'expire', reserved: 0 });
    }
    expect(expiries.sort()).toEqual(expectedLines);
    for (const held of holds) {
      expect((await getReservation(app, held.reservationId)).body.status).toBe('expired');
    }
    const text = await waitFor('the sweeper to count no active reservation', async () => {
      const scraped = await metricsOf(app);
      return metricSample(scraped, 'inventory_reservations_active') === 0 && scraped;
    });
    expect(metricSample(text, 'inventory_reservation_holds_expired_total')).toBe(expectedLines.length + 1);
    // The feed carries the expiries too, with reserved and available after them.
    const feed = (await app.http().get('/v1/changes?storeId=store-1&after=0&limit=1000').set('X-API-Key', 'demo').expect(200)).body.changes as Array<{ kind: string; reserved: number; available: number; quantity: number }>;
    const expiredInFeed = feed.filter((change) => change.kind === 'expire');
    expect(expiredInFeed).toHaveLength(expectedLines.length + 1);
    expect(expiredInFeed.every((change) => change.available === change.quantity - change.reserved)).toBe(true);
  });

  it('commits a reservation whose hold was swept while its units are available, and refuses one whose units were sold (409 RESERVATION_EXPIRED)', async () => {
    await createLevel(app, 'SWP-D', 5);
    await createLevel(app, 'SWP-E', 2);
    const kept = await reserve(app, { 'SWP-D': 2 }, { ttlSeconds: 1 });
    const lost = await reserve(app, { 'SWP-E': 2 }, { ttlSeconds: 1 });
    await allGivenBack(['SWP-D', 'SWP-E']);

    await actOn(app, kept.reservationId, 'commit').expect(200);
    expect(await state('SWP-D')).toEqual({ quantity: 3, reserved: 0, available: 3, version: 4 });
    expect((await historyOf(app, 'SWP-D')).map((entry) => [entry.kind, entry.delta, entry.reserved])).toEqual([
      ['commit', -2, 0],
      ['expire', 0, 0],
      ['reserve', 0, 2],
      ['create', 5, 0],
    ]);

    // Someone sells SWP-E's two units once the swept level shows them available.
    const level = await levelOf(app, 'SWP-E');
    expect(stateOf(level)).toEqual({ quantity: 2, reserved: 0, available: 2, version: 3 });
    await postUpdate(app, { storeId: 'store-1', productId: 'SWP-E', delta: -2, version: level.version, idempotencyKey: 'swp-e-sale' }).expect(200);
    const refused = await actOn(app, lost.reservationId, 'commit').expect(409);
    expect(refused.body).toMatchObject({ code: 'RESERVATION_EXPIRED', lines: [{ productId: 'SWP-E', requested: 2, available: 0 }] });
    expect(await state('SWP-E')).toEqual({ quantity: 0, reserved: 0, available: 0, version: 4 });
  });
});
