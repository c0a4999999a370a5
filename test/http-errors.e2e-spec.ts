import { gzipSync } from 'node:zlib';
import { ERROR_CATALOG, type ErrorCode } from '../src/common/errors/api-error';
import { problemTypeUri } from '../src/common/errors/problem-details';
import { allLevels, UPDATES_PATH } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

const UPDATE = JSON.stringify({ storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'enc-001' });

/** Answers the HTTP layer gives before any route runs: encodings, paths, methods, problem types. */
describe('HTTP-level errors', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  /** Raw bytes on the wire (supertest would serialise a Buffer sent as JSON). */
  async function post(body: Buffer | string, encoding?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { 'X-API-Key': 'demo', 'Content-Type': 'application/json', ...(encoding === undefined ? {} : { 'Content-Encoding': encoding }) };
    const response = await fetch(`${app.url}${UPDATES_PATH}`, { method: 'POST', headers, body });
    expect(response.headers.get('content-type')).toMatch(/json/);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function rejectedCount(code: string, status: number): Promise<number> {
    const text = (await app.http().get('/metrics').expect(200)).text;
    const line = text.split('\n').find((candidate) => candidate.startsWith(`inventory_requests_rejected_total{code="${code}",status="${status}"}`));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  }

  it.each([
    ['gzip', Buffer.from('not gzip at all')],
    ['deflate', Buffer.from('not deflate')],
    ['br', Buffer.from('not brotli')],
    ['gzip', gzipSync(UPDATE).subarray(0, 20)],
  ])('answers a body that does not decode as %s with a 400 naming the body, counted as a client error', async (encoding, body) => {
    const before = await allLevels(app);
    const counted = await rejectedCount('VALIDATION_FAILED', 400);
    const response = await post(body, encoding);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'body', issue: `could not be decoded as Content-Encoding ${encoding}` }] });
    expect(await rejectedCount('VALIDATION_FAILED', 400)).toBe(counted + 1);
    expect(await rejectedCount('INTERNAL_ERROR', 500)).toBe(0);
    expect(await allLevels(app)).toEqual(before);
  });

  it('answers an encoding it does not accept with 415', async () => {
    const response = await post('x', 'zstd');
    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', detail: expect.stringContaining('zstd') });
  });

  it('accepts a gzip body that decodes', async () => {
    const response = await post(gzipSync(UPDATE), 'gzip');
    expect(response).toMatchObject({ status: 200, body: { applied: true, newVersion: 13 } });
  });

  it('names the field of every 400, malformed JSON and undecodable paths included', async () => {
    const malformed = await post('{"storeId":');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'MALFORMED_JSON', errors: [{ field: 'body', issue: 'is not valid JSON' }] });
    const path = await app.http().get('/v1/inventory/%ZZ').set('X-API-Key', 'demo').expect(400);
    expect(path.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'path', issue: 'holds invalid percent-encoding' }] });
    expect(path.body.detail).not.toContain('Failed to decode');
  });

  it.each([
    ['DELETE', '/v1/inventory/updates', 'POST, GET, HEAD'],
    ['PATCH', '/v1/stores/store-1/inventory/SKU-001', 'PUT, GET, HEAD'],
    ['POST', '/v1/changes', 'GET, HEAD'],
    ['DELETE', '/health/live', 'GET, HEAD'],
  ])('answers %s %s with 405 and Allow', async (method, path, allow) => {
    const response = await app.http()[method.toLowerCase() as 'delete' | 'patch' | 'post'](path).set('X-API-Key', 'demo').expect(405);
    expect(response.headers.allow).toBe(allow);
    expect(response.body).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
  });

  it('answers a path no route has with 404', async () => {
    const response = await app.http().delete('/v1/nothing/here').set('X-API-Key', 'demo').expect(404);
    expect(response.headers.allow).toBeUndefined();
    expect(response.body).toMatchObject({ code: 'ROUTE_NOT_FOUND', detail: 'no route DELETE /v1/nothing/here' });
  });

  it('serves a page for every problem type, where the `type` of the problem points', async () => {
    const index = await app.http().get('/problems').expect(200).expect('Content-Type', /text\/html/);
    for (const code of Object.keys(ERROR_CATALOG) as ErrorCode[]) {
      expect(index.text).toContain(`href="${problemTypeUri(code)}"`);
      const page = await app.http().get(problemTypeUri(code)).expect(200).expect('Content-Type', /text\/html/);
      expect(page.text).toContain(`<h1>${ERROR_CATALOG[code].title}</h1>`);
      expect(page.text).toContain(code);
    }
    const problem = await app.http().get('/v1/inventory/SKU-404').set('X-API-Key', 'demo').expect(404);
    await app.http().get(problem.body.type).expect(200);
    await app.http().get('/problems/no-such-problem').expect(404);
  });

  it('reads no body before the caller is authenticated: a malformed or undecodable body without a valid key is a 401', async () => {
    for (const [body, contentType, encoding] of [
      ['{"storeId":', 'application/json', undefined],
      ['x', 'text/plain', undefined],
      ['not gzip', 'application/json', 'gzip'],
    ] as const) {
      const headers: Record<string, string> = { 'Content-Type': contentType, ...(encoding === undefined ? {} : { 'Content-Encoding': encoding }) };
      const response = await fetch(`${app.url}${UPDATES_PATH}`, { method: 'POST', headers, body });
      expect({ body, status: response.status, code: ((await response.json()) as { code: string }).code }).toEqual({ body, status: 401, code: 'UNAUTHENTICATED' });
    }
  });

  it('refuses an object with more fields than any request has, cheaply and with a short answer', async () => {
    const fields = Object.fromEntries(Array.from({ length: 5000 }, (_, index) => [`f${index}`, 0]));
    const response = await post(JSON.stringify({ storeId: 'store-1', ...fields }));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'body', issue: 'an object with more than 32 fields' }] });
  });

  it('refuses a key repeated in one object, which readers of the JSON could take either way', async () => {
    const before = await allLevels(app);
    const response = await post('{"storeId":"store-1","productId":"SKU-002","delta":500,"delta":1,"version":8,"idempotencyKey":"dup-001"}');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'body', issue: "has the key 'delta' twice in one object" }] });
    const nested = await post('{"storeId":"store-1","updates":[{"productId":"SKU-002","delta":1,"version":8,"version":9,"idempotencyKey":"dup-002"}]}');
    expect(nested.status).toBe(400);
    expect(await allLevels(app)).toEqual(before);
  });

  it('takes JSON in UTF-8 only', async () => {
    for (const charset of ['utf-16', 'iso-8859-1']) {
      const response = await fetch(`${app.url}${UPDATES_PATH}`, { method: 'POST', headers: { 'X-API-Key': 'demo', 'Content-Type': `application/json; charset=${charset}` }, body: UPDATE });
      expect({ charset, status: response.status }).toEqual({ charset, status: 415 });
    }
    const utf8 = await fetch(`${app.url}${UPDATES_PATH}`, { method: 'POST', headers: { 'X-API-Key': 'demo', 'Content-Type': 'application/json; charset=UTF-8' }, body: '{}' });
    expect(utf8.status).toBe(400);
  });
});

describe('HTTP-level errors under a rate limit', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_PER_SECOND: '3' } });
  });

  afterAll(async () => {
    await app.close();
  });

  it('counts bad bodies against the key’s rate, with the RateLimit headers, like any request', async () => {
    const statuses: number[] = [];
    // Counted per second: sent until one is refused (a loaded machine may need more than one window).
    for (let attempt = 0; attempt < 30 && !statuses.includes(429); attempt += 1) {
      const response = await fetch(`${app.url}${UPDATES_PATH}`, { method: 'POST', headers: { 'X-API-Key': 'demo', 'Content-Type': 'application/json' }, body: '{"bad"' });
      expect(response.headers.get('ratelimit')).toMatch(/^"api-key";r=\d+;t=\d+$/);
      statuses.push(response.status);
    }
    expect(statuses).toContain(429);
    expect(statuses.slice(0, 3)).toEqual([400, 400, 400]);
  });

  it('sends the RateLimit headers on an admin route refused to a key that is not an admin', async () => {
    const response = await app.http().put('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'pos1').send({ quantity: 1 }).expect(403);
    expect(response.body.code).toBe('ADMIN_REQUIRED');
    expect(response.headers.ratelimit).toMatch(/^"api-key";r=\d+;t=\d+$/);
  });
});
