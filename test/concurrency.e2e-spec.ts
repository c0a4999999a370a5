import { allLevels, ledgerRows } from './helpers/inventory-client';
import { type Acknowledged, isGapFree, readModifyWriteClient } from './helpers/load';
import { startApp, type TestApp } from './helpers/test-app';
import { LOADED_MACHINE_TIMEOUT_MS } from './helpers/wait';

const CLIENTS = 16;
const UPDATES_PER_CLIENT = 25;
const HOT_PRODUCTS = ['SKU-005', 'SKU-006', 'SKU-010'];

describe('concurrent read-modify-write clients', () => {
  let app: TestApp;

  beforeAll(async () => {
    // A load test of correctness, not of the rate limit.
    app = await startApp({ env: { RATE_LIMIT_PER_SECOND: '0' } });
  });

  afterAll(async () => {
    await app.close();
  });

  it('loses no update and applies none twice: quantities add up, versions have no gaps', async () => {
    const initial = new Map((await allLevels(app)).map((level) => [level.product_id, level]));
    const stats = await Promise.all(
      Array.from({ length: CLIENTS }, (_, index) =>
        readModifyWriteClient({
          baseUrls: [app.url],
          apiKey: 'demo',
          storeId: 'store-1',
          productIds: HOT_PRODUCTS,
          updates: UPDATES_PER_CLIENT,
          clientId: `client-${index}`,
          seed: index + 1,
        }),
      ),
    );
    expect(stats.flatMap((client) => client.unexpected)).toEqual([]);
    const acknowledged: Acknowledged[] = stats.flatMap((client) => client.acknowledged);
    expect(acknowledged).toHaveLength(CLIENTS * UPDATES_PER_CLIENT);
    // Contention was real: clients collided and had to retry.
    expect(stats.reduce((sum, client) => sum + client.conflicts, 0)).toBeGreaterThan(0);

    const final = new Map((await allLevels(app)).map((level) => [level.product_id, level]));
    for (const productId of HOT_PRODUCTS) {
      const mine = acknowledged.filter((ack) => ack.productId === productId);
      const start = initial.get(productId)!;
      expect(final.get(productId)!.quantity).toBe(start.quantity + mine.reduce((sum, ack) => sum + ack.delta, 0));
      expect(final.get(productId)!.version).toBe(start.version + mine.length);
      expect(isGapFree(mine.map((ack) => ack.newVersion), start.version)).toBe(true);
    }

    const ledger = await ledgerRows(app);
    expect(ledger.map((row) => row.seq)).toEqual(ledger.map((_, index) => index + 1));
    expect(new Set(ledger.map((row) => row.idempotency_key))).toEqual(new Set(acknowledged.map((ack) => ack.idempotencyKey)));
    expect(ledger.every((row) => row.quantity_after >= 0)).toBe(true);
    // Replaying the ledger from the initial state gives the final state.
    for (const productId of HOT_PRODUCTS) {
      const rows = ledger.filter((row) => row.product_id === productId);
      let quantity = initial.get(productId)!.quantity;
      rows.forEach((row, index) => {
        quantity += row.delta;
        expect(row.quantity_after).toBe(quantity);
        expect(row.version_after).toBe(initial.get(productId)!.version + index + 1);
      });
    }
  }, LOADED_MACHINE_TIMEOUT_MS);
});
