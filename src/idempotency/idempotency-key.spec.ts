import { ApiError } from '../common/errors/api-error';
import { resolveIdempotencyKey, tryResolveIdempotencyKey } from './idempotency-key';

function failure(action: () => unknown): ApiError {
  try {
    action();
  } catch (error) {
    if (error instanceof ApiError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('resolveIdempotencyKey', () => {
  it('takes the field, the header, or both when equal', () => {
    expect(resolveIdempotencyKey(undefined, 'k1')).toBe('k1');
    expect(resolveIdempotencyKey('k1', undefined)).toBe('k1');
    expect(resolveIdempotencyKey('k1', 'k1')).toBe('k1');
  });

  it('requires one of them', () => {
    const error = failure(() => resolveIdempotencyKey(undefined, undefined));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.options.errors).toEqual([{ field: 'idempotencyKey', issue: expect.stringContaining('required') }]);
  });

  it('refuses a header that differs from the field', () => {
    expect(failure(() => resolveIdempotencyKey('k1', 'k2')).options.errors?.[0].field).toBe('Idempotency-Key');
  });

  it('refuses a header that is not 1-255 printable ASCII', () => {
    expect(failure(() => resolveIdempotencyKey('x'.repeat(256), undefined)).options.errors?.[0].field).toBe('Idempotency-Key');
    expect(failure(() => resolveIdempotencyKey('tab\there', undefined)).code).toBe('VALIDATION_FAILED');
    expect(failure(() => resolveIdempotencyKey('', undefined)).code).toBe('VALIDATION_FAILED');
  });
});

describe('tryResolveIdempotencyKey', () => {
  it('follows the same rule without throwing', () => {
    expect(tryResolveIdempotencyKey(undefined, 'k1')).toBe('k1');
    expect(tryResolveIdempotencyKey('k1', 'k1')).toBe('k1');
    expect(tryResolveIdempotencyKey('k1', 'k2')).toBeUndefined();
    expect(tryResolveIdempotencyKey(undefined, 42)).toBeUndefined();
    expect(tryResolveIdempotencyKey(['a', 'b'], undefined)).toBeUndefined();
    expect(tryResolveIdempotencyKey(undefined, 'é')).toBeUndefined();
    expect(tryResolveIdempotencyKey(undefined, undefined)).toBeUndefined();
  });
});
