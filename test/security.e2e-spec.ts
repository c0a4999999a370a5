import { ShutdownState } from '../src/common/lifecycle/shutdown-state';
import { allLevels, ledgerRows, postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

describe('security headers, CORS, rate limits', () => {
  describe('defaults', () => {
    let app: TestApp;

    beforeAll(async () => {
      app = await startApp();
    });

    afterAll(async () => {
      await app.close();
    });

    it('sends security headers and hides the framework', async () => {
      const response = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      // An API answer loads nothing and may be framed by nobody.
      expect(response.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['x-powered-by']).toBeUndefined();
      // Errors and the documentation pages get them too.
      const failed = await app.http().get('/v1/inventory/SKU-001').expect(401);
      expect(failed.headers['x-content-type-options']).toBe('nosniff');
      const unknown = await app.http().get('/nowhere').expect(404);
      expect(unknown.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      const docs = await app.http().get('/docs/').expect(200);
      expect(docs.headers['content-security-policy']).toContain("script-src 'self'");
      expect(docs.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      // Paths are case-sensitive: another case is no documentation page, and gets the API's headers.
      const shouted = await app.http().get('/DOCS/').expect(404);
      expect(shouted.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    });

    it('keeps CORS closed: no cross-origin grant, not even on preflight', async () => {
      const simple = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').set('Origin', 'https://evil.example').expect(200);
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await app
        .http()
        .options('/v1/inventory/updates')
        .set('Origin', 'https://evil.example')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'x-api-key,content-type');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.headers['access-control-allow-headers']).toBeUndefined();
    });

    it('answers the health probes without a key', async () => {
      await app.http().get('/health/live').expect(200, { status: 'ok' });
      const ready = await app.http().get('/health/ready').expect(200);
      expect(ready.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, queue: { status: 'up', depth: 0, capacity: 100 }, lifecycle: { status: 'up' } } });
    });
  });

  it('grants CORS to the configured origins only, exposing the service headers', async () => {
    const app = await startApp({ env: { CORS_ORIGINS: 'https://pos.example.com' } });
    try {
      const preflight = await app
        .http()
        .options('/v1/inventory/updates')
        .set('Origin', 'https://pos.example.com')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'x-api-key,content-type,idempotency-key')
        .expect(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://pos.example.com');
      expect(preflight.headers['access-control-allow-headers']).toContain('Idempotency-Key');
      const simple = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').set('Origin', 'https://pos.example.com').expect(200);
      expect(simple.headers['access-control-expose-headers']).toContain('Idempotent-Replayed');
      const other = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').set('Origin', 'https://evil.example').expect(200);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('limits requests per API key with 429 and Retry-After, with the RateLimit headers on every answer; other keys are unaffected', async () => {
    const app = await startApp({ env: { RATE_LIMIT_PER_SECOND: '5' } });
    try {
      const answers: Array<Awaited<ReturnType<ReturnType<TestApp['http']>['get']>>> = [];
      for (let request = 0; request < 8; request += 1) {
        answers.push(await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'demo'));
      }
      const statuses = answers.map((response) => response.status);
      expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(5);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(answers[0].headers['ratelimit-policy']).toBe('"api-key";q=5;w=1');
      expect(answers[0].headers.ratelimit).toMatch(/^"api-key";r=4;t=1$/);
      const limited = answers.find((response) => response.status === 429);
      expect(limited).toBeDefined();
      expect(limited!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(limited!.headers['ratelimit-policy']).toBe('"api-key";q=5;w=1');
      expect(limited!.headers.ratelimit).toBe(`"api-key";r=0;t=${limited!.headers['retry-after']}`);
      expect(limited!.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(limited!.body).toMatchObject({ status: 429, code: 'RATE_LIMITED', detail: expect.stringContaining('more than 5 requests per second with this API key') });
      expect(limited!.text).not.toMatch(/Throttler/i);
      // Another key has its own budget.
      await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'pos1').expect(200);
    } finally {
      await app.close();
    }
  });

  it('changes nothing for writes it refuses: no stock, no ledger row, no stored answer', async () => {
    const app = await startApp({ env: { RATE_LIMIT_PER_SECOND: '2' } });
    try {
      const before = await allLevels(app);
      const update = (key: string) => ({ storeId: 'store-1', productId: 'SKU-005', delta: 1, version: 3, idempotencyKey: key });
      const statuses: number[] = [];
      // Limits count per second: send until one is refused, all within one window.
      for (let attempt = 0; attempt < 20 && !statuses.includes(429); attempt += 1) {
        const response = await postUpdate(app, update(`limited-${attempt}`), 'pos1');
        statuses.push(response.status);
      }
      expect(statuses).toContain(429);
      const refused = statuses.length - 1;
      const applied = statuses.filter((status) => status === 200).length;
      expect(applied).toBe(1);
      // The first applied; the others conflicted (409) until the refusal.
      const ledger = await ledgerRows(app);
      expect(ledger.map((row) => row.idempotency_key)).toEqual(['limited-0']);
      const after = await allLevels(app);
      expect(after.filter((level) => level.product_id !== 'SKU-005')).toEqual(before.filter((level) => level.product_id !== 'SKU-005'));
      expect(after.find((level) => level.product_id === 'SKU-005')).toMatchObject({ quantity: 9, version: 4 });
      // The refused request was not stored: once the window has passed, its key executes afresh.
      const deadline = Date.now() + 5000;
      let retried = await postUpdate(app, update(`limited-${refused}`), 'pos1');
      while (retried.status === 429 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        retried = await postUpdate(app, update(`limited-${refused}`), 'pos1');
      }
      expect(retried.status).toBe(409);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('blocks unknown keys from an address after repeated failed authentications, a right guess included, while keys already working from it carry on', async () => {
    const app = await startApp({ env: { AUTH_FAILURES_PER_MINUTE: '3' } });
    try {
      // demo already works from this address; pos1 never did.
      await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', `guess-${attempt}`).expect(401);
      }
      const blocked = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'guess-4').expect(429);
      expect(blocked.body.code).toBe('RATE_LIMITED');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // A valid key new to this address gets exactly the same answer as a wrong one: guessing learns nothing.
      const rightGuess = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'pos1').expect(429);
      expect({ ...rightGuess.body, requestId: undefined, instance: undefined }).toEqual({ ...blocked.body, requestId: undefined, instance: undefined });
      // The client that was already working here is not locked out by someone else's bad key.
      await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);
      await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'still-working' }).expect(200);
    } finally {
      await app.close();
    }
  });

  it('refuses new requests with 503 once shutdown has begun, while health keeps answering', async () => {
    const app = await startApp();
    try {
      app.app.get(ShutdownState).beginDraining();
      const refused = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').expect(503);
      expect(refused.body).toMatchObject({ code: 'SHUTTING_DOWN' });
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.headers.connection).toBe('close');
      await app.http().get('/health/live').expect(200);
      const ready = await app.http().get('/health/ready').expect(503);
      expect(ready.body).toMatchObject({ code: 'NOT_READY', checks: { error: { lifecycle: { status: 'down', message: 'shutting down' } } } });
    } finally {
      await app.close();
    }
  });
});
