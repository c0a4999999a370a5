import { ChangeTail } from './change-tail';
import type { LedgerChange } from './ledger-change';

/** A change of `storeId` with the given seq (the other fields do not matter to the tail). */
function change(seq: number, storeId = 'store-1'): LedgerChange {
  return {
    seq,
    storeId,
    productId: `SKU-${seq}`,
    kind: 'adjust',
    delta: 1,
    quantity: seq,
    reserved: 0,
    version: seq,
    reason: null,
    reference: null,
    idempotencyKey: `key-${seq}`,
    requestId: null,
    reservationId: null,
    createdAt: new Date(0),
  };
}

/** Changes `from`…`to` (inclusive); `storeOf` picks each one's store. */
function changes(from: number, to: number, storeOf: (seq: number) => string = () => 'store-1'): LedgerChange[] {
  return Array.from({ length: to - from + 1 }, (_, index) => change(from + index, storeOf(from + index)));
}

const seqs = (list: readonly LedgerChange[]) => list.map((item) => item.seq);

describe('ChangeTail', () => {
  describe('coverage', () => {
    it('covers only its starting head while empty', () => {
      const tail = new ChangeTail(10, 5);
      expect([tail.from, tail.to, tail.size]).toEqual([5, 5, 0]);
      expect(tail.covers(5)).toBe(true);
      expect(tail.covers(4)).toBe(false);
      expect(tail.covers(6)).toBe(false);
      expect(tail.read(5, '*', 10)).toEqual({ changes: [], scannedTo: 5 });
    });

    it('covers every position from its start to the last seq read into it', () => {
      const tail = new ChangeTail(10, 5);
      tail.append(changes(6, 9), 9);
      expect([tail.from, tail.to, tail.size]).toEqual([5, 9, 4]);
      expect([4, 5, 6, 7, 8, 9, 10].map((position) => tail.covers(position))).toEqual([false, true, true, true, true, true, false]);
    });

    it('ignores a range it already holds, and the part of a range it already holds', () => {
      const tail = new ChangeTail(10, 0);
      tail.append(changes(1, 4), 4);
      tail.append(changes(1, 3), 3);
      expect([tail.to, tail.size]).toEqual([4, 4]);
      // A range read from before the tail's end: only the changes after it are new.
      tail.append(changes(3, 6), 6);
      expect([tail.to, tail.size]).toEqual([6, 6]);
      expect(seqs(tail.read(0, '*', 100).changes)).toEqual([1, 2, 3, 4, 5, 6]);
    });
  });

  describe('a range whose oldest changes were pruned before it was read', () => {
    it('covers only from just before its first change: earlier positions must learn of the prune elsewhere', () => {
      const tail = new ChangeTail(100, 0);
      tail.append(changes(1, 4), 4);
      // 5…7 were pruned before the range (4, 10] was read.
      tail.append(changes(8, 10), 10);
      expect([tail.from, tail.to, tail.size]).toEqual([7, 10, 3]);
      expect([3, 4, 6, 7].map((position) => tail.covers(position))).toEqual([false, false, false, true]);
      expect(tail.read(7, '*', 100)).toEqual({ changes: changes(8, 10), scannedTo: 10 });
    });

    it('covers only its end when the whole range was pruned', () => {
      const tail = new ChangeTail(100, 0);
      tail.append(changes(1, 2), 2);
      tail.append([], 6);
      expect([tail.from, tail.to, tail.size]).toEqual([6, 6, 0]);
      expect(tail.covers(2)).toBe(false);
      tail.append(changes(7, 8), 8);
      expect(tail.read(6, '*', 100)).toEqual({ changes: changes(7, 8), scannedTo: 8 });
    });

    it('keeps covering the new range when over capacity', () => {
      const tail = new ChangeTail(2, 0);
      tail.append(changes(1, 2), 2);
      tail.append(changes(6, 9), 9);
      expect([tail.from, tail.to, tail.size]).toEqual([7, 9, 2]);
      expect(seqs(tail.read(7, '*', 100).changes)).toEqual([8, 9]);
    });
  });

  describe('read', () => {
    const storeOf = (seq: number) => (seq % 3 === 0 ? 'store-2' : 'store-1');
    let tail: ChangeTail;

    beforeEach(() => {
      tail = new ChangeTail(100, 10);
      tail.append(changes(11, 30, storeOf), 30);
    });

    it('returns the changes after the position, oldest first, scanned to the end when the page is not full', () => {
      expect(tail.read(10, '*', 100)).toEqual({ changes: changes(11, 30, storeOf), scannedTo: 30 });
      expect(seqs(tail.read(25, '*', 100).changes)).toEqual([26, 27, 28, 29, 30]);
      expect(tail.read(30, '*', 100)).toEqual({ changes: [], scannedTo: 30 });
    });

    it('stops at the limit, scanned to the last change returned', () => {
      const first = tail.read(10, '*', 4);
      expect(seqs(first.changes)).toEqual([11, 12, 13, 14]);
      expect(first.scannedTo).toBe(14);
      const next = tail.read(first.scannedTo, '*', 4);
      expect(seqs(next.changes)).toEqual([15, 16, 17, 18]);
      expect(next.scannedTo).toBe(18);
    });

    it('returns a page that fills exactly at the end as scanned to its last change', () => {
      const page = tail.read(25, '*', 5);
      expect(seqs(page.changes)).toEqual([26, 27, 28, 29, 30]);
      expect(page.scannedTo).toBe(30);
    });

    it('keeps only the scope’s stores, and counts the limit in them only', () => {
      const store2 = tail.read(10, ['store-2'], 3);
      expect(seqs(store2.changes)).toEqual([12, 15, 18]);
      // A full page: scanned through its last change and not beyond it.
      expect(store2.scannedTo).toBe(18);
      const rest = tail.read(store2.scannedTo, ['store-2'], 100);
      expect(seqs(rest.changes)).toEqual([21, 24, 27, 30]);
      expect(rest.scannedTo).toBe(30);
    });

    it('scans to the end, returning nothing, when no change is in the scope', () => {
      expect(tail.read(10, ['store-9'], 5)).toEqual({ changes: [], scannedTo: 30 });
      expect(tail.read(10, [], 5)).toEqual({ changes: [], scannedTo: 30 });
    });

    it('moves a scope’s position past the changes it may not see when the page is not full', () => {
      // After 28: 29 is store-1's, 30 is store-2's, so the page ends at 29 but the scan at 30.
      const page = tail.read(28, ['store-1'], 10);
      expect(seqs(page.changes)).toEqual([29]);
      expect(page.scannedTo).toBe(30);
    });

    it('reads several stores of a scope in seq order', () => {
      expect(seqs(tail.read(20, ['store-1', 'store-2'], 100).changes)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    });
  });

  describe('capacity', () => {
    it('drops the oldest changes when over capacity, and covers only after the last one dropped', () => {
      const tail = new ChangeTail(5, 0);
      tail.append(changes(1, 4), 4);
      expect([tail.from, tail.to, tail.size]).toEqual([0, 4, 4]);
      tail.append(changes(5, 7), 7);
      expect([tail.from, tail.to, tail.size]).toEqual([2, 7, 5]);
      expect(tail.covers(1)).toBe(false);
      expect(tail.covers(2)).toBe(true);
      expect(tail.read(2, '*', 100)).toEqual({ changes: changes(3, 7), scannedTo: 7 });
    });

    it('keeps only the newest `capacity` changes of a range larger than itself', () => {
      const tail = new ChangeTail(3, 0);
      tail.append(changes(1, 10), 10);
      expect([tail.from, tail.to, tail.size]).toEqual([7, 10, 3]);
      expect(seqs(tail.read(7, '*', 100).changes)).toEqual([8, 9, 10]);
    });

    it('stays right over many appends, as old changes are dropped and the store compacted', () => {
      const tail = new ChangeTail(4, 0);
      for (let seq = 1; seq <= 50; seq += 1) {
        tail.append([change(seq)], seq);
        const from = Math.max(0, seq - 4);
        expect([tail.from, tail.to, tail.size]).toEqual([from, seq, seq - from]);
        expect(seqs(tail.read(from, '*', 100).changes)).toEqual(seqs(changes(from + 1, seq)));
      }
      // A read from the middle starts at the right change after compaction too.
      expect(seqs(tail.read(48, '*', 100).changes)).toEqual([49, 50]);
    });

    it('with capacity 0, holds nothing and covers only its end', () => {
      const tail = new ChangeTail(0, 3);
      tail.append(changes(4, 8), 8);
      expect([tail.from, tail.to, tail.size]).toEqual([8, 8, 0]);
      expect(tail.covers(8)).toBe(true);
      expect(tail.covers(7)).toBe(false);
      expect(tail.read(8, '*', 10)).toEqual({ changes: [], scannedTo: 8 });
      tail.append([], 5);
      expect([tail.from, tail.to]).toEqual([8, 8]);
    });
  });

  describe('dropThrough', () => {
    it('forgets the pruned changes: positions before the floor are no longer covered', () => {
      const tail = new ChangeTail(100, 0);
      tail.append(changes(1, 10), 10);
      tail.dropThrough(4);
      expect([tail.from, tail.to, tail.size]).toEqual([4, 10, 6]);
      expect(tail.covers(3)).toBe(false);
      expect(tail.covers(4)).toBe(true);
      expect(tail.read(4, '*', 100)).toEqual({ changes: changes(5, 10), scannedTo: 10 });
    });

    it('changes nothing for a floor it no longer covers', () => {
      const tail = new ChangeTail(3, 0);
      tail.append(changes(1, 10), 10);
      tail.dropThrough(5);
      expect([tail.from, tail.to, tail.size]).toEqual([7, 10, 3]);
      expect(seqs(tail.read(7, '*', 100).changes)).toEqual([8, 9, 10]);
    });

    it('keeps its end and covers only it when the floor passes everything it holds', () => {
      const tail = new ChangeTail(100, 0);
      tail.append(changes(1, 10), 10);
      tail.dropThrough(10);
      expect([tail.from, tail.to, tail.size]).toEqual([10, 10, 0]);
      tail.dropThrough(15);
      expect([tail.from, tail.to, tail.size]).toEqual([10, 10, 0]);
      expect(tail.covers(9)).toBe(false);
      // It goes on from its end.
      tail.append(changes(11, 12), 12);
      expect(tail.read(10, '*', 100)).toEqual({ changes: changes(11, 12), scannedTo: 12 });
    });

    it('drops through the floor also after appends that compacted the store', () => {
      const tail = new ChangeTail(4, 0);
      for (let seq = 1; seq <= 20; seq += 1) {
        tail.append([change(seq)], seq);
      }
      tail.dropThrough(18);
      expect([tail.from, tail.to, tail.size]).toEqual([18, 20, 2]);
      expect(seqs(tail.read(18, '*', 100).changes)).toEqual([19, 20]);
    });
  });
  describe('reads by store', () => {
    /** What a read must answer: the covered changes in scope, oldest first, cut at the limit. */
    function expected(held: readonly LedgerChange[], to: number, after: number, scope: '*' | string[], limit: number) {
      const inScope = held.filter((item) => item.seq > after && (scope === '*' || scope.includes(item.storeId))).slice(0, limit);
      return { changes: seqs(inScope), scannedTo: inScope.length === limit ? inScope[limit - 1].seq : to };
    }

    it('answers every scope as a scan of the whole tail would, across appends, drops over capacity, gaps and prunes', () => {
      const stores = ['store-a', 'store-b', 'store-c', 'store-d', 'store-e'];
      let random = 7;
      const next = (below: number) => {
        random = (random * 1103515245 + 12345) % 2147483648;
        return random % below;
      };
      const tail = new ChangeTail(40, 0);
      let held: LedgerChange[] = [];
      let seq = 0;
      for (let step = 0; step < 400; step += 1) {
        const action = next(10);
        if (action < 7) {
          // A committed range; now and then one whose start was pruned before it was read (a gap).
          const skipped = action === 0 ? 1 + next(3) : 0;
          const range = changes(seq + skipped + 1, seq + skipped + 1 + next(12), () => stores[next(stores.length)]);
          seq += skipped + range.length;
          tail.append(range, seq);
          held = skipped > 0 ? range : [...held, ...range];
          held = held.slice(Math.max(0, held.length - 40));
        } else if (action === 7 && held.length > 0) {
          const floor = held[next(held.length)].seq;
          tail.dropThrough(floor);
          held = held.filter((item) => item.seq > floor);
        }
        expect(seqs(tail.read(tail.from, '*', 1000).changes)).toEqual(seqs(held));
        const after = tail.from + next(tail.to - tail.from + 1);
        const limit = 1 + next(6);
        for (const scope of ['*' as const, [stores[next(5)]], [stores[next(5)], stores[next(5)]], [], stores]) {
          const answer = tail.read(after, scope, limit);
          expect({ changes: seqs(answer.changes), scannedTo: answer.scannedTo }).toEqual(expected(held, tail.to, after, scope, limit));
        }
      }
    });

    it('reads each store right while its own list is compacted, over thousands of changes', () => {
      const tail = new ChangeTail(30, 0);
      const held: LedgerChange[] = [];
      const storeOf = (seq: number) => (seq % 7 === 0 ? 'store-rare' : seq % 2 === 0 ? 'store-even' : 'store-odd');
      for (let seq = 1; seq <= 3000; seq += 1) {
        const one = change(seq, storeOf(seq));
        tail.append([one], seq);
        held.push(one);
        const kept = held.slice(-30);
        const after = kept[0].seq - 1 + (seq % 5);
        for (const scope of [['store-even'], ['store-rare'], ['store-odd', 'store-rare']]) {
          const answer = tail.read(after, scope, 50);
          expect(seqs(answer.changes)).toEqual(seqs(kept.filter((item) => item.seq > after && scope.includes(item.storeId))));
        }
      }
    });
  });
});
