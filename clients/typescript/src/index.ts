export { InventoryError, InventoryHttpError, InventoryNetworkError, UpdateRejectedError, isConnectionFailure, isRetryableAnswer } from './errors';
export { DEFAULT_RETRY_OPTIONS, backoffCeiling, parseRetryAfter, retryDelay } from './retry';
export type { RetryEvent, RetryOptions } from './retry';
export type * from './types';
export type { components, operations, paths } from './generated/openapi';
