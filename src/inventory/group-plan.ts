import type { Reservation } from '../reservations/domain/reservation';
import { decideCommit, decideExtend, decideRelease, decideReserve, expireHold, type HoldChange, type ReservationDecision } from '../reservations/domain/reservation-rules';
import { renderReservationDecision, renderReservationForbidden, renderReserve } from '../reservations/reservation-response';
import { decideSet } from './domain/set-decision';
import type { StockLevel } from './domain/stock-level';
import type { SetLevelCommand, UpdateCommand } from './domain/update-command';
import { decideUpdate } from './domain/update-decision';
import {
  type DueHold,
  type GroupWrites,
  type HoldUpdate,
  type IdempotencyClaim,
  type IdempotencyRecord,
  keyId,
  type KeyRef,
  type LedgerEntryDraft,
  type LevelChange,
  levelId,
  type LevelRef,
  type ReservationUpdate,
} from './persistence/inventory.repository';
import { type ItemResult, type JobResult, keyOf, type UpdateItem, type UpdateJob } from './update-job';
import { renderAborted, renderDecision, renderSetDecision } from './update-response';
import type { LedgerKind } from '../database/schema';
import type { StoredResponse } from '../idempotency/stored-response';

/** What the group's transaction read before deciding anything. */
export interface GroupSnapshot {
  /** Every distinct key of the group, as claimed. */
  readonly claims: readonly IdempotencyClaim[];
  /** Ids (`keyId`) of the claims this transaction got. */
  readonly claimed: ReadonlySet<string>;
  /** Stored records of the keys it did not get. */
  readonly records: ReadonlyMap<string, IdempotencyRecord>;
  /** The locked reservations the group's items name (by id); an absent id does not exist. */
  readonly reservations: ReadonlyMap<string, Reservation>;
  /** The locked levels (by `levelId`); an absent id is a level that does not exist. */
  readonly levels: ReadonlyMap<string, StockLevel>;
  /** Holds on the locked levels whose time has passed. */
  readonly dueHolds: readonly DueHold[];
  readonly now: Date;
  readonly expiresAt: Date;
}

interface Owner {
  readonly ref: KeyRef;
  readonly fingerprint: string;
  readonly response: StoredResponse;
}

/** The distinct keys of a group, sorted so every transaction takes key locks in one order. */
export function claimsOf(jobs: readonly UpdateJob[]): IdempotencyClaim[] {
  const claims = new Map<string, IdempotencyClaim>();
  for (const job of jobs) {
    for (const item of job.items) {
      const keyed = keyOf(item);
      if (keyed === undefined) {
        continue;
      }
      const claim = { clientId: job.clientId, key: keyed.key, fingerprint: keyed.fingerprint };
      const id = keyId(claim);
      if (!claims.has(id)) {
        claims.set(id, claim);
      }
    }
  }
  return [...claims.values()].sort((a, b) => compare(a.clientId, b.clientId) || compare(a.key, b.key));
}

/** The reservations the group's items work on, sorted for lock order. */
export function reservationsToLock(jobs: readonly UpdateJob[]): string[] {
  const ids = new Set<string>();
  for (const job of jobs) {
    for (const item of job.items) {
      if (item.type === 'commit' || item.type === 'release' || item.type === 'extend') {
        ids.add(item.command.reservationId);
      }
    }
  }
  return [...ids].sort(compare);
}

/**
 * The distinct levels this group may change (of claimed or keyless items, and of the locked
 * reservations' lines), sorted for lock order.
 */
export function levelsToLock(jobs: readonly UpdateJob[], claimed: ReadonlySet<string>, reservations: ReadonlyMap<string, Reservation>): LevelRef[] {
  const levels = new Map<string, LevelRef>();
  const add = (storeId: string, productId: string) => levels.set(levelId({ storeId, productId }), { storeId, productId });
  for (const job of jobs) {
    for (const item of job.items) {
      const keyed = keyOf(item);
      if (keyed !== undefined && !claimed.has(keyId({ clientId: job.clientId, key: keyed.key }))) {
        continue;
      }
      switch (item.type) {
        case 'adjust':
        case 'set':
          add(item.command.storeId, item.command.productId);
          break;
        case 'reserve':
          item.command.lines.forEach((line) => add(item.command.storeId, line.productId));
          break;
        case 'commit':
        case 'release':
        case 'extend': {
          const reservation = reservations.get(item.command.reservationId);
          reservation?.lines.forEach((line) => add(reservation.storeId, line.productId));
          break;
        }
        case 'expire':
          item.levels.forEach((level) => add(level.storeId, level.productId));
          break;
      }
    }
  }
  return [...levels.values()].sort((a, b) => compare(a.storeId, b.storeId) || compare(a.productId, b.productId));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Decides a group of jobs in memory, in arrival order, against what the transaction locked:
 * each item is a replay (its key is already answered, here or in an earlier transaction), a
 * key reuse, or executed by its domain rule. Holds whose time has passed go back to their levels
 * first, so an expired hold never blocks anyone. An atomic job's changes are kept only if all of
 * its items succeed. Nothing is written until every job is decided, and then all at once.
 */
export class GroupPlan {
  private readonly levels: Map<string, StockLevel>;
  private readonly reservations: Map<string, Reservation>;
  private readonly owners = new Map<string, Owner>();
  private readonly ledger: LedgerEntryDraft[] = [];
  private readonly reservationInserts = new Map<string, Reservation>();
  private readonly reservationUpdates = new Map<string, ReservationUpdate>();
  private readonly holdUpdates: HoldUpdate[] = [];
  /** The version of each level that had due holds, once they were returned. */
  private readonly afterDueHolds = new Map<string, number>();

  constructor(private readonly snapshot: GroupSnapshot) {
    this.levels = new Map(snapshot.levels);
    this.reservations = new Map(snapshot.reservations);
    this.returnDueHolds();
  }

  /** How many holds ran out and went back to their levels in this group. */
  get expiredHolds(): number {
    return this.snapshot.dueHolds.length;
  }

  run(job: UpdateJob): JobResult {
    const pending: Pending = { changes: new Map(), owners: new Map(), ledger: [], reservations: new Map(), holdUpdates: [] };
    const items = job.items.map((item) => this.runItem(job, item, pending));
    if (job.atomic && !items.every(succeeded)) {
      // Nothing of this job is kept; its keys stay free for a corrected retry.
      return { items: items.map((result, index) => this.abort(result, job.items[index])) };
    }
    pending.changes.forEach((level, id) => this.levels.set(id, level));
    pending.owners.forEach((owner, id) => this.owners.set(id, owner));
    this.ledger.push(...pending.ledger);
    this.holdUpdates.push(...pending.holdUpdates);
    pending.reservations.forEach((reservation, id) => {
      this.reservations.set(id, reservation);
      if (this.snapshot.reservations.has(id)) {
        this.reservationUpdates.set(id, { id, status: reservation.status, expiresAt: reservation.expiresAt, updatedAt: reservation.updatedAt });
      } else {
        this.reservationInserts.set(id, reservation);
      }
    });
    return { items };
  }

  writes(): GroupWrites {
    const levelInserts: StockLevel[] = [];
    const levelChanges: LevelChange[] = [];
    for (const [id, level] of this.levels) {
      const locked = this.snapshot.levels.get(id);
      if (locked === undefined) {
        levelInserts.push(level);
      } else if (level.version !== locked.version) {
        levelChanges.push({ next: level, expectedVersion: locked.version });
      }
    }
    const completions = [...this.owners.values()].map(({ ref, fingerprint, response }) => ({ ...ref, fingerprint, response }));
    const releasedClaims = this.snapshot.claims.filter((claim) => this.snapshot.claimed.has(keyId(claim)) && !this.owners.has(keyId(claim)));
    return {
      levelInserts,
      levelChanges,
      completions,
      releasedClaims,
      ledger: this.ledger,
      reservationInserts: [...this.reservationInserts.values()],
      reservationUpdates: [...this.reservationUpdates.values()],
      holdUpdates: this.mergedHoldUpdates(),
    };
  }

  /**
   * One update per hold: a hold changed twice in the group (extended, then committed) is written
   * once, from the state it was read in to its last state. Holds of reservations created in the
   * group are written with them.
   */
  private mergedHoldUpdates(): HoldUpdate[] {
    const merged = new Map<string, HoldUpdate>();
    for (const update of this.holdUpdates) {
      if (this.reservationInserts.has(update.reservationId)) {
        continue;
      }
      const id = `${update.reservationId}\u0000${update.productId}`;
      const earlier = merged.get(id);
      merged.set(id, earlier === undefined ? update : { ...update, expectedState: earlier.expectedState, expiresAt: update.expiresAt ?? earlier.expiresAt });
    }
    return [...merged.values()];
  }

  /** Before any job: each due hold goes back to its level, as its own ledger entry and version. */
  private returnDueHolds(): void {
    const { now } = this.snapshot;
    for (const hold of this.snapshot.dueHolds) {
      const id = levelId(hold);
      const level = this.levels.get(id);
      if (level === undefined) {
        continue;
      }
      const next = expireHold(level, hold.quantity, now);
      this.levels.set(id, next);
      this.afterDueHolds.set(id, next.version);
      this.ledger.push(ledgerEntry(next, 'expire', 0, { clientId: hold.clientId, requestId: null, reference: hold.reference, reservationId: hold.reservationId }, now));
      this.holdUpdates.push({ reservationId: hold.reservationId, productId: hold.productId, expectedState: 'held', state: 'expired', committed: null });
      const reservation = this.reservations.get(hold.reservationId);
      if (reservation !== undefined) {
        const lines = reservation.lines.map((line) => (line.productId === hold.productId && line.state === 'held' ? { ...line, state: 'expired' as const } : line));
        this.reservations.set(reservation.id, { ...reservation, lines });
      }
    }
  }

  private runItem(job: UpdateJob, item: UpdateItem, pending: Pending): ItemResult {
    const { expiresAt } = this.snapshot;
    const keyed = keyOf(item);
    const ref = keyed === undefined ? undefined : { clientId: job.clientId, key: keyed.key };
    if (ref !== undefined) {
      const answered = this.answered(ref, keyed!.fingerprint, pending);
      if (answered !== undefined) {
        return answered;
      }
    }
    const { response, applied } = this.decide(job, item, pending);
    const stored = ref !== undefined && isStoredOutcome(response);
    if (stored) {
      pending.owners.set(keyId(ref), { ref, fingerprint: keyed!.fingerprint, response });
    }
    return { kind: 'executed', response, applied, stored, expiresAt };
  }

  private decide(job: UpdateJob, item: UpdateItem, pending: Pending): Decided {
    switch (item.type) {
      case 'adjust':
        return this.adjust(job, item.command, pending);
      case 'set':
        return this.set(job, item.command, pending);
      case 'reserve':
        return this.reserve(job, item, pending);
      case 'commit':
      case 'release':
      case 'extend':
        return this.changeReservation(job, item, pending);
      case 'expire':
        // Its levels' due holds went back before any job ran.
        return { response: { status: 200, body: '{}' }, applied: false };
    }
  }

  /** The answer a key already has, in this group or from an earlier transaction; undefined if none. */
  private answered(ref: KeyRef, fingerprint: string, pending: Pending): ItemResult | undefined {
    const id = keyId(ref);
    const owner = pending.owners.get(id) ?? this.owners.get(id);
    if (owner !== undefined) {
      return owner.fingerprint === fingerprint ? { kind: 'replayed', response: owner.response, expiresAt: this.snapshot.expiresAt } : { kind: 'key-reused' };
    }
    if (this.snapshot.claimed.has(id)) {
      return undefined;
    }
    const record = this.snapshot.records.get(id);
    if (record === undefined) {
      throw new Error('an idempotency key was neither claimed nor recorded');
    }
    return record.fingerprint === fingerprint ? { kind: 'replayed', response: record.response, expiresAt: record.expiresAt } : { kind: 'key-reused' };
  }

  /**
   * An item of a rolled-back atomic job: nothing applied, nothing stored. Its answer describes the
   * committed level, never the batch's own changes that were rolled back: a failed item is decided
   * again on its own, and is BATCH_ABORTED if it would have applied alone. (Batches hold
   * adjustments only.)
   */
  private abort(result: ItemResult, item: UpdateItem): ItemResult {
    if (result.kind !== 'executed' || item.type !== 'adjust') {
      return result;
    }
    let response = result.applied ? renderAborted(item.command.productId) : result.response;
    if (!result.applied) {
      const decision = decideUpdate(this.levels.get(levelId(item.command)), item.command, this.snapshot.now);
      response = decision.kind === 'apply' ? renderAborted(item.command.productId) : renderDecision(item.command, decision);
    }
    return { ...result, response, applied: false, stored: false };
  }

  private level(storeId: string, productId: string, pending: Pending): StockLevel | undefined {
    const id = levelId({ storeId, productId });
    return pending.changes.get(id) ?? this.levels.get(id);
  }

  /**
   * The version a client may name for a level: its current one, or — while the only changes since
   * it was read are this group's returns of expired holds — the version it had before them. A
   * client cannot have seen those returns (they were only due), so they do not make it stale.
   */
  private versionAsRead<C extends { storeId: string; productId: string; expectedVersion?: number }>(command: C, current: StockLevel | undefined): C {
    const id = levelId(command);
    const locked = this.snapshot.levels.get(id);
    if (current === undefined || locked === undefined || command.expectedVersion !== locked.version || current.version !== this.afterDueHolds.get(id)) {
      return command;
    }
    return { ...command, expectedVersion: current.version };
  }

  private adjust(job: UpdateJob, command: UpdateCommand, pending: Pending): Decided {
    const current = this.level(command.storeId, command.productId, pending);
    const decision = decideUpdate(current, this.versionAsRead(command, current), this.snapshot.now);
    if (decision.kind === 'apply') {
      this.record(decision.next, 'adjust', command.delta, pending, { ...this.origin(job, command.idempotencyKey), reason: command.reason, reference: command.reference });
    }
    return { response: renderDecision(command, decision), applied: decision.kind === 'apply' };
  }

  private set(job: UpdateJob, command: SetLevelCommand, pending: Pending): Decided {
    const current = this.level(command.storeId, command.productId, pending);
    const decision = decideSet(current, this.versionAsRead(command, current), this.snapshot.now);
    const note = { ...this.origin(job, command.idempotencyKey), reason: command.reason, reference: command.reference };
    if (decision.kind === 'create') {
      this.record(decision.next, 'create', decision.next.quantity, pending, note);
    } else if (decision.kind === 'set') {
      this.record(decision.next, 'set', decision.next.quantity - decision.previous.quantity, pending, note);
    }
    return { response: renderSetDecision(command, decision, job.requestId), applied: decision.kind !== 'reject' };
  }

  private reserve(job: UpdateJob, item: Extract<UpdateItem, { type: 'reserve' }>, pending: Pending): Decided {
    const { command } = item;
    const { now } = this.snapshot;
    const decision = decideReserve(command, job.clientId, (productId) => this.level(command.storeId, productId, pending), now);
    if (decision.kind === 'hold') {
      this.recordHoldChanges(job, decision.changes, decision.reservation, pending, command.idempotencyKey);
      pending.reservations.set(decision.reservation.id, decision.reservation);
    }
    return { response: renderReserve(decision, now, job.requestId), applied: decision.kind === 'hold' };
  }

  private changeReservation(job: UpdateJob, item: Extract<UpdateItem, { type: 'commit' | 'release' | 'extend' }>, pending: Pending): Decided {
    const { now } = this.snapshot;
    const id = item.command.reservationId;
    const current = pending.reservations.get(id) ?? this.reservations.get(id);
    if (current !== undefined && item.command.allowedStores !== '*' && !item.command.allowedStores.includes(current.storeId)) {
      return { response: renderReservationForbidden(id, item.type, current.storeId, job.requestId), applied: false };
    }
    let decision: ReservationDecision | undefined;
    if (current !== undefined) {
      const levelOf = (productId: string) => this.level(current.storeId, productId, pending);
      decision =
        item.type === 'commit'
          ? decideCommit(current, item.command, levelOf, now)
          : item.type === 'release'
            ? decideRelease(current, levelOf, now)
            : decideExtend(current, item.command, levelOf, now);
    }
    if (current !== undefined && decision?.kind === 'change') {
      this.recordHoldChanges(job, decision.changes, decision.reservation, pending, undefined);
      pending.reservations.set(id, decision.reservation);
      decision.reservation.lines.forEach((line, index) => {
        const before = current.lines[index];
        if (line.state !== before.state || item.type === 'extend') {
          pending.holdUpdates.push({
            reservationId: id,
            productId: line.productId,
            expectedState: before.state,
            state: line.state,
            committed: line.committed,
            ...(item.type === 'extend' ? { expiresAt: decision.reservation.expiresAt } : {}),
          });
        }
      });
    }
    return { response: renderReservationDecision(id, item.type, decision, now, job.requestId), applied: decision?.kind === 'change' };
  }

  private recordHoldChanges(job: UpdateJob, changes: readonly HoldChange[], reservation: Reservation, pending: Pending, idempotencyKey: string | undefined): void {
    for (const change of changes) {
      this.record(change.next, change.kind, change.delta, pending, { ...this.origin(job, idempotencyKey), reference: reservation.reference, reservationId: reservation.id });
    }
  }

  private origin(job: UpdateJob, idempotencyKey: string | undefined): Origin {
    return { clientId: job.clientId, requestId: job.requestId, idempotencyKey };
  }

  private record(next: StockLevel, kind: LedgerKind, delta: number, pending: Pending, origin: Origin): void {
    pending.changes.set(levelId(next), next);
    pending.ledger.push(ledgerEntry(next, kind, delta, origin, this.snapshot.now));
  }
}

/** Who made a change and why, as the ledger keeps it. */
interface Origin {
  readonly clientId: string;
  readonly requestId: string | null;
  readonly idempotencyKey?: string;
  readonly reason?: string;
  readonly reference?: string | null;
  readonly reservationId?: string;
}

function ledgerEntry(next: StockLevel, kind: LedgerKind, delta: number, origin: Origin, createdAt: Date): LedgerEntryDraft {
  return {
    storeId: next.storeId,
    productId: next.productId,
    kind,
    delta,
    quantityAfter: next.quantity,
    reservedAfter: next.reserved,
    versionAfter: next.version,
    idempotencyKey: origin.idempotencyKey ?? null,
    clientId: origin.clientId,
    requestId: origin.requestId,
    reason: origin.reason ?? null,
    reference: origin.reference ?? null,
    reservationId: origin.reservationId ?? null,
    createdAt,
  };
}

interface Pending {
  readonly changes: Map<string, StockLevel>;
  readonly owners: Map<string, Owner>;
  readonly ledger: LedgerEntryDraft[];
  readonly reservations: Map<string, Reservation>;
  readonly holdUpdates: HoldUpdate[];
}

interface Decided {
  readonly response: StoredResponse;
  readonly applied: boolean;
}

/**
 * What an idempotency key keeps: the outcome of the change (200, 201) and definitive business
 * outcomes (404, 409). A failed precondition of an admin set (412, 428) is not one: the request
 * was incomplete or based on a stale read, and its corrected retry may reuse the key.
 */
function isStoredOutcome(response: StoredResponse): boolean {
  return response.status === 200 || response.status === 201 || response.status === 404 || response.status === 409;
}


export function succeeded(item: ItemResult): boolean {
  switch (item.kind) {
    case 'executed':
      return item.applied;
    case 'replayed':
      return item.response.status === 200;
    case 'key-reused':
      return false;
  }
}
