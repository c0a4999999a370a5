import { getEventListeners } from 'node:events';
import type { PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { ClusterLink } from '../cluster/cluster-link';
import { Metrics } from '../metrics/metrics';
import { ChangeNotifier } from './change-notifier';
import type { LedgerChange } from './ledger-change';
import type { ChangesRepository } from './persistence/changes.repository';

describe('ChangeNotifier waiters', () => {
  it('listens for shutdown once for all its waiters, and shutdown ends every wait', async () => {
    const repository = { head: () => Promise.resolve(0), floor: () => Promise.resolve(0) } as unknown as ChangesRepository;
    const config = { feedTailChanges: 100, feedNotify: false, feedPollIntervalMs: 60_000 } as AppConfig;
    const notifier = new ChangeNotifier(repository, config, new Metrics(), { warn: () => undefined } as unknown as PinoLogger, new ClusterLink());
    await notifier.onApplicationBootstrap();
    try {
      const waits = Array.from({ length: 50 }, () => notifier.waitBeyond(0, 60_000));
      // Every wait adding a listener of its own made each commit cost O(waiters²) (a listener list walk per wait).
      expect(getEventListeners(notifier.shutdownSignal, 'abort')).toHaveLength(1);
      notifier.beforeApplicationShutdown();
      expect(await Promise.all(waits)).toEqual(Array.from({ length: 50 }, () => false));
    } finally {
      await notifier.onApplicationShutdown();
    }
  });

  describe('scoped waits', () => {
    /** A ledger whose seq n belongs to the store `storeOf(n)`. */
    function ledgerOf(storeOf: (seq: number) => string): ChangesRepository {
      const change = (seq: number) => ({ seq, storeId: storeOf(seq) }) as LedgerChange;
      return {
        head: () => Promise.resolve(0),
        floor: () => Promise.resolve(0),
        range: (after: number, upTo: number) => Promise.resolve(Array.from({ length: upTo - after }, (_, index) => change(after + index + 1))),
      } as unknown as ChangesRepository;
    }

    async function started(storeOf: (seq: number) => string, tailChanges: number): Promise<ChangeNotifier> {
      const config = { feedTailChanges: tailChanges, feedNotify: false, feedPollIntervalMs: 60_000 } as AppConfig;
      const notifier = new ChangeNotifier(ledgerOf(storeOf), config, new Metrics(), { warn: () => undefined } as unknown as PinoLogger, new ClusterLink());
      await notifier.onApplicationBootstrap();
      return notifier;
    }

    /** Publishes `seq` and resolves once the tail has read up to it. */
    async function commit(notifier: ChangeNotifier, seq: number): Promise<void> {
      notifier.published(seq);
      while (notifier.tail.to < seq) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }

    it('wakes a waiter only for changes of its stores, and every unscoped waiter for any change', async () => {
      const notifier = await started((seq) => (seq <= 3 ? 'store-2' : 'store-1'), 100);
      try {
        let scopedWoken: boolean | undefined;
        let unscopedWoken: boolean | undefined;
        void notifier.waitBeyond(0, 60_000, undefined, ['store-1']).then((woken) => (scopedWoken = woken));
        void notifier.waitBeyond(0, 60_000).then((woken) => (unscopedWoken = woken));
        await commit(notifier, 3);
        expect({ scopedWoken, unscopedWoken }).toEqual({ scopedWoken: undefined, unscopedWoken: true });
        await commit(notifier, 4);
        await new Promise((resolve) => setImmediate(resolve));
        expect(scopedWoken).toBe(true);
      } finally {
        notifier.beforeApplicationShutdown();
        await notifier.onApplicationShutdown();
      }
    });

    it('wakes a scoped waiter before the tail drops past its position, so it moves on in memory', async () => {
      const notifier = await started(() => 'store-2', 8);
      try {
        let woken: boolean | undefined;
        void notifier.waitBeyond(0, 60_000, undefined, ['store-1']).then((result) => (woken = result));
        await commit(notifier, 5);
        expect(woken).toBeUndefined();
        // Position 0 drops out once more than 8 changes are held: at 7 it is within a quarter of that.
        await commit(notifier, 7);
        await new Promise((resolve) => setImmediate(resolve));
        expect(woken).toBe(true);
        expect(notifier.tail.covers(0)).toBe(true);
      } finally {
        notifier.beforeApplicationShutdown();
        await notifier.onApplicationShutdown();
      }
    });

    it('wakes, in a large tail too, a scoped waiter of a quiet store before its position drops out, though only changed stores are checked on each commit', async () => {
      // 80 changes held: every waiter is checked each time the tail moves on by 10, and position
      // 0 comes within a quarter of dropping out once the tail holds more than 60 changes.
      const notifier = await started(() => 'store-2', 80);
      try {
        let wokenAt: number | undefined;
        let coveredWhenWoken: boolean | undefined;
        void notifier.waitBeyond(0, 60_000, undefined, ['store-1']).then(() => {
          wokenAt = notifier.tail.to;
          coveredWhenWoken = notifier.tail.covers(0);
        });
        for (let seq = 1; seq <= 100 && wokenAt === undefined; seq += 1) {
          await commit(notifier, seq);
          await new Promise((resolve) => setImmediate(resolve));
        }
        expect(wokenAt).toBeGreaterThan(60);
        expect(wokenAt).toBeLessThanOrEqual(80);
        expect(coveredWhenWoken).toBe(true);
      } finally {
        notifier.beforeApplicationShutdown();
        await notifier.onApplicationShutdown();
      }
    });

    it('wakes every waiter of a store that changed, and each waiter of several stores once', async () => {
      const notifier = await started((seq) => `store-${seq}`, 1000);
      try {
        const woken: string[] = [];
        const wait = (name: string, scope: string[]) => void notifier.waitBeyond(0, 60_000, undefined, scope).then((result) => result && woken.push(name));
        wait('a1', ['store-1']);
        wait('a2', ['store-1']);
        wait('b', ['store-2']);
        wait('ab', ['store-1', 'store-2']);
        wait('c', ['store-3']);
        await commit(notifier, 1);
        await new Promise((resolve) => setImmediate(resolve));
        expect(woken.sort()).toEqual(['a1', 'a2', 'ab']);
        await commit(notifier, 2);
        await new Promise((resolve) => setImmediate(resolve));
        expect(woken.sort()).toEqual(['a1', 'a2', 'ab', 'b']);
      } finally {
        notifier.beforeApplicationShutdown();
        await notifier.onApplicationShutdown();
      }
    });
  });
});
