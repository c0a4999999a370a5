import { once } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import type { Client } from '../common/auth/client';
import { assertStoreAccess } from '../common/auth/current-client.decorator';
import { ApiError } from '../common/errors/api-error';
import type { StoreScope } from '../config/app-config';
import { ChangeNotifier } from './change-notifier';
import { ChangeResponseDto } from './dto/change.dto';
import type { LedgerChange } from './ledger-change';
import { ChangesRepository } from './persistence/changes.repository';

/** Changes read per round trip by a stream; also the most a slow reader can have pending. */
const STREAM_PAGE = 500;

export interface FeedPage {
  readonly changes: LedgerChange[];
  readonly lastSeq: number;
}

/** The change feed: what changed after a seq, now or as soon as it commits. */
@Injectable()
export class ChangesService {
  constructor(
    private readonly repository: ChangesRepository,
    private readonly notifier: ChangeNotifier,
    private readonly config: AppConfig,
    @InjectPinoLogger(ChangesService.name) private readonly logger: PinoLogger,
  ) {}

  /**
   * Changes after `after` that the client may see, oldest first. When there are none yet,
   * waits up to `waitMs` for one to commit (on any instance).
   */
  async changesAfter(client: Client, storeId: string | undefined, after: number, limit: number, waitMs: number, signal?: AbortSignal): Promise<FeedPage> {
    const scope = scopeOf(client, storeId);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const page = await this.repository.changesAfter(after, scope, limit);
      assertPositionWithinFeed(after, page.head);
      if (page.changes.length > 0) {
        // A full page may stop short of the head; otherwise everything up to the head was scanned.
        const lastSeq = page.changes.length === limit ? page.changes[page.changes.length - 1].seq : page.head;
        return { changes: page.changes, lastSeq };
      }
      const woken = await this.notifier.waitBeyond(page.head, deadline - Date.now(), signal);
      if (!woken) {
        return { changes: [], lastSeq: page.head };
      }
    }
  }

  /**
   * Writes the feed to `response` as Server-Sent Events until the client leaves or the service
   * shuts down. Reads a page only once the previous one is flushed, so a slow reader holds at
   * most one page in memory.
   */
  async stream(client: Client, storeId: string | undefined, after: number, response: Response): Promise<void> {
    const scope = scopeOf(client, storeId);
    // Before the headers go out, so a refused position is a plain 409 answer, not an event.
    assertPositionWithinFeed(after, await this.repository.head());
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
    let scannedTo = after;
    try {
      await this.write(response, 'retry: 2000\n\n', stop);
      while (!stop.aborted) {
        const page = await this.repository.changesAfter(scannedTo, scope, STREAM_PAGE);
        for (const change of page.changes) {
          await this.write(response, `id: ${change.seq}\nevent: change\ndata: ${JSON.stringify(ChangeResponseDto.of(change))}\n\n`, stop);
        }
        if (page.changes.length === STREAM_PAGE) {
          scannedTo = page.changes[page.changes.length - 1].seq;
          continue;
        }
        scannedTo = Math.max(scannedTo, page.head);
        const woken = await this.notifier.waitBeyond(scannedTo, this.config.streamHeartbeatMs, stop);
        if (!woken && !stop.aborted) {
          await this.write(response, ': heartbeat\n\n', stop);
        }
      }
    } catch (error) {
      if (!stop.aborted) {
        // Headers are sent: the stream just ends, and the client resumes with Last-Event-ID.
        this.logger.warn({ err: error }, 'change stream ended by an error');
      }
    } finally {
      response.end();
    }
  }

  /** Writes, then waits for the socket to drain if its buffer is full. */
  private async write(response: Response, chunk: string, stop: AbortSignal): Promise<void> {
    if (stop.aborted) {
      return;
    }
    if (!response.write(chunk)) {
      await once(response, 'drain', { signal: stop }).catch(() => undefined);
    }
  }
}

/**
 * Refuses a position beyond the feed's head. The head never goes back, so such a position was
 * handed out by another database (one restored from a backup, or replaced by a new one), and
 * following the feed from it would silently skip every change up to it. `head` must be read from
 * the database, never from an instance's cache: another instance may have just committed it.
 */
function assertPositionWithinFeed(after: number, head: number): void {
  if (after > head) {
    throw new ApiError(
      'FEED_POSITION_AHEAD',
      `position ${after} is beyond the last change of this feed (${head}): the feed was restarted or restored. ` +
        'Take a fresh snapshot (GET /v1/stores/{storeId}/inventory) and follow the feed from the lastSeq of its first page',
      { extensions: { lastSeq: head } },
    );
  }
}

/** The stores a feed covers: one store (if the key may see it) or all the key may see. */
function scopeOf(client: Client, storeId: string | undefined): StoreScope {
  if (storeId === undefined) {
    return client.stores;
  }
  assertStoreAccess(client, storeId);
  return [storeId];
}
