import type { StoreScope } from '../../config/app-config';
import type { StoredResponse } from '../../idempotency/stored-response';
import type { StockLevel } from '../domain/stock-level';

/** A ledger row before its `seq` is assigned (seqs are handed out at commit, in order). */
export interface LedgerEntryDraft {
  readonly storeId: string;
  readonly productId: string;
  readonly delta: number;
  readonly quantityAfter: number;
  readonly versionAfter: number;
  readonly idempotencyKey: string | null;
  readonly clientId: string | null;
  readonly requestId: string | null;
  readonly createdAt: Date;
}

export interface IdempotencyClaim {
  readonly clientId: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly now: Date;
  readonly expiresAt: Date;
}

export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly response: StoredResponse;
  readonly expiresAt: Date;
}

/** The writes of one database transaction. Every method runs inside it. */
export interface InventoryWriteTransaction {
  /**
   * Claims `(clientId, key)` for this transaction. False when a live record exists, including
   * one committed meanwhile by another instance (PostgreSQL makes the claim wait for it).
   */
  claimIdempotencyKey(claim: IdempotencyClaim): Promise<boolean>;
  findIdempotencyRecord(clientId: string, key: string): Promise<IdempotencyRecord | undefined>;
  completeIdempotencyRecord(clientId: string, key: string, response: StoredResponse): Promise<void>;
  /** Reads a level and locks it until the transaction ends. */
  findLevelForUpdate(storeId: string, productId: string): Promise<StockLevel | undefined>;
  /** Writes `next` only if the stored version is still `expectedVersion`; throws otherwise. */
  saveLevel(next: StockLevel, expectedVersion: number): Promise<void>;
  /** Assigns the next gap-free seqs, in order, and writes the rows. */
  appendLedger(entries: readonly LedgerEntryDraft[]): Promise<void>;
  savepoint(name: string): Promise<void>;
  rollbackToSavepoint(name: string): Promise<void>;
  releaseSavepoint(name: string): Promise<void>;
}

/** The persistence port of the inventory feature; adapters live beside it. */
export abstract class InventoryRepository {
  abstract findLevel(storeId: string, productId: string): Promise<StockLevel | undefined>;
  /** Levels of one product in the stores of `scope`, ordered by store id. */
  abstract findLevelsOfProduct(productId: string, scope: StoreScope): Promise<StockLevel[]>;
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  abstract write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T>;
}
