import type { StockLevel } from './domain/stock-level';
import type { UpdateCommand } from './domain/update-command';
import { renderAborted, renderDecision, renderKeyReused } from './update-response';

const current: StockLevel = { storeId: 'store-1', productId: 'SKU-001', quantity: 50, reserved: 0, version: 13, lastUpdated: new Date('2025-09-02T15:30:00Z') };
const command: UpdateCommand = { storeId: 'store-1', productId: 'SKU-001', delta: 3, expectedVersion: 10, idempotencyKey: 'k' };

describe('update results (the documented bodies, byte for byte)', () => {
  it('renders an applied update with fields in the documented order', () => {
    const next = { ...current, quantity: 50, reserved: 0, version: 13, lastUpdated: new Date('2025-09-02T15:30:00Z') };
    expect(renderDecision(command, { kind: 'apply', previous: current, next })).toEqual({
      status: 200,
      body: '{"productId":"SKU-001","newQuantity":50,"newVersion":13,"applied":true,"lastUpdated":"2025-09-02T15:30:00.000Z"}',
    });
  });

  it('renders a version conflict exactly as the spec shows', () => {
    expect(renderDecision(command, { kind: 'reject', reason: 'VERSION_CONFLICT', current })).toEqual({
      status: 409,
      body: '{"productId":"SKU-001","applied":false,"error":"version conflict: expected 13, got 10","code":"VERSION_CONFLICT","currentVersion":13}',
    });
  });

  it('renders insufficient stock with the current quantity, what of it is available, and the version', () => {
    const low = { ...current, quantity: 6, reserved: 4 };
    const take = { ...command, delta: -5, expectedVersion: 13 };
    expect(JSON.parse(renderDecision(take, { kind: 'reject', reason: 'INSUFFICIENT_STOCK', current: low }).body)).toEqual({
      productId: 'SKU-001',
      applied: false,
      error: 'insufficient stock: available 2, requested 5',
      code: 'INSUFFICIENT_STOCK',
      currentVersion: 13,
      currentQuantity: 6,
      available: 2,
    });
  });

  it('renders an unknown level as 404', () => {
    const rendered = renderDecision(command, { kind: 'reject', reason: 'LEVEL_NOT_FOUND' });
    expect(rendered.status).toBe(404);
    expect(JSON.parse(rendered.body)).toEqual({
      productId: 'SKU-001',
      applied: false,
      error: 'no stock level for product SKU-001 in store store-1',
      code: 'LEVEL_NOT_FOUND',
    });
  });

  it('renders batch-only outcomes', () => {
    expect(JSON.parse(renderAborted(command.productId).body)).toMatchObject({ applied: false, code: 'BATCH_ABORTED' });
    expect(JSON.parse(renderKeyReused(command).body)).toMatchObject({ applied: false, code: 'IDEMPOTENCY_KEY_REUSED' });
  });
});
