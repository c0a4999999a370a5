import { Injectable } from '@nestjs/common';
import { tracing } from '../common/tracing/tracing';
import { Metrics } from '../metrics/metrics';
import { fingerprintUpdate, type UpdatePayload } from './fingerprint';
import { IdempotencyCache } from './idempotency-cache';
import { type HeaderKey, tryResolveIdempotencyKey } from './idempotency-key';
import type { StoredResponse } from './stored-response';

/** Fields of a single update that define its payload; anything else goes to validation. */
const SINGLE_UPDATE_FIELDS = new Set(['storeId', 'productId', 'delta', 'version', 'reason', 'reference', 'idempotencyKey']);

/**
 * Fast path for retries of completed single updates: answered from the in-process cache with
 * the stored status and body, without validation, queue or database. Only an exact retry is
 * answered here; anything else — another payload under a known key included — continues down the
 * normal path, so an invalid body is a 400 before any key is looked at, and the transaction
 * decides key reuse authoritatively. It is the first step of the update request's pipe rather
 * than an interceptor: Nest wraps every intercepted request in RxJS and an async resource, which
 * cost more than the lookup.
 */
@Injectable()
export class IdempotencyFastPath {
  constructor(
    private readonly cache: IdempotencyCache,
    private readonly metrics: Metrics,
  ) {}

  /** The stored answer when `body` is an exact retry of a completed single update of this client. */
  replayOf(clientId: string | undefined, body: unknown, keyHeader: HeaderKey): StoredResponse | undefined {
    if (clientId === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) {
      return undefined;
    }
    const fields = body as Record<string, unknown>;
    if (!Object.keys(fields).every((field) => SINGLE_UPDATE_FIELDS.has(field))) {
      return undefined;
    }
    const key = tryResolveIdempotencyKey(keyHeader, fields.idempotencyKey);
    const cached = key === undefined ? undefined : this.cache.get(clientId, key);
    if (cached === undefined || fingerprintUpdate(fields as Record<keyof UpdatePayload, unknown>) !== cached.fingerprint) {
      return undefined;
    }
    this.metrics.updates.inc({ outcome: 'replayed' });
    if (tracing.enabled) {
      tracing.fastPathReplay({ 'inventory.idempotency.source': 'cache', 'http.response.status_code': cached.response.status });
    }
    return cached.response;
  }
}
