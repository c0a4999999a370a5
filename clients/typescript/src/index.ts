export { InventoryClient } from './client';
export type { AdjustOptions, AdjustResult, CallOptions, Decide, InventoryClientOptions, KeyedCallOptions } from './client';
export { InventoryError, InventoryHttpError, InventoryNetworkError, UpdateRejectedError, isConnectionFailure, isRetryableAnswer } from './errors';
export { ChangeFeed } from './feed';
export type { FeedEvent, FeedOptions, FeedRefusalCode } from './feed';
export { DEFAULT_RETRY_OPTIONS, backoffCeiling, parseRetryAfter, retryDelay } from './retry';
export type { RetryEvent, RetryOptions } from './retry';
export type * from './types';
export type { components, operations, paths } from './generated/openapi';
