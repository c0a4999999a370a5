import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { StoreReplica } from '../examples/store-replica';
import { ChangesRepository } from '../src/changes/persistence/changes.repository';
import { KyselyChangesRepository } from '../src/changes/persistence/kysely-changes.repository';
import { DatabaseConnection } from '../src/database/database-connection';
import { metricSample, metricsOf } from './helpers/metrics';
import { openSse, type SseConnection } from './helpers/sse';
import { startApp, type TestApp } from './helpers/test-app';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from './helpers/wait';

const RETENTION = '2s';
const RETENTION_MS = 2000;
const PRUNING = { LEDGER_RETENTION: RETENTION, LEDGER_PRUNE_INTERVAL_MS: '200', RATE_LIMIT_PER_SECOND: '0' };
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };

/** The ledger's floor, head and rows, read by one statement (one consistent view on both dialects). */
interface LedgerState {
  readonly floor: number;
  readonly head: number;
  readonly kept: number;
  readonly first: number | null;
  readonly last: number | null;
}

async function ledgerState(app: TestApp): Promise<LedgerState> {
  const { rows } = await sql<Record<keyof LedgerState, number | string | null>>`
    select (select pruned_through from ledger_floor where id = 1) as floor,
           (select last_seq from ledger_head where id = 1) as head,
           (select count(*) from ledger) as kept,
           (select min(seq) from ledger) as first,
           (select max(seq) from ledger) as last`.execute(app.connection.db);
  const [row] = rows;
  const number = (value: number | string | null) => (value === null ? null : Number(value));
  return { floor: Number(row.floor), head: Number(row.head), kept: Number(row.kept), first: number(row.first), last: number(row.last) };
}

/** The rows kept are exactly floor+1 … head: none missing, none left below the floor. */
function contiguityProblem(state: LedgerState): string | undefined {
  const contiguous = state.kept === state.head - state.floor && (state.kept === 0 || (state.first === state.floor + 1 && state.last === state.head));
  return contiguous ? undefined : JSON.stringify(state);
}

/** One update of a writer: when it was sent, and when its answer arrived. */
interface Acknowledged {
  readonly key: string;
  readonly productId: string;
  readonly sentAt: number;
  readonly ackedAt: number;
  readonly newQuantity: number;
  readonly newVersion: number;
}

interface Writers {
  /** Every acknowledged update, by idempotency key. */
  readonly acknowledged: Map<string, Acknowledged>;
  readonly unexpected: string[];
  stop(): Promise<void>;
}

/**
 * One writer per level, each sending +1 at the version it knows, one update after the other,
 * until stopped: no conflicts, so every request commits.
 */
function startWriters(app: TestApp, storeId: string, productIds: readonly string[], prefix: string): Writers {
  const acknowledged = new Map<string, Acknowledged>();
  const unexpected: string[] = [];
  let running = true;
  const writers = productIds.map(async (productId) => {
    const level = await fetch(`${app.url}/v1/stores/${storeId}/inventory/${productId}`, { headers: HEADERS });
    let { version } = (await level.json()) as { version: number };
    for (let count = 1; running; count += 1) {
      const key = `${prefix}-${productId}-${count}`;
      const sentAt = Date.now();
      const response = await fetch(`${app.url}/v1/inventory/updates`, {
        method: 'POST',
        headers: HEADERS,
        body: JSON.stringify({ storeId, productId, delta: 1, version, idempotencyKey: key }),
      });
      const text = await response.text();
      const ackedAt = Date.now();
      if (response.status !== 200) {
        unexpected.push(`${response.status} ${text}`);
        return;
      }
      const { newQuantity, newVersion } = JSON.parse(text) as { newQuantity: number; newVersion: number };
      acknowledged.set(key, { key, productId, sentAt, ackedAt, newQuantity, newVersion });
      version = newVersion;
    }
  });
  return {
    acknowledged,
    unexpected,
    stop: async () => {
      running = false;
      await Promise.all(writers);
    },
  };
}

interface Observation extends LedgerState {
  /** When the read that saw this state had returned. */
  readonly at: number;
}

/** Reads the ledger's state every few ms until stopped, noting when the floor moved and any gap. */
function observeLedger(app: TestApp) {
  const floorMoves: Observation[] = [];
  const problems: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const state = await ledgerState(app);
      const observation = { ...state, at: Date.now() };
      const problem = contiguityProblem(state);
      if (problem !== undefined && problems.length < 5) {
        problems.push(problem);
      }
      if (floorMoves.length === 0 || state.floor > floorMoves[floorMoves.length - 1].floor) {
        floorMoves.push(observation);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    floorMoves,
    problems,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** The change events a stream received: seq, key and level state of each. */
function changesOf(connection: SseConnection): Array<{ seq: number; idempotencyKey: string | null; quantity: number; version: number }> {
  return connection.events
    .filter((event) => event.event === 'change')
    .map((event) => {
      const data = JSON.parse(event.data!) as { seq: number; idempotencyKey: string | null; quantity: number; version: number };
      expect(Number(event.id)).toBe(data.seq);
      return data;
    });
}

async function centralLevels(app: TestApp, storeId: string): Promise<Map<string, { quantity: number; version: number }>> {
  const response = await app.http().get(`/v1/stores/${storeId}/inventory?limit=500`).set('X-API-Key', 'demo').expect(200);
  const items = response.body.items as Array<{ productId: string; quantity: number; version: number }>;
  return new Map(items.map(({ productId, quantity, version }) => [productId, { quantity, version }]));
}

function replicaLevels(replica: StoreReplica): Map<string, { quantity: number; version: number }> {
  return new Map([...replica.levels].map(([productId, { quantity, version }]) => [productId, { quantity, version }]));
}

const sorted = (levels: Map<string, unknown>) => JSON.stringify([...levels].sort(([a], [b]) => a.localeCompare(b)));

/** Waits until every row is pruned (nothing is written meanwhile): then the floor is the head and stays there. */
async function prunedToHead(app: TestApp): Promise<LedgerState> {
  return waitFor('every change to be older than the retention and pruned', async () => {
    const state = await ledgerState(app);
    return state.floor === state.head && state.kept === 0 && state;
  }, { timeoutMs: 60_000, intervalMs: 50 });
}

describe(`ledger retention (LEDGER_RETENTION=${RETENTION})`, () => {
  let app: TestApp;
  let dir: string;

  beforeAll(async () => {
    app = await startApp({ env: PRUNING });
    dir = mkdtempSync(join(tmpdir(), 'retention-'));
  });

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prunes while updates commit, and a stream following the feed still gets every change in order', async () => {
    const start = await ledgerState(app);
    const stream = await openSse(`${app.url}/v1/changes/stream?after=${start.head}`, { 'X-API-Key': 'demo' });
    expect(stream.status).toBe(200);
    const observer = observeLedger(app);
    const writers = startWriters(app, 'store-1', ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004'], 'prune');
    let firstMove: Observation | undefined;
    try {
      // Pruning starts while the writers go on, and goes on until the floor has passed changes
      // committed after it started: pruning and updates overlap for more than the retention.
      await waitFor(
        'the floor to pass changes committed after pruning started',
        () => {
          firstMove ??= observer.floorMoves.find((move) => move.floor > start.floor);
          return firstMove !== undefined && observer.floorMoves[observer.floorMoves.length - 1].floor > firstMove.head + 20;
        },
        { timeoutMs: LOADED_MACHINE_TIMEOUT_MS / 2, intervalMs: 50 },
      );
    } finally {
      await writers.stop();
    }
    try {
      expect(writers.unexpected).toEqual([]);
      expect(observer.floorMoves.length).toBeGreaterThanOrEqual(3);

      // The stream got every change of the run, in seq order, without a gap, and did not expire.
      const head = (await ledgerState(app)).head;
      expect(head).toBe(start.head + writers.acknowledged.size);
      await stream.until((events) => events.some((event) => event.id === String(head)), 30_000);
      expect(stream.events.filter((event) => event.event === 'expired')).toEqual([]);
      const streamed = changesOf(stream);
      expect(streamed.map((change) => change.seq)).toEqual(Array.from({ length: head - start.head }, (_, index) => start.head + 1 + index));
      const seqOfKey = new Map<string, number>();
      for (const change of streamed) {
        const ack = writers.acknowledged.get(change.idempotencyKey ?? '');
        expect(ack).toBeDefined();
        expect({ quantity: change.quantity, version: change.version }).toEqual({ quantity: ack!.newQuantity, version: ack!.newVersion });
        seqOfKey.set(change.idempotencyKey!, change.seq);
      }
      expect(seqOfKey.size).toBe(writers.acknowledged.size);

      // Once nothing is written, every row gets older than the retention and goes; the counter counts each once.
      const end = await prunedToHead(app);
      expect(end.floor).toBe(head);
      expect(metricSample(await metricsOf(app), 'inventory_ledger_pruned_total')).toBe(end.floor - start.floor);
      await observer.stop();
      expect(observer.problems).toEqual([]);

      // Nothing newer than the window was pruned. A row's created_at is stamped after its request was
      // sent, and it is pruned only once older than the retention, before the observation that saw the
      // floor pass it: so its request was sent more than the retention before that observation. (The
      // acknowledgement comes after the commit, a little after created_at, so it is no such bound.)
      const tooEarly: string[] = [];
      let checked = 0;
      for (const [key, seq] of seqOfKey) {
        const seen = observer.floorMoves.find((move) => move.floor >= seq);
        if (seen === undefined) {
          continue;
        }
        checked += 1;
        const ack = writers.acknowledged.get(key)!;
        if (!(ack.sentAt < seen.at - RETENTION_MS)) {
          tooEarly.push(`seq ${seq}: sent ${seen.at - ack.sentAt} ms and acknowledged ${seen.at - ack.ackedAt} ms before the floor was seen past it`);
        }
      }
      expect(tooEarly.slice(0, 5)).toEqual([]);
      // Checked for every change the floor was seen to pass while the writers went on, at least.
      expect(checked).toBeGreaterThan(firstMove!.head + 20 - start.head);
    } finally {
      await observer.stop();
      stream.close();
    }
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('refuses a position below the floor with 410 FEED_POSITION_EXPIRED, on the long poll and before a stream starts', async () => {
    const writers = startWriters(app, 'store-1', ['SKU-005'], 'behind');
    await waitFor('a few changes', () => writers.acknowledged.size >= 5);
    await writers.stop();
    // Nothing is written now: once everything is pruned, the floor stays where it is.
    const { floor } = await prunedToHead(app);
    expect(floor).toBeGreaterThanOrEqual(5);
    const expired = { type: '/problems/feed-position-expired', status: 410, code: 'FEED_POSITION_EXPIRED', prunedThroughSeq: floor };

    for (const after of [floor - 1, 0]) {
      const response = await app.http().get(`/v1/changes?after=${after}&waitSeconds=1`).set('X-API-Key', 'demo');
      expect(response.status).toBe(410);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ ...expired, detail: expect.stringMatching(/fresh snapshot/) });
      const scoped = await app.http().get(`/v1/changes?storeId=store-1&after=${after}`).set('X-API-Key', 'demo');
      expect([scoped.status, scoped.body.prunedThroughSeq]).toEqual([410, floor]);
    }
    // A subscriber that sends no position starts at 0: told that the start is gone, not of a 0 it never sent.
    for (const path of ['/v1/changes', '/v1/changes/stream']) {
      const response = await app.http().get(path).set('X-API-Key', 'demo');
      expect([response.status, response.body.code]).toEqual([410, 'FEED_POSITION_EXPIRED']);
      expect(response.body.detail).toMatch(/^the start of the feed \(position 0, where a subscriber with no `after` or Last-Event-ID begins\) is older than what the ledger keeps: changes through \d+ were pruned/);
    }
    // The floor itself is a position the feed can follow from.
    expect((await app.http().get(`/v1/changes?after=${floor}`).set('X-API-Key', 'demo').expect(200)).body).toEqual({ changes: [], lastSeq: floor });

    for (const [headers, query] of [
      [{ 'Last-Event-ID': String(floor - 1) }, ''],
      [{}, `?after=${floor - 1}`],
      [{ 'Last-Event-ID': '0' }, '?storeId=store-1'],
    ] as const) {
      const abort = new AbortController();
      try {
        const response = await fetch(`${app.url}/v1/changes/stream${query}`, { headers: { 'X-API-Key': 'demo', ...headers }, signal: abort.signal });
        expect(response.status).toBe(410);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const text = await response.text();
        expect(text).not.toMatch(/^(id|event|data|retry):/m);
        expect(JSON.parse(text)).toMatchObject(expired);
      } finally {
        abort.abort();
      }
    }
    const atFloor = await openSse(`${app.url}/v1/changes/stream`, { 'X-API-Key': 'demo', 'Last-Event-ID': String(floor) });
    try {
      expect(atFloor.status).toBe(200);
      expect(atFloor.headers.get('content-type')).toContain('text/event-stream');
    } finally {
      atFloor.close();
    }
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('has the replica example take a fresh snapshot when its saved position was pruned, and converge while updates go on', async () => {
    const stateFile = join(dir, 'store-1.json');
    const log: string[] = [];
    const replica = new StoreReplica({ baseUrl: app.url, apiKey: 'demo', storeId: 'store-1', stateFile, waitSeconds: 1, log: (line) => log.push(line) });
    const writers = startWriters(app, 'store-1', ['SKU-006', 'SKU-007', 'SKU-008'], 'replica');
    try {
      let saved: number;
      try {
        const { floor } = await waitFor('the floor to move past changes of this test', async () => {
          const state = await ledgerState(app);
          return writers.acknowledged.size > 0 && state.floor >= state.head - writers.acknowledged.size + 5 && state;
        }, { timeoutMs: 60_000, intervalMs: 50 });
        // A copy saved before the floor passed its position: position and levels are stale.
        saved = floor - 1;
        const stale = { quantity: 1, reserved: 0, version: 999, lastUpdated: new Date(0).toISOString() };
        writeFileSync(stateFile, JSON.stringify({ storeId: 'store-1', lastSeq: saved, levels: { 'SKU-001': stale, 'SKU-GONE': stale } }));

        void replica.start();
        await waitFor('the replica’s fresh snapshot', () => replica.snapshots >= 1, { timeoutMs: 30_000 });
        const snapshotAt = replica.lastSeq;
        await waitFor('the replica to follow changes made after its snapshot', () => replica.lastSeq > snapshotAt + 20, { timeoutMs: 30_000 });
      } finally {
        await writers.stop();
      }
      expect(writers.unexpected).toEqual([]);
      const central = await centralLevels(app, 'store-1');
      await waitFor('the replica to equal the service’s levels', () => sorted(replicaLevels(replica)) === sorted(central), { timeoutMs: 30_000 }).catch(() =>
        expect(replicaLevels(replica)).toEqual(central),
      );
      const refusals = log.filter((line) => line.includes('the feed refused position'));
      // Its first refusal is of the saved position; each refusal (one more if it fell behind again on a busy machine) took one snapshot.
      expect(refusals[0]).toMatch(/^the feed refused position \d+ \(FEED_POSITION_EXPIRED: position \d+ is older than what the ledger keeps.*replacing the copy with a fresh snapshot$/);
      expect(refusals[0]).toContain(`refused position ${saved} (`);
      expect(replica.snapshots).toBe(refusals.length);
      expect(replica.lastSeq).toBeGreaterThan(saved);
      expect(replica.levels.has('SKU-GONE')).toBe(false);
    } finally {
      await replica.stop();
    }
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('shows in a level’s history the floor and the retention, and only the entries after the floor', async () => {
    const productId = 'SKU-001';
    // SKU-001 had many entries, all pruned by now or soon; new ones are kept for the retention.
    // The entries written here may be pruned before the history is read on a very busy machine: then try again.
    const page = await waitFor('a history read within the retention of its newest entries', async () => {
      const { version } = (await app.http().get(`/v1/stores/store-1/inventory/${productId}`).set('X-API-Key', 'demo').expect(200)).body as { version: number };
      for (let step = 0; step < 3; step += 1) {
        await app
          .http()
          .post('/v1/inventory/updates')
          .set('X-API-Key', 'demo')
          .send({ storeId: 'store-1', productId, delta: 1, version: version + step, idempotencyKey: `history-${version + step}` })
          .expect(200);
      }
      const before = await ledgerState(app);
      const response = await app.http().get(`/v1/stores/store-1/inventory/${productId}/history?limit=100`).set('X-API-Key', 'demo').expect(200);
      const after = await ledgerState(app);
      const body = response.body as { items: Array<{ seq: number; version: number }>; nextCursor: string | null; prunedThroughSeq: number; retention: string };
      expect(body.retention).toBe(RETENTION);
      expect(body.prunedThroughSeq).toBeGreaterThanOrEqual(before.floor);
      expect(body.prunedThroughSeq).toBeLessThanOrEqual(after.floor);
      expect(body.items.every((item) => item.seq > body.prunedThroughSeq)).toBe(true);
      return body.items.length > 0 && { ...body, version: version + 3 };
    }, { timeoutMs: 60_000, intervalMs: 10 });

    // Entries were pruned before these (the earlier tests wrote many), and the history shows the rest, newest first.
    expect(page.prunedThroughSeq).toBeGreaterThan(100);
    expect(page.items[0].version).toBe(page.version);
    const seqs = page.items.map((item) => item.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    // Every entry of the level still kept is in the page (pruning only removes more of them since).
    const kept = await app.connection.db.selectFrom('ledger').select('seq').where('store_id', '=', 'store-1').where('product_id', '=', productId).orderBy('seq', 'desc').execute();
    expect(kept.map((row) => Number(row.seq)).every((seq) => seqs.includes(seq))).toBe(true);
    // The level keeps its quantity and version.
    const level = (await app.http().get(`/v1/stores/store-1/inventory/${productId}`).set('X-API-Key', 'demo').expect(200)).body as { version: number };
    expect(level.version).toBe(page.version);
  }, LOADED_MACHINE_TIMEOUT_MS);
});

/** Calls pass while it is open; the test closes it to hold them at a chosen point. */
class Gate {
  private held: Promise<void> = Promise.resolve();
  private release = () => {};

  close(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release();
  }

  pass(): Promise<void> {
    return this.held;
  }
}

/**
 * The real changes repository, with gates: one before each read of newly committed changes (the
 * tail's reads: closed, the instance's tail falls behind the ledger), one between a history read
 * and its answer (closed, the answer waits while the pruner goes on).
 */
function gatedRepository(gates: { readonly tail: Gate; readonly history: Gate }) {
  return (builder: TestingModuleBuilder) =>
    builder.overrideProvider(ChangesRepository).useFactory({
      inject: [DatabaseConnection],
      factory: (connection: DatabaseConnection) => {
        const repository = new KyselyChangesRepository(connection);
        const range = repository.range.bind(repository);
        const historyPage = repository.historyPage.bind(repository);
        repository.range = async (after, upTo, limit) => {
          await gates.tail.pass();
          return range(after, upTo, limit);
        };
        repository.historyPage = async (storeId, productId, before, limit) => {
          const page = await historyPage(storeId, productId, before, limit);
          await gates.history.pass();
          return page;
        };
        return repository;
      },
    });
}

describe('reads that race the pruner', () => {
  const gates = { tail: new Gate(), history: new Gate() };
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ env: PRUNING, override: gatedRepository(gates) });
  });

  afterAll(async () => {
    gates.tail.open();
    gates.history.open();
    await app.close();
  });

  const bump = async (productId: string, key: string) => {
    const { version } = (await app.http().get(`/v1/stores/store-1/inventory/${productId}`).set('X-API-Key', 'demo').expect(200)).body as { version: number };
    await app.http().post('/v1/inventory/updates').set('X-API-Key', 'demo').send({ storeId: 'store-1', productId, delta: 1, version, idempotencyKey: key }).expect(200);
  };

  it('ends a stream whose position was pruned before the tail read it with an expired event, not with a gap', async () => {
    const start = await ledgerState(app);
    const stream = await openSse(`${app.url}/v1/changes/stream?after=${start.head}`, { 'X-API-Key': 'demo' });
    try {
      expect(stream.status).toBe(200);
      await waitFor('the stream to wait for changes', async () => metricSample(await metricsOf(app), 'inventory_feed_subscribers') === 1);
      // The tail does not read these changes until they are pruned, and two more are committed.
      gates.tail.close();
      await bump('SKU-001', 'lagging-1');
      await bump('SKU-002', 'lagging-2');
      await bump('SKU-003', 'lagging-3');
      const { floor } = await waitFor('the first changes to be pruned', async () => {
        const state = await ledgerState(app);
        return state.floor >= start.head + 3 && state;
      }, { timeoutMs: 30_000, intervalMs: 50 });
      await bump('SKU-004', 'lagging-4');
      await bump('SKU-005', 'lagging-5');
      gates.tail.open();

      const events = await stream.until((received) => received.some((event) => event.event === 'expired' || event.event === 'change'), 15_000);
      expect(events.filter((event) => event.event === 'change').map((event) => event.id)).toEqual([]);
      const expired = events.find((event) => event.event === 'expired');
      expect(JSON.parse(expired!.data!)).toMatchObject({ status: 410, code: 'FEED_POSITION_EXPIRED', prunedThroughSeq: expect.any(Number) });
      expect((JSON.parse(expired!.data!) as { prunedThroughSeq: number }).prunedThroughSeq).toBeGreaterThanOrEqual(floor);

      // The feed goes on from the floor: the changes after it are there, from the tail or the database.
      const page = await waitFor('a page from the floor', async () => {
        const { floor: now } = await ledgerState(app);
        const response = await app.http().get(`/v1/changes?after=${now}`).set('X-API-Key', 'demo');
        if (response.status === 410) {
          // Pruned further since the floor was read: read it again.
          expect(response.body.prunedThroughSeq).toBeGreaterThan(now);
          return undefined;
        }
        expect(response.status).toBe(200);
        return { now, seqs: (response.body.changes as Array<{ seq: number }>).map((change) => change.seq) };
      });
      expect(page.seqs).toEqual(Array.from({ length: start.head + 5 - page.now }, (_, index) => page.now + 1 + index));
    } finally {
      gates.tail.open();
      stream.close();
    }
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('answers a history whose entries were pruned while it was read with a floor they all lie after', async () => {
    await bump('SKU-009', 'history-race-1');
    await bump('SKU-009', 'history-race-2');
    const { head } = await ledgerState(app);
    // The entries are read, then the answer waits until the pruner has removed them.
    gates.history.close();
    const answer = app.http().get('/v1/stores/store-1/inventory/SKU-009/history').set('X-API-Key', 'demo').then((response) => response);
    try {
      await waitFor('the history’s entries to be pruned', async () => (await ledgerState(app)).floor >= head, { timeoutMs: 30_000, intervalMs: 50 });
    } finally {
      gates.history.open();
    }
    const response = await answer;
    expect(response.status).toBe(200);
    const { items, prunedThroughSeq } = response.body as { items: Array<{ seq: number }>; prunedThroughSeq: number };
    expect(items.map((item) => item.seq)).toEqual([head, head - 1]);
    // The floor the answer gives is one that its entries lie after: no entry is said to be pruned while it is shown.
    expect(prunedThroughSeq).toBeLessThan(head - 1);
  }, LOADED_MACHINE_TIMEOUT_MS);
});

describe('LEDGER_RETENTION=off', () => {
  let off: TestApp;
  /** The same service pruning at 1 s: when it has pruned everything, the rows of `off` are older than that too. */
  let pruning: TestApp;

  beforeAll(async () => {
    off = await startApp({ env: { LEDGER_RETENTION: 'off', LEDGER_PRUNE_INTERVAL_MS: '100' } });
    pruning = await startApp({ env: { LEDGER_RETENTION: '1s', LEDGER_PRUNE_INTERVAL_MS: '100' } });
  });

  afterAll(async () => {
    await off.close();
    await pruning.close();
  });

  it('never prunes: every change stays in the feed and the history, which says retention off', async () => {
    const write = async (app: TestApp) => {
      const writers = startWriters(app, 'store-1', ['SKU-001', 'SKU-002'], 'kept');
      await waitFor('some changes', () => writers.acknowledged.size >= 20);
      await writers.stop();
      expect(writers.unexpected).toEqual([]);
      return writers.acknowledged.size;
    };
    const written = await write(off);
    await write(pruning);
    await prunedToHead(pruning);

    expect(await ledgerState(off)).toEqual({ floor: 0, head: written, kept: written, first: 1, last: written });
    expect(metricSample(await metricsOf(off), 'inventory_ledger_pruned_total')).toBe(0);
    const feed = await off.http().get(`/v1/changes?after=0&limit=1000`).set('X-API-Key', 'demo').expect(200);
    expect(feed.body.changes.map((change: { seq: number }) => change.seq)).toEqual(Array.from({ length: written }, (_, index) => index + 1));
    const history = await off.http().get('/v1/stores/store-1/inventory/SKU-001/history?limit=500').set('X-API-Key', 'demo').expect(200);
    expect(history.body.retention).toBe('off');
    expect(history.body.prunedThroughSeq).toBe(0);
    const level = (await off.http().get('/v1/stores/store-1/inventory/SKU-001').set('X-API-Key', 'demo').expect(200)).body as { version: number };
    // Every change of the level since its start (version 12 in the demo data).
    expect(history.body.items).toHaveLength(level.version - 12);
    // The control: the pruning service's history says what it keeps.
    const pruned = await pruning.http().get('/v1/stores/store-1/inventory/SKU-001/history').set('X-API-Key', 'demo').expect(200);
    expect([pruned.body.retention, pruned.body.items]).toEqual(['1s', []]);
  }, LOADED_MACHINE_TIMEOUT_MS);
});
