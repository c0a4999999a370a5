import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreReplica } from '../examples/store-replica';
import { getLevel, ledgerRows, postUpdate } from './helpers/inventory-client';
import { type ClientStats, readModifyWriteClient, seededRandom } from './helpers/load';
import { actOn, postReservation, type ReservationBody } from './helpers/reservations';
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

/**
 * Writers here run back to back at full speed, beside replicas that page and poll: on a fast
 * machine that passes the per-key rate limit, whose 429s the test's own helpers do not retry (the
 * replica does). The limit has its tests elsewhere.
 */
const UNLIMITED = { env: { RATE_LIMIT_PER_SECOND: '0' } };

describe('examples/store-replica.ts', () => {
  let app: TestApp;
  let dir: string;

  beforeAll(async () => {
    app = await startApp(UNLIMITED);
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
      expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/refused position 999999 \(FEED_POSITION_AHEAD.*replacing the copy with a fresh snapshot/)]));
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
    const fresh = await startApp(UNLIMITED);
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

interface HeldLevel {
  quantity: number;
  reserved: number;
  available: number;
  version: number;
}

/** The central state of store-1 with what reservations hold, as the list endpoint gives it. */
async function centralHolds(app: TestApp): Promise<Map<string, HeldLevel>> {
  const response = await app.http().get('/v1/stores/store-1/inventory?limit=500').set('X-API-Key', 'demo').expect(200);
  const items = response.body.items as Array<{ productId: string } & HeldLevel>;
  return new Map(items.map(({ productId, quantity, reserved, available, version }) => [productId, { quantity, reserved, available, version }]));
}

/** The replica's copy, with available as it works it out: on hand less held. */
function replicaHolds(replica: StoreReplica): Map<string, HeldLevel> {
  return new Map([...replica.levels].map(([productId, { quantity, reserved, version }]) => [productId, { quantity, reserved, available: quantity - reserved, version }]));
}

/** Waits until the replica equals the central state (taken once, after the writes stopped). */
async function convergedWithHolds(app: TestApp, replica: StoreReplica, timeoutMs = 5000): Promise<Map<string, HeldLevel>> {
  const central = await centralHolds(app);
  const same = () => JSON.stringify([...replicaHolds(replica)].sort()) === JSON.stringify([...central].sort());
  try {
    await waitFor('the replica to equal the central state', same, { timeoutMs, intervalMs: 10 });
  } catch {
    expect(replicaHolds(replica)).toEqual(central);
  }
  return central;
}

describe('examples/store-replica.ts with reservations', () => {
  const SHOP = ['SKU-001', 'SKU-003', 'SKU-008', 'SKU-009', 'SKU-010'];
  let app: TestApp;

  beforeAll(async () => {
    // One-second holds run out during replication; the sweeper gives them back within 200 ms.
    app = await startApp({ env: { ...UNLIMITED.env, RESERVATION_MIN_TTL_SECONDS: '1', RESERVATION_SWEEP_INTERVAL_MS: '200' } });
  });

  afterAll(async () => {
    await app.close();
  });

  it('keeps (quantity, reserved) and so available right while reservations are made, extended, committed, released and expire', async () => {
    const random = seededRandom(42);
    const refused: string[] = [];
    const unexpected: unknown[] = [];
    let keys = 0;

    /** Holds 1-3 random products of the shop; undefined when the units are not available. */
    async function holdCart(ttlSeconds: number): Promise<ReservationBody | undefined> {
      const products = SHOP.filter(() => random() < 0.5).slice(0, 3);
      const lines = (products.length > 0 ? products : [SHOP[0]]).map((productId) => ({ productId, quantity: 1 + Math.floor(random() * 2) }));
      const response = await postReservation(app, { storeId: 'store-1', lines, ttlSeconds, idempotencyKey: `replica-cart-${(keys += 1)}` });
      if (response.status === 409 && response.body.code === 'INSUFFICIENT_AVAILABLE') {
        refused.push(response.text);
        return undefined;
      }
      if (response.status !== 201) {
        unexpected.push({ status: response.status, body: response.text });
        return undefined;
      }
      return response.body as ReservationBody;
    }

    const load = (seed: number): Promise<ClientStats[]> =>
      Promise.all(
        Array.from({ length: 4 }, (_, index) =>
          readModifyWriteClient({ baseUrls: [app.url], apiKey: 'demo', storeId: 'store-1', productIds: SHOP, updates: 10, clientId: `held-${seed}-${index}`, seed: seed * 10 + index }),
        ),
      );
    const collect = (stats: ClientStats[]) => unexpected.push(...stats.flatMap((client) => client.unexpected));

    const replica = new StoreReplica({ baseUrl: app.url, apiKey: 'demo', storeId: 'store-1', waitSeconds: 5 });
    void replica.start();
    let late: StoreReplica | undefined;
    try {
      await waitFor('the replica’s snapshot', () => replica.snapshots === 1);

      // Carts held (for ten minutes) while stock is updated around them.
      const [held, firstLoad] = await Promise.all([Promise.all(Array.from({ length: 12 }, () => holdCart(600))), load(1)]);
      collect(firstLoad);
      const carts = held.filter((cart): cart is ReservationBody => cart !== undefined);
      expect(carts.length).toBeGreaterThan(6);
      const holding = await convergedWithHolds(app, replica);
      expect([...holding.values()].some((level) => level.reserved > 0)).toBe(true);

      // A replica that starts now takes the holds from its snapshot.
      late = new StoreReplica({ baseUrl: app.url, apiKey: 'demo', storeId: 'store-1', waitSeconds: 5 });
      void late.start();
      await convergedWithHolds(app, late);

      // Every cart ends one way or another while updates go on and one-second carts come and run out.
      const ends = carts.map(async (cart, index) => {
        const action = index % 4;
        if (action === 0) {
          await actOn(app, cart.reservationId, 'commit').expect(200);
        } else if (action === 1) {
          const [first] = cart.lines;
          await actOn(app, cart.reservationId, 'commit', { lines: [{ productId: first.productId, quantity: 1 }] }).expect(200);
        } else if (action === 2) {
          await actOn(app, cart.reservationId, 'release').expect(200);
        } else {
          await actOn(app, cart.reservationId, 'extend', { ttlSeconds: 1 }).expect(200);
        }
      });
      const shortCarts = Array.from({ length: 8 }, () => holdCart(1));
      const [, , secondLoad] = await Promise.all([Promise.all(ends), Promise.all(shortCarts), load(2)]);
      collect(secondLoad);

      // Once the sweeper has given back every hold that ran out, nothing is reserved anywhere.
      await waitFor('every hold to be committed, released or given back', async () => [...(await centralHolds(app)).values()].every((level) => level.reserved === 0), {
        timeoutMs: 20_000,
        intervalMs: 50,
      });
      const end = await convergedWithHolds(app, replica);
      await convergedWithHolds(app, late);
      expect([...end.values()].every((level) => level.available === level.quantity)).toBe(true);
      expect(unexpected).toEqual([]);
      const kinds = new Set((await ledgerRows(app)).map((row) => row.kind));
      expect([...kinds].sort()).toEqual(['adjust', 'commit', 'expire', 'extend', 'release', 'reserve']);
    } finally {
      await replica.stop();
      await late?.stop();
    }
  });
});
