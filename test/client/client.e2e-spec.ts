import { type Change, type FeedEvent, type FeedOptions, InventoryClient, InventoryHttpError, UpdateRejectedError } from '../../clients/typescript/src';
import { useServiceFixture } from '../helpers/service-fixture';
import { TEST_API_KEYS } from '../helpers/test-app';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from '../helpers/wait';

const ENV = { LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0', API_KEYS: TEST_API_KEYS };

/** A client whose requests are counted, so that a test sees what was (not) retried. */
function countingClient(url: string, apiKey = 'demo'): { client: InventoryClient; requests: () => number } {
  let sent = 0;
  const client = new InventoryClient({
    baseUrl: url,
    apiKey,
    fetch: (request) => {
      sent += 1;
      return fetch(request);
    },
  });
  return { client, requests: () => sent };
}

async function failureOf(call: Promise<unknown>): Promise<InventoryHttpError> {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof InventoryHttpError)) {
    throw new Error(`expected an InventoryHttpError, got ${String(error)}`);
  }
  return error;
}

/** Follows a feed in the background, collecting what it yields until stopped. */
function follow(client: InventoryClient, options: Omit<FeedOptions, 'signal'>) {
  const stop = new AbortController();
  const events: FeedEvent[] = [];
  const feed = client.changes({ ...options, signal: stop.signal });
  const done = (async () => {
    for await (const event of feed) {
      events.push(event);
    }
  })();
  const changes = (): Change[] => events.flatMap((event) => (event.type === 'changes' ? event.changes : []));
  return {
    feed,
    events,
    changes,
    done,
    stop: async () => {
      stop.abort();
      await done;
    },
  };
}

describe('client: calls against the service', () => {
  const fixture = useServiceFixture('suite');
  let url: string;

  beforeAll(async () => {
    url = (await fixture.spawn(ENV)).url;
  });

  it('throws decisions at once, as typed errors carrying the problem details', async () => {
    const { client, requests } = countingClient(url);

    const invalid = await failureOf(client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 0, version: 12 }));
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', attempts: 1, type: '/problems/validation-failed' });
    expect(invalid.errors).toEqual([{ field: 'delta', issue: expect.any(String) }]);
    expect(invalid.requestId).toEqual(expect.any(String));
    expect(invalid.detail).toContain('delta');
    expect(invalid.idempotencyKey).toEqual(expect.any(String));

    const conflict = await failureOf(client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 3 }));
    expect(conflict).toBeInstanceOf(UpdateRejectedError);
    expect(conflict).toMatchObject({ status: 409, code: 'VERSION_CONFLICT', currentVersion: 12, detail: 'version conflict: expected 12, got 3', attempts: 1 });

    const missing = await failureOf(client.update({ storeId: 'store-1', productId: 'SKU-404', delta: 1, version: 0 }));
    expect(missing).toBeInstanceOf(UpdateRejectedError);
    expect(missing).toMatchObject({ status: 404, code: 'LEVEL_NOT_FOUND', attempts: 1 });

    expect(await failureOf(countingClient(url, 'not-a-key').client.getLevel('store-1', 'SKU-001'))).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', attempts: 1 });
    expect(await failureOf(countingClient(url, 'pos1').client.getLevel('store-2', 'SKU-001'))).toMatchObject({ status: 403, code: 'STORE_FORBIDDEN', attempts: 1 });
    expect(requests()).toBe(3);
  });

  it('replays an update resent with its key, and refuses the key for another change (422), without retrying', async () => {
    const { client, requests } = countingClient(url);
    const first = await client.update({ storeId: 'store-1', productId: 'SKU-002', delta: 2, version: 8, idempotencyKey: 'client-e2e-1' });
    const again = await client.update({ storeId: 'store-1', productId: 'SKU-002', delta: 2, version: 8, idempotencyKey: 'client-e2e-1' });
    expect(first).toMatchObject({ applied: true, newQuantity: 25, newVersion: 9, replayed: false, idempotencyKey: 'client-e2e-1' });
    expect(again).toEqual({ ...first, replayed: true });

    const reused = await failureOf(client.update({ storeId: 'store-1', productId: 'SKU-002', delta: 3, version: 8, idempotencyKey: 'client-e2e-1' }));
    expect(reused).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED', attempts: 1 });
    expect(requests()).toBe(3);
  });

  it('keys every item of a batch; the batch resent with those keys is replayed item by item', async () => {
    const { client } = countingClient(url);
    const level = await client.getLevel('store-1', 'SKU-003');
    const batch = await client.updateBatch({
      storeId: 'store-1',
      updates: [
        { productId: 'SKU-003', delta: 1, version: level.version },
        { productId: 'SKU-004', delta: -1, version: 999 },
      ],
    });
    expect(batch.summary).toEqual({ total: 2, succeeded: 1, failed: 1 });
    expect(batch.results.map((result) => [result.applied, 'code' in result ? result.code : 'applied'])).toEqual([
      [true, 'applied'],
      [false, 'VERSION_CONFLICT'],
    ]);
    const keys = batch.results.map((result) => result.idempotencyKey);
    expect(new Set(keys).size).toBe(2);

    const resent = await client.updateBatch({
      storeId: 'store-1',
      updates: [
        { productId: 'SKU-003', delta: 1, version: level.version, idempotencyKey: keys[0] },
        { productId: 'SKU-004', delta: -1, version: 999, idempotencyKey: keys[1] },
      ],
    });
    expect(resent.results).toEqual(batch.results);
    expect((await client.getLevel('store-1', 'SKU-003')).version).toBe(level.version + 1);
  });

  it('holds with a key (a resend is replayed), commits and releases; a short hold is a typed 409 naming the lines', async () => {
    const { client } = countingClient(url);
    const before = await client.getLevel('store-1', 'SKU-009');
    const hold = await client.reserve({ storeId: 'store-1', lines: [{ productId: 'SKU-009', quantity: 2 }], reference: 'cart-1' });
    expect(hold).toMatchObject({ status: 'active', replayed: false });
    const resent = await client.reserve({ storeId: 'store-1', lines: [{ productId: 'SKU-009', quantity: 2 }], reference: 'cart-1', idempotencyKey: hold.idempotencyKey });
    expect(resent).toMatchObject({ reservationId: hold.reservationId, replayed: true });
    expect(await client.getLevel('store-1', 'SKU-009')).toMatchObject({ quantity: before.quantity, reserved: 2 });

    expect(await client.commitReservation(hold.reservationId)).toMatchObject({ status: 'committed' });
    // Idempotent by state: a commit repeated after a lost answer answers the reservation as it is.
    expect(await client.commitReservation(hold.reservationId)).toMatchObject({ status: 'committed' });
    expect(await client.getLevel('store-1', 'SKU-009')).toMatchObject({ quantity: before.quantity - 2, reserved: 0 });

    const abandoned = await client.reserve({ storeId: 'store-1', lines: [{ productId: 'SKU-009', quantity: 1 }] });
    expect(await client.releaseReservation(abandoned.reservationId)).toMatchObject({ status: 'released' });
    expect(abandoned.idempotencyKey).not.toBe(hold.idempotencyKey);

    const short = await failureOf(client.reserve({ storeId: 'store-1', lines: [{ productId: 'SKU-009', quantity: 1000 }] }));
    expect(short).toMatchObject({ status: 409, code: 'INSUFFICIENT_AVAILABLE', attempts: 1 });
    expect((short.body as { lines: unknown[] }).lines).toEqual([expect.objectContaining({ productId: 'SKU-009', requested: 1000 })]);
  });

  it.each(['long-poll', 'sse'] as const)('follows the feed (%s) from a snapshot’s lastSeq, and resumes from its position', async (transport) => {
    const { client } = countingClient(url);
    const snapshot = await client.listLevels('store-1');
    const following = follow(client, { storeId: 'store-1', after: snapshot.lastSeq, transport, waitSeconds: 5 });
    try {
      const keys: string[] = [];
      for (let index = 0; index < 3; index += 1) {
        const result = await client.adjustWithRetry('store-1', 'SKU-007', 1);
        if (result.applied) {
          keys.push(result.idempotencyKey);
        }
      }
      await waitFor(`the ${transport} feed to deliver the three changes`, () => keys.every((key) => following.changes().some((change) => change.idempotencyKey === key)));
      expect(following.changes().map((change) => change.idempotencyKey)).toEqual(keys);
      const seqs = following.changes().map((change) => change.seq);
      expect(seqs.every((seq, index) => seq > snapshot.lastSeq && (index === 0 || seq > seqs[index - 1]))).toBe(true);
      await waitFor('the feed’s position to reach its last change', () => following.feed.position >= seqs[2]);
    } finally {
      await following.stop();
    }

    // A feed started from where the last one stopped has only what came after.
    const later = await client.adjustWithRetry('store-1', 'SKU-007', 1);
    const resumed = follow(client, { storeId: 'store-1', after: following.feed.position, transport, waitSeconds: 5 });
    try {
      await waitFor('the resumed feed to deliver the later change', () => resumed.changes().length > 0);
      expect(resumed.changes().map((change) => change.idempotencyKey)).toEqual([later.applied ? later.idempotencyKey : 'none']);
    } finally {
      await resumed.stop();
    }
  });

  it.each(['long-poll', 'sse'] as const)('brings a fresh snapshot of the store (%s) when the position is beyond the feed, and goes on after it', async (transport) => {
    const { client } = countingClient(url);
    const expected = await client.snapshot('store-1');
    const following = follow(client, { storeId: 'store-1', after: 999_999, transport, waitSeconds: 5 });
    try {
      const snapshot = await waitFor('the snapshot', () => following.events.find((event) => event.type === 'snapshot'));
      expect(snapshot).toMatchObject({ code: 'FEED_POSITION_AHEAD', position: 999_999, lastSeq: expected.lastSeq, error: { status: 409, code: 'FEED_POSITION_AHEAD', body: { lastSeq: expected.lastSeq } } });
      expect(snapshot.levels.map((level) => [level.productId, level.quantity, level.version])).toEqual(expected.levels.map((level) => [level.productId, level.quantity, level.version]));
      expect(snapshot.levels.length).toBeGreaterThan(0);
      // The feed goes on after the snapshot: a change made now comes through it.
      const later = await client.adjustWithRetry('store-1', 'SKU-009', 1);
      await waitFor('the change after the snapshot', () => following.changes().length > 0);
      expect(following.changes().map((change) => change.idempotencyKey)).toEqual([later.applied ? later.idempotencyKey : 'none']);
      expect(following.events[0].type).toBe('snapshot');
    } finally {
      await following.stop();
    }
  });

  it.each(['long-poll', 'sse'] as const)('tells the caller of a feed of every store to take fresh snapshots (%s) when the position is beyond the feed, and ends', async (transport) => {
    const { client } = countingClient(url);
    const events: FeedEvent[] = [];
    for await (const event of client.changes({ after: 999_999, transport })) {
      events.push(event);
    }
    expect(events).toEqual([{ type: 'resnapshot', code: 'FEED_POSITION_AHEAD', position: 999_999, error: expect.any(InventoryHttpError) }]);
    const [refusal] = events;
    expect(refusal.type === 'resnapshot' && refusal.error).toMatchObject({ status: 409, code: 'FEED_POSITION_AHEAD', body: { lastSeq: expect.any(Number) } });
  });
});

describe('client: the feed across a restart and behind the retention', () => {
  const fixture = useServiceFixture('test');

  it('carries on through a restart of the service, from its last seq, without a gap or a repeat (long poll and stream)', async () => {
    const service = await fixture.spawn(ENV);
    const { port } = service;
    const client = new InventoryClient({ baseUrl: service.url, apiKey: 'demo', retry: { maxElapsedMs: 120_000, maxAttempts: 1_000, maxDelayMs: 500 } });
    const after = (await client.listLevels('store-1')).lastSeq;
    const feeds = [follow(client, { storeId: 'store-1', after, waitSeconds: 5 }), follow(client, { storeId: 'store-1', after, transport: 'sse' })];
    try {
      const keys = [(await client.update({ storeId: 'store-1', productId: 'SKU-008', delta: 1, version: 11 })).idempotencyKey];
      await waitFor('both feeds to deliver the change before the restart', () => feeds.every((following) => following.changes().length === 1));

      expect((await service.stop('SIGTERM')).code).toBe(0);
      await fixture.spawn({ ...ENV, PORT: String(port) });
      keys.push((await client.update({ storeId: 'store-1', productId: 'SKU-008', delta: 1, version: 12 })).idempotencyKey);
      await waitFor('both feeds to deliver the change after the restart', () => feeds.every((following) => following.changes().length >= 2), { timeoutMs: 60_000 });
      for (const following of feeds) {
        expect(following.changes().map((change) => [change.idempotencyKey, change.version])).toEqual([
          [keys[0], 12],
          [keys[1], 13],
        ]);
      }
    } finally {
      await Promise.all(feeds.map((following) => following.stop()));
    }
  }, LOADED_MACHINE_TIMEOUT_MS);

  it.each(['long-poll', 'sse'] as const)('brings a fresh snapshot of the store (%s) when the position is older than the ledger keeps', async (transport) => {
    const service = await fixture.spawn({ ...ENV, LEDGER_RETENTION: '1s', LEDGER_PRUNE_INTERVAL_MS: '100' });
    const client = new InventoryClient({ baseUrl: service.url, apiKey: 'demo' });
    const applied = await client.update({ storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12 });
    await waitFor('the ledger pruned', async () => (await client.history('store-1', 'SKU-001')).prunedThroughSeq > 0, { timeoutMs: 30_000 });

    const feed = client.changes({ storeId: 'store-1', after: 0, transport })[Symbol.asyncIterator]();
    const { value: event } = await feed.next();
    await feed.return?.();
    expect(event).toMatchObject({ type: 'snapshot', code: 'FEED_POSITION_EXPIRED', position: 0, error: { status: 410, code: 'FEED_POSITION_EXPIRED' } });
    const snapshot = (event as FeedEvent).type === 'snapshot' ? (event as Extract<FeedEvent, { type: 'snapshot' }>) : undefined;
    expect(snapshot?.levels.find((level) => level.productId === 'SKU-001')).toMatchObject({ quantity: applied.newQuantity, version: applied.newVersion });
    expect(snapshot?.lastSeq).toBe((await client.listLevels('store-1', { limit: 1 })).lastSeq);
  }, LOADED_MACHINE_TIMEOUT_MS);
});
