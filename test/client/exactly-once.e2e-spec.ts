import { InventoryClient, InventoryNetworkError, type RetryEvent } from '../../clients/typescript/src';
import { type Acknowledged, ledgerAgainstAcknowledged, ledgerThroughFeed } from '../helpers/client-ledger';
import { insertLevels } from '../helpers/direct-database';
import { seededRandom } from '../helpers/load';
import { useServiceFixture } from '../helpers/service-fixture';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from '../helpers/wait';
import { queueDepth } from '../helpers/write-gate';

const WORKERS = 8;
/** Changes acknowledged before the fault, and again after it, so that it falls in the middle of a load. */
const ACKS_AROUND_FAULT = 40;
const ENV = { LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0' };
/** Retries that outlast a restart on a busy machine: the client must not give up first. */
const PATIENT = { maxAttempts: 1_000, maxElapsedMs: 180_000, baseDelayMs: 25, maxDelayMs: 1_000 };

interface Load {
  readonly acknowledged: Acknowledged[];
  readonly unexpected: string[];
  readonly retries: Array<RetryEvent & { readonly at: number }>;
  stopping: boolean;
}

function newLoad(): Load {
  return { acknowledged: [], unexpected: [], retries: [], stopping: false };
}

function clientFor(baseUrl: string, load: Load, fetch?: (request: Request) => Promise<Response>): InventoryClient {
  return new InventoryClient({ baseUrl, apiKey: 'demo', retry: PATIENT, onRetry: (event) => load.retries.push({ ...event, at: Date.now() }), ...(fetch === undefined ? {} : { fetch }) });
}

/** Keys of the changes whose connection failed (cut, reset, refused) since `from`. */
function keysCutSince(load: Load, from: number): Set<string> {
  return new Set(load.retries.filter((event) => event.at >= from && event.error instanceof InventoryNetworkError).flatMap((event) => event.idempotencyKeys));
}

/**
 * The client's retries must turn faults in the middle of a load into changes applied exactly
 * once: every change it acknowledged is in the ledger once, under its key, and nothing else is.
 * The faults are real: the client's connections cut by a proxy while the service holds their
 * changes written but uncommitted (so each is applied by the try whose answer is lost), and the
 * service killed with SIGKILL in the same state and started again.
 */
describe('client: exactly once through cut connections and a killed service', () => {
  const fixture = useServiceFixture('test');

  it('connections cut mid-request: each retry (same key) gets the stored answer of the change its cut try applied', async () => {
    const STORE = 'cut-store';
    const { service: running, gate } = await fixture.spawnGated(ENV);
    const products = Array.from({ length: WORKERS }, (_, index) => `CUT-${index}`);
    await insertLevels(fixture.store, STORE, products);
    const through = await fixture.proxyTo(running);

    const load = newLoad();
    const client = clientFor(`http://127.0.0.1:${through.port}`, load);
    // Each worker owns one level and moves it at the version of its last answer.
    const workers = products.map(async (productId, index) => {
      let version = 0;
      for (let change = 0; !load.stopping; change += 1) {
        const delta = 1 + ((index + change) % 3);
        try {
          const result = await client.update({ storeId: STORE, productId, delta, version });
          version = result.newVersion;
          load.acknowledged.push({ idempotencyKey: result.idempotencyKey, productId, delta, replayed: result.replayed });
        } catch (error) {
          load.unexpected.push(`${productId}: ${String(error)}`);
          return;
        }
      }
    });

    await waitFor('changes acknowledged before the cut', () => load.acknowledged.length >= ACKS_AROUND_FAULT || load.unexpected.length > 0, { timeoutMs: 60_000 });
    await gate.close();
    const held = await gate.firstHeld();
    // Every worker's change is in the service (written and held, or queued), none answered.
    await waitFor('every worker’s change accepted', async () => held.keys.length + (await queueDepth(running)) === WORKERS);
    const cutAt = Date.now();
    await through.cut();
    await waitFor('every worker to see its connection cut and retry', () => keysCutSince(load, cutAt).size === WORKERS);
    const cutKeys = keysCutSince(load, cutAt);
    await through.restore();
    await gate.open();

    const recovered = load.acknowledged.length;
    await waitFor('changes acknowledged after the cut', () => load.acknowledged.length >= recovered + ACKS_AROUND_FAULT || load.unexpected.length > 0, { timeoutMs: 120_000 });
    load.stopping = true;
    await Promise.all(workers);
    expect(load.unexpected).toEqual([]);

    // The held changes were applied by the tries whose connections were cut: the retries got
    // their stored answers.
    expect(held.keys.length).toBeGreaterThan(0);
    expect(held.keys.every((key) => cutKeys.has(key))).toBe(true);
    const answers = new Map(load.acknowledged.map((change) => [change.idempotencyKey, change]));
    expect(held.keys.map((key) => [key, answers.get(key)?.replayed])).toEqual(held.keys.map((key) => [key, true]));

    const reader = new InventoryClient({ baseUrl: running.url, apiKey: 'demo' });
    const ledger = ledgerAgainstAcknowledged(await ledgerThroughFeed(reader, STORE), load.acknowledged);
    expect(ledger.entriesPerKey).toEqual(ledger.expectedEntriesPerKey);
    expect(ledger.ledgerPerProduct).toEqual(ledger.acknowledgedPerProduct);
    for (const productId of products) {
      const { entries, delta } = ledger.acknowledgedPerProduct[productId];
      expect(await reader.getLevel(STORE, productId)).toMatchObject({ quantity: delta, version: entries });
    }
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('service killed (SIGKILL) mid-load and started again: read-modify-write clients end with every change applied once', async () => {
    const STORE = 'kill-store';
    const { service: killed, gate } = await fixture.spawnGated(ENV);
    const products = ['KILL-A', 'KILL-B', 'KILL-C', 'KILL-D'];
    const INITIAL = 100;
    await insertLevels(fixture.store, STORE, products, INITIAL);

    const load = newLoad();
    /** Requests sent and not answered. */
    const inFlight = new Set<Request>();
    const client = clientFor(killed.url, load, async (request) => {
      inFlight.add(request);
      try {
        return await fetch(request);
      } finally {
        inFlight.delete(request);
      }
    });
    // Two workers per level, each deciding from the level it read; conflicts make new changes.
    const workers = Array.from({ length: WORKERS }, async (_, index) => {
      const productId = products[index % products.length];
      const random = seededRandom(7_000 + index);
      while (!load.stopping) {
        try {
          const result = await client.adjustWithRetry(STORE, productId, (level) => (level.available >= 5 && random() < 0.4 ? -1 - Math.floor(random() * 4) : 1 + Math.floor(random() * 5)), { maxAttempts: 100 });
          if (result.applied) {
            load.acknowledged.push({ idempotencyKey: result.idempotencyKey, productId, delta: result.delta, replayed: result.replayed });
          }
        } catch (error) {
          load.unexpected.push(`${productId}: ${String(error)}`);
          return;
        }
      }
    });

    await waitFor('changes acknowledged before the kill', () => load.acknowledged.length >= ACKS_AROUND_FAULT || load.unexpected.length > 0, { timeoutMs: 60_000 });
    await gate.close();
    const held = await gate.firstHeld();
    // Every worker waits for the service: for a change held or queued, or for a read (on SQLite,
    // reads wait for the held transaction).
    await waitFor('a request of every worker in the service', () => inFlight.size === WORKERS);
    const killedAt = Date.now();
    killed.child.kill('SIGKILL');
    expect((await killed.exited).signal).toBe('SIGKILL');
    await waitFor('the held changes’ connections lost and retried', () => held.keys.every((key) => keysCutSince(load, killedAt).has(key)));
    const cutKeys = keysCutSince(load, killedAt);
    const acknowledgedBeforeRestart = load.acknowledged.length;

    // Started again on the same database and port, while the clients keep retrying.
    const restarted = await fixture.spawn({ ...ENV, PORT: String(killed.port) });
    await waitFor('changes acknowledged after the restart', () => load.acknowledged.length >= acknowledgedBeforeRestart + ACKS_AROUND_FAULT || load.unexpected.length > 0, {
      timeoutMs: 120_000,
    });
    load.stopping = true;
    await Promise.all(workers);
    expect(load.unexpected).toEqual([]);
    expect(held.keys.every((key) => cutKeys.has(key))).toBe(true);

    // The held changes died uncommitted: each was either sent again with its key after the
    // restart and applied then (not a replay), or abandoned for a new change after a conflict.
    const reader = new InventoryClient({ baseUrl: restarted.url, apiKey: 'demo' });
    const entries = await ledgerThroughFeed(reader, STORE);
    const answers = new Map(load.acknowledged.map((change) => [change.idempotencyKey, change]));
    expect(held.keys.filter((key) => answers.get(key)?.replayed === true)).toEqual([]);
    const ledger = ledgerAgainstAcknowledged(entries, load.acknowledged);
    expect(ledger.entriesPerKey).toEqual(ledger.expectedEntriesPerKey);
    expect(ledger.ledgerPerProduct).toEqual(ledger.acknowledgedPerProduct);
    for (const productId of products) {
      const { entries: count, delta } = ledger.acknowledgedPerProduct[productId];
      expect(await reader.getLevel(STORE, productId)).toMatchObject({ quantity: INITIAL + delta, version: count });
    }
  }, LOADED_MACHINE_TIMEOUT_MS);
});
