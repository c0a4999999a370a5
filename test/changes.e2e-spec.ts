import { readFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { sql } from 'kysely';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { type ChangePage, ChangesRepository } from '../src/changes/persistence/changes.repository';
import { KyselyChangesRepository } from '../src/changes/persistence/kysely-changes.repository';
import type { StoreScope } from '../src/config/app-config';
import { DatabaseConnection } from '../src/database/database-connection';
import { postUpdate } from './helpers/inventory-client';
import { metricSample, metricsOf } from './helpers/metrics';
import { openSse } from './helpers/sse';
import { startApp, type TestApp } from './helpers/test-app';
import { waitFor } from './helpers/wait';

/** The real changes repository, telling `onRead` about every page it reads. */
function observePageReads(onRead: (scope: StoreScope, limit: number, page: ChangePage) => void) {
  return (builder: TestingModuleBuilder) =>
    builder.overrideProvider(ChangesRepository).useFactory({
      inject: [DatabaseConnection],
      factory: (connection: DatabaseConnection) => {
        const repository = new KyselyChangesRepository(connection);
        const changesAfter = repository.changesAfter.bind(repository);
        repository.changesAfter = async (after, scope, limit) => {
          const page = await changesAfter(after, scope, limit);
          onRead(scope, limit, page);
          return page;
        };
        return repository;
      },
    });
}

/** A store no other test touches: the backlog test counts only the page reads of its stream. */
const BACKLOG_STORE = 'backlog-store';

/**
 * The most bytes loopback TCP can hold between a writer and a reader that reads nothing: the
 * reader's receive buffer and the writer's send buffer, each at its autotuning ceiling.
 */
function socketBufferCeiling(): number {
  const ceiling = (file: string) => Number(readFileSync(`/proc/sys/net/ipv4/${file}`, 'utf8').trim().split(/\s+/)[2]);
  return ceiling('tcp_rmem') + ceiling('tcp_wmem');
}

/**
 * Appends `rows` ledger rows of BACKLOG_STORE after `head`, straight into the database (the API
 * would take minutes for a backlog this size), each about 1 kB once rendered as an event.
 */
async function insertBacklog(app: TestApp, head: number, rows: number): Promise<void> {
  const createdAt = new Date().toISOString();
  await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${rows})
    insert into ledger (seq, store_id, product_id, kind, delta, quantity_after, version_after, idempotency_key, client_id, request_id, reason, reference, created_at)
    select ${head} + i, ${BACKLOG_STORE}, 'SKU-BACKLOG', 'adjust', 1, i, i, ${'k'.repeat(240)} || cast(i as varchar(16)), null, ${'r'.repeat(128)},
           ${'restock'.padEnd(64, '_')}, ${'x'.repeat(255)}, ${createdAt}
    from n`.execute(app.connection.db);
  await app.connection.db.updateTable('ledger_head').set({ last_seq: head + rows }).where('id', '=', 1).execute();
  // Statistics as autovacuum would leave them after a bulk load: with none, PostgreSQL plans each
  // page as a sort of the whole store's rows.
  await sql`analyze ledger`.execute(app.connection.db);
}

/** Resolves with `read()` once it is above 0 and has not changed for `polls` polls in a row. */
async function stableCount(what: string, read: () => number, { polls = 20, intervalMs = 100, timeoutMs = 60_000 } = {}): Promise<number> {
  let last = read();
  let unchanged = 0;
  await waitFor(
    what,
    () => {
      const now = read();
      unchanged = now === last && now > 0 ? unchanged + 1 : 0;
      last = now;
      return unchanged >= polls;
    },
    { intervalMs, timeoutMs },
  );
  return last;
}

interface Received {
  count: number;
  first?: number;
  last?: number;
  /** Ids that did not follow the one before (at most a few, to keep a failure readable). */
  outOfOrder: string[];
}

/**
 * An SSE request whose response is not read until resumeUntil(): Node's HTTP client stops reading
 * the socket once a small buffer is full, so the kernel buffers fill and the service's writes stall.
 */
function openPausedStream(url: string) {
  const request = httpGet(url, { headers: { 'X-API-Key': 'demo' } });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  return {
    /** Reads the events until `count` changes arrived; checks each id follows the one before. */
    resumeUntil: async (count: number, timeoutMs: number): Promise<Received> => {
      const stream = await response;
      expect(stream.statusCode).toBe(200);
      const received: Received = { count: 0, outOfOrder: [] };
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        let boundary = buffer.indexOf('\n\n');
        let start = 0;
        while (boundary >= 0) {
          const id = /^id: (\d+)$/m.exec(buffer.slice(start, boundary))?.[1];
          if (id !== undefined) {
            const seq = Number(id);
            if (received.last !== undefined && seq !== received.last + 1 && received.outOfOrder.length < 5) {
              received.outOfOrder.push(`${seq} after ${received.last}`);
            }
            received.first ??= seq;
            received.last = seq;
            received.count += 1;
          }
          start = boundary + 2;
          boundary = buffer.indexOf('\n\n', start);
        }
        buffer = buffer.slice(start);
      });
      await waitFor(`${count} changes streamed`, () => received.count >= count || stream.readableEnded, { timeoutMs, intervalMs: 50 });
      return received;
    },
    close: () => request.destroy(),
  };
}

const apply = (app: TestApp, productId: string, version: number, key: string, storeId = 'store-1', apiKey = 'demo') =>
  postUpdate(app, { storeId, productId, delta: 1, version, idempotencyKey: key }, apiKey).expect(200);

/** The last committed seq, read from the database. */
async function headOf(app: TestApp): Promise<number> {
  const { last_seq: head } = await app.connection.db.selectFrom('ledger_head').select('last_seq').executeTakeFirstOrThrow();
  return head;
}

function expectPositionAhead(status: number, contentType: string | null | undefined, body: unknown, head: number): void {
  expect(status).toBe(409);
  expect(contentType).toMatch(/^application\/problem\+json/);
  expect(body).toMatchObject({
    type: '/problems/feed-position-ahead',
    status: 409,
    code: 'FEED_POSITION_AHEAD',
    lastSeq: head,
    detail: expect.stringMatching(/fresh snapshot.*lastSeq/),
  });
}

async function seedStore2(app: TestApp): Promise<void> {
  await app.connection.db
    .insertInto('stock_levels')
    .values({ store_id: 'store-2', product_id: 'SKU-001', quantity: 5, version: 0, last_updated: new Date().toISOString() })
    .execute();
}

describe('change feed: GET /v1/changes', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
    await seedStore2(app);
  });

  afterAll(async () => {
    await app.close();
  });

  const feed = (query: string, apiKey = 'demo') => app.http().get(`/v1/changes${query}`).set('X-API-Key', apiKey);

  it('lists applied changes in seq order, and pages with after/limit', async () => {
    const empty = await feed('').expect(200);
    expect(empty.body).toEqual({ changes: [], lastSeq: 0 });

    const applied = await apply(app, 'SKU-001', 12, 'feed-1');
    await apply(app, 'SKU-002', 8, 'feed-2');
    await apply(app, 'SKU-001', 13, 'feed-3');
    await postUpdate(app, { storeId: 'store-1', productId: 'SKU-003', delta: 1, version: 1, idempotencyKey: 'feed-conflict' }).expect(409);

    const all = await feed('?after=0').expect(200);
    expect(all.body.lastSeq).toBe(3);
    expect(all.body.changes[0]).toEqual({
      seq: 1,
      storeId: 'store-1',
      productId: 'SKU-001',
      kind: 'adjust',
      delta: 1,
      quantity: 46,
      reserved: 0,
      available: 46,
      version: 13,
      reason: null,
      reference: null,
      idempotencyKey: 'feed-1',
      reservationId: null,
      requestId: applied.headers['x-request-id'],
      createdAt: applied.body.lastUpdated,
    });
    expect(all.body.changes.map((change: { seq: number }) => change.seq)).toEqual([1, 2, 3]);

    const first = await feed('?after=0&limit=2').expect(200);
    expect(first.body.changes.map((change: { seq: number }) => change.seq)).toEqual([1, 2]);
    expect(first.body.lastSeq).toBe(2);
    const rest = await feed(`?after=${first.body.lastSeq}&limit=2`).expect(200);
    expect(rest.body.changes.map((change: { seq: number }) => change.seq)).toEqual([3]);
    expect(rest.body.lastSeq).toBe(3);
  });

  it('waits for the next change when asked, and answers as soon as it commits', async () => {
    const { lastSeq } = (await feed('').expect(200)).body as { lastSeq: number };
    const waiting = feed(`?after=${lastSeq}&waitSeconds=10`).then((response) => response);
    // The change must come while the long poll waits, after it found nothing.
    await waitFor('the long poll to find nothing and wait', async () => metricSample(await metricsOf(app), 'inventory_feed_subscribers') === 1);
    const before = await metricsOf(app);
    const pagesBefore = metricSample(before, 'inventory_feed_delivery_lag_seconds_count') ?? 0;
    const youngBefore = metricSample(before, 'inventory_feed_delivery_lag_seconds_bucket', { le: '5' }) ?? 0;
    const committedAt = Date.now();
    await apply(app, 'SKU-004', 6, 'feed-wait');
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(response.body.changes).toHaveLength(1);
    expect(response.body.changes[0]).toMatchObject({ seq: lastSeq + 1, productId: 'SKU-004', idempotencyKey: 'feed-wait' });
    // Woken by the commit, long before the 10 s wait would have ended.
    expect(Date.now() - committedAt).toBeLessThan(3000);
    // The replica-lag histogram saw this page, its change younger than the wait.
    const metrics = await metricsOf(app);
    expect(metricSample(metrics, 'inventory_feed_delivery_lag_seconds_count')).toBe(pagesBefore + 1);
    expect(metricSample(metrics, 'inventory_feed_delivery_lag_seconds_bucket', { le: '5' })).toBe(youngBefore + 1);
  });

  it('answers an empty page after waitSeconds when nothing changes', async () => {
    const { lastSeq } = (await feed('').expect(200)).body as { lastSeq: number };
    const started = Date.now();
    const response = await feed(`?after=${lastSeq}&waitSeconds=1`).expect(200);
    expect(response.body).toEqual({ changes: [], lastSeq });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('shows a key only its stores, while lastSeq moves past what it may not see', async () => {
    const before = (await feed('', 'pos2').expect(200)).body as { lastSeq: number };
    await apply(app, 'SKU-001', 0, 'store2-1', 'store-2', 'pos2');
    await apply(app, 'SKU-005', 3, 'store1-hidden');
    const scoped = await feed(`?after=${before.lastSeq}`, 'pos2').expect(200);
    expect(scoped.body.changes.map((change: { storeId: string }) => change.storeId)).toEqual(['store-2']);
    const head = (await feed('?after=0&limit=1000').expect(200)).body as { lastSeq: number };
    expect(scoped.body.lastSeq).toBe(head.lastSeq);
    const nothing = await feed(`?after=${scoped.body.lastSeq}&waitSeconds=0`, 'pos2').expect(200);
    expect(nothing.body.changes).toEqual([]);
  });

  it('filters to one store on request, refusing a store the key may not see', async () => {
    const onlyStore2 = await feed('?storeId=store-2').expect(200);
    expect(onlyStore2.body.changes.length).toBeGreaterThan(0);
    expect(onlyStore2.body.changes.every((change: { storeId: string }) => change.storeId === 'store-2')).toBe(true);
    await feed('?storeId=store-1', 'pos2').expect(403);
    await app.http().get('/v1/changes/stream?storeId=store-1').set('X-API-Key', 'pos2').expect(403);
  });

  it.each([
    ['storeId=a%20b', 'storeId'],
    ['after=-1', 'after'],
    ['after=abc', 'after'],
    ['after=1e3', 'after'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['waitSeconds=31', 'waitSeconds'],
    ['waitSeconds=1.5', 'waitSeconds'],
    ['foo=1', 'foo'],
  ])('refuses ?%s naming the parameter', async (query, field) => {
    const response = await feed(`?${query}`).expect(400);
    expect(response.body.errors).toEqual([{ field, issue: expect.any(String) }]);
  });

  it('needs a key', async () => {
    await app.http().get('/v1/changes').expect(401);
    await app.http().get('/v1/changes/stream').expect(401);
  });

  it('refuses a position beyond the last change with 409 FEED_POSITION_AHEAD naming the real head', async () => {
    const head = await headOf(app);
    for (const query of [`?after=${head + 1}`, '?after=999999', `?after=${head + 1}&storeId=store-2`]) {
      const response = await feed(query);
      expectPositionAhead(response.status, response.headers['content-type'], response.body, head);
    }
    const scoped = await feed(`?after=${head + 1}`, 'pos2');
    expectPositionAhead(scoped.status, scoped.headers['content-type'], scoped.body, head);
  });

  it('refuses it at once when asked to wait, while a position equal to the head still waits for the next change', async () => {
    const head = await headOf(app);
    const started = Date.now();
    const refused = await feed(`?after=${head + 1}&waitSeconds=10`);
    expect(Date.now() - started).toBeLessThan(5000);
    expectPositionAhead(refused.status, refused.headers['content-type'], refused.body, head);

    const waiting = feed(`?after=${head}&waitSeconds=10`).then((response) => response);
    setTimeout(() => void apply(app, 'SKU-006', 18, 'feed-at-head').then(() => undefined), 300);
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(response.body.changes).toHaveLength(1);
    expect(response.body.changes[0]).toMatchObject({ seq: head + 1, productId: 'SKU-006', idempotencyKey: 'feed-at-head' });
  });

  it('checks a position against the database head, not the instance’s cached one', async () => {
    // A change committed by another instance sharing the database, which this one has not heard of.
    const head = (await headOf(app)) + 1;
    await app.connection.db.transaction().execute(async (transaction) => {
      await transaction
        .insertInto('ledger')
        .values({ seq: head, store_id: 'store-2', product_id: 'SKU-001', delta: 1, quantity_after: 6, version_after: 1, idempotency_key: null, client_id: null, request_id: null, created_at: new Date().toISOString(), reason: null, reference: null })
        .execute();
      await transaction.updateTable('ledger_head').set({ last_seq: head }).where('id', '=', 1).execute();
    });
    const current = await feed(`?after=${head}`).expect(200);
    expect(current.body).toEqual({ changes: [], lastSeq: head });
    const ahead = await feed(`?after=${head + 1}`);
    expectPositionAhead(ahead.status, ahead.headers['content-type'], ahead.body, head);
  });
});

describe('change feed: GET /v1/changes/stream (Server-Sent Events)', () => {
  let app: TestApp;
  /** Pages the service read for streams of BACKLOG_STORE only, and how many changes it asks per page. */
  let backlogPages = 0;
  let backlogPageLimit: number | undefined;

  beforeAll(async () => {
    // No tail: every stream reads the database for itself, as one behind the tail does (the
    // backlog below is far behind any tail), so the reads of each stream can be counted.
    app = await startApp({
      env: { STREAM_HEARTBEAT_MS: '200', FEED_TAIL_CHANGES: '0' },
      override: observePageReads((scope, limit) => {
        if (Array.isArray(scope) && scope.length === 1 && scope[0] === BACKLOG_STORE) {
          backlogPages += 1;
          backlogPageLimit = limit;
        }
      }),
    });
    await seedStore2(app);
  });

  afterAll(async () => {
    await app.close();
  });

  const stream = (headers: Record<string, string> = {}, query = '') => openSse(`${app.url}/v1/changes/stream${query}`, { 'X-API-Key': 'demo', ...headers });

  it('streams changes as they commit, with id = seq, and heartbeats while idle', async () => {
    const connection = await stream();
    try {
      expect(connection.status).toBe(200);
      expect(connection.headers.get('content-type')).toContain('text/event-stream');
      await apply(app, 'SKU-001', 12, 'sse-1');
      await apply(app, 'SKU-002', 8, 'sse-2');
      const events = await connection.until((received) => received.filter((event) => event.event === 'change').length === 2);
      const changes = events.filter((event) => event.event === 'change');
      expect(changes.map((event) => event.id)).toEqual(['1', '2']);
      expect(JSON.parse(changes[0].data!)).toMatchObject({ seq: 1, productId: 'SKU-001', idempotencyKey: 'sse-1', quantity: 46, version: 13 });
      await connection.until((received) => received.some((event) => event.comment === 'heartbeat'), 2000);
    } finally {
      connection.close();
    }
  });

  it('resumes after Last-Event-ID (or ?after=; an empty Last-Event-ID, an event source that has seen no id, counts as none)', async () => {
    await apply(app, 'SKU-003', 15, 'sse-3');
    const resumed = await stream({ 'Last-Event-ID': '2' });
    const viaQuery = await stream({}, '?after=1');
    const emptyId = await stream({ 'Last-Event-ID': '' }, '?after=1');
    try {
      const events = await resumed.until((received) => received.some((event) => event.event === 'change'));
      expect(events.filter((event) => event.event === 'change').map((event) => event.id)).toEqual(['3']);
      for (const fromQuery of [viaQuery, emptyId]) {
        const received = await fromQuery.until((all) => all.filter((event) => event.event === 'change').length === 2);
        expect(received.filter((event) => event.event === 'change').map((event) => event.id)).toEqual(['2', '3']);
      }
    } finally {
      resumed.close();
      viaQuery.close();
      emptyId.close();
    }
  });

  it('streams only the stores the key may see', async () => {
    const scoped = await stream({ 'X-API-Key': 'pos2' });
    try {
      await apply(app, 'SKU-004', 6, 'sse-hidden');
      await apply(app, 'SKU-001', 0, 'sse-store2', 'store-2', 'pos2');
      const events = await scoped.until((received) => received.some((event) => event.event === 'change'));
      const changes = events.filter((event) => event.event === 'change').map((event) => JSON.parse(event.data!) as { storeId: string });
      expect(changes.map((change) => change.storeId)).toEqual(['store-2']);
    } finally {
      scoped.close();
    }
  });

  it('moves a scoped stream past changes it may not see: its heartbeat carries the seq scanned to as id', async () => {
    const scoped = await stream({ 'X-API-Key': 'pos2', 'Last-Event-ID': String(await headOf(app)) });
    try {
      // Only changes of store-1 commit, none of which this key may see.
      await apply(app, 'SKU-006', 18, 'sse-unseen-1');
      await apply(app, 'SKU-007', 9, 'sse-unseen-2');
      const head = await headOf(app);
      const events = await scoped.until((received) => received.some((event) => event.comment === 'heartbeat' && event.id === String(head)), 10_000);
      expect(events.filter((event) => event.event === 'change')).toEqual([]);
    } finally {
      scoped.close();
    }
    // Resuming from that id is current, not a position to re-read or refuse.
    const resumed = await app.http().get(`/v1/changes?after=${await headOf(app)}`).set('X-API-Key', 'pos2').expect(200);
    expect(resumed.body.changes).toEqual([]);
  });

  it('refuses a Last-Event-ID that is not a seq', async () => {
    const response = await app.http().get('/v1/changes/stream').set('X-API-Key', 'demo').set('Last-Event-ID', 'abc').expect(400);
    expect(response.body.errors).toEqual([{ field: 'Last-Event-ID', issue: expect.any(String) }]);
  });

  it('refuses Last-Event-ID or ?after= beyond the head with a 409 problem before any event, and streams from the head itself', async () => {
    const head = await headOf(app);
    const refusals = [
      [{ 'Last-Event-ID': String(head + 1) }, ''],
      [{ 'Last-Event-ID': '999999' }, '?after=0'],
      [{}, `?after=${head + 1}`],
    ] as const;
    for (const [headers, query] of refusals) {
      const abort = new AbortController();
      try {
        const response = await fetch(`${app.url}/v1/changes/stream${query}`, { headers: { 'X-API-Key': 'demo', ...headers }, signal: abort.signal });
        expectPositionAhead(response.status, response.headers.get('content-type'), await response.json(), head);
      } finally {
        abort.abort();
      }
    }

    const atHead = await stream({ 'Last-Event-ID': String(head) });
    try {
      expect(atHead.status).toBe(200);
      await apply(app, 'SKU-005', 3, 'sse-at-head');
      const events = await atHead.until((received) => received.some((event) => event.event === 'change'));
      expect(events.filter((event) => event.event === 'change').map((event) => event.id)).toEqual([String(head + 1)]);
    } finally {
      atHead.close();
    }
  });

  it('delivers a large backlog to a reader that pauses: reads stop while it pauses, then every change arrives, in order', async () => {
    const head = (await app.connection.db.selectFrom('ledger_head').select('last_seq').executeTakeFirstOrThrow()).last_seq;
    // Three times what the socket buffers can hold, at no more than 1 kB per event.
    const rows = Math.ceil((3 * socketBufferCeiling()) / 1000);
    await insertBacklog(app, head, rows);
    // The smallest event of the backlog (its first), as the service renders it.
    // Written behind the service's back: it finds the new head by polling it, so wait for that.
    const first = await app.http().get(`/v1/changes?storeId=${BACKLOG_STORE}&after=${head}&limit=1&waitSeconds=10`).set('X-API-Key', 'demo').expect(200);
    const eventBytes = Buffer.byteLength(`id: ${head + 1}\nevent: change\ndata: ${JSON.stringify(first.body.changes[0])}\n\n`);
    backlogPages = 0;

    // A reader that reads nothing yet: once its receive buffer and the service's send buffer
    // are full, the service must stop reading pages (it holds one page at most).
    const stream = openPausedStream(`${app.url}/v1/changes/stream?storeId=${BACKLOG_STORE}&after=${head}`);
    try {
      const pausedPages = await stableCount('backlog pages read while the reader is paused', () => backlogPages);
      const pageSize = backlogPageLimit!;
      const totalPages = Math.ceil(rows / pageSize);
      // Pages that can be in flight at most: both kernel socket buffers at their ceilings, and
      // the page in the service's hands.
      const bufferedPages = Math.ceil(socketBufferCeiling() / (pageSize * eventBytes)) + 1;
      expect(bufferedPages * 2).toBeLessThanOrEqual(totalPages);
      expect(pausedPages).toBeGreaterThan(0);
      expect(pausedPages).toBeLessThanOrEqual(bufferedPages);

      const received = await stream.resumeUntil(rows, 60_000);
      expect(received).toEqual({ count: rows, first: head + 1, last: head + rows, outOfOrder: [] });
      expect(backlogPages).toBeGreaterThanOrEqual(totalPages);
    } finally {
      stream.close();
    }
  }, 120_000);
});
