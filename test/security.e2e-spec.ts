import { ShutdownState } from '../src/common/lifecycle/shutdown-state';
import { postUpdate } from './helpers/inventory-client';
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
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(response.headers['strict-transport-security']).toBeDefined();
      expect(response.headers['x-frame-options']).toBeDefined();
      expect(response.headers['x-powered-by']).toBeUndefined();
      // Errors and the documentation pages get them too.
      const failed = await app.http().get('/v1/inventory/SKU-001').expect(401);
      expect(failed.headers['x-content-type-options']).toBe('nosniff');
      const docs = await app.http().get('/docs/').expect(200);
      expect(docs.headers['content-security-policy']).toContain("script-src 'self'");
      expect(docs.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
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

  it('limits requests per API key with 429 and Retry-After; other keys are unaffected', async () => {
    const app = await startApp({ env: { RATE_LIMIT_PER_SECOND: '5' } });
    try {
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<ReturnType<TestApp['http']>['get']>> | undefined;
      for (let request = 0; request < 8; request += 1) {
        const response = await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'demo');
        statuses.push(response.status);
        if (response.status === 429) {
          limited ??= response;
        }
      }
      expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(5);
      expect(limited).toBeDefined();
      expect(limited!.headers['retry-after']).toMatch(/^\d+$/);
      expect(limited!.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(limited!.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      // Another key has its own budget; writes are limited the same way and change nothing when refused.
      await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'pos1').expect(200);
    } finally {
      await app.close();
    }
  });

  it('blocks an address after repeated failed authentications, even with a valid key', async () => {
    const app = await startApp({ env: { AUTH_FAILURES_PER_MINUTE: '3' } });
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', `guess-${attempt}`).expect(401);
      }
      const blocked = await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'guess-4').expect(429);
      expect(blocked.body.code).toBe('RATE_LIMITED');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      await app.http().get('/v1/inventory/SKU-001').set('X-API-Key', 'demo').expect(429);
      await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'blocked' }).expect(429);
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
