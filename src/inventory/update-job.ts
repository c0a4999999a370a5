import type { StoredResponse } from '../idempotency/stored-response';
import type { SetLevelCommand, UpdateCommand } from './domain/update-command';

/** One submission to the update queue: a single change, or the items of one batch request. */
export interface UpdateJob {
  readonly clientId: string;
  readonly requestId: string;
  /** All items apply, or none does (only meaningful for batches). */
  readonly atomic: boolean;
  readonly items: readonly UpdateItem[];
}

/** One change: an adjustment by delta, or an administrator's absolute set. */
export type UpdateItem =
  | { readonly type: 'adjust'; readonly command: UpdateCommand; readonly fingerprint: string }
  | { readonly type: 'set'; readonly command: SetLevelCommand; readonly fingerprint: string };

/**
 * What became of one item.
 * - executed: decided now; `stored` tells whether its idempotency record was committed
 *   (false without a key, and for the items of an aborted atomic batch).
 * - replayed: an earlier request with this key already decided it; this is its stored answer.
 * - key-reused: the key was used before for a different payload.
 */
export type ItemResult =
  | {
      readonly kind: 'executed';
      readonly response: StoredResponse;
      readonly applied: boolean;
      readonly stored: boolean;
      readonly expiresAt: Date;
    }
  | { readonly kind: 'replayed'; readonly response: StoredResponse; readonly expiresAt: Date }
  | { readonly kind: 'key-reused' };

export interface JobResult {
  readonly items: readonly ItemResult[];
}
