import type { StoredResponse } from '../idempotency/stored-response';
import type { UpdateCommand } from './domain/update-command';

/** One submission to the update queue: a single update, or the items of one batch request. */
export interface UpdateJob {
  readonly clientId: string;
  readonly requestId: string;
  /** All items apply, or none does (only meaningful for batches). */
  readonly atomic: boolean;
  readonly items: readonly UpdateItem[];
}

export interface UpdateItem {
  readonly command: UpdateCommand;
  /** Hash of the update's payload; a retry must match it to be replayed. */
  readonly fingerprint: string;
}

/**
 * What became of one item.
 * - executed: decided now; `stored` tells whether its idempotency record was committed
 *   (false for the items of an aborted atomic batch).
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
