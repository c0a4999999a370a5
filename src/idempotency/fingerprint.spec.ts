import { createHash } from 'node:crypto';
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

  it('gives an update the fingerprint of its fields in general, whatever they hold', () => {
    const values: unknown[] = [undefined, null, 0, -1, 5, 1.5, '', 'SKU-001', 'with "quotes" and \\', true, [], [1, 'a'], { b: 1, a: [2] }];
    const fields = ['storeId', 'productId', 'delta', 'version', 'reason', 'reference'] as const;
    for (const [index, value] of values.entries()) {
      for (const field of fields) {
        const update = { ...payload, reason: 'sale', reference: values[(index + 3) % values.length], [field]: value };
        expect(fingerprintUpdate(update)).toBe(fingerprintOf({ ...update }));
      }
    }
    expect(fingerprintUpdate({} as typeof payload)).toBe(fingerprintOf({}));
    // Records stored earlier keep matching: the hash of the canonical text, as it always was.
    expect(fingerprintUpdate(payload)).toBe(createHash('sha256').update('{"delta":5,"productId":"SKU-001","storeId":"store-1","version":12}').digest('base64url'));
  });

  it('is a compact url-safe hash', () => {
    expect(fingerprintUpdate(payload)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
