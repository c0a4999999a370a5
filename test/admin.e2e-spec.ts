import { ISO_TIMESTAMP, postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp, twice } from './helpers/test-app';

describe('administration: PUT /v1/stores/:storeId/inventory/:productId', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  const put = (productId: string, body: unknown, headers: Record<string, string> = {}, apiKey = 'ops') =>
    app.http().put(`/v1/stores/store-1/inventory/${productId}`).set('X-API-Key', apiKey).set(headers).send(body as object);
  const history = async (productId: string) =>
    (await app.http().get(`/v1/stores/store-1/inventory/${productId}/history`).set('X-API-Key', 'demo').expect(200)).body.items as Array<Record<string, unknown>>;

  it('is for admin keys only', async () => {
    const refused = await put('NEW-A', { quantity: 5 }, {}, 'demo').expect(403);
    expect(refused.body).toMatchObject({ code: 'ADMIN_REQUIRED' });
    await put('NEW-A', { quantity: 5 }, {}, 'pos1').expect(403);
    await put('NEW-A', { quantity: 5 }, {}, 'nope').expect(401);
    await app.http().get('/v1/stores/store-1/inventory/NEW-A').set('X-API-Key', 'demo').expect(404);
  });

  it('creates a level at version 1 (201, Location, ETag), recorded in the ledger with its reason', async () => {
    const created = await put('NEW-B', { quantity: 5, reason: 'received', reference: 'po-77' }).expect(201).expect('ETag', '"1"');
    expect(created.headers.location).toBe('/v1/stores/store-1/inventory/NEW-B');
    expect(created.body).toEqual({ storeId: 'store-1', productId: 'NEW-B', quantity: 5, reserved: 0, available: 5, version: 1, lastUpdated: expect.stringMatching(ISO_TIMESTAMP) });
    expect(await history('NEW-B')).toEqual([
      expect.objectContaining({ kind: 'create', delta: 5, quantity: 5, version: 1, reason: 'received', reference: 'po-77' }),
    ]);
    // The new level takes ordinary updates.
    await postUpdate(app, { storeId: 'store-1', productId: 'NEW-B', delta: -2, version: 1, idempotencyKey: 'new-b-sale' }).expect(200);
  });

  it('sets an existing level only at its current version: body version (409) or If-Match (412)', async () => {
    await put('NEW-C', { quantity: 10 }).expect(201);
    const required = await put('NEW-C', { quantity: 3 }).expect(428);
    expect(required.body).toMatchObject({ code: 'PRECONDITION_REQUIRED', status: 428 });
    const stale = await put('NEW-C', { quantity: 3, version: 7 }).expect(409).expect('Content-Type', /problem\+json/);
    expect(stale.body).toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 1, detail: 'version conflict: expected 1, got 7' });
    const staleHeader = await put('NEW-C', { quantity: 3 }, { 'If-Match': '"7"' }).expect(412);
    expect(staleHeader.body).toMatchObject({ code: 'PRECONDITION_FAILED', currentVersion: 1 });
    const set = await put('NEW-C', { quantity: 3, reason: 'cycle_count' }, { 'If-Match': '"1"' }).expect(200).expect('ETag', '"2"');
    expect(set.body).toMatchObject({ quantity: 3, version: 2 });
    await put('NEW-C', { quantity: 4, version: 2 }).expect(200).expect('ETag', '"3"');
    expect((await history('NEW-C')).map((entry) => [entry.kind, entry.delta, entry.quantity, entry.version, entry.reason])).toEqual([
      ['set', 1, 4, 3, null],
      ['set', -7, 3, 2, 'cycle_count'],
      ['create', 10, 10, 1, null],
    ]);
  });

  it('refuses a version for a level that does not exist (404, or 412 via If-Match)', async () => {
    const missing = await put('NEW-D', { quantity: 1, version: 1 }).expect(404);
    expect(missing.body.code).toBe('LEVEL_NOT_FOUND');
    await put('NEW-D', { quantity: 1 }, { 'If-Match': '"1"' }).expect(412);
    await app.http().get('/v1/stores/store-1/inventory/NEW-D').set('X-API-Key', 'demo').expect(404);
  });

  it.each([
    [{ quantity: -1 }, {}, 'quantity'],
    [{ quantity: 1.5 }, {}, 'quantity'],
    [{}, {}, 'quantity'],
    [{ quantity: 1, extra: true }, {}, 'extra'],
    [{ quantity: 1, reason: 'Sale!' }, {}, 'reason'],
    [{ quantity: 1, reference: '' }, {}, 'reference'],
    [{ quantity: 1 }, { 'If-Match': 'W/"1"' }, 'If-Match'],
    [{ quantity: 1 }, { 'If-Match': '*' }, 'If-Match'],
    [{ quantity: 1 }, { 'If-Match': '"012"' }, 'If-Match'],
    [{ quantity: 1, version: 2 }, { 'If-Match': '"1"' }, 'If-Match'],
    [{ quantity: 1 }, { 'Idempotency-Key': 'x'.repeat(300) }, 'Idempotency-Key'],
  ])('refuses %j with headers %j, naming %s', async (body, headers, field) => {
    const response = await put('SKU-001', body, headers).expect(400);
    expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
  });

  it('says why If-Match: * is refused: a change names the version it is based on', async () => {
    const response = await put('SKU-001', { quantity: 1 }, { 'If-Match': '*' }).expect(400);
    expect(response.body.errors).toEqual([{ field: 'If-Match', issue: 'must name the version the change is based on, e.g. "12"; * (any version) is not accepted' }]);
  });

  it('replays a retried PUT with the same Idempotency-Key, and refuses the key for another body', async () => {
    const first = await put('NEW-E', { quantity: 8 }, { 'Idempotency-Key': 'put-e-1' }).expect(201);
    const again = await put('NEW-E', { quantity: 8 }, { 'Idempotency-Key': 'put-e-1' }).expect(201).expect('Idempotent-Replayed', 'true');
    expect(again.text).toBe(first.text);
    expect(again.headers.location).toBe(first.headers.location);
    await put('NEW-E', { quantity: 9 }, { 'Idempotency-Key': 'put-e-1' }).expect(422);
    expect(await history('NEW-E')).toHaveLength(1);
  });

  it('does not keep a failed precondition under the key: the corrected retry with the same key executes', async () => {
    await put('NEW-F', { quantity: 4 }).expect(201);
    const required = await put('NEW-F', { quantity: 6 }, { 'Idempotency-Key': 'put-f-1' }).expect(428);
    expect(required.headers['idempotent-replayed']).toBeUndefined();
    const corrected = await put('NEW-F', { quantity: 6, version: 1 }, { 'Idempotency-Key': 'put-f-1' }).expect(200);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
    expect(corrected.body).toMatchObject({ quantity: 6, version: 2 });

    const stale = await put('NEW-F', { quantity: 7 }, { 'Idempotency-Key': 'put-f-2', 'If-Match': '"1"' }).expect(412);
    expect(stale.body.code).toBe('PRECONDITION_FAILED');
    await put('NEW-F', { quantity: 7 }, { 'Idempotency-Key': 'put-f-2', 'If-Match': '"2"' }).expect(200).expect('ETag', '"3"');
    // What is stored still replays: the applied set, under its key.
    await put('NEW-F', { quantity: 7 }, { 'Idempotency-Key': 'put-f-2', 'If-Match': '"2"' }).expect(200).expect('Idempotent-Replayed', 'true');
    expect((await history('NEW-F')).map((entry) => entry.version)).toEqual([3, 2, 1]);
  });

  it('takes the Idempotency-Key header quoted as a Structured Field string, and refuses it twice', async () => {
    const first = await put('NEW-G', { quantity: 2 }, { 'Idempotency-Key': '"put-g-1"' }).expect(201);
    const again = await put('NEW-G', { quantity: 2 }, { 'Idempotency-Key': 'put-g-1' }).expect(201).expect('Idempotent-Replayed', 'true');
    expect(again.text).toBe(first.text);
    const refused = await app
      .http()
      .put('/v1/stores/store-1/inventory/NEW-G')
      .set('X-API-Key', 'ops')
      .set('Idempotency-Key', twice('put-g-2'))
      .send({ quantity: 3, version: 1 })
      .expect(400);
    expect(refused.body.errors).toEqual([{ field: 'Idempotency-Key', issue: expect.stringContaining('more than once') }]);
  });

  it('keeps reason and reference of ordinary updates in the ledger, and counts them in the payload', async () => {
    const body = { storeId: 'store-1', productId: 'SKU-007', delta: -1, version: 9, idempotencyKey: 'note-1', reason: 'sale', reference: 'order-1001' };
    await postUpdate(app, body).expect(200);
    expect((await history('SKU-007'))[0]).toMatchObject({ kind: 'adjust', reason: 'sale', reference: 'order-1001', idempotencyKey: 'note-1' });
    await postUpdate(app, { ...body, reason: 'damaged' }).expect(422);
    await postUpdate(app, body).expect(200).expect('Idempotent-Replayed', 'true');
    await postUpdate(app, {
      storeId: 'store-1',
      updates: [{ productId: 'SKU-008', delta: -1, version: 11, idempotencyKey: 'note-2', reason: 'shrinkage', reference: 'audit-9' }],
    }).expect(200);
    expect((await history('SKU-008'))[0]).toMatchObject({ reason: 'shrinkage', reference: 'audit-9' });
  });
});
