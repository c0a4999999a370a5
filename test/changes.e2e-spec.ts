import { ChangesRepository } from '../src/changes/persistence/changes.repository';
import { KyselyChangesRepository } from '../src/changes/persistence/kysely-changes.repository';
import { DatabaseConnection } from '../src/database/database-connection';
import { postUpdate } from './helpers/inventory-client';
import { openSse } from './helpers/sse';
import { startApp, type TestApp } from './helpers/test-app';

const apply = (app: TestApp, productId: string, version: number, key: string, storeId = 'store-1', apiKey = 'demo') =>
  postUpdate(app, { storeId, productId, delta: 1, version, idempotencyKey: key }, apiKey).expect(200);

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
