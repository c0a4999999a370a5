import { AVAILABLE_DIALECTS, createTestStore, type TestStore } from '../../test/helpers/dialect';
import type { ChangeNotifier } from '../changes/change-notifier';
import { type AppConfig, loadConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { bindTracing, type GroupTrace, type QueuedTrace, type SpanAttributes, tracing } from '../common/tracing/tracing';
import { type DatabaseConnection, openDatabase } from '../database/database-connection';
import { seedDemoData } from '../database/demo-data';
import { migrateToLatest } from '../database/migrate';
import { fingerprintUpdate } from '../idempotency/fingerprint';
import { Metrics } from '../metrics/metrics';
import type { UpdateCommand } from './domain/update-command';
import { InventoryRepository, type InventoryWriteTransaction } from './persistence/inventory.repository';
import { inventoryRepositoryFor } from './persistence/inventory-repository.factory';
import type { JobResult, UpdateJob } from './update-job';
import { UpdateProcessor } from './update-processor';
import type { Settled } from './update-queue';

class FakeClock extends Clock {
  time = Date.parse('2026-01-01T00:00:00.000Z');
  now(): Date {
    return new Date(this.time);
  }
}

/** The real adapter, except that touching product `EXPLODES` fails like a broken statement would. */
class ExplodingRepository extends InventoryRepository {
  constructor(private readonly inner: InventoryRepository) {
    super();
  }
  findLevel = (storeId: string, productId: string) => this.inner.findLevel(storeId, productId);
  findLevelsOfProduct = (productId: string) => this.inner.findLevelsOfProduct(productId, '*');
  levelPage = (storeId: string, after: string | undefined, limit: number) => this.inner.levelPage(storeId, after, limit);
  write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T> {
    return this.inner.write((transaction) => {
      const lockLevels = transaction.lockLevels.bind(transaction);
      transaction.lockLevels = (levels, now) =>
        levels.some((level) => level.productId === 'EXPLODES') ? Promise.reject(new Error('statement failed')) : lockLevels(levels, now);
      return work(transaction);
    });
  }
}

function command(productId: string, delta: number, expectedVersion: number, idempotencyKey: string): UpdateCommand {
  return { storeId: 'store-1', productId, delta, expectedVersion, idempotencyKey };
}

function job(commands: UpdateCommand[], atomic = false, clientId = 'client-a'): UpdateJob {
  return {
    clientId,
    requestId: `req-${commands[0].idempotencyKey}`,
    atomic,
    items: commands.map((item) => ({ type: 'adjust' as const, command: item, fingerprint: fingerprintUpdate({ ...item, version: item.expectedVersion }) })),
  };
}

function value(settled: Settled<JobResult>): JobResult {
  if (!settled.ok) {
    throw settled.error;
  }
  return settled.value;
}

interface RecordedGroup {
  readonly origins: ReadonlyArray<QueuedTrace | undefined>;
  readonly attributes: Record<string, unknown>;
  readonly errors: unknown[];
  ran: number;
  ended: number;
}

/** Tracing that records the group spans the processor asks for. */
function recordGroups(): RecordedGroup[] {
  const groups: RecordedGroup[] = [];
  bindTracing({
    ...tracing,
    enabled: true,
    startGroup(origins, attributes: SpanAttributes): GroupTrace {
      const group: RecordedGroup = { origins, attributes: { ...attributes }, errors: [], ran: 0, ended: 0 };
      groups.push(group);
      return {
        run: (work) => {
          group.ran += 1;
          return work();
        },
        setAttributes: (more) => Object.assign(group.attributes, more),
        recordError: (error) => group.errors.push(error),
        end: () => (group.ended += 1),
      };
    },
  });
  return groups;
}

describe.each(AVAILABLE_DIALECTS)('UpdateProcessor (on %s)', (dialect) => {
  let store: TestStore;
  let connection: DatabaseConnection;
  let clock: FakeClock;
  let processor: UpdateProcessor;
  let config: AppConfig;
  let published: number[];

  beforeEach(async () => {
    store = await createTestStore(dialect);
    config = loadConfig({ ...store.env, IDEMPOTENCY_TTL_SECONDS: '60' });
    connection = openDatabase(config);
    await migrateToLatest(connection);
    clock = new FakeClock();
    await seedDemoData(connection.db, clock.now());
    published = [];
    const notifier = { committed: (seq: number) => published.push(seq) } as unknown as ChangeNotifier;
    processor = new UpdateProcessor(new ExplodingRepository(inventoryRepositoryFor(connection)), clock, notifier, new Metrics(), config);
  });

  afterEach(async () => {
    bindTracing();
    await connection.close();
    await store.dispose();
  });

  const level = (productId: string) =>
    connection.db.selectFrom('stock_levels').selectAll().where('store_id', '=', 'store-1').where('product_id', '=', productId).executeTakeFirstOrThrow();
  const ledger = () => connection.db.selectFrom('ledger').selectAll().orderBy('seq').execute();
  const records = () => connection.db.selectFrom('idempotency_records').selectAll().orderBy('idempotency_key').execute();

  it('commits a group in one go, with gap-free ledger seqs in arrival order', async () => {
    const settled = await processor.processGroup([job([command('SKU-001', 5, 12, 'a')]), job([command('SKU-002', -3, 8, 'b'), command('SKU-001', 1, 13, 'c')])]);
    expect(settled.map((item) => value(item).items.map((result) => result.kind))).toEqual([['executed'], ['executed', 'executed']]);
    expect(await level('SKU-001')).toMatchObject({ quantity: 51, version: 14 });
    expect((await ledger()).map((row) => [row.seq, row.product_id, row.delta, row.version_after, row.idempotency_key, row.kind])).toEqual([
      [1, 'SKU-001', 5, 13, 'a', 'adjust'],
      [2, 'SKU-002', -3, 9, 'b', 'adjust'],
      [3, 'SKU-001', 1, 14, 'c', 'adjust'],
    ]);
    // Waiting feed readers learn of the commit's last seq.
    expect(published).toEqual([3]);
  });

  it('isolates a job that fails unexpectedly: its neighbours still commit', async () => {
    const settled = await processor.processGroup([
      job([command('SKU-001', 5, 12, 'a')]),
      job([command('EXPLODES', 1, 0, 'b')]),
      job([command('SKU-002', 1, 8, 'c')]),
    ]);
    expect(settled[0].ok).toBe(true);
    expect(settled[1]).toEqual({ ok: false, error: new Error('statement failed') });
    expect(settled[2].ok).toBe(true);
    expect((await ledger()).map((row) => [row.seq, row.idempotency_key])).toEqual([
      [1, 'a'],
      [2, 'c'],
    ]);
    expect((await records()).map((record) => record.idempotency_key).sort()).toEqual(['a', 'c']);
  });

  it('with tracing on, runs a group in its span, linked to the jobs it carries, and records what became of them', async () => {
    const groups = recordGroups();
    const origin: QueuedTrace = { context: 'request-a', enqueuedAt: 1 };
    await processor.processGroup([
      { ...job([command('SKU-001', 5, 12, 'a')]), trace: origin },
      job([command('EXPLODES', 1, 0, 'b')]),
      job([command('SKU-002', 1, 8, 'c'), command('SKU-003', 1, 999, 'd')]),
      job([command('SKU-001', 5, 12, 'a')]),
    ]);
    expect(groups).toHaveLength(1);
    // Failed twice: as a group, then the bad job alone.
    const failure = new Error('statement failed');
    expect(groups[0]).toMatchObject({ origins: [origin, undefined, undefined, undefined], ran: 1, ended: 1, errors: [failure, failure] });
    expect(groups[0].attributes).toEqual({
      'inventory.group.requests': 4,
      'inventory.group.updates': 5,
      'db.system.name': dialect === 'postgres' ? 'postgresql' : 'sqlite',
      // The group failed as a whole, so each job ran alone; a and c were written, at seqs 1 and 2.
      'inventory.group.isolated': true,
      'inventory.ledger.last_seq': 2,
      'inventory.group.applied': 2,
      'inventory.group.rejected': 1,
      'inventory.group.replayed': 1,
      'inventory.group.key_reused': 0,
      'inventory.group.failed_requests': 1,
    });
  });

  it('with tracing off, starts no span', async () => {
    const groups = recordGroups();
    bindTracing();
    await processor.processGroup([job([command('SKU-001', 5, 12, 'a')])]);
    expect(groups).toEqual([]);
  });

  it('replays a key used earlier in the same group, and refuses it for another payload', async () => {
    const [first, again, other] = await processor.processGroup([
      job([command('SKU-001', 5, 12, 'k')]),
      job([command('SKU-001', 5, 12, 'k')]),
      job([command('SKU-001', 6, 12, 'k')]),
    ]);
    const original = value(first).items[0];
    expect(original).toMatchObject({ kind: 'executed', applied: true, stored: true });
    expect(value(again).items[0]).toEqual({ kind: 'replayed', response: (original as { response: unknown }).response, expiresAt: new Date(clock.time + 60_000) });
    expect(value(other).items[0]).toEqual({ kind: 'key-reused' });
    expect(await level('SKU-001')).toMatchObject({ quantity: 50, version: 13 });
  });

  it('scopes keys to the client', async () => {
    const [mine, theirs] = await processor.processGroup([job([command('SKU-001', 5, 12, 'k')]), job([command('SKU-002', 1, 8, 'k')], false, 'client-b')]);
    expect(value(mine).items[0]).toMatchObject({ kind: 'executed', applied: true });
    expect(value(theirs).items[0]).toMatchObject({ kind: 'executed', applied: true });
  });

  it('applies an atomic batch entirely, or nothing of it', async () => {
    const failing = job([command('SKU-003', 10, 15, 'x1'), command('SKU-004', -5, 999, 'x2'), command('SKU-005', -1, 3, 'x3')], true);
    const [aborted] = await processor.processGroup([failing]);
    const items = value(aborted).items;
    expect(items.map((item) => item.kind === 'executed' && [item.applied, item.stored, JSON.parse(item.response.body).code])).toEqual([
      [false, false, 'BATCH_ABORTED'],
      [false, false, 'VERSION_CONFLICT'],
      [false, false, 'BATCH_ABORTED'],
    ]);
    expect(await level('SKU-003')).toMatchObject({ quantity: 67, version: 15 });
    expect(await ledger()).toEqual([]);
    expect(await records()).toEqual([]);

    // Nothing was stored, so the corrected batch runs afresh with the same keys.
    const fixed = job([command('SKU-003', 10, 15, 'x1'), command('SKU-004', -5, 6, 'x2'), command('SKU-005', -1, 3, 'x3')], true);
    const [applied] = await processor.processGroup([fixed]);
    expect(value(applied).items.every((item) => item.kind === 'executed' && item.applied)).toBe(true);
    expect((await ledger()).map((row) => row.seq)).toEqual([1, 2, 3]);
  });

  it('keeps an aborted atomic batch from disturbing the rest of its group', async () => {
    const [before, atomic, after] = await processor.processGroup([
      job([command('SKU-001', 1, 12, 'a')]),
      job([command('SKU-002', 1, 8, 'b1'), command('SKU-006', -1, 18, 'b2')], true),
      job([command('SKU-002', 2, 8, 'c')]),
    ]);
    expect(value(before).items[0]).toMatchObject({ applied: true });
    expect(value(atomic).items.map((item) => item.kind === 'executed' && item.applied)).toEqual([false, false]);
    expect(value(after).items[0]).toMatchObject({ applied: true });
    expect((await ledger()).map((row) => [row.seq, row.idempotency_key])).toEqual([
      [1, 'a'],
      [2, 'c'],
    ]);
  });

  it('lets later items of a group see earlier items’ changes to the same level', async () => {
    const [batch, single] = await processor.processGroup([
      job([command('SKU-001', 5, 12, 'a'), command('SKU-001', -50, 13, 'b')]),
      job([command('SKU-001', 1, 14, 'c')]),
    ]);
    expect(value(batch).items.map((item) => item.kind === 'executed' && item.applied)).toEqual([true, true]);
    expect(value(single).items[0]).toMatchObject({ applied: true });
    expect(await level('SKU-001')).toMatchObject({ quantity: 1, version: 15 });
    expect((await ledger()).map((row) => [row.quantity_after, row.version_after])).toEqual([
      [50, 13],
      [0, 14],
      [1, 15],
    ]);
  });

  it('hands a key left free by an aborted atomic job to a later job of the same group', async () => {
    const [atomic, later] = await processor.processGroup([
      job([command('SKU-001', 1, 12, 'shared'), command('SKU-002', 1, 999, 'other')], true),
      job([command('SKU-003', 1, 15, 'shared')]),
    ]);
    expect(value(atomic).items.map((item) => item.kind === 'executed' && item.stored)).toEqual([false, false]);
    expect(value(later).items[0]).toMatchObject({ kind: 'executed', applied: true, stored: true });
    const stored = await records();
    expect(stored.map((record) => [record.idempotency_key, record.status_code])).toEqual([['shared', 200]]);
  });

  it('lets an expired key be used afresh', async () => {
    await processor.processGroup([job([command('SKU-001', 5, 12, 'k')])]);
    clock.time += 60_000;
    const [again] = await processor.processGroup([job([command('SKU-001', 1, 13, 'k')])]);
    expect(value(again).items[0]).toMatchObject({ kind: 'executed', applied: true });
    expect(await level('SKU-001')).toMatchObject({ quantity: 51, version: 14 });
  });

  it('stores definitive rejections for replay', async () => {
    await processor.processGroup([job([command('SKU-001', 5, 10, 'conflict'), command('NOPE', 1, 0, 'missing')])]);
    const stored = await records();
    expect(stored.map((record) => [record.idempotency_key, record.status_code]).sort()).toEqual([
      ['conflict', 409],
      ['missing', 404],
    ]);
  });
});
