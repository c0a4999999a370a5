import type { Change, InventoryClient } from '../../clients/typescript/src';

/** A change the client reported applied: its key, and what it did. */
export interface Acknowledged {
  readonly idempotencyKey: string;
  readonly productId: string;
  readonly delta: number;
  readonly replayed: boolean;
}

/** Every ledger entry of a store, read through the change feed from the start to the feed's head. */
export async function ledgerThroughFeed(client: InventoryClient, storeId: string): Promise<Change[]> {
  const head = (await client.listLevels(storeId, { limit: 1 })).lastSeq;
  const changes: Change[] = [];
  if (head === 0) {
    return changes;
  }
  for await (const event of client.changes({ storeId, after: 0, waitSeconds: 1 })) {
    if (event.type !== 'changes') {
      // The ledger from the start is refused (pruned, or a newer database): no ledger to read.
      throw event.error;
    }
    changes.push(...event.changes);
    if (event.lastSeq >= head) {
      break;
    }
  }
  return changes;
}

/**
 * The ledger against what the clients were told: how many entries each key has (exactly once is
 * 1 for every acknowledged key, and no entry under any other key), and each product's sum of
 * deltas and count of entries, from the ledger and from the acknowledgements.
 */
export function ledgerAgainstAcknowledged(ledger: readonly Change[], acknowledged: readonly Acknowledged[]) {
  const entriesPerKey: Record<string, number> = {};
  for (const change of ledger) {
    const key = change.idempotencyKey ?? `(no key, seq ${change.seq})`;
    entriesPerKey[key] = (entriesPerKey[key] ?? 0) + 1;
  }
  const sums = (items: ReadonlyArray<{ productId: string; delta: number }>) => {
    const perProduct: Record<string, { entries: number; delta: number }> = {};
    for (const { productId, delta } of items) {
      const sum = (perProduct[productId] ??= { entries: 0, delta: 0 });
      sum.entries += 1;
      sum.delta += delta;
    }
    return perProduct;
  };
  return {
    entriesPerKey,
    expectedEntriesPerKey: Object.fromEntries(acknowledged.map((change) => [change.idempotencyKey, 1])),
    ledgerPerProduct: sums(ledger),
    acknowledgedPerProduct: sums(acknowledged),
  };
}
