import { resolveIdempotencyKey, tryResolveIdempotencyKey } from './idempotency-key';

describe('resolveIdempotencyKey', () => {
  it('takes the field, the header, or both when equal', () => {
    expect(resolveIdempotencyKey(undefined, 'k1')).toEqual({ key: 'k1' });
    expect(resolveIdempotencyKey('k1', undefined)).toEqual({ key: 'k1' });
    expect(resolveIdempotencyKey('k1', 'k1')).toEqual({ key: 'k1' });
  });

  it('requires one of them', () => {
    expect(resolveIdempotencyKey(undefined, undefined)).toEqual({ issue: { field: 'idempotencyKey', issue: expect.stringContaining('required') } });
  });

  it('refuses a header that differs from the field', () => {
    expect(resolveIdempotencyKey('k1', 'k2')).toEqual({ issue: { field: 'Idempotency-Key', issue: expect.stringContaining('differs') } });
  });

  it('refuses a header that is not 1-255 printable ASCII', () => {
    for (const header of ['x'.repeat(256), 'tab\there', '']) {
      expect(resolveIdempotencyKey(header, undefined)).toEqual({ issue: { field: 'Idempotency-Key', issue: expect.any(String) } });
    }
  });
});

describe('tryResolveIdempotencyKey', () => {
  it('follows the same rule on raw input without throwing', () => {
    expect(tryResolveIdempotencyKey(undefined, 'k1')).toBe('k1');
    expect(tryResolveIdempotencyKey('k1', 'k1')).toBe('k1');
    expect(tryResolveIdempotencyKey('k1', 'k2')).toBeUndefined();
    expect(tryResolveIdempotencyKey(undefined, 42)).toBeUndefined();
    expect(tryResolveIdempotencyKey(['a', 'b'], undefined)).toBeUndefined();
    expect(tryResolveIdempotencyKey(undefined, 'é')).toBeUndefined();
    expect(tryResolveIdempotencyKey(undefined, undefined)).toBeUndefined();
  });
});
