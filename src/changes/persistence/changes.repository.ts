import type { StoreScope } from '../../config/app-config';
import type { LedgerChange } from '../ledger-change';

export interface ChangePage {
  readonly changes: LedgerChange[];
  /** The last seq committed when the page was read: every change up to it has been scanned. */
  readonly head: number;
}

/** Reads of the ledger. */
export abstract class ChangesRepository {
  /** The last seq committed. */
  abstract head(): Promise<number>;
  /** Changes with seq > `after` in the stores of `scope`, oldest first, at most `limit`. */
  abstract changesAfter(after: number, scope: StoreScope, limit: number): Promise<ChangePage>;
  /** Changes of one level with seq < `before` (all when undefined), newest first, at most `limit`. */
  abstract history(storeId: string, productId: string, before: number | undefined, limit: number): Promise<LedgerChange[]>;
}
