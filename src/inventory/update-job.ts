import type { QueuedTrace } from '../common/tracing/tracing';
import type { StoredResponse } from '../idempotency/stored-response';
import type { CommitCommand, ExtendCommand, ReleaseCommand, ReserveCommand } from '../reservations/domain/reservation-command';
import type { SetLevelCommand, UpdateCommand } from './domain/update-command';
import type { LevelRef } from './persistence/inventory.repository';

/** One submission to the update queue: a single change, or the items of one batch request. */
export interface UpdateJob {
  readonly clientId: string;
  readonly requestId: string;
  /** All items apply, or none does (only meaningful for batches). */
  readonly atomic: boolean;
  readonly items: readonly UpdateItem[];
  /** With tracing on: the submitting request's trace, which the group's span links to. */
  readonly trace?: QueuedTrace;
}

/**
 * One change, each decided by its domain rule in the group plan: an adjustment by delta, an
 * administrator's absolute set, a reservation's hold, commit, release or extension, or the return
 * of due holds on some levels (the reservation sweeper's).
 */
export type UpdateItem =
  | { readonly type: 'adjust'; readonly command: UpdateCommand; readonly fingerprint: string }
  | { readonly type: 'set'; readonly command: SetLevelCommand; readonly fingerprint: string }
  | { readonly type: 'reserve'; readonly command: ReserveCommand; readonly fingerprint: string }
  | { readonly type: 'commit'; readonly command: CommitCommand }
  | { readonly type: 'release'; readonly command: ReleaseCommand }
  | { readonly type: 'extend'; readonly command: ExtendCommand }
  | { readonly type: 'expire'; readonly levels: readonly LevelRef[] };

/** An item's idempotency key and payload fingerprint, for the items that carry one. */
export function keyOf(item: UpdateItem): { readonly key: string; readonly fingerprint: string } | undefined {
  switch (item.type) {
    case 'adjust':
    case 'set':
    case 'reserve':
      return item.command.idempotencyKey === undefined ? undefined : { key: item.command.idempotencyKey, fingerprint: item.fingerprint };
    case 'commit':
    case 'release':
    case 'extend':
    case 'expire':
      return undefined;
  }
}

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
