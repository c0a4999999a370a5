import { decideSet } from './domain/set-decision';
import type { StockLevel } from './domain/stock-level';
import type { SetLevelCommand, UpdateCommand } from './domain/update-command';
import { decideUpdate } from './domain/update-decision';
import {
  type GroupWrites,
  type IdempotencyClaim,
  type IdempotencyRecord,
  keyId,
  type KeyRef,
  type LedgerEntryDraft,
  type LevelChange,
  levelId,
  type LevelRef,
} from './persistence/inventory.repository';
import type { ItemResult, JobResult, UpdateItem, UpdateJob } from './update-job';
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
  /** The locked levels (by `levelId`); an absent id is a level that does not exist. */
  readonly levels: ReadonlyMap<string, StockLevel>;
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
    for (const { command, fingerprint } of job.items) {
      if (command.idempotencyKey === undefined) {
        continue;
      }
      const claim = { clientId: job.clientId, key: command.idempotencyKey, fingerprint };
      const id = keyId(claim);
      if (!claims.has(id)) {
        claims.set(id, claim);
      }
    }
  }
  return [...claims.values()].sort((a, b) => compare(a.clientId, b.clientId) || compare(a.key, b.key));
}

/** The distinct levels this group may change (of claimed or keyless items), sorted for lock order. */
export function levelsToLock(jobs: readonly UpdateJob[], claimed: ReadonlySet<string>): LevelRef[] {
  const levels = new Map<string, LevelRef>();
  for (const job of jobs) {
    for (const { command } of job.items) {
      const key = command.idempotencyKey;
      if (key === undefined || claimed.has(keyId({ clientId: job.clientId, key }))) {
        levels.set(levelId(command), { storeId: command.storeId, productId: command.productId });
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
 * key reuse, or executed by the domain rule. An atomic job's changes are kept only if all of its
 * items succeed. Nothing is written until every job is decided, and then all at once.
 */
export class GroupPlan {
  private readonly levels: Map<string, StockLevel>;
  private readonly owners = new Map<string, Owner>();
  private readonly ledger: LedgerEntryDraft[] = [];

  constructor(private readonly snapshot: GroupSnapshot) {
    this.levels = new Map(snapshot.levels);
  }

  run(job: UpdateJob): JobResult {
    const changes = new Map<string, StockLevel>();
    const owners = new Map<string, Owner>();
    const ledger: LedgerEntryDraft[] = [];
    const items = job.items.map((item) => this.runItem(job, item, { changes, owners, ledger }));
    if (job.atomic && !items.every(succeeded)) {
      // Nothing of this job is kept; its keys stay free for a corrected retry.
      return { items: items.map((result, index) => this.abort(result, job.items[index])) };
    }
    changes.forEach((level, id) => this.levels.set(id, level));
    owners.forEach((owner, id) => this.owners.set(id, owner));
    this.ledger.push(...ledger);
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
    return { levelInserts, levelChanges, completions, releasedClaims, ledger: this.ledger };
  }

  private runItem(job: UpdateJob, item: UpdateItem, pending: Pending): ItemResult {
    const { expiresAt } = this.snapshot;
    const key = item.command.idempotencyKey;
    const ref = key === undefined ? undefined : { clientId: job.clientId, key };
    if (ref !== undefined) {
      const answered = this.answered(ref, item.fingerprint, pending);
      if (answered !== undefined) {
        return answered;
      }
    }
    const level = levelId(item.command);
    const current = pending.changes.get(level) ?? this.levels.get(level);
    const { response, applied } = item.type === 'adjust' ? this.adjust(job, item.command, current, pending) : this.set(job, item.command, current, pending);
    const stored = ref !== undefined && isStoredOutcome(response);
    if (stored) {
      pending.owners.set(keyId(ref), { ref, fingerprint: item.fingerprint, response });
    }
    return { kind: 'executed', response, applied, stored, expiresAt };
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
   * again on its own, and is BATCH_ABORTED if it would have applied alone.
   */
  private abort(result: ItemResult, item: UpdateItem): ItemResult {
    if (result.kind !== 'executed') {
      return result;
    }
    let response = result.applied ? renderAborted(item.command.productId) : result.response;
    if (!result.applied && item.type === 'adjust') {
      const decision = decideUpdate(this.levels.get(levelId(item.command)), item.command, this.snapshot.now);
      response = decision.kind === 'apply' ? renderAborted(item.command.productId) : renderDecision(item.command, decision);
    }
    return { ...result, response, applied: false, stored: false };
  }

  private adjust(job: UpdateJob, command: UpdateCommand, current: StockLevel | undefined, pending: Pending): Decided {
    const decision = decideUpdate(current, command, this.snapshot.now);
    if (decision.kind === 'apply') {
      this.record(job, command, 'adjust', command.delta, decision.next, pending);
    }
    return { response: renderDecision(command, decision), applied: decision.kind === 'apply' };
  }

  private set(job: UpdateJob, command: SetLevelCommand, current: StockLevel | undefined, pending: Pending): Decided {
    const decision = decideSet(current, command, this.snapshot.now);
    if (decision.kind === 'create') {
      this.record(job, command, 'create', decision.next.quantity, decision.next, pending);
    } else if (decision.kind === 'set') {
      this.record(job, command, 'set', decision.next.quantity - decision.previous.quantity, decision.next, pending);
    }
    return { response: renderSetDecision(command, decision, job.requestId), applied: decision.kind !== 'reject' };
  }

  private record(job: UpdateJob, command: UpdateCommand | SetLevelCommand, kind: LedgerKind, delta: number, next: StockLevel, pending: Pending): void {
    pending.changes.set(levelId(next), next);
    pending.ledger.push({
      storeId: next.storeId,
      productId: next.productId,
      kind,
      delta,
      quantityAfter: next.quantity,
      versionAfter: next.version,
      idempotencyKey: command.idempotencyKey ?? null,
      clientId: job.clientId,
      requestId: job.requestId,
      reason: command.reason ?? null,
      reference: command.reference ?? null,
      createdAt: this.snapshot.now,
    });
  }
}

interface Pending {
  readonly changes: Map<string, StockLevel>;
  readonly owners: Map<string, Owner>;
  readonly ledger: LedgerEntryDraft[];
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
