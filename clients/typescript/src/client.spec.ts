import { InventoryClient } from './client';
import { InventoryHttpError, InventoryNetworkError, UpdateRejectedError } from './errors';
import type { RetryEvent } from './retry';

/** A request as the fake service saw it. */
interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly at: number;
}

type Reply = (seen: Seen) => Response | Error;

/**
 * A fetch that answers from a script, one reply per request, and records what it was sent: the
 * client's side of the protocol (which request is repeated, with which key), without a service.
 */
function scriptedFetch(replies: Reply[]) {
  const seen: Seen[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const entry = { method: request.method, path: url.pathname + url.search, headers: Object.fromEntries(request.headers), body: await request.text(), at: Date.now() };
    seen.push(entry);
    const reply = replies.shift();
    if (reply === undefined) {
      throw new Error(`unexpected request ${entry.method} ${entry.path}`);
    }
    const answer = reply(entry);
    if (answer instanceof Error) {
      throw answer;
    }
    return answer;
  };
  return { fetch, seen, bodies: () => seen.map((entry) => (entry.body === '' ? undefined : (JSON.parse(entry.body) as Record<string, unknown>))) };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  const contentType = status >= 400 && !(typeof body === 'object' && body !== null && 'applied' in body) ? 'application/problem+json' : 'application/json';
  return () => new Response(JSON.stringify(body), { status, headers: { 'content-type': contentType, 'x-request-id': 'req-1', ...headers } });
}

const reset: Reply = () => new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
const refused: Reply = () => new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8081'), { code: 'ECONNREFUSED' }) });

const LEVEL = { storeId: 'store-1', productId: 'SKU-001', quantity: 10, reserved: 0, available: 10, version: 5, lastUpdated: '2026-11-30T12:00:00.000Z' };
const APPLIED = { productId: 'SKU-001', newQuantity: 12, newVersion: 6, applied: true, lastUpdated: '2026-11-30T12:00:01.000Z' };
const conflict = (currentVersion: number) => json(409, { productId: 'SKU-001', applied: false, error: `version conflict: expected ${currentVersion}, got 5`, code: 'VERSION_CONFLICT', currentVersion });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function clientWith(replies: Reply[], events: RetryEvent[] = []) {
  const script = scriptedFetch(replies);
  const client = new InventoryClient({
    baseUrl: 'http://inventory.test',
    apiKey: 'demo',
    fetch: script.fetch,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    onRetry: (event) => events.push(event),
  });
  return { client, ...script };
}

describe('InventoryClient: changes get a key, and every retry sends the same request', () => {
  it('makes a key for an update, and resends the identical body through 503, 504, 409 IN_USE and a reset connection', async () => {
    const events: RetryEvent[] = [];
    const { client, seen, bodies } = clientWith(
      [
        json(503, { status: 503, code: 'QUEUE_FULL' }, { 'retry-after': '0' }),
        json(504, { status: 504, code: 'PROCESSING_TIMEOUT' }),
        json(409, { status: 409, code: 'IDEMPOTENCY_KEY_IN_USE' }, { 'retry-after': '0' }),
        reset,
        json(200, APPLIED, { 'idempotent-replayed': 'true' }),
      ],
      events,
    );
    const result = await client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 2, version: 5 });

    expect(result).toEqual({ ...APPLIED, idempotencyKey: expect.stringMatching(UUID), replayed: true });
    expect(seen).toHaveLength(5);
    expect(new Set(seen.map((entry) => entry.body)).size).toBe(1);
    expect(bodies()[0]).toEqual({ storeId: 'store-1', productId: 'SKU-001', delta: 2, version: 5, idempotencyKey: result.idempotencyKey });
    expect(seen[0].headers['x-api-key']).toBe('demo');
    expect(events.map((event) => [event.attempt, event.idempotencyKeys])).toEqual([1, 2, 3, 4].map((attempt) => [attempt, [result.idempotencyKey]]));
  });

  it('keeps the caller’s key', async () => {
    const { client, bodies } = clientWith([refused, json(200, APPLIED)]);
    const result = await client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 2, version: 5, idempotencyKey: 'order-7-line-1' });
    expect(result.idempotencyKey).toBe('order-7-line-1');
    expect(bodies().map((body) => body?.idempotencyKey)).toEqual(['order-7-line-1', 'order-7-line-1']);
  });

  it('gives every change its own key', async () => {
    const { client } = clientWith([json(200, APPLIED), json(200, APPLIED)]);
    const first = await client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 2, version: 5 });
    const second = await client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 2, version: 6 });
    expect(first.idempotencyKey).not.toBe(second.idempotencyKey);
  });

  it('waits Retry-After before the next try', async () => {
    const { client, seen } = clientWith([json(503, { status: 503, code: 'SHUTTING_DOWN' }, { 'retry-after': '1' }), json(200, APPLIED)]);
    await client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 2, version: 5 });
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(1000);
  });

  it('keys each batch item, and resends the batch with the same keys', async () => {
    const { client, bodies } = clientWith([
      reset,
      json(200, {
        results: [APPLIED, { productId: 'SKU-002', applied: false, error: 'version conflict: expected 9, got 8', code: 'VERSION_CONFLICT', currentVersion: 9 }],
        summary: { total: 2, succeeded: 1, failed: 1 },
      }),
    ]);
    const result = await client.updateBatch({
      storeId: 'store-1',
      updates: [
        { productId: 'SKU-001', delta: 2, version: 5 },
        { productId: 'SKU-002', delta: -1, version: 8, idempotencyKey: 'mine' },
      ],
    });
    const [first, second] = bodies();
    expect(first).toEqual(second);
    const keys = (first?.updates as Array<{ idempotencyKey: string }>).map((item) => item.idempotencyKey);
    expect(keys).toEqual([expect.stringMatching(UUID), 'mine']);
    expect(result.results.map((item) => [item.applied, item.idempotencyKey])).toEqual([
      [true, keys[0]],
      [false, 'mine'],
    ]);
    expect(result.summary).toEqual({ total: 2, succeeded: 1, failed: 1 });
  });

  it('keys a reservation in its body and an admin set in Idempotency-Key, the same on every try', async () => {
    const reservation = { reservationId: 'res_1', storeId: 'store-1', status: 'active', expiresAt: 'x', lines: [], reference: null, createdAt: 'x', updatedAt: 'x' };
    const { client, seen, bodies } = clientWith([reset, json(201, reservation), json(503, { status: 503, code: 'QUEUE_FULL' }, { 'retry-after': '0' }), json(200, LEVEL)]);
    const held = await client.reserve({ storeId: 'store-1', lines: [{ productId: 'SKU-001', quantity: 1 }] });
    expect(bodies()[0]?.idempotencyKey).toBe(held.idempotencyKey);
    expect(bodies()[1]?.idempotencyKey).toBe(held.idempotencyKey);

    const set = await client.setLevel('store-1', 'SKU-001', { quantity: 10, version: 4 });
    expect(seen[2].headers['idempotency-key']).toBe(set.idempotencyKey);
    expect(seen[3].headers['idempotency-key']).toBe(set.idempotencyKey);
    expect(set).toMatchObject({ quantity: 10, created: false });
  });
});

describe('InventoryClient: answers that are decisions are not retried, and are typed', () => {
  it.each([
    [400, { type: '/problems/validation-failed', title: 'Request validation failed', status: 400, detail: 'invalid request: delta', code: 'VALIDATION_FAILED', errors: [{ field: 'delta', issue: 'must be a non-zero integer' }], requestId: 'req-400' }],
    [401, { status: 401, detail: 'missing or unknown API key', code: 'UNAUTHENTICATED', requestId: 'req-401' }],
    [403, { status: 403, detail: 'not your store', code: 'STORE_FORBIDDEN', requestId: 'req-403' }],
    [422, { status: 422, detail: 'key reused', code: 'IDEMPOTENCY_KEY_REUSED', requestId: 'req-422' }],
    [500, { status: 500, detail: 'internal error', code: 'INTERNAL_ERROR', requestId: 'req-500' }],
  ])('%i: one try, an InventoryHttpError with the problem details', async (status, problem) => {
    const { client, seen } = clientWith([json(status, problem)]);
    const failure = await client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 2, version: 5 }).catch((error: unknown) => error);
    expect(seen).toHaveLength(1);
    expect(failure).toBeInstanceOf(InventoryHttpError);
    expect(failure).not.toBeInstanceOf(UpdateRejectedError);
    const error = failure as InventoryHttpError;
    expect({ status: error.status, code: error.code, detail: error.detail, errors: error.errors, requestId: error.requestId, attempts: error.attempts }).toEqual({
      status,
      code: problem.code,
      detail: problem.detail,
      errors: 'errors' in problem ? problem.errors : [],
      requestId: problem.requestId,
      attempts: 1,
    });
    expect(error.idempotencyKey).toEqual(expect.stringMatching(UUID));
    expect(error.message).toContain(problem.code);
  });

  it.each([
    [409, { productId: 'SKU-001', applied: false, error: 'version conflict: expected 6, got 5', code: 'VERSION_CONFLICT', currentVersion: 6 }],
    [409, { productId: 'SKU-001', applied: false, error: 'insufficient stock: available 1, requested 2', code: 'INSUFFICIENT_STOCK', currentVersion: 5, currentQuantity: 1, available: 1 }],
    [404, { productId: 'SKU-001', applied: false, error: 'no stock level for product SKU-001 in store store-1', code: 'LEVEL_NOT_FOUND' }],
  ])('%i update result: one try, an UpdateRejectedError', async (status, result) => {
    const { client, seen } = clientWith([json(status, result, { 'idempotent-replayed': 'true' })]);
    const failure = await client.update({ storeId: 'store-1', productId: 'SKU-001', delta: -2, version: 5 }).catch((error: unknown) => error);
    expect(seen).toHaveLength(1);
    expect(failure).toBeInstanceOf(UpdateRejectedError);
    expect(failure).toMatchObject({
      status,
      code: result.code,
      detail: result.error,
      requestId: 'req-1',
      replayed: true,
      currentVersion: 'currentVersion' in result ? result.currentVersion : undefined,
      available: 'available' in result ? result.available : undefined,
    });
  });

  it('gives up after maxAttempts with the key and the body to resend', async () => {
    const { client, seen } = clientWith([reset, reset, reset]);
    const failure = await client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 2, version: 5 }, { retry: { maxAttempts: 3 } }).catch((error: unknown) => error);
    expect(seen).toHaveLength(3);
    expect(failure).toBeInstanceOf(InventoryNetworkError);
    const error = failure as InventoryNetworkError;
    expect(error.attempts).toBe(3);
    expect(error.requestBody).toEqual(JSON.parse(seen[0].body));
    expect(error.idempotencyKey).toBe((JSON.parse(seen[0].body) as { idempotencyKey: string }).idempotencyKey);
  });
});

describe('adjustWithRetry', () => {
  it('after a conflict reads again, decides again and sends a new change with a new key; a cut connection resends that change with its key', async () => {
    const { client, seen, bodies } = clientWith([
      json(200, LEVEL),
      conflict(6),
      json(200, { ...LEVEL, quantity: 3, available: 3, version: 6 }),
      reset,
      json(200, { ...APPLIED, newQuantity: 4, newVersion: 7 }),
    ]);
    const seenLevels: number[] = [];
    const result = await client.adjustWithRetry('store-1', 'SKU-001', (level) => {
      seenLevels.push(level.quantity);
      return level.quantity >= 5 ? -5 : 1;
    });

    expect(seen.map((entry) => `${entry.method} ${entry.path}`)).toEqual([
      'GET /v1/stores/store-1/inventory/SKU-001',
      'POST /v1/inventory/updates',
      'GET /v1/stores/store-1/inventory/SKU-001',
      'POST /v1/inventory/updates',
      'POST /v1/inventory/updates',
    ]);
    expect(seenLevels).toEqual([10, 3]);
    const [, first, , second, resent] = bodies();
    expect(first).toMatchObject({ delta: -5, version: 5 });
    expect(second).toMatchObject({ delta: 1, version: 6 });
    expect(second?.idempotencyKey).not.toBe(first?.idempotencyKey);
    expect(resent).toEqual(second);
    expect(result).toMatchObject({ applied: true, newVersion: 7, delta: 1, attempts: 2, idempotencyKey: second?.idempotencyKey });
  });

  it('with a fixed delta, takes the conflict’s currentVersion without reading again', async () => {
    const { client, seen, bodies } = clientWith([json(200, LEVEL), conflict(8), conflict(9), json(200, APPLIED)]);
    const result = await client.adjustWithRetry('store-1', 'SKU-001', -1);
    expect(seen.filter((entry) => entry.method === 'GET')).toHaveLength(1);
    const posted = bodies().slice(1);
    expect(posted.map((body) => body?.version)).toEqual([5, 8, 9]);
    expect(new Set(posted.map((body) => body?.idempotencyKey)).size).toBe(3);
    expect(result).toMatchObject({ applied: true, attempts: 3 });
  });

  it('never starts a new change while the outcome of one is unknown: it throws with that change’s key', async () => {
    const { client, bodies } = clientWith([json(200, LEVEL), reset, reset, reset]);
    const failure = await client.adjustWithRetry('store-1', 'SKU-001', 2, { retry: { maxAttempts: 3 } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InventoryNetworkError);
    const posted = bodies().slice(1);
    expect(posted).toHaveLength(3);
    expect(new Set(posted.map((body) => body?.idempotencyKey)).size).toBe(1);
    expect((failure as InventoryNetworkError).idempotencyKey).toBe(posted[0]?.idempotencyKey);
  });

  it('stops after maxAttempts conflicts, and never retries other refusals', async () => {
    const { client } = clientWith([json(200, LEVEL), conflict(6), conflict(7)]);
    await expect(client.adjustWithRetry('store-1', 'SKU-001', 1, { maxAttempts: 2 })).rejects.toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 7 });

    const insufficient = clientWith([json(200, LEVEL), json(409, { productId: 'SKU-001', applied: false, error: 'insufficient stock', code: 'INSUFFICIENT_STOCK', currentVersion: 5, currentQuantity: 10 })]);
    await expect(insufficient.client.adjustWithRetry('store-1', 'SKU-001', -20)).rejects.toMatchObject({ code: 'INSUFFICIENT_STOCK' });
    expect(insufficient.seen).toHaveLength(2);
  });

  it('sends nothing when decide declines', async () => {
    const { client, seen } = clientWith([json(200, LEVEL)]);
    expect(await client.adjustWithRetry('store-1', 'SKU-001', () => null)).toEqual({ applied: false, level: LEVEL, attempts: 0 });
    expect(seen).toHaveLength(1);
  });
});

describe('options and arguments a request could not honour', () => {
  it('refuses a path id that a URL cannot name (empty, . or ..) without sending anything', async () => {
    const { client, seen } = clientWith([]);
    for (const [storeId, productId] of [
      ['..', 'SKU-001'],
      ['store-1', '.'],
      ['store-1', ''],
    ]) {
      await expect(client.getLevel(storeId, productId)).rejects.toThrow(RangeError);
      await expect(client.history(storeId, productId)).rejects.toThrow(RangeError);
      await expect(client.setLevel(storeId, productId, { quantity: 1 })).rejects.toThrow(RangeError);
      await expect(client.adjustWithRetry(storeId, productId, 1)).rejects.toThrow(RangeError);
    }
    await expect(client.snapshot('..')).rejects.toThrow(/storeId "\.\." cannot be named in a URL path/);
    await expect(client.getProduct('.')).rejects.toThrow(RangeError);
    await expect(client.commitReservation('..')).rejects.toThrow(RangeError);
    expect(seen).toEqual([]);
  });

  it.each([
    ['attemptTimeoutMs', Infinity],
    ['attemptTimeoutMs', 3e9],
    ['attemptTimeoutMs', 0],
    ['maxElapsedMs', Number.NaN],
    ['baseDelayMs', -1],
    ['maxAttempts', 0],
    ['maxAttempts', 1.5],
  ])('refuses retry.%s = %p where it is given: in the client’s options, or a call’s', async (name, value) => {
    expect(() => new InventoryClient({ baseUrl: 'http://inventory.test', apiKey: 'demo', retry: { [name]: value } })).toThrow(RangeError);
    const { client, seen } = clientWith([]);
    await expect(client.getLevel('store-1', 'SKU-001', { retry: { [name]: value } })).rejects.toThrow(new RegExp(`retry\\.${name} must be`));
    expect(seen).toEqual([]);
  });

  it('refuses adjustWithRetry bounds that are not counts or durations', async () => {
    const { client, seen } = clientWith([]);
    await expect(client.adjustWithRetry('store-1', 'SKU-001', 1, { maxAttempts: 0 })).rejects.toThrow(RangeError);
    await expect(client.adjustWithRetry('store-1', 'SKU-001', 1, { conflictBackoff: { baseDelayMs: Number.NaN, maxDelayMs: 10 } })).rejects.toThrow(RangeError);
    expect(seen).toEqual([]);
  });

  it('refuses feed options it could only get wrong: an unknown transport, an idle timeout no timer can wait', () => {
    const { client } = clientWith([]);
    expect(() => client.changes({ after: 0, transport: 'bogus' as 'sse' })).toThrow(RangeError);
    for (const idleTimeoutMs of [0, -1, Number.NaN, 3e9]) {
      expect(() => client.changes({ after: 0, transport: 'sse', idleTimeoutMs })).toThrow(RangeError);
    }
  });
});
