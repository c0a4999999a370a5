/** Names for the generated schema types that integrators use. */
import type { components } from './generated/openapi';

type Schemas = components['schemas'];

export type FieldIssue = Schemas['FieldIssueDto'];
export type Problem = Schemas['ProblemResponseDto'];
export type StockLevel = Schemas['StockLevelResponseDto'];
export type StockLevelPage = Schemas['StockLevelListResponseDto'];
export type ProductStock = Schemas['ProductStockResponseDto'];
export type HistoryPage = Schemas['HistoryResponseDto'];
export type Change = Schemas['ChangeResponseDto'];
export type ChangesPage = Schemas['ChangesResponseDto'];
export type Reservation = Schemas['ReservationResponseDto'];
export type UpdateResult = Schemas['InventoryUpdateResponseDto'];
export type UpdateFailure = Schemas['InventoryUpdateFailureResponseDto'];
export type BatchSummary = Schemas['BatchSummaryDto'];

/** A change's key is optional here: the client makes one (a random UUID) when none is given. */
type KeyOptional<T extends { idempotencyKey?: string }> = Omit<T, 'idempotencyKey'> & { idempotencyKey?: string };

export type UpdateInput = KeyOptional<Schemas['InventoryUpdateCreateDto']>;
export type BatchItemInput = KeyOptional<Schemas['InventoryBatchItemDto']>;
export type BatchInput = Omit<Schemas['InventoryBatchUpdateCreateDto'], 'updates' | 'atomic'> & { atomic?: boolean; updates: BatchItemInput[] };
export type ReservationInput = KeyOptional<Schemas['ReservationCreateDto']>;
export type CommitInput = Schemas['ReservationCommitDto'];
export type SetLevelInput = Schemas['StockLevelSetDto'];

/** A store's whole stock, and the feed position a copy of it follows on from. */
export interface StoreSnapshot {
  readonly levels: StockLevel[];
  readonly lastSeq: number;
}

/** What every change answers besides its body. */
export interface ChangeReceipt {
  /** The key the change was sent with (the caller's, or the one the client made). */
  readonly idempotencyKey: string;
  /** The stored answer of an earlier request with this key: this call applied nothing new. */
  readonly replayed: boolean;
}

export type Applied<T> = T & ChangeReceipt;

/** One item of a batch's answer, with the key it was sent with. */
export type BatchItemResult = (UpdateResult | UpdateFailure) & { readonly idempotencyKey: string };

export interface BatchResult {
  readonly results: BatchItemResult[];
  readonly summary: BatchSummary;
}
