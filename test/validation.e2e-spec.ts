import { allLevels, ledgerRows, UPDATES_PATH } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

const valid = { storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12, idempotencyKey: 'k-1' };
const item = { productId: 'SKU-001', delta: 5, version: 12, idempotencyKey: 'i-1' };

function deep(levels: number): string {
  return `{"storeId":"store-1","x":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
}

interface Case {
  readonly name: string;
  /** An object is sent as JSON; a string is sent as the raw body. */
  readonly body: unknown;
  readonly status: number;
  readonly code: string;
  /** The fields the 400 must name. */
  readonly fields?: readonly string[];
  readonly headers?: Record<string, string>;
}

const CASES: readonly Case[] = [
  { name: 'malformed JSON', body: '{"storeId":"store-1",', status: 400, code: 'MALFORMED_JSON' },
  { name: 'a JSON string', body: '"hello"', status: 400, code: 'MALFORMED_JSON' },
  { name: 'JSON null', body: 'null', status: 400, code: 'MALFORMED_JSON' },
  { name: 'a JSON array', body: '[]', status: 400, code: 'VALIDATION_FAILED', fields: ['body'] },
  { name: 'an empty body', body: '', status: 400, code: 'VALIDATION_FAILED', fields: ['body'] },
  { name: 'missing storeId', body: { ...valid, storeId: undefined }, status: 400, code: 'VALIDATION_FAILED', fields: ['storeId'] },
  { name: 'missing productId', body: { ...valid, productId: undefined }, status: 400, code: 'VALIDATION_FAILED', fields: ['productId'] },
  { name: 'missing delta', body: { ...valid, delta: undefined }, status: 400, code: 'VALIDATION_FAILED', fields: ['delta'] },
  { name: 'missing version', body: { ...valid, version: undefined }, status: 400, code: 'VALIDATION_FAILED', fields: ['version'] },
  { name: 'every field wrong at once', body: { storeId: 1, productId: null, delta: 'x', version: -1, idempotencyKey: 7 }, status: 400, code: 'VALIDATION_FAILED', fields: ['storeId', 'productId', 'delta', 'version', 'idempotencyKey'] },
  { name: 'a bad delta and no key at all', body: { ...valid, delta: 0, idempotencyKey: undefined }, status: 400, code: 'VALIDATION_FAILED', fields: ['delta', 'idempotencyKey'] },
  { name: 'a bad delta and a conflicting key header', body: { ...valid, delta: 0 }, headers: { 'Idempotency-Key': 'other' }, status: 400, code: 'VALIDATION_FAILED', fields: ['delta', 'Idempotency-Key'] },
  { name: 'delta zero', body: { ...valid, delta: 0 }, status: 400, code: 'VALIDATION_FAILED', fields: ['delta'] },
  { name: 'delta a float', body: { ...valid, delta: 1.5 }, status: 400, code: 'VALIDATION_FAILED', fields: ['delta'] },
  { name: 'delta a numeric string', body: { ...valid, delta: '5' }, status: 400, code: 'VALIDATION_FAILED', fields: ['delta'] },
  { name: 'delta above 1e9', body: { ...valid, delta: 1_000_000_001 }, status: 400, code: 'VALIDATION_FAILED', fields: ['delta'] },
  { name: 'delta below -1e9', body: { ...valid, delta: -1_000_000_001 }, status: 400, code: 'VALIDATION_FAILED', fields: ['delta'] },
  { name: 'delta beyond safe integers', body: '{"storeId":"store-1","productId":"SKU-001","delta":9007199254740993,"version":12,"idempotencyKey":"k"}', status: 400, code: 'VALIDATION_FAILED', fields: ['delta'] },
  { name: 'delta 1e400 (Infinity)', body: '{"storeId":"store-1","productId":"SKU-001","delta":1e400,"version":12,"idempotencyKey":"k"}', status: 400, code: 'VALIDATION_FAILED', fields: ['delta'] },
  { name: 'delta a boolean', body: { ...valid, delta: true }, status: 400, code: 'VALIDATION_FAILED', fields: ['delta'] },
  { name: 'version negative', body: { ...valid, version: -1 }, status: 400, code: 'VALIDATION_FAILED', fields: ['version'] },
  { name: 'version a float', body: { ...valid, version: 12.5 }, status: 400, code: 'VALIDATION_FAILED', fields: ['version'] },
  { name: 'version a string', body: { ...valid, version: '12' }, status: 400, code: 'VALIDATION_FAILED', fields: ['version'] },
  { name: 'version beyond safe integers', body: '{"storeId":"store-1","productId":"SKU-001","delta":5,"version":9007199254740992,"idempotencyKey":"k"}', status: 400, code: 'VALIDATION_FAILED', fields: ['version'] },
  { name: 'storeId with a space', body: { ...valid, storeId: 'store 1' }, status: 400, code: 'VALIDATION_FAILED', fields: ['storeId'] },
  { name: 'storeId empty', body: { ...valid, storeId: '' }, status: 400, code: 'VALIDATION_FAILED', fields: ['storeId'] },
  { name: 'productId of 65 characters', body: { ...valid, productId: 'S'.repeat(65) }, status: 400, code: 'VALIDATION_FAILED', fields: ['productId'] },
  { name: 'productId with a unicode confusable hyphen', body: { ...valid, productId: 'SKU\u2010001' }, status: 400, code: 'VALIDATION_FAILED', fields: ['productId'] },
  { name: 'productId with a Cyrillic letter', body: { ...valid, productId: 'SKU-00\u04301' }, status: 400, code: 'VALIDATION_FAILED', fields: ['productId'] },
  { name: 'productId with a NUL character', body: { ...valid, productId: 'SKU-001\u0000' }, status: 400, code: 'VALIDATION_FAILED', fields: ['productId'] },
  { name: 'productId with a zero-width space', body: { ...valid, productId: 'SKU-001\u200b' }, status: 400, code: 'VALIDATION_FAILED', fields: ['productId'] },
  { name: 'idempotencyKey of 256 characters', body: { ...valid, idempotencyKey: 'k'.repeat(256) }, status: 400, code: 'VALIDATION_FAILED', fields: ['idempotencyKey'] },
  { name: 'idempotencyKey with non-ASCII', body: { ...valid, idempotencyKey: 'ключ' }, status: 400, code: 'VALIDATION_FAILED', fields: ['idempotencyKey'] },
  { name: 'idempotencyKey with a newline', body: { ...valid, idempotencyKey: 'a\nb' }, status: 400, code: 'VALIDATION_FAILED', fields: ['idempotencyKey'] },
  { name: 'an unknown field', body: { ...valid, price: 10 }, status: 400, code: 'VALIDATION_FAILED', fields: ['price'] },
  { name: 'an unknown field named like an inherited method', body: { ...valid, toString: [] }, status: 400, code: 'VALIDATION_FAILED', fields: ['toString'] },
  { name: 'a batch item field named like an inherited method', body: { storeId: 'store-1', updates: [{ ...item, valueOf: 1 }] }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates[0].valueOf'] },
  { name: 'a batch item that is an array', body: { storeId: 'store-1', updates: [[]] }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates[0]'] },
  { name: 'null for an optional field', body: { ...valid, reason: null }, status: 400, code: 'VALIDATION_FAILED', fields: ['reason'] },
  { name: 'a reason that is not a token', body: { ...valid, reason: 'Sale!' }, status: 400, code: 'VALIDATION_FAILED', fields: ['reason'] },
  { name: 'a reference of 256 characters', body: { ...valid, reference: 'r'.repeat(256) }, status: 400, code: 'VALIDATION_FAILED', fields: ['reference'] },
  { name: 'a __proto__ key', body: '{"storeId":"store-1","productId":"SKU-001","delta":5,"version":12,"idempotencyKey":"k","__proto__":{"admin":true}}', status: 400, code: 'VALIDATION_FAILED', fields: ['body'] },
  { name: 'a constructor key', body: '{"storeId":"store-1","productId":"SKU-001","delta":5,"version":12,"idempotencyKey":"k","constructor":{"prototype":{}}}', status: 400, code: 'VALIDATION_FAILED', fields: ['body'] },
  { name: 'deep nesting', body: deep(50), status: 400, code: 'VALIDATION_FAILED', fields: ['body'] },
  { name: 'very deep nesting', body: deep(100_000).slice(0, 90_000), status: 400, code: 'MALFORMED_JSON' },
  { name: 'key header differs from the field', body: valid, headers: { 'Idempotency-Key': 'other' }, status: 400, code: 'VALIDATION_FAILED', fields: ['Idempotency-Key'] },
  { name: 'key header of 300 characters', body: { ...valid, idempotencyKey: undefined }, headers: { 'Idempotency-Key': 'h'.repeat(300) }, status: 400, code: 'VALIDATION_FAILED', fields: ['Idempotency-Key'] },
  { name: 'batch with no updates', body: { storeId: 'store-1', updates: [] }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates'] },
  { name: 'batch of 101 updates', body: { storeId: 'store-1', updates: Array.from({ length: 101 }, (_, index) => ({ ...item, idempotencyKey: `i-${index}` })) }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates'] },
  { name: 'batch updates not an array', body: { storeId: 'store-1', updates: { ...item } }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates'] },
  { name: 'batch item not an object', body: { storeId: 'store-1', updates: [5] }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates[0]'] },
  { name: 'batch item without key', body: { storeId: 'store-1', updates: [{ ...item, idempotencyKey: undefined }] }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates[0].idempotencyKey'] },
  { name: 'batch item with a bad delta', body: { storeId: 'store-1', updates: [item, { ...item, idempotencyKey: 'i-2', delta: 0.5 }] }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates[1].delta'] },
  { name: 'batch item with an unknown field', body: { storeId: 'store-1', updates: [{ ...item, storeId: 'store-2' }] }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates[0].storeId'] },
  { name: 'batch with duplicate keys', body: { storeId: 'store-1', updates: [item, { ...item, productId: 'SKU-002' }] }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates[1].idempotencyKey'] },
  { name: 'batch with a bad item and an Idempotency-Key header', body: { storeId: 'store-1', updates: [{ ...item, delta: 0 }] }, headers: { 'Idempotency-Key': 'x' }, status: 400, code: 'VALIDATION_FAILED', fields: ['updates[0].delta', 'Idempotency-Key'] },
  { name: 'batch with an Idempotency-Key header', body: { storeId: 'store-1', updates: [item] }, headers: { 'Idempotency-Key': 'x' }, status: 400, code: 'VALIDATION_FAILED', fields: ['Idempotency-Key'] },
  { name: 'batch atomic not a boolean', body: { storeId: 'store-1', atomic: 'yes', updates: [item] }, status: 400, code: 'VALIDATION_FAILED', fields: ['atomic'] },
  { name: 'batch without storeId', body: { updates: [item] }, status: 400, code: 'VALIDATION_FAILED', fields: ['storeId'] },
  { name: 'text/plain body', body: JSON.stringify(valid), headers: { 'Content-Type': 'text/plain' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'form-encoded body', body: 'storeId=store-1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'a body over the size limit', body: JSON.stringify({ ...valid, idempotencyKey: 'k'.repeat(200_000) }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
];

describe('malformed requests: a clear 4xx, nothing changed', () => {
  let app: TestApp;
  let before: Awaited<ReturnType<typeof allLevels>>;

  beforeAll(async () => {
    app = await startApp();
    before = await allLevels(app);
  });

  afterAll(async () => {
    // Whatever was sent, no stock moved and nothing reached the ledger.
    expect(await allLevels(app)).toEqual(before);
    expect(await ledgerRows(app)).toEqual([]);
    await app.close();
  });

  it(`covers at least 25 kinds of bad input (has ${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(CASES)('$name → $status $code', async ({ body, status, code, fields, headers }) => {
    let call = app.http().post(UPDATES_PATH).set('X-API-Key', 'demo');
    if (typeof body === 'string') {
      call = call.set('Content-Type', 'application/json');
    }
    const response = await call.set(headers ?? {}).send(body as string);
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, code, detail: expect.any(String), requestId: expect.any(String) });
    if (fields !== undefined) {
      const named = (response.body.errors as Array<{ field: string }>).map((error) => error.field);
      expect(named).toEqual(expect.arrayContaining([...fields]));
    }
    expect(response.text).not.toMatch(/at .+\.(ts|js):\d+/);
  });

  it('names exactly what is wrong when updates is an object rather than an array, and a digit-only field as sent', async () => {
    const asObject = await app
      .http()
      .post(UPDATES_PATH)
      .set('X-API-Key', 'demo')
      .send({ storeId: 'store-1', updates: { 0: { productId: 'SKU-004', delta: -1, version: 6, idempotencyKey: 'obj-1' } } })
      .expect(400);
    expect(asObject.body.errors).toEqual([{ field: 'updates', issue: 'must be an array of 1-100 updates' }]);
    const digits = await app.http().post(UPDATES_PATH).set('X-API-Key', 'demo').send({ ...item, storeId: 'store-1', idempotencyKey: 'dig-1', 0: 1 }).expect(400);
    expect(digits.body.errors).toEqual([{ field: '0', issue: 'unknown field' }]);
  });

  it('still serves normally afterwards', async () => {
    await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
  });
});
