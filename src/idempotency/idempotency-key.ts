import type { IncomingMessage } from 'node:http';
import { ApiError, type FieldIssue } from '../common/errors/api-error';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** 1-255 printable ASCII characters */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

export type KeyResolution = { readonly key: string } | { readonly issue: FieldIssue };

/** What an Idempotency-Key header carried: nothing (undefined), a key, or why it is refused. */
export type HeaderKey = KeyResolution | undefined;

function headerIssue(issue: string): { issue: FieldIssue } {
  return { issue: { field: IDEMPOTENCY_KEY_HEADER, issue } };
}

const PRINTABLE_KEY = 'must be 1-255 printable ASCII characters';

/**
 * The IETF draft defines the header as a Structured Field string (`Idempotency-Key: "8e03…"`);
 * many clients send the bare key. Both are accepted: a quoted value is unescaped (`\"`, `\\`), a
 * bare one taken as is. Anything that reads as a list — text after the closing quote, or a comma
 * in a bare value, which is also what a proxy makes of a header sent twice — is refused rather
 * than guessed at: a key that contains a comma can always be sent quoted.
 */
export function parseIdempotencyKeyHeader(value: string): KeyResolution {
  if (!value.startsWith('"')) {
    if (value.includes(',')) {
      return headerIssue('holds a list; send one key (quote it as a string if it contains a comma)');
    }
    return IDEMPOTENCY_KEY_PATTERN.test(value) ? { key: value } : headerIssue(PRINTABLE_KEY);
  }
  let key = '';
  for (let index = 1; index < value.length; index += 1) {
    const char = value[index];
    if (char === '"') {
      if (index !== value.length - 1) {
        return headerIssue('must be one quoted string, not a list or a string with parameters');
      }
      return IDEMPOTENCY_KEY_PATTERN.test(key) ? { key } : headerIssue(PRINTABLE_KEY);
    }
    if (char === '\\') {
      const escaped = value[index + 1];
      if (escaped !== '"' && escaped !== '\\') {
        return headerIssue('a quoted key may only escape " and \\');
      }
      key += escaped;
      index += 1;
    } else {
      key += char;
    }
  }
  return headerIssue('has no closing quote');
}

/** The Idempotency-Key header of a request; sent more than once, it is refused. */
export function idempotencyKeyHeaderOf(request: IncomingMessage): HeaderKey {
  const value = request.headers['idempotency-key'];
  if (value === undefined) {
    return undefined;
  }
  let occurrences = 0;
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    if (request.rawHeaders[index].length === 15 && request.rawHeaders[index].toLowerCase() === 'idempotency-key') {
      occurrences += 1;
    }
  }
  return occurrences > 1 || typeof value !== 'string' ? headerIssue('is sent more than once; send it once, with one key') : parseIdempotencyKeyHeader(value);
}

/**
 * The key of a single update: the `idempotencyKey` field or the `Idempotency-Key` header.
 * Both may be sent only if they are equal; one of them is required. `field` is the already
 * validated body field (undefined when absent).
 */
export function resolveIdempotencyKey(header: HeaderKey, field: string | undefined): KeyResolution {
  if (header !== undefined && 'issue' in header) {
    return header;
  }
  if (header !== undefined && field !== undefined && header.key !== field) {
    return headerIssue('differs from the idempotencyKey field; send one, or both equal');
  }
  const key = field ?? header?.key;
  if (key === undefined) {
    return { issue: { field: 'idempotencyKey', issue: 'is required: send the idempotencyKey field or the Idempotency-Key header' } };
  }
  return { key };
}

/** The same rule on an unvalidated body field, for the fast path: undefined whenever the rule is not met. */
export function tryResolveIdempotencyKey(header: HeaderKey, field: unknown): string | undefined {
  if (field !== undefined && (typeof field !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(field))) {
    return undefined;
  }
  const resolution = resolveIdempotencyKey(header, field);
  return 'key' in resolution ? resolution.key : undefined;
}

export function keyReusedError(): ApiError {
  return new ApiError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was already used with a different request payload');
}
