import { concatMap, Subject, type Subscription } from 'rxjs';

export type Settled<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

export class QueueFullError extends Error {
  constructor(readonly waitedMs: number) {
    super(`update queue full for ${waitedMs} ms`);
  }
}

export class QueueClosedError extends Error {
  constructor() {
    super('update queue closed');
  }
}

export class ProcessingTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`update not processed within ${timeoutMs} ms`);
  }
}

export interface QueueLimits {
  /** Most jobs waiting to be processed; as many more submissions may wait for room. */
  readonly capacity: number;
  /** How long a submission may wait for room before it fails. */
  readonly submitTimeoutMs: number;
  /** How long a submitter waits for its job's outcome (the job itself still runs). */
  readonly processingTimeoutMs: number;
  /** Most total weight handed to one `process` call. */
  readonly maxGroupWeight: number;
}

interface Pending<T, R> {
  readonly job: T;
  readonly enqueuedAt: number;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

interface RoomWaiter {
  readonly admit: () => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * A bounded FIFO in front of a sequential processor. Arrivals are signalled through an RxJS
 * Subject drained with concatMap, so processing is strictly one group at a time in arrival
 * order. Each drain takes every job waiting at that moment (group commit): under load many jobs
 * share one transaction, while a lone job is processed on the next turn of the event loop.
 */
export class GroupCommitQueue<T, R> {
  private readonly arrivals = new Subject<void>();
  private readonly subscription: Subscription;
  private waiting: Array<Pending<T, R>> = [];
  private readonly roomWaiters: RoomWaiter[] = [];
  private inFlight = 0;
  private arrivalSignalled = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly process: (jobs: readonly T[]) => Promise<ReadonlyArray<Settled<R>>>,
    private readonly limits: QueueLimits,
    private readonly weigh: (job: T) => number = () => 1,
    /** Told how long each job of a group waited, in ms, as the group starts. */
    private readonly onGroupStart: (waitsMs: readonly number[]) => void = () => undefined,
  ) {
    this.subscription = this.arrivals.pipe(concatMap(() => this.drainWaiting())).subscribe();
  }

  /** Jobs waiting for their turn (not counting the group being processed). */
  get depth(): number {
    return this.waiting.length;
  }

  /** Submissions blocked because the queue is full. */
  get blockedSubmitters(): number {
    return this.roomWaiters.length;
  }

  get capacity(): number {
    return this.limits.capacity;
  }

  submit(job: T): Promise<R> {
    if (this.closed) {
      return Promise.reject(new QueueClosedError());
    }
    if (this.waiting.length >= this.limits.capacity || this.roomWaiters.length > 0) {
      // Under a flood, holding every excess request for the submit timeout would pile them up
      // in memory; beyond one queue's worth of waiters the answer is an immediate no.
      if (this.roomWaiters.length >= this.limits.capacity) {
        return Promise.reject(new QueueFullError(0));
      }
      return this.waitForRoom(job);
    }
    return this.enqueue(job);
  }

  /** Refuses new submissions and resolves once everything accepted has been processed. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.roomWaiters.length > 0) {
      // Submissions still waiting for room were accepted before the close: let them in.
      const waiter = this.roomWaiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.admit();
    }
    if (this.waiting.length > 0 || this.inFlight > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    this.subscription.unsubscribe();
  }

  /** Waits in line for room; admission enqueues synchronously, so room is never over-granted. */
  private waitForRoom(job: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const started = Date.now();
      const timer = setTimeout(() => {
        const index = this.roomWaiters.indexOf(waiter);
        if (index >= 0) {
          this.roomWaiters.splice(index, 1);
        }
        reject(new QueueFullError(Date.now() - started));
      }, this.limits.submitTimeoutMs);
      const waiter: RoomWaiter = {
        admit: () => {
          this.enqueue(job).then(resolve, reject);
        },
        timer,
      };
      this.roomWaiters.push(waiter);
    });
  }

  private enqueue(job: T): Promise<R> {
    const outcome = new Promise<R>((resolve, reject) => {
      this.waiting.push({ job, enqueuedAt: performance.now(), resolve, reject });
    });
    this.inFlight += 1;
    this.signalArrival();
    return this.withTimeout(outcome);
  }

  private withTimeout(outcome: Promise<R>): Promise<R> {
    const { processingTimeoutMs } = this.limits;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new ProcessingTimeoutError(processingTimeoutMs)), processingTimeoutMs);
    });
    return Promise.race([outcome, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Signals the drain on the next turn of the event loop rather than at once: every request read
   * in this turn joins the group first. (A synchronous database, such as SQLite, never yields to
   * I/O while it commits; without this each request would be committed on its own.)
   */
  private signalArrival(): void {
    if (this.arrivalSignalled) {
      return;
    }
    this.arrivalSignalled = true;
    setImmediate(() => {
      this.arrivalSignalled = false;
      this.arrivals.next();
    });
  }

  private async drainWaiting(): Promise<void> {
    const group = this.takeGroup();
    if (group.length === 0) {
      return;
    }
    const startedAt = performance.now();
    this.onGroupStart(group.map((pending) => startedAt - pending.enqueuedAt));
    this.admitWaiters();
    let settled: ReadonlyArray<Settled<R>>;
    try {
      settled = await this.process(group.map((pending) => pending.job));
    } catch (error) {
      settled = group.map(() => ({ ok: false, error }));
    }
    group.forEach((pending, index) => {
      const result = settled[index];
      if (result === undefined) {
        pending.reject(new Error('processor returned fewer results than jobs'));
      } else if (result.ok) {
        pending.resolve(result.value);
      } else {
        pending.reject(result.error);
      }
    });
    this.inFlight -= group.length;
    if (this.waiting.length > 0) {
      // More arrived than one group may take, or while it ran: they are the next group.
      this.signalArrival();
    }
    if (this.inFlight === 0 && this.waiting.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }

  private takeGroup(): Array<Pending<T, R>> {
    let weight = 0;
    let count = 0;
    while (count < this.waiting.length) {
      const next = this.weigh(this.waiting[count].job);
      if (count > 0 && weight + next > this.limits.maxGroupWeight) {
        break;
      }
      weight += next;
      count += 1;
    }
    return this.waiting.splice(0, count);
  }

  private admitWaiters(): void {
    while (this.roomWaiters.length > 0 && this.waiting.length < this.limits.capacity) {
      const waiter = this.roomWaiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.admit();
    }
  }
}
