import { availableOf, MAX_VERSION, type StockLevel } from '../../inventory/domain/stock-level';
import type { CommitCommand, ExtendCommand, ReserveCommand } from './reservation-command';
import { type LineQuantity, type Reservation, type ReservationLine, type ReservationStatus, statusAt, sumLines } from './reservation';

/** A line that could not be held or sold: what was asked and what is available. */
export interface ShortLine {
  readonly productId: string;
  readonly requested: number;
  readonly available: number;
}

/** What a reservation operation does to one of its levels: one ledger entry, one version. */
export interface HoldChange {
  readonly kind: 'reserve' | 'commit' | 'release' | 'extend';
  /** Change of the quantity on hand (a commit sells). */
  readonly delta: number;
  readonly next: StockLevel;
}

export type ReserveDecision =
  | { readonly kind: 'hold'; readonly reservation: Reservation; readonly changes: readonly HoldChange[] }
  | { readonly kind: 'reject'; readonly reason: 'LEVEL_NOT_FOUND'; readonly productIds: readonly string[] }
  | { readonly kind: 'reject'; readonly reason: 'INSUFFICIENT_AVAILABLE'; readonly short: readonly ShortLine[] }
  | { readonly kind: 'reject'; readonly reason: 'QUANTITY_LIMIT_EXCEEDED'; readonly productIds: readonly string[] };

export type ReservationDecision =
  | { readonly kind: 'change'; readonly reservation: Reservation; readonly changes: readonly HoldChange[] }
  /** Nothing to do: a repeated commit or release. */
  | { readonly kind: 'unchanged'; readonly reservation: Reservation }
  | { readonly kind: 'reject'; readonly reason: 'NOT_ACTIVE'; readonly status: ReservationStatus }
  | { readonly kind: 'reject'; readonly reason: 'RESERVATION_EXPIRED'; readonly short: readonly ShortLine[] }
  | { readonly kind: 'reject'; readonly reason: 'INVALID_LINES'; readonly issues: ReadonlyArray<{ readonly field: string; readonly issue: string }> };

type Levels = (productId: string) => StockLevel | undefined;

function bump(level: StockLevel, change: Partial<Pick<StockLevel, 'quantity' | 'reserved'>>, now: Date): StockLevel {
  return { ...level, ...change, version: level.version + 1, lastUpdated: now };
}

/**
 * A hold of every line or of none. Availability is decided here, against the locked levels, so
 * no version is needed: holds on one SKU commute, and a group of them all succeed while stock lasts.
 */
export function decideReserve(command: ReserveCommand, clientId: string, levelOf: Levels, now: Date): ReserveDecision {
  const missing = command.lines.filter((line) => levelOf(line.productId) === undefined).map((line) => line.productId);
  if (missing.length > 0) {
    return { kind: 'reject', reason: 'LEVEL_NOT_FOUND', productIds: missing };
  }
  const short = command.lines.flatMap((line) => {
    const available = availableOf(levelOf(line.productId)!);
    return line.quantity > available ? [{ productId: line.productId, requested: line.quantity, available }] : [];
  });
  if (short.length > 0) {
    return { kind: 'reject', reason: 'INSUFFICIENT_AVAILABLE', short };
  }
  const full = command.lines.filter((line) => levelOf(line.productId)!.version >= MAX_VERSION).map((line) => line.productId);
  if (full.length > 0) {
    return { kind: 'reject', reason: 'QUANTITY_LIMIT_EXCEEDED', productIds: full };
  }
  const changes = command.lines.map((line): HoldChange => {
    const level = levelOf(line.productId)!;
    return { kind: 'reserve', delta: 0, next: bump(level, { reserved: level.reserved + line.quantity }, now) };
  });
  const reservation: Reservation = {
    id: command.reservationId,
    clientId,
    storeId: command.storeId,
    status: 'active',
    reference: command.reference ?? null,
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(now.getTime() + command.ttlSeconds * 1000),
    lines: command.lines.map((line) => ({ productId: line.productId, quantity: line.quantity, committed: null, state: 'held' })),
  };
  return { kind: 'hold', reservation, changes };
}

/**
 * The order is placed. Each line sells `committed` units: a held line gives its hold back and
 * sells from it; a line whose hold has expired sells only what is available now. All lines or
 * none; a repeated commit of the same lines answers as before.
 */
export function decideCommit(reservation: Reservation, command: CommitCommand, levelOf: Levels, now: Date): ReservationDecision {
  const status = statusAt(reservation, now);
  const wanted = command.lines === undefined ? undefined : sumLines(command.lines);
  if (status === 'committed') {
    const same = wanted === undefined || sameQuantities(sumCommitted(reservation), wanted);
    return same ? { kind: 'unchanged', reservation } : { kind: 'reject', reason: 'NOT_ACTIVE', status };
  }
  if (status === 'released') {
    return { kind: 'reject', reason: 'NOT_ACTIVE', status };
  }
  const issues = invalidCommitLines(reservation, command.lines);
  if (issues.length > 0) {
    return { kind: 'reject', reason: 'INVALID_LINES', issues };
  }
  const selling = (line: ReservationLine): number =>
    wanted === undefined ? line.quantity : (wanted.find((asked) => asked.productId === line.productId)?.quantity ?? 0);
  const short: ShortLine[] = [];
  const changes: HoldChange[] = [];
  const lines = reservation.lines.map((line): ReservationLine => {
    const level = levelOf(line.productId)!;
    const units = selling(line);
    const held = line.state === 'held' ? line.quantity : 0;
    const available = availableOf(level) + held;
    if (units > available) {
      short.push({ productId: line.productId, requested: units, available });
    }
    // A line that sells nothing is a hold given back.
    const kind = units === 0 ? 'release' : 'commit';
    changes.push({ kind, delta: -units, next: bump(level, { quantity: level.quantity - units, reserved: level.reserved - held }, now) });
    return { ...line, committed: units, state: units === 0 ? 'released' : 'committed' };
  });
  if (short.length > 0) {
    return { kind: 'reject', reason: 'RESERVATION_EXPIRED', short };
  }
  return { kind: 'change', reservation: { ...reservation, status: 'committed', updatedAt: now, lines }, changes };
}

/**
 * The cart is abandoned: what is still held goes back, and the reservation is released for good,
 * an expired one included (a late commit, say a delayed payment webhook, is then refused rather
 * than selling units the client gave up). Repeating it changes nothing.
 */
export function decideRelease(reservation: Reservation, levelOf: Levels, now: Date): ReservationDecision {
  const status = statusAt(reservation, now);
  if (status === 'committed') {
    return { kind: 'reject', reason: 'NOT_ACTIVE', status };
  }
  if (status === 'released') {
    return { kind: 'unchanged', reservation };
  }
  // An expired reservation's holds were given back already (by this transaction or a sweep).
  const held = reservation.lines.filter((line) => line.state === 'held');
  const changes = held.map((line): HoldChange => {
    const level = levelOf(line.productId)!;
    return { kind: 'release', delta: 0, next: bump(level, { reserved: level.reserved - line.quantity }, now) };
  });
  const lines = reservation.lines.map((line): ReservationLine => (line.state === 'held' ? { ...line, state: 'released' } : line));
  return { kind: 'change', reservation: { ...reservation, status: 'released', updatedAt: now, lines }, changes };
}

/** Payment is still in flight: the hold lasts `ttlSeconds` from now. An expired hold is gone. */
export function decideExtend(reservation: Reservation, command: ExtendCommand, levelOf: Levels, now: Date): ReservationDecision {
  const status = statusAt(reservation, now);
  if (status === 'committed' || status === 'released') {
    return { kind: 'reject', reason: 'NOT_ACTIVE', status };
  }
  if (status === 'expired' || reservation.lines.some((line) => line.state !== 'held')) {
    return { kind: 'reject', reason: 'RESERVATION_EXPIRED', short: [] };
  }
  const changes = reservation.lines.map((line): HoldChange => ({ kind: 'extend', delta: 0, next: bump(levelOf(line.productId)!, {}, now) }));
  const expiresAt = new Date(now.getTime() + command.ttlSeconds * 1000);
  return { kind: 'change', reservation: { ...reservation, expiresAt, updatedAt: now }, changes };
}

/** A hold whose time has passed goes back to its level. */
export function expireHold(level: StockLevel, quantity: number, now: Date): StockLevel {
  return bump(level, { reserved: level.reserved - quantity }, now);
}

/** Checks the lines as sent, so that each issue names the line by its index in the request. */
function invalidCommitLines(reservation: Reservation, lines: readonly LineQuantity[] | undefined): Array<{ field: string; issue: string }> {
  const issues: Array<{ field: string; issue: string }> = [];
  const asked = new Map<string, number>();
  lines?.forEach((wanted, index) => {
    const line = reservation.lines.find((candidate) => candidate.productId === wanted.productId);
    if (line === undefined) {
      issues.push({ field: `lines[${index}].productId`, issue: 'is not a line of this reservation' });
      return;
    }
    const total = (asked.get(wanted.productId) ?? 0) + wanted.quantity;
    asked.set(wanted.productId, total);
    if (wanted.quantity > line.quantity) {
      issues.push({ field: `lines[${index}].quantity`, issue: `is more than the ${line.quantity} units held` });
    } else if (total > line.quantity) {
      issues.push({ field: `lines[${index}].quantity`, issue: `brings ${wanted.productId} to ${total} units, more than the ${line.quantity} held` });
    }
  });
  return issues;
}

function sumCommitted(reservation: Reservation): LineQuantity[] {
  return reservation.lines.map((line) => ({ productId: line.productId, quantity: line.committed ?? 0 }));
}

function sameQuantities(committed: readonly LineQuantity[], asked: readonly LineQuantity[]): boolean {
  const units = (lines: readonly LineQuantity[], productId: string) => lines.find((line) => line.productId === productId)?.quantity ?? 0;
  const products = new Set([...committed, ...asked].map((line) => line.productId));
  return [...products].every((productId) => units(committed, productId) === units(asked, productId));
}
