import type { StoreScope } from '../../config/app-config';
import type { LineQuantity } from './reservation';

/** A change of an existing reservation, by a caller who may touch the stores of `allowedStores`. */
interface ReservationChange {
  readonly reservationId: string;
  /** Checked in the transaction against the reservation's store (unknown until it is read). */
  readonly allowedStores: StoreScope;
}

/** Hold the lines of a cart in one store, all or none. */
export interface ReserveCommand {
  /** Chosen before the request is queued, so that its stored answer names it. */
  readonly reservationId: string;
  readonly storeId: string;
  /** Summed per product, ordered by product id (see sumLines). */
  readonly lines: readonly LineQuantity[];
  readonly ttlSeconds: number;
  readonly reference?: string;
  readonly idempotencyKey: string;
}

/** The order is placed: sell what is held, or fewer units (`lines`), releasing the rest. */
export interface CommitCommand extends ReservationChange {
  /**
   * Units to sell per product, as sent (lines of one product are added up by the rule, which names
   * a bad line by its index here); a product left out sells none. Undefined: everything held.
   */
  readonly lines?: readonly LineQuantity[];
}

export type ReleaseCommand = ReservationChange;

export interface ExtendCommand extends ReservationChange {
  readonly ttlSeconds: number;
}
