/** Where a reservation stands; `expired` is an active reservation whose hold time has passed. */
export type ReservationStatus = 'active' | 'committed' | 'released' | 'expired';

/** What is stored: expiry is a matter of time, not of a write. */
export type StoredReservationStatus = Exclude<ReservationStatus, 'expired'>;

/** What became of one line's hold on its level. */
export type HoldState = 'held' | 'committed' | 'released' | 'expired';

export interface ReservationLine {
  readonly productId: string;
  /** Units held. */
  readonly quantity: number;
  /** Units sold by the commit; null before. */
  readonly committed: number | null;
  readonly state: HoldState;
}

/** A hold of a cart's lines in one store, for a limited time (a checkout in progress). */
export interface Reservation {
  readonly id: string;
  /** The client (API key) that made it. */
  readonly clientId: string;
  readonly storeId: string;
  readonly status: StoredReservationStatus;
  readonly reference: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly expiresAt: Date;
  /** One per product, ordered by product id. */
  readonly lines: readonly ReservationLine[];
}

export function statusAt(reservation: Reservation, now: Date): ReservationStatus {
  return reservation.status === 'active' && reservation.expiresAt.getTime() <= now.getTime() ? 'expired' : reservation.status;
}

/** One product and a number of its units. */
export interface LineQuantity {
  readonly productId: string;
  readonly quantity: number;
}

/**
 * Lines of one product added up, ordered by product id: two cart lines of one SKU are one hold,
 * checked against what is available once.
 */
export function sumLines(lines: readonly LineQuantity[]): LineQuantity[] {
  const sums = new Map<string, number>();
  for (const { productId, quantity } of lines) {
    sums.set(productId, (sums.get(productId) ?? 0) + quantity);
  }
  return [...sums].map(([productId, quantity]) => ({ productId, quantity })).sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}
