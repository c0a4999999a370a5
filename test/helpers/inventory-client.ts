import type { TestApp } from './test-app';

export const UPDATES_PATH = '/v1/inventory/updates';

export interface Level {
  storeId: string;
  productId: string;
  quantity: number;
  version: number;
  lastUpdated: string;
}

export function postUpdate(app: TestApp, body: unknown, apiKey = 'demo', headers: Record<string, string> = {}) {
  return app.http().post(UPDATES_PATH).set('X-API-Key', apiKey).set(headers).send(body as object);
}

export async function getLevel(app: TestApp, storeId: string, productId: string): Promise<Level> {
  const response = await app.http().get(`/v1/stores/${storeId}/inventory/${productId}`).set('X-API-Key', 'demo').expect(200);
  return response.body as Level;
}

/** Every level in the database, for before/after comparisons. */
export async function allLevels(app: TestApp): Promise<Array<{ store_id: string; product_id: string; quantity: number; version: number }>> {
  return app.connection.db
    .selectFrom('stock_levels')
    .select(['store_id', 'product_id', 'quantity', 'version'])
    .orderBy('store_id')
    .orderBy('product_id')
    .execute();
}

export async function ledgerRows(app: TestApp) {
  return app.connection.db.selectFrom('ledger').selectAll().orderBy('seq').execute();
}

export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
