import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig, type StoreScope } from '../config/app-config';
import { ClusterLink } from '../cluster/cluster-link';
import { Metrics } from '../metrics/metrics';
import { ChangeTail } from './change-tail';
import { ChangesRepository } from './persistence/changes.repository';
import { PostgresChangeListener } from './persistence/postgres-change-listener';

/** Changes read into the tail per round trip while it catches up with a large commit. */
const TAIL_READ = 2000;

/** A long poll or stream waiting for a change. */
interface Waiter {
  readonly scope: StoreScope;
  /**
   * Called after every read into the tail with the stores of the changes read (undefined when
   * unknown): ends the wait if the tail went past the waiter's seq with a change it may want.
   */
  check(stores: ReadonlySet<string> | undefined): void;
  /** Ends the wait unwoken. */
  abandon(): void;
}

/**
 * Knows the last committed seq and the pruned floor, reads each newly committed range of the
 * ledger once into the tail, and wakes whoever waits for it: every long poll and stream of this
 * instance. So a commit costs the feed one read, however many subscribers are open.
 *
 * This process's commits are published directly, and relayed by the primary to the other workers
 * of a cluster; other instances' commits arrive through
 * PostgreSQL NOTIFY (FEED_NOTIFY=on), and a read of the head every FEED_POLL_INTERVAL_MS finds
 * those NOTIFY missed, or all of them when it is off. So the feed of an instance shows another
 * instance's commit within milliseconds, or within the poll interval without NOTIFY.
 */
@Injectable()
export class ChangeNotifier implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  /** The last seq known to be committed. */
  private latest = 0;
  /** Ledger rows with seq <= floor were pruned. */
  private knownFloor = 0;
  private tailStore: ChangeTail | undefined;
  private filling: Promise<void> | undefined;
  /** Every waiter; and the same by what wakes them: a change of one of their stores, or any. */
  private readonly waiters = new Set<Waiter>();
  private readonly waitersByStore = new Map<string, Set<Waiter>>();
  private readonly unscopedWaiters = new Set<Waiter>();
  /** The tail's `to` when every waiter was last checked. */
  private checkedAllAt = 0;
  private readonly shutdown = new AbortController();
  private listener: PostgresChangeListener | undefined;
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: ChangesRepository,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @InjectPinoLogger(ChangeNotifier.name) private readonly logger: PinoLogger,
    private readonly cluster: ClusterLink,
  ) {
    // One listener for every waiter: an EventTarget keeps its listeners in a list that each
    // addition walks, so a listener per wait would cost every commit O(subscribers²).
    this.shutdown.signal.addEventListener('abort', () => [...this.waiters].forEach((waiter) => waiter.abandon()), { once: true });
  }

  /** Aborted when shutdown begins: long polls answer at once and streams end. */
  get shutdownSignal(): AbortSignal {
    return this.shutdown.signal;
  }

  /** The recent changes of every store, served from memory. */
  get tail(): ChangeTail {
    if (this.tailStore === undefined) {
      throw new Error('the change feed is not started');
    }
    return this.tailStore;
  }

  /** The last seq known committed: a lower bound of the database's head. */
  get head(): number {
    return this.latest;
  }

  /** The pruned floor as last seen: positions below it are gone. */
  get floor(): number {
    return this.knownFloor;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.latest = await this.repository.head();
    this.knownFloor = await this.repository.floor();
    this.tailStore = new ChangeTail(this.config.feedTailChanges, this.latest);
    if (this.config.databaseUrl !== undefined && this.config.feedNotify) {
      this.listener = new PostgresChangeListener(
        this.config.databaseUrl,
        (seq) => this.published(seq),
        (error) => this.logger.warn({ err: error }, 'change listener lost its connection; reconnecting'),
      );
      await this.listener.start();
    }
    // Another worker's commits on the same database (SQLite included), relayed by the primary.
    this.cluster.onCommittedElsewhere((seq) => this.published(seq));
    this.poller = setInterval(() => void this.poll(), this.config.feedPollIntervalMs);
    this.poller.unref();
  }

  beforeApplicationShutdown(): void {
    this.shutdown.abort();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.poller);
    await this.listener?.stop();
    await this.filling;
  }

  /** Called with the last seq of each commit this process makes; the other workers of a cluster hear of it too. */
  committed(seq: number): void {
    this.published(seq);
    this.cluster.committed(seq);
  }

  /** Called with the last seq of every commit seen (this process's, another worker's, NOTIFY's, the head's). */
  published(seq: number): void {
    this.latest = Math.max(this.latest, seq);
    if (this.tailStore !== undefined && this.tailStore.to < this.latest) {
      this.filling ??= this.fill().finally(() => (this.filling = undefined));
    }
  }

  /** Called with every floor seen: by the pruner, and by reads of the database. */
  pruned(floor: number): void {
    if (floor > this.knownFloor) {
      this.knownFloor = floor;
      this.tailStore?.dropThrough(floor);
    }
  }

  /**
   * Resolves true as soon as the tail holds a change beyond `seq` in `scope` (or may: a range
   * whose stores are unknown wakes everyone), false after `timeoutMs`, when `signal` aborts, or
   * when shutdown begins. A waiter whose position is about to drop out of the tail is woken too,
   * so that it moves on in memory rather than read the database later.
   */
  waitBeyond(seq: number, timeoutMs: number, signal?: AbortSignal, scope: StoreScope = '*'): Promise<boolean> {
    if (this.tail.to > seq) {
      return Promise.resolve(true);
    }
    if (this.shutdown.signal.aborted || signal?.aborted === true || timeoutMs <= 0) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve) => {
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        this.forget(waiter);
        signal?.removeEventListener('abort', abandon);
        resolve(woken);
      };
      const abandon = () => finish(false);
      const waiter: Waiter = {
        scope,
        check: (stores) => {
          if (this.tail.to > seq && (scope === '*' || stores === undefined || scope.some((store) => stores.has(store)) || this.tail.isDroppingSoon(seq))) {
            finish(true);
          }
        },
        abandon,
      };
      const timer = setTimeout(abandon, timeoutMs);
      this.enrol(waiter);
      signal?.addEventListener('abort', abandon, { once: true });
    });
  }

  private enrol(waiter: Waiter): void {
    this.waiters.add(waiter);
    if (waiter.scope === '*') {
      this.unscopedWaiters.add(waiter);
      return;
    }
    for (const store of waiter.scope) {
      let own = this.waitersByStore.get(store);
      if (own === undefined) {
        own = new Set();
        this.waitersByStore.set(store, own);
      }
      own.add(waiter);
    }
  }

  private forget(waiter: Waiter): void {
    if (!this.waiters.delete(waiter)) {
      return;
    }
    if (waiter.scope === '*') {
      this.unscopedWaiters.delete(waiter);
      return;
    }
    for (const store of waiter.scope) {
      const own = this.waitersByStore.get(store);
      if (own?.delete(waiter) === true && own.size === 0) {
        this.waitersByStore.delete(store);
      }
    }
  }

  /**
   * After a read into the tail: checks the waiters its changes may concern, the unscoped ones and
   * those of the stores that changed. Checking all of them after every commit cost thousands of
   * calls a commit with a chain's streams open. Every waiter is checked when the stores are
   * unknown, and whenever the tail has moved on by an eighth of its capacity since they all last
   * were: a waiter whose position comes within a quarter of dropping out (isDroppingSoon) is then
   * woken with at least an eighth still to go.
   */
  private wake(stores: ReadonlySet<string> | undefined): void {
    const tail = this.tail;
    let candidates: Waiter[];
    if (stores === undefined || tail.to - this.checkedAllAt >= this.config.feedTailChanges / 8) {
      this.checkedAllAt = tail.to;
      candidates = [...this.waiters];
    } else {
      candidates = [...this.unscopedWaiters];
      for (const store of stores) {
        const own = this.waitersByStore.get(store);
        if (own !== undefined) {
          candidates.push(...own);
        }
      }
    }
    // A waiter of several stores may be listed more than once: a second check finds it finished.
    for (const waiter of candidates) {
      waiter.check(stores);
    }
  }

  /** Reads what was committed after the tail into it, once for everyone, and wakes the waiters. */
  private async fill(): Promise<void> {
    const tail = this.tail;
    while (tail.to < this.latest) {
      const upTo = this.config.feedTailChanges === 0 ? this.latest : Math.min(this.latest, tail.to + TAIL_READ);
      const from = tail.to;
      let stores: ReadonlySet<string> | undefined;
      try {
        // Without a tail, every subscriber reads for itself: there is nothing to read here.
        const changes = this.config.feedTailChanges === 0 ? [] : await this.repository.range(from, upTo, TAIL_READ);
        if (this.config.feedTailChanges > 0) {
          this.metrics.feedReads.inc({ read: 'tail' });
          // A complete range says which stores changed; one with pruned gaps, or none, does not.
          stores = changes.length === upTo - from ? new Set(changes.map((change) => change.storeId)) : undefined;
        }
        tail.append(changes, upTo);
      } catch (error) {
        // The waiters time out meanwhile; the next commit or poll tries again.
        this.logger.warn({ err: error }, 'reading new changes into the feed failed');
        return;
      }
      this.wake(stores);
    }
  }

  private async poll(): Promise<void> {
    try {
      this.metrics.feedReads.inc({ read: 'head' });
      this.published(await this.repository.head());
    } catch {
      // The database is unreachable: the next tick tries again; waiters time out meanwhile.
    }
  }
}
