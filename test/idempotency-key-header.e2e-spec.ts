import { getLevel, ledgerRows, postUpdate, UPDATES_PATH } from './helpers/inventory-client';
import { startApp, type TestApp, twice } from './helpers/test-app';

const update = (overrides: Record<string, unknown> = {}) => ({ storeId: 'store-1', productId: 'SKU-009', delta: 1, version: 7, ...overrides });

/** The Idempotency-Key header as the IETF draft defines it (a Structured Field string) and as clients send it. */
describe('the Idempotency-Key header', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('takes a quoted Structured Field string as the key inside the quotes, the same key as the bare form', async () => {
    const first = await postUpdate(app, update(), 'demo', { 'Idempotency-Key': '"sf-001"' }).expect(200);
    const bare = await postUpdate(app, update(), 'demo', { 'Idempotency-Key': 'sf-001' }).expect(200).expect('Idempotent-Replayed', 'true');
    const field = await postUpdate(app, update({ idempotencyKey: 'sf-001' }), 'demo', { 'Idempotency-Key': '"sf-001"' }).expect(200).expect('Idempotent-Replayed', 'true');
    expect(bare.text).toBe(first.text);
    expect(field.text).toBe(first.text);
    // Escapes are undone, and a comma inside quotes belongs to the key.
    await postUpdate(app, update({ version: 8, idempotencyKey: 'a "quoted", key' }), 'demo', { 'Idempotency-Key': '"a \\"quoted\\", key"' }).expect(200);
    expect((await ledgerRows(app)).map((row) => row.idempotency_key)).toEqual(['sf-001', 'a "quoted", key']);
  });

  it.each([
    ['a list of keys', 'k-1, k-2'],
    ['a list of strings', '"k-1", "k-2"'],
    ['a string with parameters', '"k-1";x=1'],
    ['an unterminated string', '"k-1'],
    ['an empty string', '""'],
  ])('refuses %s with 400 naming the header, changing nothing', async (_name, value) => {
    const before = await getLevel(app, 'store-1', 'SKU-010');
    const response = await postUpdate(app, update({ productId: 'SKU-010', version: before.version }), 'demo', { 'Idempotency-Key': value }).expect(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'Idempotency-Key', issue: expect.any(String) }] });
    expect(await getLevel(app, 'store-1', 'SKU-010')).toEqual(before);
  });

  it('refuses the header sent twice, even with equal keys', async () => {
    const before = await getLevel(app, 'store-1', 'SKU-010');
    const response = await app
      .http()
      .post(UPDATES_PATH)
      .set('X-API-Key', 'demo')
      .set('Idempotency-Key', twice('twice-001'))
      .send(update({ productId: 'SKU-010', version: before.version }))
      .expect(400);
    expect(response.body.errors).toEqual([{ field: 'Idempotency-Key', issue: expect.stringContaining('more than once') }]);
    expect(await getLevel(app, 'store-1', 'SKU-010')).toEqual(before);
  });

  it('validates the body before looking at a known key: an invalid body is 400, another valid payload 422', async () => {
    await postUpdate(app, update({ productId: 'SKU-008', version: 11, idempotencyKey: 'known-001' })).expect(200);
    // The key's answer sits in the replay cache now: the fast path must not answer these.
    const invalid = await postUpdate(app, update({ productId: 'SKU-008', version: 11, delta: 'two', idempotencyKey: 'known-001' })).expect(400);
    expect(invalid.body.errors).toEqual([{ field: 'delta', issue: expect.any(String) }]);
    const unknown = await postUpdate(app, update({ productId: 'SKU-008', version: 11, idempotencyKey: 'known-001', extra: 1 })).expect(400);
    expect(unknown.body.errors).toEqual([{ field: 'extra', issue: 'unknown field' }]);
    const reused = await postUpdate(app, update({ productId: 'SKU-008', version: 11, delta: 2, idempotencyKey: 'known-001' })).expect(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});
