import { ApiError, type FieldIssue } from '../common/errors/api-error';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** 1-255 printable ASCII characters */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

export type KeyResolution = { readonly key: string } | { readonly issue: FieldIssue };

/**
 * The key of a single update: the `idempotencyKey` field or the `Idempotency-Key` header.
 * Both may be sent only if they are equal; one of them is required. `field` is the already
 * validated body field (undefined when absent).
 */
export function resolveIdempotencyKey(header: string | undefined, field: string | undefined): KeyResolution {
  if (header !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(header)) {
    return { issue: { field: IDEMPOTENCY_KEY_HEADER, issue: 'must be 1-255 printable ASCII characters' } };
  }
  if (header !== undefined && field !== undefined && header !== field) {
    return { issue: { field: IDEMPOTENCY_KEY_HEADER, issue: 'differs from the idempotencyKey field; send one, or both equal' } };
  }
  const key = field ?? header;
  if (key === undefined) {
    return { issue: { field: 'idempotencyKey', issue: 'is required: send the idempotencyKey field or the Idempotency-Key header' } };
  }
  return { key };
}

/** The same rule on an unvalidated body, for the fast path: undefined whenever the rule is not met. */
export function tryResolveIdempotencyKey(header: unknown, field: unknown): string | undefined {
  if ((header !== undefined && typeof header !== 'string') || (field !== undefined && typeof field !== 'string')) {
    return undefined;
  }
  if (field !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(field)) {
    return undefined;
  }
  const resolution = resolveIdempotencyKey(header, field);
  return 'key' in resolution ? resolution.key : undefined;
}

export function keyReusedError(): ApiError {
  return new ApiError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was already used with a different request payload');
}
