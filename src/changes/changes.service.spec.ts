import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import type { PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { Client } from '../common/auth/client';
import { type Clock, SystemClock } from '../common/clock';
import { Metrics } from '../metrics/metrics';
import type { ChangeNotifier } from './change-notifier';
import { ChangeTail } from './change-tail';
import { ChangesService } from './changes.service';
import type { LedgerChange } from './ledger-change';
import type { RenderedPage } from '../database/rendered-json';
import { type ChangePage, ChangesRepository } from './persistence/changes.repository';
import { untilNextBeat } from './stream-beats';

/** An endless ledger: every read returns a full page after `after`. */
class EndlessLedger extends ChangesRepository {
  reads = 0;
  head(): Promise<number> {
    return Promise.resolve(Number.MAX_SAFE_INTEGER);
  }
  floor(): Promise<number> {
    return Promise.resolve(0);
  }
  range(): Promise<LedgerChange[]> {
    return Promise.resolve([]);
  }
  pruneBatch(): Promise<{ pruned: number; floor: number }> {
    return Promise.resolve({ pruned: 0, floor: 0 });
  }
  changesAfter(after: number, _scope: unknown, limit: number): Promise<ChangePage & { floor: number }> {
    this.reads += 1;
    const changes = Array.from({ length: limit }, (_, index) => change(after + index + 1));
    return Promise.resolve({ changes, head: Number.MAX_SAFE_INTEGER, floor: 0 });
  }
  historyPage(): Promise<RenderedPage<number> & { floor: number }> {
    return Promise.resolve({ items: '[]', count: 0, nextAfter: undefined, floor: 0 });
  }
}

/** A response whose socket buffer is full until the test lets it drain. */
class SlowResponse extends EventEmitter {
  readonly req = { method: 'GET' };
  written = 0;
  full = false;
  ended = false;
  status = () => this;
  set = () => this;
  flushHeaders = () => undefined;
  /** Pages of events come as bytes, the rest as text. */
  write = (chunk: string | Buffer): boolean => {
    this.written += 1;
    if (chunk.toString().startsWith('id:') && this.written % 200 === 0) {
      this.full = true;
    }
    return !this.full;
  };
  end = () => {
    this.ended = true;
  };
  drain(): void {
    this.full = false;
    this.emit('drain');
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A change of `storeId` committed at the epoch. */
const change = (seq: number, storeId = 'store-1'): LedgerChange => ({
  seq,
  storeId,
  productId: 'SKU-001',
  kind: 'adjust',
  delta: 1,
  quantity: seq,
  reserved: 0,
  version: seq,
  reason: null,
  reference: null,
  idempotencyKey: null,
  requestId: null,
  reservationId: null,
  createdAt: new Date(0),
});

/** The seqs of the events in a chunk a stream wrote. */
const seqsOf = (chunk: string | Buffer): number[] => [...chunk.toString().matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));

/** A notifier whose tail starts at the end of the ledger: a subscriber from 0 is far behind it, and reads the ledger itself. */
function notifierFarAhead(): ChangeNotifier {
  return {
    shutdownSignal: new AbortController().signal,
    waitBeyond: () => Promise.resolve(true),
    tail: new ChangeTail(10, Number.MAX_SAFE_INTEGER),
    head: Number.MAX_SAFE_INTEGER,
    floor: 0,
    published: () => undefined,
    pruned: () => undefined,
  } as unknown as ChangeNotifier;
}

describe('ChangesService.stream back-pressure', () => {
  it('reads no further while the response waits to drain, and goes on once it drains', async () => {
    const ledger = new EndlessLedger();
    const notifier = notifierFarAhead();
    const service = new ChangesService(ledger, notifier, { streamHeartbeatMs: 1000 } as AppConfig, new Metrics(), new SystemClock(), { warn: () => undefined } as unknown as PinoLogger);
    const response = new SlowResponse();
    const streaming = service.stream(new Client('c', '*', false), undefined, 0, response as unknown as Response);

    const settle = async () => {
      for (let wait = 0; wait < 20; wait += 1) {
        await tick();
      }
    };
    for (let stall = 0; stall < 6; stall += 1) {
      await settle();
      const reads = ledger.reads;
      const written = response.written;
      await settle();
      // Stuck on a full buffer: nothing more is written, and the ledger is not read.
      expect(response.full).toBe(true);
      expect(ledger.reads).toBe(reads);
      expect(response.written).toBe(written);
      response.drain();
    }
    // Draining let it move on through pages of 500.
    expect(ledger.reads).toBeGreaterThanOrEqual(2);
    response.emit('close');
    await streaming;
    expect(response.ended).toBe(true);
  });
});

describe('ChangesService replica lag', () => {
  it('observes, for each page it hands a subscriber, the age of its oldest change', async () => {
    const notifier = notifierFarAhead();
    // The ledger's changes were committed at the epoch; it is now 7.5 s later.
    const clock: Clock = { now: () => new Date(7500) };
    const metrics = new Metrics();
    const service = new ChangesService(new EndlessLedger(), notifier, {} as AppConfig, metrics, clock, { warn: () => undefined } as unknown as PinoLogger);
    const page = await service.changesAfter(new Client('c', '*', false), undefined, 0, 10, 0);
    expect(page.changes).toHaveLength(10);
    const { values } = await metrics.feedDeliveryLag.get();
    expect(values.find((value) => value.metricName === 'inventory_feed_delivery_lag_seconds_count')?.value).toBe(1);
    expect(values.find((value) => value.metricName === 'inventory_feed_delivery_lag_seconds_sum')?.value).toBe(7.5);
    expect(values.find((value) => value.metricName === 'inventory_feed_delivery_lag_seconds_bucket' && value.labels.le === 5)?.value).toBe(0);
    expect(values.find((value) => value.metricName === 'inventory_feed_delivery_lag_seconds_bucket' && value.labels.le === 10)?.value).toBe(1);
  });
});

describe('ChangesService.stream heartbeats', () => {
  it('sends heartbeats to a stream whose store is quiet while other stores change', async () => {
    // Other stores commit every 20 ms: each commit wakes the stream, and none of its changes is the stream's.
    const notifier = {
      shutdownSignal: new AbortController().signal,
      waitBeyond: (_seq: number, timeoutMs: number) =>
        timeoutMs <= 0 ? Promise.resolve(false) : new Promise<boolean>((resolve) => setTimeout(() => resolve(timeoutMs > 20), Math.min(20, timeoutMs))),
      tail: new ChangeTail(10, 0),
      head: 0,
      floor: 0,
      published: () => undefined,
      pruned: () => undefined,
    } as unknown as ChangeNotifier;
    const service = new ChangesService(new EndlessLedger(), notifier, { streamHeartbeatMs: 100 } as AppConfig, new Metrics(), new SystemClock(), { warn: () => undefined } as unknown as PinoLogger);
    const response = new SlowResponse();
    const chunks: string[] = [];
    const write = response.write;
    response.write = (chunk: string | Buffer) => {
      chunks.push(chunk.toString());
      return write(chunk);
    };
    const startedAt = Date.now();
    const streaming = service.stream(new Client('c', '*', false), 'store-1', 0, response as unknown as Response);
    const heartbeats = () => chunks.filter((chunk) => chunk.startsWith(': heartbeat')).length;
    // One every 100 ms; none at all when every wake started a new full wait. A generous deadline
    // for a loaded machine: the wakes never stop, so without the fix no heartbeat ever comes.
    while (heartbeats() < 3 && Date.now() - startedAt < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    response.emit('close');
    await streaming;
    expect(heartbeats()).toBeGreaterThanOrEqual(3);
  });
});

describe('ChangesService.stream linger', () => {
  /** Streams a tail the test appends to, and records each write with the seqs it carried and when. */
  async function streamWith(lingerMs: number, script: (commit: (seq: number) => void, writes: Array<{ seqs: number[]; at: number }>) => Promise<void>) {
    const tail = new ChangeTail(100, 0);
    const notifier = {
      shutdownSignal: new AbortController().signal,
      waitBeyond: async (seq: number, timeoutMs: number, signal: AbortSignal) => {
        const deadline = Date.now() + timeoutMs;
        while (tail.to <= seq && Date.now() < deadline && !signal.aborted) {
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        return tail.to > seq;
      },
      tail,
      head: 0,
      floor: 0,
      published: () => undefined,
      pruned: () => undefined,
    } as unknown as ChangeNotifier;
    const config = { streamHeartbeatMs: 60_000, streamLingerMs: lingerMs } as AppConfig;
    const service = new ChangesService(new EndlessLedger(), notifier, config, new Metrics(), new SystemClock(), { warn: () => undefined } as unknown as PinoLogger);
    const response = new SlowResponse();
    const writes: Array<{ seqs: number[]; at: number }> = [];
    response.write = (chunk: string | Buffer) => {
      const seqs = seqsOf(chunk);
      if (seqs.length > 0) {
        writes.push({ seqs, at: performance.now() });
      }
      return true;
    };
    const streaming = service.stream(new Client('c', '*', false), undefined, 0, response as unknown as Response);
    await script((seq) => tail.append([change(seq)], seq), writes);
    response.emit('close');
    await streaming;
  }

  const until = async (what: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!what() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(what()).toBe(true);
  };

  it("gathers the changes until the scope's next beat after a write into one write, and sends a quiet stream its next change at once", async () => {
    await streamWith(500, async (commit, writes) => {
      // Just after a beat of every store's scope: the next one is about 500 ms away.
      await new Promise((resolve) => setTimeout(resolve, untilNextBeat('*', 500, Date.now()) + 5));
      commit(1);
      await until(() => writes.length === 1);
      commit(2);
      // Time enough for a stream without a linger to have written change 2 on its own.
      await new Promise((resolve) => setTimeout(resolve, 50));
      commit(3);
      await until(() => writes.length === 2);
      expect(writes.map((write) => write.seqs)).toEqual([[1], [2, 3]]);
      // It waited for the beat (a loaded machine may have written change 1 late, so not 500 ms).
      expect(writes[1].at - writes[0].at).toBeGreaterThanOrEqual(250);

      // Quiet for longer than the linger: the next change goes out as soon as it is read.
      await new Promise((resolve) => setTimeout(resolve, 600));
      const committedAt = performance.now();
      commit(4);
      await until(() => writes.length === 3);
      expect(writes[2].seqs).toEqual([4]);
      expect(writes[2].at - committedAt).toBeLessThan(400);
    });
  });

  it('writes every change on its own with the linger off', async () => {
    await streamWith(0, async (commit, writes) => {
      commit(1);
      await until(() => writes.length === 1);
      commit(2);
      await until(() => writes.length === 2);
      commit(3);
      await until(() => writes.length === 3);
      expect(writes.map((write) => write.seqs)).toEqual([[1], [2], [3]]);
    });
  });
});

describe('ChangesService.stream pages shared within a scope', () => {
  it("writes one page object to every stream of a store at the same position, and each scope's own changes", async () => {
    const tail = new ChangeTail(100, 0);
    // Seqs 1–6: odd ones store-1's, even ones store-2's.
    tail.append(
      Array.from({ length: 6 }, (_, index) => change(index + 1, index % 2 === 0 ? 'store-1' : 'store-2')),
      6,
    );
    const shutdown = new AbortController();
    const notifier = {
      shutdownSignal: shutdown.signal,
      waitBeyond: (_seq: number, _timeoutMs: number, signal: AbortSignal) => new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(false))),
      tail,
      head: 6,
      floor: 0,
      published: () => undefined,
      pruned: () => undefined,
    } as unknown as ChangeNotifier;
    const config = { streamHeartbeatMs: 60_000, streamLingerMs: 0 } as AppConfig;
    const service = new ChangesService(new EndlessLedger(), notifier, config, new Metrics(), new SystemClock(), { warn: () => undefined } as unknown as PinoLogger);
    const open = (storeId: string | undefined, after: number) => {
      const response = new SlowResponse();
      const pages: Buffer[] = [];
      response.write = (chunk: string | Buffer) => {
        if (typeof chunk !== 'string') {
          pages.push(chunk);
        }
        return true;
      };
      const streaming = service.stream(new Client('c', '*', false), storeId, after, response as unknown as Response);
      return { pages, streaming, seqs: () => pages.flatMap(seqsOf) };
    };
    const streams = [open('store-1', 0), open('store-1', 0), open('store-2', 0), open(undefined, 0), open(undefined, 0), open('store-1', 2)];
    const deadline = Date.now() + 10_000;
    while (streams.some((stream) => stream.pages.length === 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    shutdown.abort();
    await Promise.all(streams.map((stream) => stream.streaming));

    const [first, second, otherStore, everyStore, everyStoreToo, later] = streams;
    expect(first.seqs()).toEqual([1, 3, 5]);
    expect(second.pages[0]).toBe(first.pages[0]);
    expect(otherStore.seqs()).toEqual([2, 4, 6]);
    expect(everyStore.seqs()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(everyStoreToo.pages[0]).toBe(everyStore.pages[0]);
    // The same store from further on: a page of its own.
    expect(later.seqs()).toEqual([3, 5]);
  });
});
