import type { StoreScope } from '../../config/app-config';
import type { RenderedPage } from '../../database/rendered-json';
import type { LedgerChange } from '../ledger-change';

export interface ChangePage {
  readonly changes: LedgerChange[];
  /** The last seq committed when the page was read: every change up to it has been scanned. */
  readonly head: number;
}

/** Reads of the ledger, and its pruning. */
export abstract class ChangesRepository {
  /** The last seq committed. */
  abstract head(): Promise<number>;
  /** The seq through which ledger rows were pruned (0: none were). */
  abstract floor(): Promise<number>;
  /**
   * Changes with seq > `after` in the stores of `scope`, oldest first, at most `limit`, and the
   * floor read after them: when `after` is below it, some of the changes may be gone.
   */
  abstract changesAfter(after: number, scope: StoreScope, limit: number): Promise<ChangePage & { readonly floor: number }>;
  /** Every change with `after` < seq <= `upTo`, all stores, oldest first, at most `limit`. */
  abstract range(after: number, upTo: number, limit: number): Promise<LedgerChange[]>;
  /**
   * A page of one level's changes with seq < `before` (all when undefined), newest first, at most
   * `limit`, rendered as the API's items (its key is the seq), and the pruned floor as of the same
   * read (every change listed lies after it).
   */
  abstract historyPage(storeId: string, productId: string, before: number | undefined, limit: number): Promise<RenderedPage<number> & { readonly floor: number }>;
  /**
   * Prunes, in one short transaction, at most `batch` of the oldest rows created before `cutoff`.
   * Returns how many went and the new floor.
   */
  abstract pruneBatch(cutoff: Date, batch: number): Promise<{ readonly pruned: number; readonly floor: number }>;
}
