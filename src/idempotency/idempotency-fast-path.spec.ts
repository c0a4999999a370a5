import type { AppConfig } from '../config/app-config';
import { SystemClock } from '../common/clock';
import { fingerprintUpdate } from './fingerprint';
import { IdempotencyCache } from './idempotency-cache';
import { parseIdempotencyKeyHeader } from './idempotency-key';
import { Metrics } from '../metrics/metrics';
import { IdempotencyFastPath } from './idempotency-fast-path';

const update = { storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12 };
const stored = { status: 200, body: '{"productId":"SKU-001","applied":true}' };

function setup() {
  const cache = new IdempotencyCache({ idempotencyCacheSize: 100 } as AppConfig, new SystemClock());
  cache.remember('client-a', 'k1', { fingerprint: fingerprintUpdate(update), response: stored, expiresAt: Date.now() + 60_000 });
  const metrics = new Metrics();
  const fastPath = new IdempotencyFastPath(cache, metrics);
  const replayOf = (body: unknown, header?: string, clientId: string | undefined = 'client-a') =>
    fastPath.replayOf(clientId, body, header === undefined ? undefined : parseIdempotencyKeyHeader(header));
  return { replayOf, metrics, fastPath };
}

describe('IdempotencyFastPath', () => {
  it('answers a completed retry from the cache with the stored status and body, and counts it', async () => {
    const { replayOf, metrics } = setup();
    expect(replayOf({ ...update, idempotencyKey: 'k1' })).toEqual(stored);
    expect((await metrics.updates.get()).values).toEqual([expect.objectContaining({ labels: { outcome: 'replayed' }, value: 1 })]);
  });

  it('finds the key in the Idempotency-Key header too', () => {
    expect(setup().replayOf(update, 'k1')).toEqual(stored);
  });

  it('accepts the header as a quoted Structured Field string', () => {
    expect(setup().replayOf(update, '"k1"')).toEqual(stored);
  });

  it.each([
    ['an unknown key', { ...update, idempotencyKey: 'k2' }, undefined],
    // Validation answers first (400 for a bad body), then the transaction decides reuse (422).
    ['a known key with another payload', { ...update, delta: 6, idempotencyKey: 'k1' }, undefined],
    ['a known key with an invalid body', { ...update, delta: 'six', idempotencyKey: 'k1' }, undefined],
    ['a header holding a list', update, 'k1, k2'],
    ['unknown fields (validation answers)', { ...update, idempotencyKey: 'k1', extra: true }, undefined],
    ['a batch', { storeId: 'store-1', updates: [] }, undefined],
    ['header and field disagreeing', { ...update, idempotencyKey: 'k1' }, 'other'],
    ['a non-object body', [update], undefined],
  ])('leaves %s to the normal path', (_name, body, header) => {
    expect(setup().replayOf(body, header)).toBeUndefined();
  });

  it('never answers one client with another client’s outcome, nor a request without a client', () => {
    const { replayOf, fastPath } = setup();
    expect(replayOf({ ...update, idempotencyKey: 'k1' }, undefined, 'client-b')).toBeUndefined();
    expect(fastPath.replayOf(undefined, { ...update, idempotencyKey: 'k1' }, undefined)).toBeUndefined();
  });
});
