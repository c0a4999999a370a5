import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema';

/** store-1's starting stock, so the README walkthrough answers exactly as shown. */
export const DEMO_LEVELS: ReadonlyArray<{ productId: string; quantity: number; version: number }> = [
  { productId: 'SKU-001', quantity: 45, version: 12 },
  { productId: 'SKU-002', quantity: 23, version: 8 },
  { productId: 'SKU-003', quantity: 67, version: 15 },
  { productId: 'SKU-004', quantity: 12, version: 6 },
  { productId: 'SKU-005', quantity: 8, version: 3 },
  { productId: 'SKU-006', quantity: 0, version: 18 },
  { productId: 'SKU-007', quantity: 15, version: 9 },
  { productId: 'SKU-008', quantity: 34, version: 11 },
  { productId: 'SKU-009', quantity: 89, version: 7 },
  { productId: 'SKU-010', quantity: 19, version: 5 },
];
export const DEMO_STORE = 'store-1';

export async function seedDemoData(db: Kysely<DatabaseSchema>, now: Date): Promise<void> {
  const lastUpdated = now.toISOString();
  await db
    .insertInto('stock_levels')
    .values(DEMO_LEVELS.map((level) => ({ store_id: DEMO_STORE, product_id: level.productId, quantity: level.quantity, version: level.version, last_updated: lastUpdated })))
    .onConflict((conflict) => conflict.doNothing())
    .execute();
}
