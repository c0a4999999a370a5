import { availableOf, MAX_QUANTITY, MAX_VERSION, type StockLevel } from './stock-level';
import type { UpdateCommand } from './update-command';

export type RejectionReason = 'LEVEL_NOT_FOUND' | 'VERSION_CONFLICT' | 'INSUFFICIENT_STOCK' | 'QUANTITY_LIMIT_EXCEEDED';

export type UpdateDecision =
  | { readonly kind: 'apply'; readonly previous: StockLevel; readonly next: StockLevel }
  | { readonly kind: 'reject'; readonly reason: 'LEVEL_NOT_FOUND' }
  | { readonly kind: 'reject'; readonly reason: Exclude<RejectionReason, 'LEVEL_NOT_FOUND'>; readonly current: StockLevel };

/**
 * The business rule of an update, in one place: the level must exist, be at the version the
 * caller read, and a decrease may not take more than is available — units held for customers'
 * checkouts are promised — nor an increase go beyond the largest quantity kept.
 */
export function decideUpdate(current: StockLevel | undefined, command: UpdateCommand, now: Date): UpdateDecision {
  if (current === undefined) {
    return { kind: 'reject', reason: 'LEVEL_NOT_FOUND' };
  }
  if (current.version !== command.expectedVersion) {
    return { kind: 'reject', reason: 'VERSION_CONFLICT', current };
  }
  const quantity = current.quantity + command.delta;
  if (command.delta < 0 && -command.delta > availableOf(current)) {
    return { kind: 'reject', reason: 'INSUFFICIENT_STOCK', current };
  }
  if (quantity > MAX_QUANTITY || current.version >= MAX_VERSION) {
    return { kind: 'reject', reason: 'QUANTITY_LIMIT_EXCEEDED', current };
  }
  const next: StockLevel = { ...current, quantity, version: current.version + 1, lastUpdated: now };
  return { kind: 'apply', previous: current, next };
}
