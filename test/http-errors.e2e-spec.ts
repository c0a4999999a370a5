import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ERROR_CATALOG, type ErrorCode } from '../src/common/errors/api-error';
import { problemTypeUri } from '../src/common/errors/problem-details';
import { allLevels, UPDATES_PATH } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';
import { waitFor } from './helpers/wait';

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
    ['DELETE', '/v1/reservations/res_AAAAAAAAAAAAAAAA', 'GET, HEAD'],
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

  it('routes paths case-sensitively: another case of a route’s path is a path no route has', async () => {
    for (const path of ['/V1/changes', '/v1/Changes', '/v1/stores/store-1/INVENTORY/SKU-001', '/HEALTH/live']) {
      const response = await app.http().get(path).set('X-API-Key', 'demo').expect(404);
      expect(response.body).toMatchObject({ code: 'ROUTE_NOT_FOUND', detail: `no route GET ${path}` });
    }
    // A method the path does not take is still told from a path that does not exist.
    await app.http().delete('/V1/changes').set('X-API-Key', 'demo').expect(404);
    await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
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

  it('refuses a batch or a reservation far longer than allowed at once, with one issue and a short answer', async () => {
    const before = await allLevels(app);
    const items = Array(45_000).fill('1').join(',');
    const batch = await post(`{"storeId":"store-1","updates":[${items}]}`);
    expect(batch).toEqual({ status: 400, body: expect.objectContaining({ detail: 'invalid request: updates', errors: [{ field: 'updates', issue: 'must hold 1-100 updates' }] }) });
    const reservation = await fetch(`${app.url}/v1/reservations`, {
      method: 'POST',
      headers: { 'X-API-Key': 'demo', 'Content-Type': 'application/json', 'Idempotency-Key': 'too-many-lines' },
      body: `{"storeId":"store-1","lines":[${items}]}`,
    });
    expect(reservation.status).toBe(400);
    expect(((await reservation.json()) as { errors: unknown }).errors).toEqual([{ field: 'lines', issue: 'must hold 1-100 lines' }]);
    expect(await allLevels(app)).toEqual(before);
  });

  it('clips a field name longer than any the API has instead of echoing it whole', async () => {
    const name = 'k'.repeat(50_000);
    const response = await post(`{"storeId":"store-1","productId":"SKU-001","delta":1,"version":12,"idempotencyKey":"long-field","${name}":1}`);
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: `${'k'.repeat(200)}…`, issue: 'unknown field' }]);
    expect(JSON.stringify(response.body).length).toBeLessThan(2_000);
  });

  it('lists at most 100 issues, and names ten fields in the detail', async () => {
    const updates = Array.from({ length: 100 }, () => ({ productId: '', delta: 0, version: -1, idempotencyKey: '' }));
    const response = await post(JSON.stringify({ storeId: 'store-1', updates }));
    expect(response.status).toBe(400);
    expect(response.body.errors).toHaveLength(100);
    expect(response.body.detail).toMatch(/^invalid request: updates\[0\]\.productId, (?:[^,]+, ){8}[^,]+ and \d+ more$/);
  });

  it('refuses a number that is not an integer as written where JSON.parse rounds it to one, in the field’s own words', async () => {
    const before = await allLevels(app);
    const single = await post('{"storeId":"store-1","productId":"SKU-008","delta":-0.99999999999999999,"version":11,"idempotencyKey":"float-1"}');
    expect(single).toEqual({ status: 400, body: expect.objectContaining({ errors: [{ field: 'delta', issue: expect.stringMatching(/^must be a non-zero integer from /) }] }) });
    const batch = await post('{"storeId":"store-1","updates":[{"productId":"SKU-008","delta":1,"version":16.00000000000000001,"idempotencyKey":"float-2"}]}');
    expect(batch).toEqual({ status: 400, body: expect.objectContaining({ errors: [{ field: 'updates[0].version', issue: expect.stringMatching(/^must be an integer from /) }] }) });
    // Every other issue is still told, each field in its own words.
    const mixed = await post('{"storeId":1.00000000000000001,"productId":"SKU-008","delta":1,"version":"x","idempotencyKey":"float-4","zz":2.0000000000000001}');
    const issues = (mixed.body.errors as Array<{ field: string; issue: string }>).map(({ field, issue }) => [field, issue]);
    expect(issues).toEqual(expect.arrayContaining([['zz', 'unknown field'], ['version', expect.stringMatching(/^must be an integer/)], ['storeId', expect.not.stringMatching(/integer/)]]));
    // Written as an integer with a fraction of zeros, it is one.
    const whole = await post('{"storeId":"store-1","productId":"SKU-008","delta":1.0,"version":11,"idempotencyKey":"float-3"}');
    expect(whole.status).toBe(200);
    const sku008 = (levels: Awaited<ReturnType<typeof allLevels>>) => levels.find((level) => level.store_id === 'store-1' && level.product_id === 'SKU-008')!.quantity;
    expect(sku008(await allLevels(app))).toBe(sku008(before) + 1);
  });

  it('refuses a body that is not UTF-8 instead of reading replacement characters into it', async () => {
    const before = await allLevels(app);
    const body = Buffer.concat([Buffer.from('{"storeId":"store-1","productId":"SKU-008","delta":1,"version":12,"idempotencyKey":"utf-'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(await post(body)).toEqual({ status: 400, body: expect.objectContaining({ errors: [{ field: 'body', issue: 'is not valid UTF-8' }] }) });
    expect(await allLevels(app)).toEqual(before);
  });

  it('takes a chunked body of no bytes as no body, the same as Content-Length 0', async () => {
    const chunked = problemOfRaw(
      await rawExchange(app.url, `POST ${UPDATES_PATH} HTTP/1.1\r\nHost: x\r\nX-API-Key: demo\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`),
    );
    const empty = await post('');
    expect(chunked.status).toBe(400);
    expect(chunked.body.errors).toEqual(empty.body.errors);
    expect(empty.body.errors).toEqual([{ field: 'body', issue: 'must be a JSON object: a single update or a batch with `updates`' }]);
  });

  it('refuses a query string on a route that changes stock, rather than ignoring what it asks', async () => {
    const before = await allLevels(app);
    const batch = JSON.stringify({ storeId: 'store-1', updates: [{ productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'query-001' }] });
    for (const [query, body] of [
      ['dryRun=true', UPDATE],
      ['atomic=true', batch],
    ]) {
      const response = await fetch(`${app.url}${UPDATES_PATH}?${query}`, { method: 'POST', headers: { 'X-API-Key': 'demo', 'Content-Type': 'application/json' }, body });
      const { errors } = (await response.json()) as { errors: unknown };
      expect({ query, status: response.status, errors }).toEqual({ query, status: 400, errors: [{ field: query.split('=')[0], issue: 'unknown query parameter: this route takes none' }] });
    }
    expect(await allLevels(app)).toEqual(before);
    // A read that takes no parameters still ignores a cache-buster.
    await app.http().get('/v1/stores/store-1/inventory/SKU-001?_=1').set('X-API-Key', 'demo').expect(200);
  });

  it('asks for the body of an Expect list that holds 100-continue, and not of a body it cannot decode', async () => {
    const body = UPDATE.replace('enc-001', 'expect-list');
    const answer = await rawExchange(
      app.url,
      `POST ${UPDATES_PATH} HTTP/1.1\r\nHost: x\r\nX-API-Key: demo\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue, something\r\nConnection: close\r\n\r\n`,
      (text) => text === 'HTTP/1.1 100 Continue\r\n\r\n',
    );
    expect(answer).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const zstd = await rawExchange(
      app.url,
      `POST ${UPDATES_PATH} HTTP/1.1\r\nHost: x\r\nX-API-Key: demo\r\nContent-Type: application/json\r\nContent-Encoding: zstd\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n`,
    );
    expect(zstd).toMatch(/^HTTP\/1\.1 415 /);
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

/** Sends raw bytes on a new connection and collects everything until the server closes it (or `until` holds). */
async function rawExchange(url: string, bytes: string, until: (text: string) => boolean = () => false, timeoutMs = 10_000): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms; got: ${text.slice(0, 500)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    socket.on('data', () => until(text) && done());
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

function problemOfRaw(text: string): { status: number; headers: string; body: Record<string, unknown> } {
  const [head, body] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) as Record<string, unknown> };
}

describe('answers below the routes', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ env: { AUTH_FAILURES_PER_MINUTE: '2', TRUST_PROXY_HOPS: '1' } });
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers headers larger than the server takes with a 431 problem, not a bare status line', async () => {
    const answer = problemOfRaw(await rawExchange(app.url, `GET /v1/inventory/SKU-001 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(answer.status).toBe(431);
    expect(answer.headers).toContain('content-type: application/problem+json');
    expect(answer.body).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE', requestId: expect.any(String) });
  });

  it('answers a request Node cannot parse with a 400 problem naming the request', async () => {
    const answer = problemOfRaw(await rawExchange(app.url, 'POST /v1/inventory/updates HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'request', issue: 'could not be parsed' }] });
    // The same security and caching headers as every other answer.
    expect(answer.headers).toContain("content-security-policy: default-src 'none'; frame-ancestors 'none'");
    expect(answer.headers).toContain('x-content-type-options: nosniff');
    expect(answer.headers).toContain('cache-control: no-store');
  });

  it('answers an expectation it does not meet with a 417 problem, not Node’s bare status line', async () => {
    const answer = problemOfRaw(await rawExchange(app.url, 'GET /health/live HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n'));
    expect(answer.status).toBe(417);
    expect(answer.headers).toContain('content-type: application/problem+json');
    expect(answer.headers).toContain('x-content-type-options: nosniff');
    expect(answer.body).toMatchObject({ code: 'EXPECTATION_FAILED', requestId: expect.any(String) });
  });

  it('asks for a body with 100 Continue only once the caller is known', async () => {
    const body = UPDATE.replace('enc-001', 'continue-001');
    const head = (key: string) => `POST ${UPDATES_PATH} HTTP/1.1\r\nHost: x\r\n${key}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`;
    const stranger = await rawExchange(app.url, head(''));
    expect(stranger).toMatch(/^HTTP\/1\.1 401 /);
    expect(stranger).not.toContain('100 Continue');
    // A known key is asked for the body, and the update it then sends is applied.
    const { hostname, port } = new URL(app.url);
    const socket = connect({ host: hostname, port: Number(port) });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text === 'HTTP/1.1 100 Continue\r\n\r\n') {
        socket.write(body);
      }
    });
    socket.write(head('X-API-Key: demo\r\n'));
    await waitFor('the update’s answer', () => text.includes('"applied"'));
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  });

  it('answers HEAD of the change stream with its headers only, and goes on with the connection', async () => {
    const text = await rawExchange(
      app.url,
      'HEAD /v1/changes/stream HTTP/1.1\r\nHost: x\r\nX-API-Key: demo\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\n\r\n',
      (received) => received.includes('{"status":"ok"}'),
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(text.toLowerCase()).toContain('content-type: text/event-stream');
    expect(text).toContain('{"status":"ok"}');
  });

  it('keeps the API’s answers out of shared caches; a level can be revalidated by its ETag, per key', async () => {
    const list = await app.http().get('/v1/stores/store-1/inventory').set('X-API-Key', 'demo').expect(200);
    expect(list.headers['cache-control']).toBe('no-store');
    const feed = await app.http().get('/v1/changes').set('X-API-Key', 'demo').expect(200);
    expect(feed.headers['cache-control']).toBe('no-store');
    const level = await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
    expect(level.headers['cache-control']).toBe('private, no-cache');
    expect(level.headers.vary).toContain('X-API-Key');
  });

  it('says how to authenticate in a 401, and keeps query strings out of problem answers', async () => {
    const refused = await app.http().get('/v1/inventory/SKU-001?api_key=s3cret').expect(401);
    expect(refused.headers['www-authenticate']).toBe('ApiKey header="X-API-Key"');
    expect(refused.body.instance).toBe('/v1/inventory/SKU-001');
    expect(refused.text).not.toContain('s3cret');
  });

  it('refuses query parameters named like members every object inherits, __proto__ and constructor included', async () => {
    for (const path of ['/v1/changes?after=0', '/v1/stores/store-1/inventory?limit=2', '/v1/stores/store-1/inventory/SKU-001/history?limit=2']) {
      for (const name of ['__proto__', 'constructor', 'prototype', 'toString']) {
        const response = await app.http().get(`${path}&${name}=1`).set('X-API-Key', 'demo').expect(400);
        expect({ path, errors: response.body.errors }).toEqual({ path, errors: [{ field: name, issue: 'unknown field' }] });
      }
    }
  });

  it('takes back only cursors exactly as it wrote them', async () => {
    const first = await app.http().get('/v1/stores/store-1/inventory?limit=2').set('X-API-Key', 'demo').expect(200);
    const cursor = first.body.nextCursor as string;
    await app.http().get(`/v1/stores/store-1/inventory?limit=2&cursor=${cursor}`).set('X-API-Key', 'demo').expect(200);
    for (const tampered of [`${cursor}x`, 'c1.IlNLVS0wMDMix', `c1.${Buffer.from('"a b"').toString('base64url')}`]) {
      const response = await app.http().get(`/v1/stores/store-1/inventory?cursor=${tampered}`).set('X-API-Key', 'demo').expect(400);
      expect(response.body.errors).toEqual([{ field: 'cursor', issue: expect.any(String) }]);
    }
    await app.http().get(`/v1/stores/store-1/inventory/SKU-001/history?cursor=c1.${Buffer.from('-1').toString('base64url')}`).set('X-API-Key', 'demo').expect(400);
    // Given twice (even the same cursor twice): one cursor, said so.
    for (const path of ['/v1/stores/store-1/inventory', '/v1/stores/store-1/inventory/SKU-001/history']) {
      const response = await app.http().get(`${path}?cursor=${cursor}&cursor=${cursor}`).set('X-API-Key', 'demo').expect(400);
      expect(response.body.errors).toEqual([{ field: 'cursor', issue: 'must be given once, as a page returned it (nextCursor)' }]);
    }
  });

  it('tells a query parameter given twice that it must be given once, not that its value is wrong', async () => {
    const cases: Array<readonly [string, string]> = [
      ['/v1/changes?limit=2&limit=3', 'limit'],
      ['/v1/changes?after=0&after=1', 'after'],
      ['/v1/changes?waitSeconds=1&waitSeconds=2', 'waitSeconds'],
      ['/v1/changes?storeId=store-1&storeId=store-2', 'storeId'],
      ['/v1/changes/stream?after=0&after=0', 'after'],
      ['/v1/stores/store-1/inventory?limit=2&limit=2', 'limit'],
      ['/v1/stores/store-1/inventory/SKU-001/history?limit=2&limit=3', 'limit'],
    ];
    for (const [path, field] of cases) {
      const response = await app.http().get(path).set('X-API-Key', 'demo').expect(400);
      expect({ path, code: response.body.code, errors: response.body.errors }).toEqual({ path, code: 'VALIDATION_FAILED', errors: [{ field, issue: 'must be given once' }] });
    }
    // An unknown parameter stays unknown, however often it is given; a wrong single value stays wrong.
    const unknown = await app.http().get('/v1/changes?colour=1&colour=2').set('X-API-Key', 'demo').expect(400);
    expect(unknown.body.errors).toEqual([{ field: 'colour', issue: 'unknown field' }]);
    const wrong = await app.http().get('/v1/changes?limit=0').set('X-API-Key', 'demo').expect(400);
    expect(wrong.body.errors).toEqual([{ field: 'limit', issue: expect.stringContaining('must be an integer') }]);
  });

  it('counts failed authentications of an IPv6 client by its /64 network', async () => {
    const attempt = (address: string, key: string) => app.http().get('/v1/inventory/SKU-001').set('X-API-Key', key).set('X-Forwarded-For', address);
    await attempt('2001:db8:0:7::1', 'guess-1').expect(401);
    await attempt('2001:db8:0:7::2', 'guess-2').expect(401);
    // Another address of the same /64 is the same client: blocked.
    await attempt('2001:db8:0:7:ffff::3', 'guess-3').expect(429);
    // Another /64 is another client.
    await attempt('2001:db8:0:8::1', 'guess-4').expect(401);
  });
});


describe('a request not sent whole in time', () => {
  const TIMEOUT_MS = 1000;
  let app: TestApp;

  beforeAll(async () => {
    // A stream's first heartbeat comes after the timeout has passed (and been checked for) twice.
    app = await startApp({ env: { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS), STREAM_HEARTBEAT_MS: String(2 * TIMEOUT_MS) } });
  });

  afterAll(async () => {
    await app.close();
  });

  it.each([
    ['half its body', `POST ${UPDATES_PATH} HTTP/1.1\r\nHost: x\r\nX-API-Key: demo\r\nContent-Type: application/json\r\nContent-Length: ${UPDATE.length}\r\n\r\n${UPDATE.slice(0, 20)}`],
    ['half its headers', `POST ${UPDATES_PATH} HTTP/1.1\r\nHost: x\r\nX-API-Key: demo\r\n`],
  ])('answers %s with a 408 problem after REQUEST_TIMEOUT_MS, closes the connection and changes nothing', async (_what, bytes) => {
    const before = await allLevels(app);
    const started = Date.now();
    // Node's own default would hold the connection for five minutes; the exchange gives up at 10 s.
    const answer = problemOfRaw(await rawExchange(app.url, bytes));
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(answer.status).toBe(408);
    expect(answer.headers).toContain('content-type: application/problem+json');
    expect(answer.headers).toContain('connection: close');
    expect(answer.body).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT', requestId: expect.any(String) });
    expect(await allLevels(app)).toEqual(before);
  });

  it('refuses a body whose declared length is over the limit at once with 413, before it arrives or times out', async () => {
    const before = await allLevels(app);
    // Ten bytes of a declared ten million: the rest never comes.
    const head = `POST ${UPDATES_PATH} HTTP/1.1\r\nHost: x\r\nX-API-Key: demo\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n`;
    const answer = problemOfRaw(await rawExchange(app.url, `${head}{"storeId"`, (text) => text.includes('}')));
    expect(answer.status).toBe(413);
    expect(answer.headers).toContain('connection: close');
    expect(answer.body).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(await allLevels(app)).toEqual(before);
  });

  it('answers a request once: a 401 sent before its body arrived is not followed by a 408 when the body never does', async () => {
    const bytes = `POST ${UPDATES_PATH} HTTP/1.1\r\nHost: x\r\nX-API-Key: wrong\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`;
    // Until the server closes the connection, which it does once the request has timed out.
    const text = await rawExchange(app.url, bytes);
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    expect(text.match(/HTTP\/1\.1 \d{3} /g)).toEqual(['HTTP/1.1 401 ']);
  });

  it('times only the request: a long poll and a stream outlast it', async () => {
    const { lastSeq } = (await app.http().get('/v1/changes').set('X-API-Key', 'demo').expect(200)).body as { lastSeq: number };
    const started = Date.now();
    const poll = await app.http().get(`/v1/changes?after=${lastSeq}&waitSeconds=2`).set('X-API-Key', 'demo');
    expect(poll.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * TIMEOUT_MS - 50);
    const stream = await rawExchange(
      app.url,
      `GET /v1/changes/stream?after=${lastSeq} HTTP/1.1\r\nHost: x\r\nX-API-Key: demo\r\n\r\n`,
      (received) => received.includes(': heartbeat') || /408/.test(received.split('\r\n')[0]),
      20_000,
    ).catch((error: Error) => error.message);
    expect(stream).toMatch(/^HTTP\/1\.1 200 OK/);
  });
});
