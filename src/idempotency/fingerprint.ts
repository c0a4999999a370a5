import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal payloads hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Identifies an update's payload: the fields that define what it does, as sent on the wire
 * (`storeId`, `productId`, `delta`, `version`, `reason`, `reference`), not the idempotency key
 * itself. A single request and a batch item carrying the same update have the same fingerprint.
 */
export function fingerprintOf(payload: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('base64url');
}

/** The wire fields of one stock update, as both the fast path and the queue see them. */
export interface UpdatePayload {
  readonly storeId: unknown;
  readonly productId: unknown;
  readonly delta: unknown;
  readonly version: unknown;
  readonly reason?: unknown;
  readonly reference?: unknown;
}

export function fingerprintUpdate({ storeId, productId, delta, version, reason, reference }: UpdatePayload): string {
  return fingerprintOf({ storeId, productId, delta, version, reason, reference });
}
