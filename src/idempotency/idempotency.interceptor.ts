import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type Observable, of } from 'rxjs';
import { fingerprintUpdate, type UpdatePayload } from './fingerprint';
import { Metrics } from '../metrics/metrics';
import { tracing } from '../common/tracing/tracing';
import { IdempotencyCache } from './idempotency-cache';
import { idempotencyKeyHeaderOf, IDEMPOTENT_REPLAYED_HEADER, tryResolveIdempotencyKey } from './idempotency-key';

/** Fields of a single update that define its payload; anything else goes to validation. */
const SINGLE_UPDATE_FIELDS = new Set(['storeId', 'productId', 'delta', 'version', 'reason', 'reference', 'idempotencyKey']);

/**
 * Fast path for retries of completed single updates: answered from the in-process cache with
 * the stored status and body, without validation, queue or database. Only an exact retry is
 * answered here; anything else — another payload under a known key included — continues down the
 * normal path, so an invalid body is a 400 before any key is looked at, and the transaction
 * decides key reuse authoritatively.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly cache: IdempotencyCache,
    private readonly metrics: Metrics,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const body: unknown = request.body;
    if (request.client === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) {
      return next.handle();
    }
    const fields = body as Record<string, unknown>;
    if (!Object.keys(fields).every((field) => SINGLE_UPDATE_FIELDS.has(field))) {
      return next.handle();
    }
    const key = tryResolveIdempotencyKey(idempotencyKeyHeaderOf(request), fields.idempotencyKey);
    const cached = key === undefined ? undefined : this.cache.get(request.client.id, key);
    if (cached === undefined || fingerprintUpdate(fields as Record<keyof UpdatePayload, unknown>) !== cached.fingerprint) {
      return next.handle();
    }
    this.metrics.updates.inc({ outcome: 'replayed' });
    if (tracing.enabled) {
      tracing.fastPathReplay({ 'inventory.idempotency.source': 'cache', 'http.response.status_code': cached.response.status });
    }
    const response = http.getResponse<Response>();
    response
      .status(cached.response.status)
      .type(cached.response.contentType ?? 'application/json')
      .setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
    return of(cached.response.body);
  }
}
