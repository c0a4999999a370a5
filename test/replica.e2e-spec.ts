import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreReplica } from '../examples/store-replica';
import { getLevel, postUpdate } from './helpers/inventory-client';
import { readModifyWriteClient } from './helpers/load';
import { startApp, type TestApp } from './helpers/test-app';
import { waitFor } from './helpers/wait';

const HOT = ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005'];

/** The central state of a store, as the list endpoint gives it. */
async function centralLevels(app: TestApp, storeId: string): Promise<Map<string, { quantity: number; version: number }>> {
  const response = await app.http().get(`/v1/stores/${storeId}/inventory?limit=500`).set('X-API-Key', 'demo').expect(200);
  const items = response.body.items as Array<{ productId: string; quantity: number; version: number }>;
  return new Map(items.map(({ productId, quantity, version }) => [productId, { quantity, version }]));
}

function copyOf(replica: StoreReplica): Map<string, { quantity: number; version: number }> {
  return new Map([...replica.levels].map(([productId, { quantity, version }]) => [productId, { quantity, version }]));
}

/** Applies +1 to a level at its current version. */
async function bump(app: TestApp, productId: string, idempotencyKey: string): Promise<void> {
  const { version } = await getLevel(app, 'store-1', productId);
  await postUpdate(app, { storeId: 'store-1', productId, delta: 1, version, idempotencyKey }).expect(200);
}

/** Polls until the replica equals the central state; returns how long that took after the call. */
async function convergence(app: TestApp, replica: StoreReplica, storeId: string, timeoutMs: number): Promise<number> {
  const central = await centralLevels(app, storeId);
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (JSON.stringify([...copyOf(replica)].sort()) === JSON.stringify([...central].sort())) {
      return Date.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(copyOf(replica)).toEqual(central);
  return timeoutMs;
}

describe('examples/store-replica.ts', () => {
  let app: TestApp;
  let dir: string;

  beforeAll(async () => {
    app = await startApp();
    dir = mkdtempSync(join(tmpdir(), 'replica-'));
    await app.connection.db
      .insertInto('stock_levels')
      .values({ store_id: 'store-2', product_id: 'SKU-001', quantity: 100, version: 0, last_updated: new Date().toISOString() })
      .execute();
  });

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows concurrent updates and equals the central state within 1 s after they stop, also after a restart', async () => {
    const stateFile = join(dir, 'store-1.json');
    const options = { baseUrl: app.url, apiKey: 'demo', storeId: 'store-1', stateFile, waitSeconds: 5 };
    const replica = new StoreReplica(options);
    void replica.start();

    // Concurrent writers on the replica's store, plus noise in another store it must ignore.
    const load = (seed: number) =>
      Promise.all([
        ...Array.from({ length: 8 }, (_, index) =>
          readModifyWriteClient({ baseUrls: [app.url], apiKey: 'demo', storeId: 'store-1', productIds: HOT, updates: 15, clientId: `r${seed}-${index}`, seed: seed * 100 + index }),
        ),
        readModifyWriteClient({ baseUrls: [app.url], apiKey: 'demo', storeId: 'store-2', productIds: ['SKU-001'], updates: 10, clientId: `noise-${seed}`, seed }),
      ]);
    await load(1);
    expect(await convergence(app, replica, 'store-1', 1000)).toBeLessThan(1000);
    expect(replica.snapshots).toBe(1);
    expect(replica.levels.size).toBe(10);

    // Stopped and restarted from its state file: it resumes from lastSeq, without a new snapshot.
    await replica.stop();
    await load(2);
    await postUpdate(app, { storeId: 'store-1', productId: 'SKU-010', delta: 3, version: 5, idempotencyKey: 'while-down' }).expect(200);
    const resumed = new StoreReplica(options);
    void resumed.start();
    expect(await convergence(app, resumed, 'store-1', 1000)).toBeLessThan(1000);
    expect(resumed.snapshots).toBe(0);
    await resumed.stop();
  });

  it('starts from a snapshot taken while updates run, without double-counting', async () => {
    const headSeq = async () => (await app.connection.db.selectFrom('ledger_head').select('last_seq').executeTakeFirstOrThrow()).last_seq;
    const startSeq = await headSeq();
    let snapshotSeq: number | undefined;
    const replica = new StoreReplica({
      baseUrl: app.url,
      apiKey: 'demo',
      storeId: 'store-1',
      waitSeconds: 5,
      log: (message) => {
        const taken = /^snapshot of \d+ levels at seq (\d+)$/.exec(message);
        if (taken !== null) {
          snapshotSeq = Number(taken[1]);
        }
      },
    });
    // Writers keep going, a few updates at a time, until the replica has followed changes made
    // after its snapshot.
    let writing = true;
    const unexpected: unknown[] = [];
    const writers = Promise.all(
      Array.from({ length: 6 }, async (_, index) => {
        for (let round = 0; writing; round += 1) {
          const stats = await readModifyWriteClient({ baseUrls: [app.url], apiKey: 'demo', storeId: 'store-1', productIds: HOT, updates: 3, clientId: `s-${index}-${round}`, seed: 500 + index * 1000 + round });
          unexpected.push(...stats.unexpected);
        }
      }),
    );
    try {
      await waitFor('updates running before the snapshot', async () => (await headSeq()) > startSeq + 5);
      void replica.start();
      const snapshotAt = await waitFor('the replica’s snapshot', () => snapshotSeq);
      await waitFor('the replica to follow changes made after its snapshot', () => replica.lastSeq > snapshotAt + 10);
    } finally {
      writing = false;
      await writers;
    }
    expect(unexpected).toEqual([]);
    expect(snapshotSeq).toBeGreaterThan(startSeq);
    expect(await convergence(app, replica, 'store-1', 1000)).toBeLessThan(1000);
    await replica.stop();
  });

  it('takes a fresh snapshot when its saved position is beyond the feed, then follows the feed from it', async () => {
    // A copy saved against another database: a position this feed never reached, and levels that are not the central ones.
    const stateFile = join(dir, 'ahead.json');
    const stale = { quantity: 1, version: 999, lastUpdated: new Date(0).toISOString() };
    writeFileSync(stateFile, JSON.stringify({ storeId: 'store-1', lastSeq: 999_999, levels: { 'SKU-001': stale, 'SKU-GONE': stale } }));
    const log: string[] = [];
    const replica = new StoreReplica({ baseUrl: app.url, apiKey: 'demo', storeId: 'store-1', stateFile, waitSeconds: 5, log: (line) => log.push(line) });
    void replica.start();
    try {
      expect(await convergence(app, replica, 'store-1', 5000)).toBeLessThan(5000);
      expect(replica.snapshots).toBe(1);
      expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/refused position 999999 \(FEED_POSITION_AHEAD.*taking a fresh snapshot/)]));
      expect(replica.lastSeq).toBeLessThan(999_999);

      await bump(app, 'SKU-010', 'after-resnapshot');
      expect(await convergence(app, replica, 'store-1', 5000)).toBeLessThan(5000);
      expect((JSON.parse(readFileSync(stateFile, 'utf8')) as { lastSeq: number }).lastSeq).toBe(replica.lastSeq);
    } finally {
      await replica.stop();
    }
  });

  it('takes a fresh snapshot when the service comes back on a new database behind its saved position', async () => {
    const stateFile = join(dir, 'new-database.json');
    const options = { apiKey: 'demo', storeId: 'store-1', stateFile, waitSeconds: 5 };
    await bump(app, 'SKU-009', 'before-new-database-1');
    await bump(app, 'SKU-009', 'before-new-database-2');
    const before = new StoreReplica({ ...options, baseUrl: app.url });
    void before.start();
    try {
      expect(await convergence(app, before, 'store-1', 5000)).toBeLessThan(5000);
    } finally {
      await before.stop();
    }

    // A new, empty database (the demo data and one change): its last seq is behind the saved position.
    const fresh = await startApp();
    const log: string[] = [];
    const after = new StoreReplica({ ...options, baseUrl: fresh.url, log: (line) => log.push(line) });
    try {
      await bump(fresh, 'SKU-001', 'on-new-database');
      expect(before.lastSeq).toBeGreaterThan(1);
      void after.start();
      expect(await convergence(fresh, after, 'store-1', 5000)).toBeLessThan(5000);
      expect(after.snapshots).toBe(1);
      expect(log).toEqual(expect.arrayContaining([expect.stringContaining('FEED_POSITION_AHEAD')]));
    } finally {
      await after.stop();
      await fresh.close();
    }
  });
});
