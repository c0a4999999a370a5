/** Stock of one product in one store. `version` grows by one with every applied change. */
export interface StockLevel {
  readonly storeId: string;
  readonly productId: string;
  readonly quantity: number;
  readonly version: number;
  readonly lastUpdated: Date;
}

/** Quantities and versions stay exact in a JavaScript number and in a 64-bit column. */
export const MAX_QUANTITY = Number.MAX_SAFE_INTEGER;
export const MAX_VERSION = Number.MAX_SAFE_INTEGER;
export const MAX_ABS_DELTA = 1_000_000_000;
