import { MAX_VERSION, type StockLevel } from './stock-level';
import type { SetLevelCommand } from './update-command';

export type SetDecision =
  | { readonly kind: 'create'; readonly next: StockLevel }
  | { readonly kind: 'set'; readonly previous: StockLevel; readonly next: StockLevel }
  | { readonly kind: 'reject'; readonly reason: 'LEVEL_NOT_FOUND' | 'PRECONDITION_REQUIRED' }
  | { readonly kind: 'reject'; readonly reason: 'VERSION_CONFLICT' | 'QUANTITY_LIMIT_EXCEEDED' | 'QUANTITY_BELOW_RESERVED'; readonly current: StockLevel };

/**
 * The rule of an absolute set: a missing level is created (at version 1) unless the caller
 * expected it to exist; an existing level changes only when the caller names its current
 * version, so an administrator never overwrites a change they have not seen, and never to less
 * than its active reservations hold.
 */
export function decideSet(current: StockLevel | undefined, command: SetLevelCommand, now: Date): SetDecision {
  if (current === undefined) {
    if (command.expectedVersion !== undefined) {
      return { kind: 'reject', reason: 'LEVEL_NOT_FOUND' };
    }
    return { kind: 'create', next: { storeId: command.storeId, productId: command.productId, quantity: command.quantity, reserved: 0, version: 1, lastUpdated: now } };
  }
  if (command.expectedVersion === undefined) {
    return { kind: 'reject', reason: 'PRECONDITION_REQUIRED' };
  }
  if (command.expectedVersion !== current.version) {
    return { kind: 'reject', reason: 'VERSION_CONFLICT', current };
  }
  if (current.version >= MAX_VERSION) {
    return { kind: 'reject', reason: 'QUANTITY_LIMIT_EXCEEDED', current };
  }
  // Units held for customers stay promised: a count may not go below them.
  if (command.quantity < current.reserved) {
    return { kind: 'reject', reason: 'QUANTITY_BELOW_RESERVED', current };
  }
  return { kind: 'set', previous: current, next: { ...current, quantity: command.quantity, version: current.version + 1, lastUpdated: now } };
}
