import type { StoreScope } from '../config/app-config';
import type { LedgerChange } from './ledger-change';

/**
 * The most recent committed changes of every store, in seq order and without gaps, from just
 * after `from` through `to`. An instance reads each newly committed range of the ledger once into
 * it, and every long poll and stream whose position it covers is served from memory; the oldest
 * changes drop out when it is full.
 */
export class ChangeTail {
  private changes: LedgerChange[] = [];
  /** Read offset into `changes`: dropping from the front is O(1) until the array is compacted. */
  private start = 0;
  /**
   * The same changes by store, each store's in seq order: a reader scoped to a store looks at its
   * store's changes only. With thousands of streams, each scanning every change of the tail for
   * its own store's was most of what serving them from memory cost.
   */
  private readonly byStore = new Map<string, StoreChanges>();
  private fromSeq: number;
  private toSeq: number;

  constructor(
    private readonly capacity: number,
    /** The head when the tail starts: it covers nothing before it. */
    head: number,
  ) {
    this.fromSeq = head;
    this.toSeq = head;
  }

  /** Changes after `from` are all here (up to `to`). */
  get from(): number {
    return this.fromSeq;
  }

  /** The last seq read into the tail. */
  get to(): number {
    return this.toSeq;
  }

  get size(): number {
    return this.changes.length - this.start;
  }

  /**
   * Whether the tail drops past a position within its next quarter of capacity in changes: a
   * subscriber waiting there should move on, in memory, before it has to read the database.
   */
  isDroppingSoon(position: number): boolean {
    return this.capacity > 0 && position - this.fromSeq + (this.capacity - this.size) < this.capacity / 4;
  }

  /** Whether every change after `after` up to `to` can be read from here. */
  covers(after: number): boolean {
    return after >= this.fromSeq && after <= this.toSeq;
  }

  /**
   * Adds the changes of the range (`to`, `upTo`], oldest first, as read from the ledger (seqs are
   * gap-free, so the range is complete when it ends at `upTo`). A range read after a prune took
   * its oldest changes starts later than `to` + 1: positions before its first change are then
   * no longer covered, so that their readers go to the database and learn of the prune.
   */
  append(changes: readonly LedgerChange[], upTo: number): void {
    if (upTo <= this.toSeq) {
      return;
    }
    if (this.capacity === 0) {
      this.fromSeq = upTo;
      this.toSeq = upTo;
      return;
    }
    const fresh = changes.filter((change) => change.seq > this.toSeq);
    const first = fresh.length > 0 ? fresh[0].seq : upTo + 1;
    if (first > this.toSeq + 1) {
      this.dropTo(this.changes.length);
      this.fromSeq = first - 1;
    }
    for (const change of fresh) {
      this.changes.push(change);
      let own = this.byStore.get(change.storeId);
      if (own === undefined) {
        own = { changes: [], start: 0 };
        this.byStore.set(change.storeId, own);
      }
      own.changes.push(change);
    }
    this.toSeq = upTo;
    const excess = this.size - this.capacity;
    if (excess > 0) {
      this.dropTo(this.start + excess);
      this.fromSeq = this.changes[this.start - 1].seq;
    }
    if (this.start > this.capacity) {
      this.changes = this.changes.slice(this.start);
      this.start = 0;
    }
  }

  /** Forgets the changes through `seq` (pruned from the ledger): positions before it are gone. */
  dropThrough(seq: number): void {
    let end = this.start;
    while (end < this.changes.length && this.changes[end].seq <= seq) {
      end += 1;
    }
    this.dropTo(end);
    this.fromSeq = Math.max(this.fromSeq, Math.min(seq, this.toSeq));
  }

  /**
   * The changes after `after` in `scope`, oldest first, at most `limit`; `scannedTo` is the seq
   * through which the tail was scanned (the last change returned when the page is full).
   * `after` must be covered.
   */
  read(after: number, scope: StoreScope, limit: number): { readonly changes: LedgerChange[]; readonly scannedTo: number } {
    let changes: LedgerChange[];
    if (scope === '*') {
      const from = firstAfter(this.changes, this.start, after);
      changes = this.changes.slice(from, from + limit);
    } else {
      // Up to `limit` of each store's, merged in seq order: the first `limit` of all of them are among these.
      changes = [];
      for (const storeId of scope.length === 1 ? scope : new Set(scope)) {
        const own = this.byStore.get(storeId);
        if (own !== undefined) {
          const from = firstAfter(own.changes, own.start, after);
          changes.push(...own.changes.slice(from, from + limit));
        }
      }
      if (scope.length > 1) {
        changes.sort((a, b) => a.seq - b.seq);
        changes.length = Math.min(changes.length, limit);
      }
    }
    return { changes, scannedTo: changes.length === limit ? changes[limit - 1].seq : this.toSeq };
  }

  /** Drops the changes before index `end` of `changes`, from their stores' lists too. */
  private dropTo(end: number): void {
    for (let index = this.start; index < end; index += 1) {
      const { storeId } = this.changes[index];
      const own = this.byStore.get(storeId)!;
      // Changes leave in seq order, so each is the oldest of its store's.
      own.start += 1;
      if (own.start === own.changes.length) {
        this.byStore.delete(storeId);
      } else if (own.start > 64 && own.start * 2 > own.changes.length) {
        own.changes = own.changes.slice(own.start);
        own.start = 0;
      }
    }
    this.start = end;
  }
}

/** A store's changes in the tail: `changes` from `start` on, in seq order. */
interface StoreChanges {
  changes: LedgerChange[];
  start: number;
}

/** Index of the first change from `start` on with seq > `after` (binary search: seqs increase). */
function firstAfter(changes: readonly LedgerChange[], start: number, after: number): number {
  let low = start;
  let high = changes.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (changes[middle].seq <= after) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}
