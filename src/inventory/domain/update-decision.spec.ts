import { MAX_QUANTITY, type StockLevel } from './stock-level';
import type { UpdateCommand } from './update-command';
import { decideUpdate } from './update-decision';

const before = new Date('2026-01-01T00:00:00.000Z');
const now = new Date('2026-01-02T00:00:00.000Z');
const level: StockLevel = { storeId: 'store-1', productId: 'SKU-005', quantity: 8, reserved: 0, version: 3, lastUpdated: before };
const command = (delta: number, expectedVersion = 3): UpdateCommand => ({
  storeId: 'store-1',
  productId: 'SKU-005',
  delta,
  expectedVersion,
  idempotencyKey: 'k',
});

describe('decideUpdate', () => {
  it('applies a delta at the expected version: quantity moves, version +1, time is now', () => {
    expect(decideUpdate(level, command(5), now)).toEqual({
      kind: 'apply',
      previous: level,
      next: { ...level, quantity: 13, version: 4, lastUpdated: now },
    });
  });

  it('rejects an unknown level', () => {
    expect(decideUpdate(undefined, command(5), now)).toEqual({ kind: 'reject', reason: 'LEVEL_NOT_FOUND' });
  });

  it('rejects a stale version, before looking at the quantity', () => {
    expect(decideUpdate(level, command(-100, 2), now)).toEqual({ kind: 'reject', reason: 'VERSION_CONFLICT', current: level });
  });

  it('rejects a version from the future too', () => {
    expect(decideUpdate(level, command(1, 4), now)).toMatchObject({ reason: 'VERSION_CONFLICT' });
  });

  it('rejects going below zero and allows reaching exactly zero', () => {
    expect(decideUpdate(level, command(-9), now)).toEqual({ kind: 'reject', reason: 'INSUFFICIENT_STOCK', current: level });
    expect(decideUpdate(level, command(-8), now)).toMatchObject({ kind: 'apply', next: { quantity: 0, version: 4 } });
  });

  it('rejects a quantity beyond the exact integer range', () => {
    const full = { ...level, quantity: MAX_QUANTITY - 1 };
    expect(decideUpdate(full, command(2), now)).toMatchObject({ kind: 'reject', reason: 'QUANTITY_LIMIT_EXCEEDED' });
    expect(decideUpdate(full, command(1), now)).toMatchObject({ kind: 'apply', next: { quantity: MAX_QUANTITY } });
  });
});
