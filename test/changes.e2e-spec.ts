import { ChangesRepository } from '../src/changes/persistence/changes.repository';
import { KyselyChangesRepository } from '../src/changes/persistence/kysely-changes.repository';
import { DatabaseConnection } from '../src/database/database-connection';
import { postUpdate } from './helpers/inventory-client';
import { openSse } from './helpers/sse';
import { startApp, type TestApp } from './helpers/test-app';

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
      version: 13,
      reason: null,
      reference: null,
      idempotencyKey: 'feed-1',
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
    const started = Date.now();
    const waiting = feed(`?after=${lastSeq}&waitSeconds=10`).then((response) => response);
    setTimeout(() => void apply(app, 'SKU-004', 6, 'feed-wait').then(() => undefined), 300);
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(response.body.changes).toHaveLength(1);
    expect(response.body.changes[0]).toMatchObject({ seq: lastSeq + 1, productId: 'SKU-004', idempotencyKey: 'feed-wait' });
    expect(Date.now() - started).toBeLessThan(2000);
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
  let pages = 0;

  beforeAll(async () => {
    app = await startApp({
      env: { STREAM_HEARTBEAT_MS: '200' },
      override: (builder) =>
        builder.overrideProvider(ChangesRepository).useFactory({
          inject: [DatabaseConnection],
          factory: (connection: DatabaseConnection) => {
            const repository = new KyselyChangesRepository(connection);
            const changesAfter = repository.changesAfter.bind(repository);
            repository.changesAfter = (...args) => {
              pages += 1;
              return changesAfter(...args);
            };
            return repository;
          },
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

  it('resumes after Last-Event-ID (or ?after=)', async () => {
    await apply(app, 'SKU-003', 15, 'sse-3');
    const resumed = await stream({ 'Last-Event-ID': '2' });
    const viaQuery = await stream({}, '?after=1');
    try {
      const events = await resumed.until((received) => received.some((event) => event.event === 'change'));
      expect(events.filter((event) => event.event === 'change').map((event) => event.id)).toEqual(['3']);
      const fromQuery = await viaQuery.until((received) => received.filter((event) => event.event === 'change').length === 2);
      expect(fromQuery.filter((event) => event.event === 'change').map((event) => event.id)).toEqual(['2', '3']);
    } finally {
      resumed.close();
      viaQuery.close();
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

  it('delivers a large backlog to a reader that pauses, completely and in order', async () => {
    for (let batch = 0; batch < 30; batch += 1) {
      const level = await app.http().get('/v1/stores/store-1/inventory/SKU-009').set('X-API-Key', 'demo');
      let version = (level.body as { version: number }).version;
      const updates = Array.from({ length: 100 }, (_, index) => ({ productId: 'SKU-009', delta: 1, version: version++, idempotencyKey: `bp-${batch}-${index}` }));
      await postUpdate(app, { storeId: 'store-1', updates }).expect(200);
    }
    const { last_seq: head } = await app.connection.db.selectFrom('ledger_head').select('last_seq').executeTakeFirstOrThrow();
    expect(head).toBeGreaterThan(3000);
    const { createConnection } = await import('node:net');
    const socket = createConnection({ host: '127.0.0.1', port: Number(new URL(app.url).port) });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    socket.write('GET /v1/changes/stream HTTP/1.1\r\nHost: localhost\r\nX-API-Key: demo\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.resume();
    const ids = () => [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
    const deadline = Date.now() + 10_000;
    while (ids().length < head && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    socket.destroy();
    expect(ids()).toEqual(Array.from({ length: head }, (_, index) => index + 1));
    expect(pages).toBeGreaterThan(Math.floor(head / 500));
  });
});
