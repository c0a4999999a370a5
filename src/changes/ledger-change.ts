import type { LedgerKind } from '../database/schema';

/** One applied change, as the ledger keeps it: the audit history and the change feed. */
export interface LedgerChange {
  /** Global, gap-free, increasing; changes become visible in seq order. */
  readonly seq: number;
  readonly storeId: string;
  readonly productId: string;
  readonly kind: LedgerKind;
  readonly delta: number;
  /** The level's quantity and version after this change. */
  readonly quantity: number;
  /** Units held by active reservations after this change. */
  readonly reserved: number;
  readonly version: number;
  readonly reason: string | null;
  readonly reference: string | null;
  readonly idempotencyKey: string | null;
  readonly requestId: string | null;
  readonly reservationId: string | null;
  readonly createdAt: Date;
}
