import { postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

function sample(text: string, metric: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([name, value]) => `${name}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) {
      continue;
    }
    if (wanted.every((label) => line.includes(label))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describe('GET /metrics', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('exposes request latency, update outcomes, queue and transaction metrics, and process metrics', async () => {
    const update = { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'metrics-1' };
    await postUpdate(app, update).expect(200);
    await postUpdate(app, update).expect(200);
    await postUpdate(app, { ...update, idempotencyKey: 'metrics-2' }).expect(409);
    await postUpdate(app, { ...update, idempotencyKey: 'metrics-3', delta: -1000, version: 13 }).expect(409);
    await postUpdate(app, { ...update, idempotencyKey: 'metrics-4', delta: 'x' }).expect(400);
    await app.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200);

    const response = await app.http().get('/metrics').expect(200).expect('Content-Type', /text\/plain/);
    const text = response.text;
    expect(sample(text, 'inventory_updates_total', { outcome: 'applied' })).toBe(1);
    expect(sample(text, 'inventory_updates_total', { outcome: 'replayed' })).toBe(1);
    expect(sample(text, 'inventory_updates_total', { outcome: 'version_conflict' })).toBe(1);
    expect(sample(text, 'inventory_updates_total', { outcome: 'insufficient_stock' })).toBe(1);
    expect(sample(text, 'inventory_requests_rejected_total', { code: 'VALIDATION_FAILED', status: '400' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/v1/inventory/updates', status_code: '200' })).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/stores/:storeId/inventory/:productId', status_code: '200' })).toBe(1);
    expect(sample(text, 'inventory_queue_depth')).toBe(0);
    expect(sample(text, 'inventory_queue_capacity')).toBe(100);
    expect(sample(text, 'inventory_queue_wait_seconds_count')).toBe(3);
    expect(sample(text, 'inventory_db_transaction_seconds_count')).toBe(3);
    expect(sample(text, 'inventory_group_commit_updates_sum')).toBe(3);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeDefined();
  });
});
