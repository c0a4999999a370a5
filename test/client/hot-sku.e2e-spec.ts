import { type AdjustResult, InventoryClient } from '../../clients/typescript/src';
import { type Acknowledged, ledgerAgainstAcknowledged, ledgerThroughFeed } from '../helpers/client-ledger';
import { insertLevels } from '../helpers/direct-database';
import { isGapFree, seededRandom } from '../helpers/load';
import { useServiceFixture } from '../helpers/service-fixture';
import { LOADED_MACHINE_TIMEOUT_MS } from '../helpers/wait';

const STORE = 'hot-store';
const SKU = 'HOT-1';
const CLIENTS = 16;
const CHANGES_PER_CLIENT = 8;
const INITIAL = 50;

/**
 * A flash sale on one SKU with versions: 16 clients, each its own InventoryClient, read-modify-
 * write the same level at once through adjustWithRetry. Nearly every change loses to another at
 * first (409 VERSION_CONFLICT), is decided again from a fresh read and sent as a new change. The
 * arithmetic must come out exact: the level moved by exactly the deltas acknowledged, once each.
 */
describe('client: adjustWithRetry on a hot SKU', () => {
  const fixture = useServiceFixture('suite');

  it('16 concurrent read-modify-write clients end with exact arithmetic and gap-free versions', async () => {
    const running = await fixture.spawn({ LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0' });
    await insertLevels(fixture.store, STORE, [SKU], INITIAL);

    const decided: number[] = [];
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, index) => {
        const client = new InventoryClient({ baseUrl: running.url, apiKey: 'demo' });
        const random = seededRandom(900 + index);
        const mine: Array<Extract<AdjustResult, { applied: true }>> = [];
        for (let change = 0; change < CHANGES_PER_CLIENT; change += 1) {
          // Sells when there is stock to sell, restocks otherwise: the delta depends on the level read.
          const result = await client.adjustWithRetry(
            STORE,
            SKU,
            (level) => {
              const delta = level.available >= 4 && random() < 0.6 ? -1 - Math.floor(random() * 3) : 2 + Math.floor(random() * 4);
              decided.push(delta);
              return delta;
            },
            { maxAttempts: 200 },
          );
          if (!result.applied) {
            throw new Error('decide always returns a delta');
          }
          mine.push(result);
        }
        return mine;
      }),
    );
    const applied = results.flat();
    const acknowledged: Acknowledged[] = applied.map((result) => ({ idempotencyKey: result.idempotencyKey, productId: SKU, delta: result.delta, replayed: result.replayed }));

    expect(applied).toHaveLength(CLIENTS * CHANGES_PER_CLIENT);
    // Conflicts really happened, and each was decided again: more decisions than changes.
    const attempts = applied.reduce((sum, result) => sum + result.attempts, 0);
    expect(attempts).toBeGreaterThan(applied.length);
    expect(decided).toHaveLength(attempts);
    // Each change acknowledged got its own version: 1 … n, once each.
    expect(isGapFree(applied.map((result) => result.newVersion), 0)).toBe(true);

    const reader = new InventoryClient({ baseUrl: running.url, apiKey: 'demo' });
    const sum = acknowledged.reduce((total, change) => total + change.delta, 0);
    expect(await reader.getLevel(STORE, SKU)).toMatchObject({ quantity: INITIAL + sum, version: applied.length });
    const ledger = ledgerAgainstAcknowledged(await ledgerThroughFeed(reader, STORE), acknowledged);
    expect(ledger.entriesPerKey).toEqual(ledger.expectedEntriesPerKey);
    expect(ledger.ledgerPerProduct).toEqual({ [SKU]: { entries: applied.length, delta: sum } });
  }, LOADED_MACHINE_TIMEOUT_MS);
});
