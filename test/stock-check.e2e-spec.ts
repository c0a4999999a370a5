import { sql } from 'kysely';
import { InventoryRepository, levelId } from '../src/inventory/persistence/inventory.repository';
import { TEST_DIALECT } from './helpers/dialect';
import { startApp, type TestApp } from './helpers/test-app';

const CONSTRAINT = 'stock_levels_quantity_non_negative';
const LEVEL = { storeId: 'store-1', productId: 'SKU-005' };

/** The database's refusal, as each driver reports a violated CHECK constraint. */
const checkViolation =
  TEST_DIALECT === 'sqlite'
    ? { code: 'SQLITE_CONSTRAINT_CHECK', message: expect.stringContaining(CONSTRAINT) }
    : { code: '23514', constraint: CONSTRAINT };

/**
 * The last line of defence against overselling: even with the application's check bypassed, the
 * database refuses a negative quantity (the CHECK constraint of migration 0001), and the whole
 * transaction that tried it leaves nothing behind.
 */
describe('the database refuses negative stock', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  /** Everything a write transaction could have touched. */
  async function everything() {
    const { db } = app.connection;
    return {
      levels: await db.selectFrom('stock_levels').selectAll().orderBy('store_id').orderBy('product_id').execute(),
      ledger: await db.selectFrom('ledger').selectAll().orderBy('seq').execute(),
      head: await db.selectFrom('ledger_head').selectAll().execute(),
      records: await db.selectFrom('idempotency_records').selectAll().orderBy('idempotency_key').execute(),
    };
  }

  it('refuses raw SQL that sets or creates a negative quantity', async () => {
    const before = await everything();
    await expect(
      sql`update stock_levels set quantity = -1, version = version + 1 where store_id = ${LEVEL.storeId} and product_id = ${LEVEL.productId}`.execute(app.connection.db),
    ).rejects.toMatchObject(checkViolation);
    await expect(
      app.connection.db
        .insertInto('stock_levels')
        .values({ store_id: 'store-1', product_id: 'SKU-NEGATIVE', quantity: -5, version: 0, last_updated: new Date().toISOString() })
        .execute(),
    ).rejects.toMatchObject(checkViolation);
    expect(await everything()).toEqual(before);
  });

  it('refuses it inside the service’s write transaction, which then leaves nothing behind', async () => {
    const repository = app.app.get(InventoryRepository);
    const before = await everything();
    const level = before.levels.find((row) => row.store_id === LEVEL.storeId && row.product_id === LEVEL.productId)!;
    const now = new Date();
    const claim = { clientId: 'check-client', key: 'negative-001', fingerprint: 'f' };

    const attempt = repository.write(async (transaction) => {
      const claimed = await transaction.claimIdempotencyKeys([claim], now, new Date(now.getTime() + 60_000));
      const locked = (await transaction.lockLevels([LEVEL], now)).levels.get(levelId(LEVEL))!;
      // What the update rule would refuse: one more than the stock on hand taken away.
      const delta = -(locked.quantity + 1);
      const next = { ...locked, quantity: locked.quantity + delta, version: locked.version + 1, lastUpdated: now };
      await transaction.writeGroup({
        levelInserts: [],
        levelChanges: [{ next, expectedVersion: locked.version }],
        completions: claimed.size === 1 ? [{ ...claim, response: { status: 200, body: '{}' } }] : [],
        releasedClaims: [],
        ledger: [
          {
            ...LEVEL,
            kind: 'adjust',
            delta,
            quantityAfter: next.quantity,
            reservedAfter: next.reserved,
            versionAfter: next.version,
            idempotencyKey: claim.key,
            clientId: claim.clientId,
            requestId: 'check-request',
            reason: null,
            reference: null,
            reservationId: null,
            createdAt: now,
          },
        ],
        reservationInserts: [],
        reservationUpdates: [],
        holdUpdates: [],
      });
    });
    await expect(attempt).rejects.toMatchObject(checkViolation);

    // No level moved, no ledger row or seq was taken, and the claimed key was released.
    expect(await everything()).toEqual(before);
    expect(level.quantity).toBeGreaterThanOrEqual(0);
  });
});
