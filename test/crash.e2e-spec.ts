import { createTestStore, type TestStore } from './helpers/dialect';
import { insertLevels, ledgerOf, levelsOf, withDatabase } from './helpers/direct-database';
import { type ServiceProcess, spawnService } from './helpers/service-process';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from './helpers/wait';
import { queueDepth, spawnGatedService } from './helpers/write-gate';

const STORE = 'crash-store';
const CLIENTS = 16;
/** Changes acknowledged before the kill. */
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
  readonly replayed: boolean;
}

/**
 * kill -9 in the middle of a load: every change answered 200 before the kill must survive it,
 * and every request whose answer was lost gets its definitive answer by being resent with the
 * same key after the restart. The kill comes while requests are known to be in flight: the
 * service's write transactions are held after their statements and before COMMIT (a gate the
 * test controls), so one group is written but not committed and the rest wait in the queue.
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
    return { ...sent, status: response.status, text: await response.text(), replayed: response.headers.get('idempotent-replayed') === 'true' };
  }

  it('keeps every acknowledged change, loses the uncommitted ones, and lets lost answers be recovered by key', async () => {
    const started = await spawnGatedService({ ...store.env, LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0' });
    service = started.service;
    const { gate } = started;
    const running = started.service;
    const products = Array.from({ length: CLIENTS }, (_, index) => `P-${String(index).padStart(2, '0')}`);
    await insertLevels(store, STORE, products);

    const acknowledged: Answered[] = [];
    const lost: Sent[] = [];
    /** Anything but a 200 before the kill, or a failure that the kill does not explain. */
    const unexpected: string[] = [];
    let killed = false;

    // Each client owns one level and moves it up by 1 at a time, so every version is known.
    const clients = products.map(async (productId) => {
      for (let version = 0; !killed; version += 1) {
        const idempotencyKey = `${productId}-v${version}`;
        const sent = { productId, idempotencyKey, body: JSON.stringify({ storeId: STORE, productId, delta: 1, version, idempotencyKey }) };
        let answer: Answered;
        try {
          answer = await post(running.url, sent);
        } catch (error) {
          if (killed) {
            lost.push(sent);
          } else {
            unexpected.push(`${idempotencyKey}: no answer before the kill (${String(error)})`);
          }
          return;
        }
        if (answer.status !== 200) {
          unexpected.push(`${idempotencyKey}: ${answer.status} ${answer.text}`);
          return;
        }
        acknowledged.push(answer);
      }
    });

    await waitFor('changes acknowledged before the kill', () => acknowledged.length >= KILL_AFTER_ACKS || unexpected.length > 0, { timeoutMs: 30_000 });
    await gate.close();
    const held = await gate.firstHeld();
    // Every client has one request in the service: in the held transaction or in the queue.
    await waitFor('every client request accepted', async () => held.keys.length + (await queueDepth(running)) === CLIENTS);
    killed = true;
    running.child.kill('SIGKILL');
    await Promise.all(clients);

    expect((await running.exited).signal).toBe('SIGKILL');
    expect(unexpected).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    // The kill cut every client's request in flight, among them the written, uncommitted ones.
    expect(lost).toHaveLength(CLIENTS);
    expect(held.keys.length).toBeGreaterThan(0);
    expect(held.keys.every((key) => lost.some((sent) => sent.idempotencyKey === key))).toBe(true);

    service = await spawnService({ ...store.env, LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0' });
    const restarted = service;

    // What was written but not committed at the kill is gone: no level moved, no ledger row, no
    // stored answer.
    const afterRestart = await levelsOf(store, STORE);
    for (const productId of products) {
      const mine = acknowledged.filter((answer) => answer.productId === productId).length;
      expect({ productId, ...afterRestart.get(productId) }).toEqual({ productId, quantity: mine, version: mine });
    }
    const heldLedgerRows = (await ledgerOf(store, STORE)).filter((row) => held.keys.includes(row.idempotency_key ?? ''));
    expect(heldLedgerRows).toEqual([]);
    const heldRecords = await withDatabase(store, ({ db }) => db.selectFrom('idempotency_records').select('idempotency_key').where('idempotency_key', 'in', [...held.keys]).execute());
    expect(heldRecords).toEqual([]);

    // Lost answers: nothing of them had committed, so resent with the same key each executes now.
    const recovered = await Promise.all(lost.map((sent) => post(restarted.url, sent)));
    for (const answer of recovered) {
      expect({ key: answer.idempotencyKey, status: answer.status, replayed: answer.replayed }).toEqual({ key: answer.idempotencyKey, status: 200, replayed: false });
    }

    // Acknowledged changes replay their original answer, byte for byte.
    const replays = await Promise.all(acknowledged.map((answer) => post(restarted.url, answer)));
    for (const [index, replay] of replays.entries()) {
      expect(replay.replayed).toBe(true);
      expect(replay.text).toBe(acknowledged[index].text);
    }

    // The arithmetic holds exactly: each level moved once per definitive 200.
    const final = await levelsOf(store, STORE);
    const applied = [...acknowledged, ...recovered];
    for (const productId of products) {
      const mine = applied.filter((answer) => answer.productId === productId).length;
      expect({ productId, ...final.get(productId) }).toEqual({ productId, quantity: mine, version: mine });
    }
    // The ledger holds one row per applied key.
    const ledger = await ledgerOf(store, STORE);
    expect(ledger.map((row) => row.idempotency_key).sort()).toEqual(applied.map((answer) => answer.idempotencyKey).sort());
  }, LOADED_MACHINE_TIMEOUT_MS);
});
