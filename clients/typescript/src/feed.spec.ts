import { InventoryClient } from './client';
import type { FeedEvent } from './feed';

const encoder = new TextEncoder();

/** A stream answer sending `chunks`, then ending (or staying open and silent when `hang`). */
function stream(chunks: string[], hang = false): () => Response {
  return () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          chunks.forEach((chunk) => controller.enqueue(encoder.encode(chunk)));
          if (!hang) {
            controller.close();
          }
        },
      }),
      { status: 200, headers: { 'content-type': 'text/event-stream' } },
    );
}

function json(status: number, body: unknown): () => Response {
  return () => new Response(JSON.stringify(body), { status, headers: { 'content-type': status < 400 ? 'application/json' : 'application/problem+json' } });
}

function change(seq: number, productId = 'SKU-001') {
  return { seq, storeId: 'store-1', productId, kind: 'adjust', delta: 1, quantity: seq, reserved: 0, available: seq, version: seq, reason: null, reference: null, idempotencyKey: `k${seq}`, reservationId: null, requestId: null, createdAt: '2026-11-30T12:00:00.000Z' };
}

function level(productId: string, version: number) {
  return { storeId: 'store-1', productId, quantity: version, reserved: 0, available: version, version, lastUpdated: '2026-11-30T12:00:00.000Z' };
}

const event = (seq: number) => `id: ${seq}\nevent: change\ndata: ${JSON.stringify(change(seq))}\n\n`;

/** A client whose requests are answered from a script; the paths it asked for are recorded. */
function scripted(replies: Array<() => Response>) {
  const paths: string[] = [];
  const client = new InventoryClient({
    baseUrl: 'http://inventory.test',
    apiKey: 'demo',
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    fetch: (request) => {
      const url = new URL(request.url);
      paths.push(url.pathname + url.search);
      const reply = replies.shift();
      return reply === undefined ? Promise.reject(new Error(`unexpected request ${url.pathname}${url.search}`)) : Promise.resolve(reply());
    },
  });
  return { client, paths };
}

async function collect(feed: AsyncIterable<FeedEvent>, until?: (events: FeedEvent[]) => boolean): Promise<FeedEvent[]> {
  const events: FeedEvent[] = [];
  for await (const item of feed) {
    events.push(item);
    if (until?.(events) === true) {
      break;
    }
  }
  return events;
}

describe('ChangeFeed over Server-Sent Events', () => {
  it('reopens an ended stream after the last id it took (a heartbeat’s included); a feed of every store ends with resnapshot on an expired event', async () => {
    const { client, paths } = scripted([
      stream([event(5), event(6).slice(0, 20), event(6).slice(20), ': heartbeat\nid: 9\n\n']),
      stream([`${event(10)}event: expired\ndata: ${JSON.stringify({ status: 410, code: 'FEED_POSITION_EXPIRED', detail: 'pruned', prunedThroughSeq: 20 })}\n\n`]),
    ]);
    const feed = client.changes({ after: 4, transport: 'sse' });
    const events = await collect(feed);

    expect(paths).toEqual(['/v1/changes/stream?after=4', '/v1/changes/stream?after=9']);
    expect(events.map((item) => (item.type === 'changes' ? [item.changes.map((one) => one.seq), item.lastSeq] : [item.code, item.position]))).toEqual([
      [[5], 5],
      [[6], 6],
      [[], 9],
      [[10], 10],
      ['FEED_POSITION_EXPIRED', 10],
    ]);
    const last = events.at(-1);
    expect(last?.type === 'resnapshot' && last.error).toMatchObject({ status: 410, code: 'FEED_POSITION_EXPIRED', detail: 'pruned', body: { prunedThroughSeq: 20 } });
  });

  it('a store’s feed takes a fresh snapshot (every page) on an expired event, and reopens the stream after it', async () => {
    const { client, paths } = scripted([
      stream([`${event(10)}event: expired\ndata: ${JSON.stringify({ status: 410, code: 'FEED_POSITION_EXPIRED', detail: 'pruned' })}\n\n`]),
      json(200, { items: [level('SKU-001', 30)], nextCursor: 'page-2', lastSeq: 31 }),
      json(200, { items: [level('SKU-002', 33)], nextCursor: null, lastSeq: 33 }),
      stream([event(32)], true),
    ]);
    const feed = client.changes({ storeId: 'store-1', after: 9, transport: 'sse' });
    const events = await collect(feed, (taken) => taken.length === 3);

    expect(paths).toEqual([
      '/v1/changes/stream?after=9&storeId=store-1',
      '/v1/stores/store-1/inventory?limit=500',
      '/v1/stores/store-1/inventory?limit=500&cursor=page-2',
      '/v1/changes/stream?after=31&storeId=store-1',
    ]);
    expect(events[0]).toMatchObject({ type: 'changes', lastSeq: 10 });
    // The first page's lastSeq: every change up to it is in the pages.
    expect(events[1]).toMatchObject({ type: 'snapshot', code: 'FEED_POSITION_EXPIRED', position: 10, lastSeq: 31, error: { status: 410, detail: 'pruned' } });
    expect(events[1].type === 'snapshot' && events[1].levels.map((one) => one.productId)).toEqual(['SKU-001', 'SKU-002']);
    expect(events[2]).toMatchObject({ type: 'changes', lastSeq: 32 });
  });

  it('ends at once when its signal aborts while the consumer handles an event, though the stream stays open', async () => {
    const stop = new AbortController();
    const { client } = scripted([stream([event(1)], true)]);
    const events: FeedEvent[] = [];
    for await (const item of client.changes({ after: 0, transport: 'sse', idleTimeoutMs: 60_000, signal: stop.signal })) {
      events.push(item);
      stop.abort();
    }
    expect(events).toHaveLength(1);
  }, 5_000);

  it('reopens a stream that stays silent beyond idleTimeoutMs, from its position', async () => {
    const { client, paths } = scripted([stream([event(3)], true), stream([event(4)], true)]);
    const feed = client.changes({ after: 2, transport: 'sse', idleTimeoutMs: 50 });
    const events = await collect(feed, (taken) => taken.length === 2);
    expect(paths).toEqual(['/v1/changes/stream?after=2', '/v1/changes/stream?after=3']);
    expect(events.map((item) => item.type === 'changes' && item.lastSeq)).toEqual([3, 4]);
    expect(feed.position).toBe(3);
  });

  it('gives up after maxAttempts streams in a row that bring nothing', async () => {
    const { client } = scripted([stream([]), stream([]), stream([])]);
    await expect(collect(client.changes({ after: 0, transport: 'sse', retry: { maxAttempts: 3 } }))).rejects.toMatchObject({ name: 'InventoryNetworkError', attempts: 3 });
  });
});

describe('ChangeFeed by long poll', () => {
  it('asks from the position taken, retries a 503, skips answers that move nothing; a store’s feed takes a fresh snapshot on a refused position and goes on after it', async () => {
    const { client, paths } = scripted([
      json(200, { changes: [change(5), change(6)], lastSeq: 6 }),
      json(503, { status: 503, code: 'SHUTTING_DOWN' }),
      json(200, { changes: [], lastSeq: 6 }),
      json(200, { changes: [], lastSeq: 8 }),
      json(409, { status: 409, code: 'FEED_POSITION_AHEAD', detail: 'beyond the feed', lastSeq: 3 }),
      json(200, { items: [level('SKU-001', 2)], nextCursor: null, lastSeq: 3 }),
      json(200, { changes: [change(4)], lastSeq: 4 }),
    ]);
    const feed = client.changes({ storeId: 'store-1', after: 4, waitSeconds: 10, limit: 50 });
    const events = await collect(feed, (taken) => taken.length === 4);

    expect(paths).toEqual([
      '/v1/changes?after=4&storeId=store-1&limit=50&waitSeconds=10',
      '/v1/changes?after=6&storeId=store-1&limit=50&waitSeconds=10',
      '/v1/changes?after=6&storeId=store-1&limit=50&waitSeconds=10',
      '/v1/changes?after=6&storeId=store-1&limit=50&waitSeconds=10',
      '/v1/changes?after=8&storeId=store-1&limit=50&waitSeconds=10',
      '/v1/stores/store-1/inventory?limit=500',
      '/v1/changes?after=3&storeId=store-1&limit=50&waitSeconds=10',
    ]);
    expect(events.map((item) => (item.type === 'changes' ? [item.changes.map((one) => one.seq), item.lastSeq] : [item.type, item.code, item.position]))).toEqual([
      [[5, 6], 6],
      [[], 8],
      ['snapshot', 'FEED_POSITION_AHEAD', 8],
      [[4], 4],
    ]);
    expect(events[2]).toMatchObject({ lastSeq: 3, levels: [{ productId: 'SKU-001', version: 2 }] });
  });

  it('a feed of every store ends with resnapshot on a refused position: no one read covers every store', async () => {
    const { client, paths } = scripted([json(410, { status: 410, code: 'FEED_POSITION_EXPIRED', detail: 'pruned' })]);
    const events = await collect(client.changes({ after: 1 }));
    expect(paths).toEqual(['/v1/changes?after=1&limit=1000&waitSeconds=25']);
    expect(events).toEqual([{ type: 'resnapshot', code: 'FEED_POSITION_EXPIRED', position: 1, error: expect.objectContaining({ status: 410 }) }]);
  });

  it('ends quietly when its signal aborts', async () => {
    const stop = new AbortController();
    const { client } = scripted([json(200, { changes: [change(1)], lastSeq: 1 })]);
    const events: FeedEvent[] = [];
    for await (const item of client.changes({ after: 0, signal: stop.signal })) {
      events.push(item);
      stop.abort();
    }
    expect(events).toHaveLength(1);
  });

  it('refuses options that would make it spin or skip', () => {
    const { client } = scripted([]);
    expect(() => client.changes({ after: -1 })).toThrow(RangeError);
    expect(() => client.changes({ after: 0, waitSeconds: 0 })).toThrow(RangeError);
    expect(() => client.changes({ after: 0, limit: 5000 })).toThrow(RangeError);
  });
});
