import { once } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import type { Client } from '../common/auth/client';
import { assertStoreAccess } from '../common/auth/current-client.decorator';
import { ApiError } from '../common/errors/api-error';
import type { StoreScope } from '../config/app-config';
import { problemOf } from '../common/errors/problem-details';
import { Metrics } from '../metrics/metrics';
import { ChangeNotifier } from './change-notifier';
import { ChangeResponseDto } from './dto/change.dto';
import type { LedgerChange } from './ledger-change';
import { ChangesRepository } from './persistence/changes.repository';
import { scopeKey, StreamBeats } from './stream-beats';

/** Changes read per round trip by a stream; also the most a slow reader can have pending. */
const STREAM_PAGE = 500;
/**
 * How long a read waits, even when asked not to, for changes known committed to reach the tail
 * (a read of milliseconds): a client that reads the feed right after its own change sees it.
 */
const TAIL_CATCH_UP_MS = 2000;

export interface FeedPage {
  readonly changes: LedgerChange[];
  readonly lastSeq: number;
}

/** A run of changes after a position, and the seq through which the feed was scanned for it. */
interface Scanned {
  readonly changes: LedgerChange[];
  readonly scannedTo: number;
}

/**
 * The change feed: what changed after a seq, now or as soon as it commits. Subscribers whose
 * position the notifier's tail covers are served from memory; one that is behind it reads the
 * database for itself until it catches up.
 */
@Injectable()
export class ChangesService {
  /** Long polls and streams open now. */
  private open = 0;
  /** SSE events (bytes) of the changes in the tail, dropped with them. */
  private readonly rendered = new WeakMap<LedgerChange, Buffer>();
  /** The last page of events built for each scope while the tail is at `pagesAt` (see pageOf). */
  private readonly pages = new Map<string, { readonly first: number; readonly count: number; readonly bytes: Buffer }>();
  private pagesAt = -1;
  private readonly beats: StreamBeats;

  constructor(
    private readonly repository: ChangesRepository,
    private readonly notifier: ChangeNotifier,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    @InjectPinoLogger(ChangesService.name) private readonly logger: PinoLogger,
  ) {
    metrics.observeFeedSubscribers(() => this.open);
    this.beats = new StreamBeats(config.streamLingerMs, notifier.shutdownSignal);
  }

  /**
   * Changes after `after` that the client may see, oldest first. When there are none yet,
   * waits up to `waitMs` for one to commit (on any instance).
   */
  async changesAfter(client: Client, storeId: string | undefined, after: number, limit: number, waitMs: number, signal?: AbortSignal): Promise<FeedPage> {
    const scope = scopeOf(client, storeId);
    await this.assertPositionWithinFeed(after);
    const deadline = Date.now() + waitMs;
    this.open += 1;
    try {
      // Everything this instance knows committed is read into the tail first (milliseconds), so
      // a page and its lastSeq cover every change committed before the request, the client's own.
      const known = this.notifier.head;
      if (this.notifier.tail.to < known) {
        await this.notifier.waitBeyond(known - 1, TAIL_CATCH_UP_MS, signal);
      }
      let position = after;
      let waited = false;
      for (;;) {
        const { changes, scannedTo } = await this.next(position, scope, limit);
        if (changes.length > 0 || waited) {
          this.observeDelivery(changes);
          return { changes, lastSeq: changes.length > 0 ? scannedTo : Math.max(position, scannedTo) };
        }
        position = scannedTo;
        const pending = position < this.notifier.head;
        // After a wait that found nothing in scope, one more scan gives the position it reached.
        waited = !(await this.notifier.waitBeyond(position, Math.max(deadline - Date.now(), pending ? TAIL_CATCH_UP_MS : 0), signal, scope));
      }
    } finally {
      this.open -= 1;
    }
  }

  /**
   * Writes the feed to `response` as Server-Sent Events until the client leaves or the service
   * shuts down. Writes a page only once the previous one is flushed, so a slow reader holds at
   * most one page in memory.
   */
  async stream(client: Client, storeId: string | undefined, after: number, response: Response): Promise<void> {
    const scope = scopeOf(client, storeId);
    // Before the headers go out, so a refused position is a plain 409 or 410 answer, not an event.
    await this.assertPositionWithinFeed(after);
    const left = new AbortController();
    response.on('close', () => left.abort());
    const stop = AbortSignal.any([left.signal, this.notifier.shutdownSignal]);
    response.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    response.flushHeaders();
    if (response.req.method === 'HEAD') {
      // The headers a GET would start with, and no stream.
      response.end();
      return;
    }
    this.open += 1;
    let position = after;
    let wroteAt = Date.now();
    try {
      await this.write(response, 'retry: 2000\n\n', stop);
      while (!stop.aborted) {
        const { changes, scannedTo } = await this.next(position, scope, STREAM_PAGE);
        if (changes.length > 0) {
          this.observeDelivery(changes);
          await this.write(response, this.pageOf(scope, changes), stop);
          wroteAt = Date.now();
        }
        position = scannedTo;
        if (changes.length === STREAM_PAGE) {
          continue;
        }
        if (changes.length > 0 && this.config.streamLingerMs > 0) {
          // Like Nagle's algorithm or a producer's linger: a stream that just wrote lets the
          // changes of the next moment gather into its next write, made at its scope's next beat
          // (stream-beats.ts). Each write costs a system call and a TCP segment per subscriber,
          // which with thousands of streams is most of what the feed costs; a quiet stream still
          // gets its next change at once.
          await this.beats.next(scope, Date.now());
          continue;
        }
        if (Date.now() - wroteAt >= this.config.streamHeartbeatMs) {
          // Nothing sent for a while, perhaps because nothing committed was in scope: the `id`
          // moves the client's Last-Event-ID past what was scanned, so that a reconnection does
          // not start from a position the ledger may since have pruned.
          await this.write(response, `: heartbeat\nid: ${position}\n\n`, stop);
          wroteAt = Date.now();
        }
        await this.notifier.waitBeyond(position, wroteAt + this.config.streamHeartbeatMs - Date.now(), stop, scope);
      }
    } catch (error) {
      if (error instanceof ApiError && error.code === 'FEED_POSITION_EXPIRED') {
        // A reader that fell behind the retention while streaming: it must start again from a snapshot.
        const problem = problemOf(error.code, error.detail, error.options.extensions);
        await this.write(response, `event: expired\ndata: ${JSON.stringify(problem)}\n\n`, stop);
      } else if (!stop.aborted) {
        // Headers are sent: the stream just ends, and the client resumes with Last-Event-ID.
        this.logger.warn({ err: error }, 'change stream ended by an error');
      }
    } finally {
      this.open -= 1;
      response.end();
    }
  }

  /** Replica lag: the oldest change of a page handed to a subscriber, commit to now. */
  private observeDelivery(changes: readonly LedgerChange[]): void {
    if (changes.length > 0) {
      this.metrics.feedDeliveryLag.observe(Math.max(0, this.clock.now().getTime() - changes[0].createdAt.getTime()) / 1000);
    }
  }

  /**
   * A change as an SSE event, rendered and encoded once however many streams send it (the tail
   * shares its changes): a page is then a copy of bytes; joining the text and encoding it again
   * for every stream was, after the socket writes, the largest cost of delivering changes.
   */
  private eventOf(change: LedgerChange): Buffer {
    let event = this.rendered.get(change);
    if (event === undefined) {
      event = Buffer.from(`id: ${change.seq}\nevent: change\ndata: ${JSON.stringify(ChangeResponseDto.of(change))}\n\n`, 'utf8');
      this.rendered.set(change, event);
    }
    return event;
  }

  /**
   * A page of changes as SSE bytes. The streams of a scope (a store's tills and displays, or the
   * central systems following every store) are woken by the same commits and the same beats, so
   * they read the same pages: a page is built once per scope instead of once per stream. Within
   * a scope, a page is every change of the scope from its first through its last, so its first
   * seq and its length say which it is; the pages are kept only while the tail stays where it is.
   */
  private pageOf(scope: StoreScope, changes: readonly LedgerChange[]): Buffer {
    if (changes.length === 1) {
      return this.eventOf(changes[0]);
    }
    const key = scopeKey(scope);
    if (key === undefined) {
      return Buffer.concat(changes.map((change) => this.eventOf(change)));
    }
    if (this.pagesAt !== this.notifier.tail.to) {
      this.pages.clear();
      this.pagesAt = this.notifier.tail.to;
    }
    const kept = this.pages.get(key);
    if (kept !== undefined && kept.first === changes[0].seq && kept.count === changes.length) {
      return kept.bytes;
    }
    const bytes = Buffer.concat(changes.map((change) => this.eventOf(change)));
    this.pages.set(key, { first: changes[0].seq, count: changes.length, bytes });
    return bytes;
  }

  /**
   * The next changes after `position` in `scope`: from the tail when it covers the position,
   * otherwise (a subscriber behind it) from the database.
   */
  private async next(position: number, scope: StoreScope, limit: number): Promise<Scanned> {
    const tail = this.notifier.tail;
    if (tail.covers(position)) {
      return tail.read(position, scope, limit);
    }
    if (position > tail.to) {
      // Committed, but not read into the tail yet: it is on its way.
      return { changes: [], scannedTo: position };
    }
    this.metrics.feedReads.inc({ read: 'catch_up' });
    const page = await this.repository.changesAfter(position, scope, limit);
    this.notifier.published(page.head);
    this.notifier.pruned(page.floor);
    if (position < page.floor) {
      throw positionExpired(position, page.floor);
    }
    // A full page may stop short of the head; otherwise everything up to the head was scanned.
    return { changes: page.changes, scannedTo: page.changes.length === limit ? page.changes[page.changes.length - 1].seq : page.head };
  }

  /**
   * Refuses a position older than what the ledger keeps (410), and one beyond the feed's head
   * (409). The head never goes back, so a position beyond it was handed out by another database
   * (one restored from a backup, or replaced by a new one), and following the feed from it would
   * silently skip every change up to it. The head this instance knows is a lower bound of the
   * database's: only a position beyond it needs a read of the database to decide.
   */
  private async assertPositionWithinFeed(after: number): Promise<void> {
    if (after < this.notifier.floor) {
      throw positionExpired(after, this.notifier.floor);
    }
    if (after <= this.notifier.head) {
      return;
    }
    this.metrics.feedReads.inc({ read: 'head' });
    const head = await this.repository.head();
    this.notifier.published(head);
    if (after > head) {
      throw new ApiError(
        'FEED_POSITION_AHEAD',
        `position ${after} is beyond the last change of this feed (${head}): the feed was restarted or restored. ` +
          'Take a fresh snapshot (GET /v1/stores/{storeId}/inventory) and follow the feed from the lastSeq of its first page',
        { extensions: { lastSeq: head } },
      );
    }
  }

  /** Writes, then waits for the socket to drain if its buffer is full. */
  private async write(response: Response, chunk: string | Buffer, stop: AbortSignal): Promise<void> {
    if (stop.aborted) {
      return;
    }
    if (!response.write(chunk)) {
      await once(response, 'drain', { signal: stop }).catch(() => undefined);
    }
  }
}

function positionExpired(after: number, floor: number): ApiError {
  // 0 is also the position of a subscriber that sent none: say so, rather than name a 0 it never sent.
  const position = after === 0 ? 'the start of the feed (position 0, where a subscriber with no `after` or Last-Event-ID begins)' : `position ${after}`;
  return new ApiError(
    'FEED_POSITION_EXPIRED',
    `${position} is older than what the ledger keeps: changes through ${floor} were pruned. ` +
      'Take a fresh snapshot (GET /v1/stores/{storeId}/inventory) and follow the feed from the lastSeq of its first page',
    { extensions: { prunedThroughSeq: floor } },
  );
}

/** The stores a feed covers: one store (if the key may see it) or all the key may see. */
function scopeOf(client: Client, storeId: string | undefined): StoreScope {
  if (storeId === undefined) {
    return client.stores;
  }
  assertStoreAccess(client, storeId);
  return [storeId];
}
