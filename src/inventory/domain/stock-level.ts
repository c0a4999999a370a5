/** Stock of one product in one store. `version` grows by one with every applied change. */
export interface StockLevel {
  readonly storeId: string;
  readonly productId: string;
  /** On hand. */
  readonly quantity: number;
  /** Held by active reservations; never above `quantity`. */
  readonly reserved: number;
  readonly version: number;
  readonly lastUpdated: Date;
}

/** What can still be sold or reserved: on hand less what is held. */
export function availableOf(level: StockLevel): number {
  return Math.max(0, level.quantity - level.reserved);
}

/**
 * Ten billion units per level: beyond any real stock, and small enough that a product's total
 * over the stores (`totalQuantity`) stays an exact JSON number for up to 900,000 stores.
 */
export const MAX_QUANTITY = 10_000_000_000;
/** Versions stay exact in a JavaScript number and in a 64-bit column. */
export const MAX_VERSION = Number.MAX_SAFE_INTEGER;
export const MAX_ABS_DELTA = 1_000_000_000;
