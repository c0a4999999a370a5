import { ApiError } from '../common/errors/api-error';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** 1-255 printable ASCII characters (SPEC §3). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/**
 * The key of a single update: the `idempotencyKey` field or the `Idempotency-Key` header.
 * Both may be sent only if they are equal; one of them is required.
 */
export function resolveIdempotencyKey(header: string | undefined, field: string | undefined): string {
  if (header !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(header)) {
    throw ApiError.invalidField(IDEMPOTENCY_KEY_HEADER, 'must be 1-255 printable ASCII characters');
  }
  if (header !== undefined && field !== undefined && header !== field) {
    throw ApiError.invalidField(IDEMPOTENCY_KEY_HEADER, 'differs from the idempotencyKey field; send one, or both equal');
  }
  const key = field ?? header;
  if (key === undefined) {
    throw ApiError.invalidField('idempotencyKey', 'is required: send the idempotencyKey field or the Idempotency-Key header');
  }
  return key;
}

/** The same rule without throwing, for the fast path: undefined whenever the rule is not met. */
export function tryResolveIdempotencyKey(header: unknown, field: unknown): string | undefined {
  const headerKey = typeof header === 'string' ? header : undefined;
  const fieldKey = typeof field === 'string' ? field : undefined;
  if ((header !== undefined && headerKey === undefined) || (field !== undefined && fieldKey === undefined)) {
    return undefined;
  }
  if (headerKey !== undefined && fieldKey !== undefined && headerKey !== fieldKey) {
    return undefined;
  }
  const key = fieldKey ?? headerKey;
  return key !== undefined && IDEMPOTENCY_KEY_PATTERN.test(key) ? key : undefined;
}

export function keyReusedError(): ApiError {
  return new ApiError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was already used with a different request payload');
}
