import { createTestStore, type TestStore } from './helpers/dialect';
import { insertLevels, ledgerOf, levelsOf } from './helpers/direct-database';
import { type ServiceProcess, spawnService } from './helpers/service-process';

const STORE = 'crash-store';
const CLIENTS = 16;
const KILL_AFTER_ACKS = 150;
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };

interface Sent {
  readonly productId: string;
  readonly body: string;
  readonly idempotencyKey: string;
}

interface Answered extends Sent {
  readonly status: number;
  readonly text: string;
}

/**
 * kill -9 in the middle of a load: every change answered 200 before the kill must survive it,
 * and every request whose answer was lost gets its definitive answer by being resent with the
 * same key after the restart (a replay if it had committed, a fresh execution if not).
 */
describe('crash: kill -9 under load', () => {
  let store: TestStore;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    store = await createTestStore();
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await store.dispose();
  });

  async function post(url: string, sent: Sent): Promise<Answered> {
    const response = await fetch(`${url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body: sent.body });
    return { ...sent, status: response.status, text: await response.text() };
  }

  it('keeps every acknowledged change and lets lost answers be recovered by key', async () => {
    service = await spawnService({ ...store.env, LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0' });
    const products = Array.from({ length: CLIENTS }, (_, index) => `P-${String(index).padStart(2, '0')}`);
    await insertLevels(store, STORE, products);

    const acknowledged: Answered[] = [];
    const lost: Sent[] = [];
    let killed = false;
    const running = service;

    // Each client owns one level and moves it up by 1 at a time, so every version is known.
    const clients = products.map(async (productId) => {
      for (let version = 0; !killed; version += 1) {
        const idempotencyKey = `${productId}-v${version}`;
        const sent = { productId, idempotencyKey, body: JSON.stringify({ storeId: STORE, productId, delta: 1, version, idempotencyKey }) };
        try {
          const answer = await post(running.url, sent);
          expect(answer.status).toBe(200);
          acknowledged.push(answer);
          if (acknowledged.length >= KILL_AFTER_ACKS && !killed) {
            killed = true;
            running.child.kill('SIGKILL');
          }
        } catch {
          lost.push(sent);
          return;
        }
      }
    });
    await Promise.all(clients);
    expect((await running.exited).signal).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    // The kill cut requests in flight: their answers were lost.
    expect(lost.length).toBeGreaterThan(0);

    service = await spawnService({ ...store.env, LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0' });
    const restarted = service;

    // Lost answers: the same key now answers definitively (committed before the kill → replay).
    const recovered = await Promise.all(lost.map((sent) => post(restarted.url, sent)));
    for (const answer of recovered) {
      expect(answer.status).toBe(200);
    }

    // Acknowledged changes replay their original answer, byte for byte.
    const replays = await Promise.all(
      acknowledged.map(async (answer) => {
        const response = await fetch(`${restarted.url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body: answer.body });
        return { replayed: response.headers.get('idempotent-replayed'), text: await response.text(), original: answer.text };
      }),
    );
    for (const replay of replays) {
      expect(replay.replayed).toBe('true');
      expect(replay.text).toBe(replay.original);
    }

    // The arithmetic holds exactly: each level moved once per definitive 200.
    const final = await levelsOf(store, STORE);
    const applied = [...acknowledged, ...recovered];
    for (const productId of products) {
      const mine = applied.filter((answer) => answer.productId === productId).length;
      expect(final.get(productId)).toEqual({ quantity: mine, version: mine });
    }
    const ledger = await ledgerOf(store, STORE);
    expect(ledger).toHaveLength(applied.length);
    expect(new Set(ledger.map((row) => row.idempotency_key)).size).toBe(ledger.length);
  });
});
