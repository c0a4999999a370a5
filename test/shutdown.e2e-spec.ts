import { createTestStore, type TestStore } from './helpers/dialect';
import { insertLevels, levelsOf } from './helpers/direct-database';
import { jsonLines, type ServiceProcess, spawnService } from './helpers/service-process';

const STORE = 'drain-store';
const CLIENTS = 12;
const SIGNAL_AFTER_ACKS = 120;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };

interface Outcome {
  readonly productId: string;
  readonly body: string;
  /** HTTP status, or 0 when the connection failed (refused once the server closed). */
  readonly status: number;
  readonly code?: string;
  readonly retryAfter?: string | null;
}

describe.each(['SIGTERM', 'SIGINT'] as const)('graceful shutdown on %s under load', (signal) => {
  let store: TestStore;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    store = await createTestStore();
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await store.dispose();
  });

  it('stops accepting (503), drains, answers everything accepted, closes the database and exits 0', async () => {
    service = await spawnService({ ...store.env, LOG_LEVEL: 'info', RATE_LIMIT_PER_SECOND: '0', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    const running = service;
    const products = Array.from({ length: CLIENTS }, (_, index) => `D-${index}`);
    await insertLevels(store, STORE, products);

    const outcomes: Outcome[] = [];
    let signalledAt = 0;
    const clients = products.map(async (productId) => {
      for (let version = 0; ; version += 1) {
        const idempotencyKey = `${productId}-v${version}`;
        const body = JSON.stringify({ storeId: STORE, productId, delta: 1, version, idempotencyKey });
        let outcome: Outcome;
        try {
          const response = await fetch(`${running.url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body });
          const parsed = (await response.json()) as { code?: string };
          outcome = { productId, body, status: response.status, code: parsed.code, retryAfter: response.headers.get('retry-after') };
        } catch {
          outcome = { productId, body, status: 0 };
        }
        outcomes.push(outcome);
        if (outcomes.filter((item) => item.status === 200).length >= SIGNAL_AFTER_ACKS && signalledAt === 0) {
          signalledAt = Date.now();
          running.child.kill(signal);
        }
        if (outcome.status !== 200) {
          return;
        }
      }
    });
    await Promise.all(clients);
    const { code } = await running.exited;
    const tookMs = Date.now() - signalledAt;

    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    const messages = jsonLines(running.output).map((line) => line.msg);
    expect(messages).toEqual(expect.arrayContaining(['shutting down: refusing new requests, draining the update queue', 'shut down cleanly']));

    // Every request got a real answer or was refused cleanly: 200, 503 SHUTTING_DOWN, or no connection.
    for (const outcome of outcomes) {
      if (outcome.status === 503) {
        expect(outcome.code).toBe('SHUTTING_DOWN');
        expect(outcome.retryAfter).toBe('1');
      } else {
        expect([0, 200]).toContain(outcome.status);
      }
    }

    // Restart: what was acknowledged is there; what was refused or never connected was not applied.
    service = await spawnService({ ...store.env, LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0' });
    const restarted = service;
    const final = await levelsOf(store, STORE);
    for (const productId of products) {
      const acknowledged = outcomes.filter((outcome) => outcome.productId === productId && outcome.status === 200).length;
      expect(final.get(productId)).toEqual({ quantity: acknowledged, version: acknowledged });
    }
    for (const outcome of outcomes.filter((item) => item.status !== 200)) {
      const response = await fetch(`${restarted.url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body: outcome.body });
      expect(response.status).toBe(200);
      expect(response.headers.get('idempotent-replayed')).toBeNull();
    }
  });
});
