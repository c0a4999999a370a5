import { InventoryClient, InventoryHttpError, type RetryEvent } from '../../clients/typescript/src';
import { ledgerAgainstAcknowledged, ledgerThroughFeed } from '../helpers/client-ledger';
import { insertLevels } from '../helpers/direct-database';
import { useServiceFixture } from '../helpers/service-fixture';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from '../helpers/wait';
import { queueDepth } from '../helpers/write-gate';

const STORE = 'busy-store';

/** What the client sent and what it got, with the times, as its fetch saw them. */
interface Exchange {
  readonly sentAt: number;
  answeredAt?: number;
  status?: number;
  code?: string;
  retryAfter?: string | null;
}

/** A client whose requests are recorded; its own backoff is tiny, so any longer wait is Retry-After's. */
function recordingClient(url: string, exchanges: Exchange[], retries: RetryEvent[]): InventoryClient {
  return new InventoryClient({
    baseUrl: url,
    apiKey: 'demo',
    retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 10 },
    onRetry: (event) => retries.push(event),
    fetch: async (request) => {
      const exchange: Exchange = { sentAt: Date.now() };
      exchanges.push(exchange);
      const response = await fetch(request);
      exchange.answeredAt = Date.now();
      exchange.status = response.status;
      exchange.retryAfter = response.headers.get('retry-after');
      if (!response.ok) {
        exchange.code = ((await response.clone().json()) as { code?: string }).code;
      }
      return response;
    },
  });
}

/**
 * Real refusals of a real service: its queue filled (503 QUEUE_FULL with Retry-After) and an
 * update held past its processing timeout (504). The service's write transactions are held by a
 * gate the test controls, so the refusals happen when the test says.
 */
describe('client: retries of 503 and 504 answered by the service', () => {
  const fixture = useServiceFixture('test');

  it('503 QUEUE_FULL: waits the Retry-After it was given, then retries with the same key and is applied once', async () => {
    const { service: running, gate } = await fixture.spawnGated({ LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0', QUEUE_CAPACITY: '1', QUEUE_SUBMIT_TIMEOUT_MS: '200' });
    await insertLevels(fixture.store, STORE, ['HELD', 'QUEUED', 'REFUSED']);

    // One update held in its transaction, one waiting: the queue (capacity 1) is full.
    const others = new InventoryClient({ baseUrl: running.url, apiKey: 'demo' });
    await gate.close();
    const held = others.update({ storeId: STORE, productId: 'HELD', delta: 1, version: 0 });
    await gate.firstHeld();
    const queued = others.update({ storeId: STORE, productId: 'QUEUED', delta: 1, version: 0 });
    await waitFor('an update waiting in the queue', async () => (await queueDepth(running)) === 1);

    const exchanges: Exchange[] = [];
    const retries: RetryEvent[] = [];
    const client = recordingClient(running.url, exchanges, retries);
    const pending = client.update({ storeId: STORE, productId: 'REFUSED', delta: 5, version: 0 });
    await waitFor('a 503 answered to the client', () => exchanges.some((exchange) => exchange.status === 503));
    await gate.open();
    const result = await pending;
    await Promise.all([held, queued]);

    const [refused, retried] = exchanges;
    expect({ status: refused.status, code: refused.code, retryAfter: refused.retryAfter }).toEqual({ status: 503, code: 'QUEUE_FULL', retryAfter: '1' });
    expect(retries[0]).toMatchObject({ attempt: 1, idempotencyKeys: [result.idempotencyKey] });
    expect((retries[0].error as InventoryHttpError).retryAfterMs).toBe(1000);
    expect(retries[0].delayMs).toBeGreaterThanOrEqual(1000);
    // The retry went out no sooner than Retry-After after the refusal.
    expect(retried.sentAt - refused.answeredAt!).toBeGreaterThanOrEqual(1000);
    expect(exchanges.at(-1)?.status).toBe(200);
    expect(result).toMatchObject({ applied: true, newQuantity: 5, newVersion: 1, replayed: false });

    const ledger = ledgerAgainstAcknowledged(await ledgerThroughFeed(others, STORE), [
      { idempotencyKey: result.idempotencyKey, productId: 'REFUSED', delta: 5, replayed: false },
      ...[await held, await queued].map((answer, index) => ({ idempotencyKey: answer.idempotencyKey, productId: index === 0 ? 'HELD' : 'QUEUED', delta: 1, replayed: false })),
    ]);
    expect(ledger.entriesPerKey).toEqual(ledger.expectedEntriesPerKey);
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('504 PROCESSING_TIMEOUT: retries with the same key, and learns the outcome of the change that went on to apply', async () => {
    const { service: running, gate } = await fixture.spawnGated({ LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0', PROCESSING_TIMEOUT_MS: '500' });
    await insertLevels(fixture.store, STORE, ['SLOW']);

    const exchanges: Exchange[] = [];
    const retries: RetryEvent[] = [];
    const client = recordingClient(running.url, exchanges, retries);
    await gate.close();
    const pending = client.update({ storeId: STORE, productId: 'SLOW', delta: 3, version: 0 });
    const held = await gate.firstHeld();
    await waitFor('a 504 answered to the client', () => exchanges.some((exchange) => exchange.status === 504));
    await gate.open();
    const result = await pending;

    expect(exchanges[0]).toMatchObject({ status: 504, code: 'PROCESSING_TIMEOUT' });
    expect(held.keys).toEqual([result.idempotencyKey]);
    expect(retries.every((event) => event.idempotencyKeys[0] === result.idempotencyKey)).toBe(true);
    // The held try applied the change; a retry got its stored answer.
    expect(result).toMatchObject({ applied: true, newQuantity: 3, newVersion: 1, replayed: true });
    const ledger = ledgerAgainstAcknowledged(await ledgerThroughFeed(client, STORE), [{ idempotencyKey: result.idempotencyKey, productId: 'SLOW', delta: 3, replayed: true }]);
    expect(ledger.entriesPerKey).toEqual(ledger.expectedEntriesPerKey);
  }, LOADED_MACHINE_TIMEOUT_MS);
});
