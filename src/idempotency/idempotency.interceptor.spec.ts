import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, of } from 'rxjs';
import type { AppConfig } from '../config/app-config';
import { Client } from '../common/auth/client';
import { SystemClock } from '../common/clock';
import { fingerprintUpdate } from './fingerprint';
import { IdempotencyCache } from './idempotency-cache';
import { Metrics } from '../metrics/metrics';
import { IdempotencyInterceptor } from './idempotency.interceptor';

const client = new Client('client-a', '*', false);
const update = { storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12 };
const stored = { status: 200, body: '{"productId":"SKU-001","applied":true}' };

function setup() {
  const cache = new IdempotencyCache({ idempotencyCacheSize: 100 } as AppConfig, new SystemClock());
  cache.remember('client-a', 'k1', { fingerprint: fingerprintUpdate(update), response: stored, expiresAt: Date.now() + 60_000 });
  const interceptor = new IdempotencyInterceptor(cache, new Metrics());
  const response = { status: jest.fn().mockReturnThis(), type: jest.fn().mockReturnThis(), setHeader: jest.fn().mockReturnThis() };
  const next: CallHandler = { handle: jest.fn(() => of('handled')) };
  const run = async (body: unknown, headers: Record<string, string> = {}, who: Client | undefined = client) => {
    const context = {
      switchToHttp: () => ({ getRequest: () => ({ body, headers, rawHeaders: Object.entries(headers).flat(), client: who }), getResponse: () => response }),
    } as unknown as ExecutionContext;
    return lastValueFrom(interceptor.intercept(context, next));
  };
  return { run, response, next };
}

describe('IdempotencyInterceptor', () => {
  it('answers a completed retry from the cache with the stored status and body', async () => {
    const { run, response, next } = setup();
    await expect(run({ ...update, idempotencyKey: 'k1' })).resolves.toBe(stored.body);
    expect(response.status).toHaveBeenCalledWith(200);
    expect(response.setHeader).toHaveBeenCalledWith('Idempotent-Replayed', 'true');
    expect(next.handle).not.toHaveBeenCalled();
  });

  it('finds the key in the Idempotency-Key header too', async () => {
    const { run, next } = setup();
    await expect(run(update, { 'idempotency-key': 'k1' })).resolves.toBe(stored.body);
    expect(next.handle).not.toHaveBeenCalled();
  });

  it('accepts the header as a quoted Structured Field string', async () => {
    const { run, next } = setup();
    await expect(run(update, { 'idempotency-key': '"k1"' })).resolves.toBe(stored.body);
    expect(next.handle).not.toHaveBeenCalled();
  });

  it.each([
    ['an unknown key', { ...update, idempotencyKey: 'k2' }, {}],
    // Validation answers first (400 for a bad body), then the transaction decides reuse (422).
    ['a known key with another payload', { ...update, delta: 6, idempotencyKey: 'k1' }, {}],
    ['a known key with an invalid body', { ...update, delta: 'six', idempotencyKey: 'k1' }, {}],
    ['a header holding a list', update, { 'idempotency-key': 'k1, k2' }],
    ['unknown fields (validation answers)', { ...update, idempotencyKey: 'k1', extra: true }, {}],
    ['a batch', { storeId: 'store-1', updates: [] }, {}],
    ['header and field disagreeing', { ...update, idempotencyKey: 'k1' }, { 'idempotency-key': 'other' }],
    ['a non-object body', [update], {}],
  ])('passes %s on to the handler', async (_name, body, headers) => {
    const { run, next } = setup();
    await expect(run(body, headers)).resolves.toBe('handled');
    expect(next.handle).toHaveBeenCalled();
  });

  it('never answers one client with another client’s outcome', async () => {
    const { run, next } = setup();
    await expect(run({ ...update, idempotencyKey: 'k1' }, {}, new Client('client-b', '*', false))).resolves.toBe('handled');
    expect(next.handle).toHaveBeenCalled();
  });
});
