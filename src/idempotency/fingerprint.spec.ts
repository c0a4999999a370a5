import { fingerprintOf, fingerprintUpdate } from './fingerprint';

describe('fingerprint', () => {
  const payload = { storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12 };

  it('ignores key order', () => {
    expect(fingerprintOf({ version: 12, delta: 5, productId: 'SKU-001', storeId: 'store-1' })).toBe(fingerprintOf(payload));
  });

  it('differs when any field differs, including its JSON type', () => {
    const base = fingerprintUpdate(payload);
    expect(fingerprintUpdate({ ...payload, delta: 6 })).not.toBe(base);
    expect(fingerprintUpdate({ ...payload, version: 13 })).not.toBe(base);
    expect(fingerprintUpdate({ ...payload, productId: 'SKU-002' })).not.toBe(base);
    expect(fingerprintUpdate({ ...payload, storeId: 'store-2' })).not.toBe(base);
    expect(fingerprintUpdate({ ...payload, delta: '5' })).not.toBe(base);
  });

  it('takes only the update fields, so a single update and a batch item agree', () => {
    const withKey = { ...payload, idempotencyKey: 'k1' } as Record<string, unknown>;
    expect(fingerprintUpdate(withKey as typeof payload)).toBe(fingerprintUpdate(payload));
  });

  it('canonicalises nested values', () => {
    expect(fingerprintOf({ a: [{ y: 1, x: 2 }] })).toBe(fingerprintOf({ a: [{ x: 2, y: 1 }] }));
    expect(fingerprintOf({ a: [1, 2] })).not.toBe(fingerprintOf({ a: [2, 1] }));
  });

  it('is a compact url-safe hash', () => {
    expect(fingerprintUpdate(payload)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
