import { DatabaseConnection } from '../src/database/database-connection';
import { InventoryRepository, type InventoryWriteTransaction } from '../src/inventory/persistence/inventory.repository';
import type { StoreScope } from '../src/config/app-config';
import { inventoryRepositoryFor } from '../src/inventory/persistence/inventory-repository.factory';
import { InventoryService } from '../src/inventory/inventory.service';
import { getLevel, postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';
import { waitFor } from './helpers/wait';

/** The real repository, but every write transaction waits until the test opens the gate. */
class GatedRepository extends InventoryRepository {
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => undefined;
  started = 0;

  constructor(private readonly inner: InventoryRepository) {
    super();
  }

  findLevel = (storeId: string, productId: string) => this.inner.findLevel(storeId, productId);
  findLevelsOfProduct = (productId: string, scope: StoreScope) => this.inner.findLevelsOfProduct(productId, scope);
  levelPage = (storeId: string, after: string | undefined, limit: number) => this.inner.levelPage(storeId, after, limit);

  close(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  open(): void {
    this.openGate();
  }

  async write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T> {
    this.started += 1;
    await this.gate;
    return this.inner.write(work);
  }
}

const update = (productId: string, version: number, idempotencyKey: string) => ({ storeId: 'store-1', productId, delta: 1, version, idempotencyKey });

describe('queue limits', () => {
  let app: TestApp;
  let repository: GatedRepository;
  const queueLoad = () => app.app.get(InventoryService).queueLoad;

  async function start(env: Record<string, string>): Promise<void> {
    app = await startApp({
      env,
      override: (builder) =>
        builder
          .overrideProvider(InventoryRepository)
          .useFactory({ factory: (connection: DatabaseConnection) => (repository = new GatedRepository(inventoryRepositoryFor(connection))), inject: [DatabaseConnection] }),
    });
  }

  afterEach(async () => {
    repository.open();
    await app.close();
  });

  it('answers 503 QUEUE_FULL with Retry-After when no room frees up within the submit timeout', async () => {
    await start({ QUEUE_CAPACITY: '2', QUEUE_SUBMIT_TIMEOUT_MS: '200' });
    repository.close();
    // One update being processed (held at the gate), two waiting: the queue is full. The first
    // goes in alone, so that the others cannot join its group.
    const accepted = [postUpdate(app, update('SKU-001', 12, 'a')).then((response) => response)];
    await waitFor('the first update processing', () => repository.started === 1);
    accepted.push(...[postUpdate(app, update('SKU-002', 8, 'b')), postUpdate(app, update('SKU-003', 15, 'c'))].map((call) => call.then((response) => response)));
    await waitFor('two updates queued', () => queueLoad().depth === 2);

    const started = Date.now();
    const rejected = await postUpdate(app, update('SKU-004', 6, 'd')).expect(503).expect('Retry-After', '1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(rejected.body).toMatchObject({ status: 503, code: 'QUEUE_FULL' });

    repository.open();
    expect((await Promise.all(accepted)).map((response) => response.status)).toEqual([200, 200, 200]);
    // The refused update was not applied, and is not remembered: its retry executes.
    expect(await getLevel(app, 'store-1', 'SKU-004')).toMatchObject({ quantity: 12, version: 6 });
    await postUpdate(app, update('SKU-004', 6, 'd')).expect(200);
  });

  it('admits a waiting submission when room frees up within the submit timeout', async () => {
    await start({ QUEUE_CAPACITY: '1', QUEUE_SUBMIT_TIMEOUT_MS: '5000' });
    repository.close();
    const first = postUpdate(app, update('SKU-001', 12, 'a')).then((response) => response);
    await waitFor('the first update processing', () => repository.started === 1);
    const second = postUpdate(app, update('SKU-002', 8, 'b')).then((response) => response);
    await waitFor('the second update queued', () => queueLoad().depth === 1);
    // The queue is full: the third waits for room.
    const third = postUpdate(app, update('SKU-003', 15, 'c')).then((response) => response);
    await waitFor('the third update waiting for room', () => queueLoad().blockedSubmitters === 1);
    repository.open();
    expect((await Promise.all([first, second, third])).map((response) => response.status)).toEqual([200, 200, 200]);
  });

  it('answers 504 when processing takes too long; the update still lands and a retry learns its outcome', async () => {
    await start({ PROCESSING_TIMEOUT_MS: '300' });
    repository.close();
    const timedOut = await postUpdate(app, update('SKU-001', 12, 'slow-001')).expect(504);
    expect(timedOut.body).toMatchObject({ status: 504, code: 'PROCESSING_TIMEOUT' });
    expect(timedOut.body.detail).toContain('same idempotency key');

    repository.open();
    await waitFor('the timed-out update to land', async () => (await getLevel(app, 'store-1', 'SKU-001')).version === 13);
    const retry = await postUpdate(app, update('SKU-001', 12, 'slow-001')).expect(200).expect('Idempotent-Replayed', 'true');
    expect(retry.body).toMatchObject({ newQuantity: 46, newVersion: 13, applied: true });
    expect(await getLevel(app, 'store-1', 'SKU-001')).toMatchObject({ quantity: 46, version: 13 });
  });
});
