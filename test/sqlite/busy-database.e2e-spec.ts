import Database from 'better-sqlite3';
import { join } from 'node:path';
import { createTestStore, type TestStore } from '../helpers/dialect';
import { insertLevels, levelsOf } from '../helpers/direct-database';
import { jsonLines, type ServiceProcess, spawnService } from '../helpers/service-process';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from '../helpers/wait';

/**
 * The workers of WORKERS=2 share one SQLite file and take turns at its write lock. Another
 * writer holding that lock (here the test, as a worker would for its group transaction) makes an
 * update wait for it; held beyond the wait's bound (`busy_timeout`, 5 s) the update is refused
 * with 503 DATABASE_UNAVAILABLE and nothing changes, never a 500.
 */
const STORE = 'busy-store';
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };

/**
 * A service on a fresh SQLite file holding one level (`product`, 10 units), and a connection of
 * the test's own to that file to hold its write lock; both ended after the suite.
 */
function useLockedService(env: Record<string, string>, product: string) {
  const fixture = {} as { store: TestStore; service: ServiceProcess; holder: Database.Database };
  beforeAll(async () => {
    fixture.store = await createTestStore('sqlite');
    fixture.service = await spawnService({ ...fixture.store.env, RATE_LIMIT_PER_SECOND: '0', ...env });
    if (env.WORKERS !== undefined) {
      await waitFor('every worker listening', () => jsonLines(fixture.service.output).filter((line) => line.msg === 'listening').length >= Number(env.WORKERS), { timeoutMs: 90_000 });
    }
    await insertLevels(fixture.store, STORE, [product], 10);
    fixture.holder = new Database(join(fixture.store.dataDir, 'inventory.db'));
  }, LOADED_MACHINE_TIMEOUT_MS);

  afterAll(async () => {
    fixture.holder?.close();
    await fixture.service?.stop('SIGKILL');
    await fixture.store?.dispose();
  });

  const update = (version: number, key: string) =>
    fetch(`${fixture.service.url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ storeId: STORE, productId: product, delta: 1, version, idempotencyKey: key }) });
  return { fixture, update };
}

describe('a busy SQLite database under WORKERS=2', () => {
  const { fixture, update } = useLockedService({ WORKERS: '2' }, 'B-1');

  it('waits for the lock while another writer holds it briefly, then applies the update', async () => {
    fixture.holder.exec('begin immediate');
    const sentAt = Date.now();
    const pending = update(0, 'busy-short');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    fixture.holder.exec('commit');
    const response = await pending;
    expect(response.status).toBe(200);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1000);
    expect((await levelsOf(fixture.store, STORE)).get('B-1')).toEqual({ quantity: 11, version: 1 });
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('answers 503 DATABASE_UNAVAILABLE, not 500, when the lock is held beyond the bound, and changes nothing', async () => {
    fixture.holder.exec('begin immediate');
    let response: Response;
    try {
      response = await update(1, 'busy-long');
    } finally {
      fixture.holder.exec('commit');
    }
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).not.toBeNull();
    expect(((await response.json()) as { code: string }).code).toBe('DATABASE_UNAVAILABLE');
    expect((await levelsOf(fixture.store, STORE)).get('B-1')).toEqual({ quantity: 11, version: 1 });
    // Once the lock is free, the retry with the same key applies it.
    expect((await update(1, 'busy-long')).status).toBe(200);
    expect((await levelsOf(fixture.store, STORE)).get('B-1')).toEqual({ quantity: 12, version: 2 });
  }, LOADED_MACHINE_TIMEOUT_MS);
});

/** Groups the update queue has taken out to process, from /metrics. */
async function groupsStarted(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^inventory_queue_wait_seconds_count (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('a single process waiting for a SQLite write lock held elsewhere', () => {
  const { fixture, update } = useLockedService({}, 'W-1');

  it('goes on answering other requests meanwhile: the wait does not hold up its event loop', async () => {
    const before = await groupsStarted(fixture.service.url);
    fixture.holder.exec('begin immediate');
    let pending: Promise<Response> | undefined;
    let answered: string;
    try {
      pending = update(0, 'waiting-1');
      // The probe goes once the update's group has left the queue for its transaction, which finds
      // the lock taken (a process asleep in SQLite's busy handler would not answer /metrics either).
      await waitFor('the update in its transaction', async () => (await groupsStarted(fixture.service.url)) > before);
      const probe = fetch(`${fixture.service.url}/health/live`).then((response) => `answered ${response.status}`);
      // Held for at most 4 s, within the 5-s wait bound: a process asleep in SQLite's busy
      // handler would answer the probe only once the lock is released.
      answered = await Promise.race([probe, new Promise<string>((resolve) => setTimeout(() => resolve('no answer while the lock was held'), 4000))]);
    } finally {
      fixture.holder.exec('commit');
    }
    expect(answered).toBe('answered 200');
    expect((await pending).status).toBe(200);
    expect((await levelsOf(fixture.store, STORE)).get('W-1')).toEqual({ quantity: 11, version: 1 });
  }, LOADED_MACHINE_TIMEOUT_MS);
});

describe('ledger pruning while a SQLite write lock is held elsewhere', () => {
  // Pruning every 200 ms: each pass takes the write lock for its batch, with nothing to prune or not.
  const { fixture } = useLockedService({ LEDGER_RETENTION: '1h', LEDGER_PRUNE_INTERVAL_MS: '200' }, 'P-1');

  it('goes on answering requests: the pruner waits for the lock without holding up the event loop', async () => {
    const slowest = { ms: 0 };
    fixture.holder.exec('begin immediate');
    try {
      // Two seconds of probes cover several pruning passes, each of which finds the lock taken.
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        const sentAt = Date.now();
        const response = await fetch(`${fixture.service.url}/health/live`, { signal: AbortSignal.timeout(4000) }).catch(() => undefined);
        expect(response?.status).toBe(200);
        slowest.ms = Math.max(slowest.ms, Date.now() - sentAt);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      fixture.holder.exec('commit');
    }
    // A process asleep in SQLite's busy handler answers only once the lock is released (5 s bound).
    expect(slowest.ms).toBeLessThan(1000);
  }, LOADED_MACHINE_TIMEOUT_MS);
});
