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

/** Rows per INSERT: within SQLite's limit of bound parameters, and few round trips. */
const CHAIN_BATCH = 1000;

export function chainStoreId(index: number): string {
  return `store-${String(index + 1).padStart(4, '0')}`;
}

export function chainProductId(index: number): string {
  return `P-${String(index + 1).padStart(5, '0')}`;
}

/**
 * A chain-sized dataset to try the service at size: `stores` stores (store-0001…) that each stock
 * `products` products (P-00001…), with quantities from 0 to 199 that vary by store and product.
 * One transaction of batched inserts. Returns the number of levels created.
 */
export async function seedChainData(db: Kysely<DatabaseSchema>, now: Date, stores: number, products: number): Promise<number> {
  const lastUpdated = now.toISOString();
  const total = stores * products;
  await db.transaction().execute(async (transaction) => {
    for (let start = 0; start < total; start += CHAIN_BATCH) {
      const rows = [];
      for (let index = start; index < Math.min(total, start + CHAIN_BATCH); index += 1) {
        const store = Math.floor(index / products);
        const product = index % products;
        rows.push({ store_id: chainStoreId(store), product_id: chainProductId(product), quantity: (store * 31 + product * 17) % 200, version: 0, last_updated: lastUpdated });
      }
      await transaction.insertInto('stock_levels').values(rows).onConflict((conflict) => conflict.doNothing()).execute();
    }
  });
  return total;
}
