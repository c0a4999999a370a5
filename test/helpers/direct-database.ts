import { loadConfig } from '../../src/config/app-config';
import { type DatabaseConnection, openDatabase } from '../../src/database/database-connection';
import type { TestStore } from './dialect';

/** Opens the store's database directly (beside a running service), runs `work`, closes it. */
export async function withDatabase<T>(store: TestStore, work: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
  const connection = openDatabase(loadConfig({ ...store.env, LOG_LEVEL: 'silent' }));
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

export function insertLevels(store: TestStore, storeId: string, productIds: readonly string[], quantity = 0): Promise<void> {
  return withDatabase(store, async ({ db }) => {
    await db
      .insertInto('stock_levels')
      .values(productIds.map((productId) => ({ store_id: storeId, product_id: productId, quantity, version: 0, last_updated: new Date().toISOString() })))
      .execute();
  });
}

export function levelsOf(store: TestStore, storeId: string): Promise<Map<string, { quantity: number; version: number }>> {
  return withDatabase(store, async ({ db }) => {
    const rows = await db.selectFrom('stock_levels').select(['product_id', 'quantity', 'version']).where('store_id', '=', storeId).execute();
    return new Map(rows.map((row) => [row.product_id, { quantity: row.quantity, version: row.version }]));
  });
}

export function ledgerOf(store: TestStore, storeId: string) {
  return withDatabase(store, ({ db }) => db.selectFrom('ledger').selectAll().where('store_id', '=', storeId).orderBy('seq').execute());
}
