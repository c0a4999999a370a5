import { decideSet } from './set-decision';
import type { StockLevel } from './stock-level';

const now = new Date('2026-01-02T00:00:00.000Z');
const level: StockLevel = { storeId: 'store-1', productId: 'SKU-001', quantity: 45, reserved: 0, version: 12, lastUpdated: new Date(0) };
const base = { storeId: 'store-1', productId: 'SKU-001', quantity: 30 };

describe('decideSet', () => {
  it('creates a missing level at version 1 when no version is expected', () => {
    expect(decideSet(undefined, base, now)).toEqual({ kind: 'create', next: { ...base, reserved: 0, version: 1, lastUpdated: now } });
  });

  it('refuses to create a level the caller expected to exist', () => {
    expect(decideSet(undefined, { ...base, expectedVersion: 3 }, now)).toEqual({ kind: 'reject', reason: 'LEVEL_NOT_FOUND' });
  });

  it('refuses to overwrite an existing level without a version', () => {
    expect(decideSet(level, base, now)).toEqual({ kind: 'reject', reason: 'PRECONDITION_REQUIRED' });
  });

  it('refuses a stale version', () => {
    expect(decideSet(level, { ...base, expectedVersion: 11 }, now)).toEqual({ kind: 'reject', reason: 'VERSION_CONFLICT', current: level });
  });

  it('sets the quantity at the current version, version +1', () => {
    expect(decideSet(level, { ...base, expectedVersion: 12 }, now)).toEqual({
      kind: 'set',
      previous: level,
      next: { ...level, quantity: 30, version: 13, lastUpdated: now },
    });
  });
});
