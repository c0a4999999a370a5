import { hash } from 'node:crypto';

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
  return hash('sha256', canonicalJson(payload), 'base64url');
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

/**
 * fingerprintOf of exactly these fields, with the canonical JSON written out in its key order
 * (delta, productId, reason, reference, storeId, version): every update and every retry computes
 * one, and sorting and mapping the keys cost more than the hash.
 */
export function fingerprintUpdate({ storeId, productId, delta, version, reason, reference }: UpdatePayload): string {
  const note = `${reason === undefined ? '' : `"reason":${canonicalJson(reason)},`}${reference === undefined ? '' : `"reference":${canonicalJson(reference)},`}`;
  const text = `{${delta === undefined ? '' : `"delta":${canonicalJson(delta)},`}${productId === undefined ? '' : `"productId":${canonicalJson(productId)},`}${note}${
    storeId === undefined ? '' : `"storeId":${canonicalJson(storeId)},`
  }${version === undefined ? '' : `"version":${canonicalJson(version)},`}`;
  // Every field was followed by a comma; the last one's goes (an empty payload is `{}`).
  return hash('sha256', `${text.length > 1 ? text.slice(0, -1) : text}}`, 'base64url');
}
