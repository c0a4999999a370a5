import type { StoreScope } from '../../config/app-config';
import type { RenderedPage } from '../../database/rendered-json';
import type { LedgerKind } from '../../database/schema';
import type { StoredResponse } from '../../idempotency/stored-response';
import type { HoldState, Reservation, StoredReservationStatus } from '../../reservations/domain/reservation';
import type { StockLevel } from '../domain/stock-level';

/** Identifies a stock level. */
export interface LevelRef {
  readonly storeId: string;
  readonly productId: string;
}

/** Identifies an idempotency record: keys are scoped to the client (API key) that used them. */
export interface KeyRef {
  readonly clientId: string;
  readonly key: string;
}

export interface IdempotencyClaim extends KeyRef {
  readonly fingerprint: string;
}

export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly response: StoredResponse;
  readonly expiresAt: Date;
}

export interface IdempotencyCompletion extends KeyRef {
  readonly fingerprint: string;
  readonly response: StoredResponse;
}

export interface LevelChange {
  readonly next: StockLevel;
  /** The version the level had when it was locked; the write fails if it moved. */
  readonly expectedVersion: number;
}

/** A ledger row before its `seq` is assigned (seqs are handed out at commit, in order). */
export interface LedgerEntryDraft {
  readonly storeId: string;
  readonly productId: string;
  readonly kind: LedgerKind;
  readonly delta: number;
  readonly quantityAfter: number;
  readonly reservedAfter: number;
  readonly versionAfter: number;
  readonly idempotencyKey: string | null;
  readonly clientId: string | null;
  readonly requestId: string | null;
  readonly reason: string | null;
  readonly reference: string | null;
  readonly reservationId: string | null;
  readonly createdAt: Date;
}

/** An active hold whose time has passed, found on a locked level; it goes back to the level. */
export interface DueHold {
  readonly reservationId: string;
  readonly clientId: string;
  readonly reference: string | null;
  readonly storeId: string;
  readonly productId: string;
  readonly quantity: number;
}

export interface ReservationUpdate {
  readonly id: string;
  readonly status: StoredReservationStatus;
  readonly expiresAt: Date;
  readonly updatedAt: Date;
}

export interface LockedLevels {
  readonly levels: Map<string, StockLevel>;
  readonly dueHolds: DueHold[];
}

/** A line's hold changes state; written only if it is still in `expectedState`. */
export interface HoldUpdate {
  readonly reservationId: string;
  readonly productId: string;
  readonly expectedState: HoldState;
  readonly state: HoldState;
  readonly committed: number | null;
  /** A new expiry (an extension); undefined keeps it. */
  readonly expiresAt?: Date;
}

/** A claimed key stayed held by another transaction (another instance) beyond the lock timeout. */
export class KeyClaimTimeoutError extends Error {
  constructor(options?: ErrorOptions) {
    super('an idempotency key stayed locked by another transaction', options);
    this.name = 'KeyClaimTimeoutError';
  }
}

/**
 * Something else the transaction needed (a level, a reservation, the ledger head) stayed locked by
 * another transaction beyond the lock timeout. The transaction was rolled back: nothing was done.
 */
export class LockTimeoutError extends Error {
  constructor(options?: ErrorOptions) {
    super('a row stayed locked by another transaction beyond the lock timeout', options);
    this.name = 'LockTimeoutError';
  }
}

/** Everything a group transaction writes once its jobs are decided. */
export interface GroupWrites {
  readonly levelInserts: readonly StockLevel[];
  readonly levelChanges: readonly LevelChange[];
  readonly completions: readonly IdempotencyCompletion[];
  readonly releasedClaims: readonly KeyRef[];
  readonly ledger: readonly LedgerEntryDraft[];
  readonly reservationInserts: readonly Reservation[];
  readonly reservationUpdates: readonly ReservationUpdate[];
  readonly holdUpdates: readonly HoldUpdate[];
}

/** `clientId` and `key` joined into one map key. */
export function keyId({ clientId, key }: KeyRef): string {
  return `${clientId}\u0000${key}`;
}

export function levelId({ storeId, productId }: LevelRef): string {
  return `${storeId}\u0000${productId}`;
}

/**
 * The statements of one write transaction, each working on a whole set at once. Callers take
 * locks in a fixed order (idempotency keys, then reservations, then levels — and a level's holds
 * only under its lock —, then the ledger head), each set sorted, so concurrent transactions on
 * several instances cannot deadlock.
 */
export interface InventoryWriteTransaction {
  /**
   * Claims the keys for this transaction and returns the ids (`keyId`) of those it got. A key
   * with a live record is not claimed; on PostgreSQL a claim waits for another transaction
   * holding the same key to finish, then sees its record, or rejects with KeyClaimTimeoutError
   * when that takes longer than the lock timeout.
   */
  claimIdempotencyKeys(claims: readonly IdempotencyClaim[], now: Date, expiresAt: Date): Promise<Set<string>>;
  findIdempotencyRecords(keys: readonly KeyRef[]): Promise<Map<string, IdempotencyRecord>>;
  /** Reads and locks the reservations (with their lines) until the transaction ends; unknown ids are missing from the map. */
  lockReservations(ids: readonly string[]): Promise<Map<string, Reservation>>;
  /**
   * Reads and locks the levels until the transaction ends (absent levels are missing from the
   * map), with the holds still counted on them whose reservation expired at or before `now`.
   */
  lockLevels(levels: readonly LevelRef[], now: Date): Promise<LockedLevels>;
  /**
   * Writes everything the group decided, at once: new levels, changed levels (each only if still
   * at its locked version, else it throws), new and changed reservations and holds (a hold only if
   * still in its expected state, else it throws), stored answers, released claims, and ledger rows
   * with the next gap-free seqs. Returns the last seq (undefined without ledger rows); other instances
   * learn of it at commit.
   */
  writeGroup(writes: GroupWrites): Promise<number | undefined>;
}

/** The persistence port of the inventory feature; adapters live beside it. */
export abstract class InventoryRepository {
  abstract findLevel(storeId: string, productId: string): Promise<StockLevel | undefined>;
  /**
   * A page of one store's levels ordered by product id, after `afterProductId` when given, at most
   * `limit`, rendered as the API's items; its key is the product id.
   */
  abstract levelPage(storeId: string, afterProductId: string | undefined, limit: number): Promise<RenderedPage<string>>;
  /** Levels of one product in the stores of `scope`, ordered by store id. */
  abstract findLevelsOfProduct(productId: string, scope: StoreScope): Promise<StockLevel[]>;
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  abstract write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T>;
}
