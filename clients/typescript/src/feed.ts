import { InventoryHttpError, InventoryNetworkError, isConnectionFailure } from './errors';
import { checkDuration, retryDelay, type RetryOptions, sleep } from './retry';
import { SseParser } from './sse';
import type { Change, ChangesPage, StoreSnapshot } from './types';

/** Codes with which the feed refuses a position: following on from it would skip changes. */
export type FeedRefusalCode = 'FEED_POSITION_AHEAD' | 'FEED_POSITION_EXPIRED';

/**
 * What a ChangeFeed yields.
 *
 * `changes`: apply `changes` in order (each carries the level's whole state after it, so one
 * whose `version` the copy already has is skipped), then save `lastSeq`: it is where to resume
 * from. It may be beyond the last change listed (changes the key may not see, or a heartbeat), and
 * `changes` may then be empty.
 *
 * When the feed refuses the position (409 FEED_POSITION_AHEAD: the service runs on a new or
 * restored database; 410 FEED_POSITION_EXPIRED: the position is older than the ledger keeps), the
 * copy cannot be brought up to date from the feed: it must be rebuilt from a fresh snapshot.
 *
 * `snapshot` (a feed of one store): the feed took that snapshot itself. Replace the whole copy with
 * `levels`, then save `lastSeq`; the feed goes on after it. `code` and `error` say why, `position`
 * is the refused one.
 *
 * `resnapshot` (a feed of every store the key may see, which no one read covers): take fresh
 * snapshots of the stores (client.snapshot) and follow a new feed from the smallest of their
 * `lastSeq`. The feed ends after this event.
 */
export type FeedEvent =
  | { readonly type: 'changes'; readonly changes: Change[]; readonly lastSeq: number }
  | ({ readonly type: 'snapshot'; readonly position: number } & FeedRefusal & StoreSnapshot)
  | ({ readonly type: 'resnapshot'; readonly position: number } & FeedRefusal);

/** Why the feed refused a position. */
export interface FeedRefusal {
  readonly code: FeedRefusalCode;
  readonly error: InventoryHttpError;
}

export interface FeedOptions {
  /** Follow the feed from after this seq: a snapshot's first-page `lastSeq`, or a saved position. */
  readonly after: number;
  /** Only this store's changes (default: every store the key may see). */
  readonly storeId?: string;
  /** `long-poll` (default): GET /v1/changes; `sse`: the Server-Sent Events stream. */
  readonly transport?: 'long-poll' | 'sse';
  /** Long poll: how long each request waits for a change, 1-30 s (default 25). */
  readonly waitSeconds?: number;
  /** Long poll: most changes per answer, 1-1000 (default 1000). */
  readonly limit?: number;
  /**
   * Stream: a stream that receives nothing for this long (the service sends a heartbeat every
   * STREAM_HEARTBEAT_MS, 15 s by default) is taken for dead and opened again (default 45 s).
   */
  readonly idleTimeoutMs?: number;
  /** Aborting it ends the iteration (quietly: the loop just finishes). */
  readonly signal?: AbortSignal;
  /** Retries of each request of the feed (the client's options by default). */
  readonly retry?: Partial<RetryOptions>;
}

/** How the feed reaches the service: the client's retried calls. */
export interface FeedSource {
  readonly retryOptions: (override?: Partial<RetryOptions>) => RetryOptions;
  getChanges(
    query: { after: number; storeId?: string; limit: number; waitSeconds: number },
    options: { signal?: AbortSignal; retry?: Partial<RetryOptions> },
  ): Promise<ChangesPage>;
  openChangeStream(query: { after: number; storeId?: string }, options: { signal?: AbortSignal; retry?: Partial<RetryOptions> }): Promise<ReadableStream<Uint8Array>>;
  snapshot(storeId: string, options: { signal?: AbortSignal; retry?: Partial<RetryOptions> }): Promise<StoreSnapshot>;
}

const REFUSAL_CODES: ReadonlySet<string> = new Set<FeedRefusalCode>(['FEED_POSITION_AHEAD', 'FEED_POSITION_EXPIRED']);

/**
 * The change feed as an async iterator that resumes by itself: each request starts after the
 * position the consumer has reached, failures are retried by the client's policy (the whole
 * iteration fails only when a request exhausts it), and a refused position brings a fresh
 * snapshot of the store (or, for a feed of every store, ends the iteration with `resnapshot`). `position` is the `lastSeq` of the events the consumer is done with:
 * it moves when the next one is asked for, so an event being handled when the consumer stops (or
 * fails) is not counted as taken.
 */
export class ChangeFeed implements AsyncIterable<FeedEvent> {
  position: number;

  constructor(
    private readonly source: FeedSource,
    private readonly options: FeedOptions,
  ) {
    const { after, waitSeconds = 25, limit = 1000, transport = 'long-poll', idleTimeoutMs = 45_000 } = options;
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new RangeError(`after must be a seq (an integer >= 0), not ${after}`);
    }
    // 0 would make every empty answer come back at once: a busy loop.
    if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 30) {
      throw new RangeError(`waitSeconds must be an integer from 1 to 30, not ${waitSeconds}`);
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new RangeError(`limit must be an integer from 1 to 1000, not ${limit}`);
    }
    if (transport !== 'long-poll' && transport !== 'sse') {
      throw new RangeError(`transport must be 'long-poll' or 'sse', not ${JSON.stringify(transport)}`);
    }
    checkDuration('idleTimeoutMs', idleTimeoutMs, 1);
    this.position = after;
  }

  private stopped(): boolean {
    return this.options.signal?.aborted === true;
  }

  /**
   * What a request of the feed that failed (its retries exhausted) comes to. Yields the events it
   * makes and returns whether the feed goes on. A stopped feed ends quietly. A refused position of
   * a store's feed: the store's snapshot, and the feed goes on after it. A refused position of a
   * feed of every store: `resnapshot`, and the feed ends. Any other failure is thrown.
   */
  private async *failed(error: unknown): AsyncGenerator<FeedEvent, boolean, undefined> {
    if (this.stopped()) {
      return false;
    }
    const refusal = refusalOf(error);
    if (refusal === undefined) {
      throw error;
    }
    const { storeId, signal, retry } = this.options;
    if (storeId === undefined) {
      yield { type: 'resnapshot', ...refusal, position: this.position };
      return false;
    }
    let snapshot: StoreSnapshot;
    try {
      snapshot = await this.source.snapshot(storeId, { signal, retry });
    } catch (failure) {
      if (this.stopped()) {
        return false;
      }
      throw failure;
    }
    yield { type: 'snapshot', ...refusal, position: this.position, ...snapshot };
    this.position = snapshot.lastSeq;
    return true;
  }

  [Symbol.asyncIterator](): AsyncIterator<FeedEvent> {
    return (this.options.transport === 'sse' ? this.stream() : this.poll())[Symbol.asyncIterator]();
  }

  private async *poll(): AsyncGenerator<FeedEvent, void, undefined> {
    const { signal, storeId, retry, waitSeconds = 25, limit = 1000 } = this.options;
    while (!this.stopped()) {
      let page: ChangesPage;
      try {
        page = await this.source.getChanges({ after: this.position, storeId, limit, waitSeconds }, { signal, retry });
      } catch (error) {
        if (yield* this.failed(error)) {
          continue;
        }
        return;
      }
      if (page.changes.length > 0 || page.lastSeq !== this.position) {
        yield { type: 'changes', changes: page.changes, lastSeq: page.lastSeq };
        // Only once the consumer asks for more: it has taken (applied) this page.
        this.position = page.lastSeq;
      }
    }
  }

  private async *stream(): AsyncGenerator<FeedEvent, void, undefined> {
    const { signal, storeId, retry, idleTimeoutMs = 45_000 } = this.options;
    const policy = this.source.retryOptions(retry);
    /** Streams in a row that ended before delivering anything. */
    let fruitless = 0;
    while (!this.stopped()) {
      let body: ReadableStream<Uint8Array>;
      try {
        body = await this.source.openChangeStream({ after: this.position, storeId }, { signal, retry });
      } catch (error) {
        if (yield* this.failed(error)) {
          fruitless = 0;
          continue;
        }
        return;
      }
      const reader = body.getReader();
      const parser = new SseParser();
      const decoder = new TextDecoder();
      let delivered = false;
      let lastFailure: unknown;
      /** An `expired` event: the stream fell behind the ledger's retention while running. */
      let expired: InventoryHttpError | undefined;
      try {
        for (;;) {
          const read = await readWithin(reader, idleTimeoutMs, signal);
          if (read === 'idle') {
            lastFailure = new Error(`nothing received for ${idleTimeoutMs} ms`);
            break;
          }
          if (read.done) {
            // The service ended the stream (it is shutting down, say): open it again from here.
            break;
          }
          const events = eventsOf(parser.push(decoder.decode(read.value, { stream: true })), this.position);
          if (events.changes.length > 0 || events.lastSeq !== this.position) {
            delivered = true;
            yield { type: 'changes', changes: events.changes, lastSeq: events.lastSeq };
            this.position = events.lastSeq;
          }
          if (events.expired !== undefined) {
            expired = new InventoryHttpError({ operation: 'changes', status: 410, body: { code: 'FEED_POSITION_EXPIRED', ...events.expired }, requestId: undefined, retryAfterMs: undefined, replayed: false });
            break;
          }
        }
      } catch (error) {
        if (this.stopped()) {
          return;
        }
        if (!isConnectionFailure(error)) {
          throw error;
        }
        lastFailure = error;
      } finally {
        reader.cancel().catch(() => undefined);
      }
      if (expired !== undefined) {
        if (yield* this.failed(expired)) {
          fruitless = 0;
          continue;
        }
        return;
      }
      fruitless = delivered ? 0 : fruitless + 1;
      if (fruitless >= policy.maxAttempts) {
        throw Object.assign(new InventoryNetworkError('changes', false, lastFailure), { attempts: fruitless });
      }
      try {
        await sleep(retryDelay(Math.max(1, fruitless), policy, undefined), signal);
      } catch {
        return;
      }
    }
  }
}

function refusalOf(error: unknown): { code: FeedRefusalCode; error: InventoryHttpError } | undefined {
  if (error instanceof InventoryHttpError && error.code !== undefined && REFUSAL_CODES.has(error.code)) {
    return { code: error.code as FeedRefusalCode, error };
  }
  return undefined;
}

/** The changes of a chunk's events, the position they (and heartbeats) move to, and an `expired` event's problem. */
function eventsOf(messages: ReturnType<SseParser['push']>, from: number): { changes: Change[]; lastSeq: number; expired?: object } {
  const changes: Change[] = [];
  let lastSeq = from;
  for (const message of messages) {
    if (message.event === 'expired') {
      return { changes, lastSeq, expired: message.data === undefined ? {} : (JSON.parse(message.data) as object) };
    }
    if (message.event === 'change' && message.data !== undefined) {
      changes.push(JSON.parse(message.data) as Change);
    }
    if (message.id !== undefined && /^\d{1,16}$/.test(message.id)) {
      lastSeq = Number(message.id);
    }
  }
  return { changes, lastSeq };
}

/** The next chunk, or 'idle' when none came within `ms`; rejects with the signal's reason on abort. */
function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number, signal: AbortSignal | undefined): Promise<Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>> | 'idle'> {
  return new Promise((resolve, reject) => {
    // Aborted while the consumer handled the last event: an abort listener added now never fires.
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      done();
      resolve('idle');
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    reader.read().then(
      (result) => {
        done();
        resolve(result);
      },
      (error: Error) => {
        done();
        reject(error);
      },
    );
  });
}
