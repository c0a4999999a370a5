import { Client } from 'pg';
import { MIGRATION_NAMES } from '../../src/database/migrations';
import { createTestStore, type TestStore } from '../helpers/dialect';
import { type Acknowledged, isGapFree, readModifyWriteClient } from '../helpers/load';
import { type ServiceProcess, spawnServices } from '../helpers/service-process';
import { waitFor } from '../helpers/wait';

const INSTANCES = 3;
const CLIENTS = 32;
const UPDATES_PER_CLIENT = 12;
const BURSTS = 15;
const PRODUCTS = ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005', 'SKU-006', 'SKU-007', 'SKU-008'];
/**
 * A level only the bursts change: the version a burst reads there is still current when it is
 * sent, so those bursts apply (once), while the others race the clients on their levels and may
 * all meet a newer version.
 */
const QUIET_PRODUCT = 'SKU-009';
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };

interface LevelRow {
  product_id: string;
  quantity: number;
  version: number;
}

/**
 * Three real service processes on one fresh PostgreSQL database, driven by 32 concurrent
 * read-modify-write clients spread across them, plus bursts of one idempotency key sent to all
 * three at once. Every guarantee must hold across processes.
 */
describe('several instances on one PostgreSQL database', () => {
  let store: TestStore;
  let services: ServiceProcess[] = [];
  let sql: Client;

  beforeAll(async () => {
    store = await createTestStore('postgres');
    // Started together on an empty database: migrations serialise, one instance seeds.
    services = await spawnServices(INSTANCES, { ...store.env, LOG_LEVEL: 'warn' });
    sql = new Client({ connectionString: store.env.DATABASE_URL });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await Promise.all(services.map((service) => service.stop('SIGKILL')));
    await store.dispose();
  });

  const levels = async () =>
    new Map((await sql.query<LevelRow>(`select product_id, quantity::int, version::int from stock_levels where store_id = 'store-1'`)).rows.map((row) => [row.product_id, row]));

  /** Reads a level, then sends one identical update to every instance at the same moment. */
  async function burst(index: number): Promise<{ ack?: Acknowledged; answers: Array<{ status: number; text: string }> }> {
    const productId = index % 2 === 0 ? QUIET_PRODUCT : PRODUCTS[index % PRODUCTS.length];
    const level = (await (await fetch(`${services[index % INSTANCES].url}/v1/stores/store-1/inventory/${productId}`, { headers: HEADERS })).json()) as { version: number };
    const idempotencyKey = `burst-${index}`;
    const body = JSON.stringify({ storeId: 'store-1', productId, delta: 1, version: level.version, idempotencyKey });
    const answers = await Promise.all(
      services.map(async (service) => {
        const response = await fetch(`${service.url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body });
        return { status: response.status, text: await response.text() };
      }),
    );
    const applied = answers.find((answer) => answer.status === 200);
    if (applied === undefined) {
      return { answers };
    }
    const { newVersion, newQuantity } = JSON.parse(applied.text) as { newVersion: number; newQuantity: number };
    return { answers, ack: { storeId: 'store-1', productId, delta: 1, newVersion, newQuantity, idempotencyKey } };
  }

  const headSeq = async () => Number((await sql.query<{ last_seq: string }>('select last_seq from ledger_head')).rows[0].last_seq);

  /** Bursts spread over the clients' run: each next one once the clients have applied more changes. */
  async function bursts(clientsRunning: () => boolean): Promise<Array<Awaited<ReturnType<typeof burst>> & { duringLoad: boolean }>> {
    const results = [];
    for (let index = 0; index < BURSTS; index += 1) {
      results.push({ ...(await burst(index)), duringLoad: clientsRunning() });
      const seq = await headSeq();
      await waitFor('the clients to apply more changes', async () => !clientsRunning() || (await headSeq()) >= seq + INSTANCES);
    }
    return results;
  }

  it('came up three times on one database that was migrated once and seeded once', async () => {
    const migrations = await sql.query('select name from kysely_migration order by name');
    expect(migrations.rows).toEqual(MIGRATION_NAMES.map((name) => ({ name })));
    expect((await levels()).size).toBe(10);
  });

  it('loses no update, applies no key twice and never goes negative, across instances', async () => {
    const initial = await levels();
    let clientsRunning = true;
    const [clientStats, burstResults] = await Promise.all([
      Promise.all(
        Array.from({ length: CLIENTS }, (_, index) =>
          readModifyWriteClient({
            baseUrls: services.map((service) => service.url),
            apiKey: 'demo',
            storeId: 'store-1',
            productIds: PRODUCTS,
            updates: UPDATES_PER_CLIENT,
            clientId: `client-${index}`,
            seed: 1000 + index,
          }),
        ),
      ).finally(() => (clientsRunning = false)),
      bursts(() => clientsRunning),
    ]);

    expect(clientStats.flatMap((stats) => stats.unexpected)).toEqual([]);
    // Every instance gave the same answer to the same key, byte for byte.
    for (const { answers } of burstResults) {
      expect(new Set(answers.map((answer) => `${answer.status} ${answer.text}`)).size).toBe(1);
      expect([200, 409]).toContain(answers[0].status);
    }
    // The runs really raced: clients collided, and bursts applied (once each), the quiet level's every one.
    expect(clientStats.reduce((sum, stats) => sum + stats.conflicts, 0)).toBeGreaterThan(0);
    expect(burstResults.filter((result, index) => index % 2 === 0 && result.ack === undefined)).toEqual([]);
    expect(burstResults.filter((result) => result.duringLoad).length).toBeGreaterThan(0);
    const acknowledged: Acknowledged[] = [
      ...clientStats.flatMap((stats) => stats.acknowledged),
      ...burstResults.flatMap((result) => (result.ack ? [result.ack] : [])),
    ];
    expect(acknowledged.length).toBeGreaterThanOrEqual(CLIENTS * UPDATES_PER_CLIENT);

    const final = await levels();
    for (const productId of [...PRODUCTS, QUIET_PRODUCT]) {
      const mine = acknowledged.filter((ack) => ack.productId === productId);
      const start = initial.get(productId)!;
      expect(final.get(productId)!.quantity).toBe(start.quantity + mine.reduce((sum, ack) => sum + ack.delta, 0));
      expect(isGapFree(mine.map((ack) => ack.newVersion), start.version)).toBe(true);
      expect(final.get(productId)!.version).toBe(start.version + mine.length);
    }

    const ledger = await sql.query<{ seq: string; idempotency_key: string; product_id: string; quantity_after: string; delta: string }>(
      'select seq, idempotency_key, product_id, quantity_after, delta from ledger order by seq',
    );
    // Exactly the acknowledged changes, each key once, seqs without gaps, never below zero.
    expect(ledger.rows.map((row) => Number(row.seq))).toEqual(ledger.rows.map((_, index) => index + 1));
    expect(ledger.rows.map((row) => row.idempotency_key).sort()).toEqual(acknowledged.map((ack) => ack.idempotencyKey).sort());
    expect(ledger.rows.every((row) => Number(row.quantity_after) >= 0)).toBe(true);
    for (const productId of [...PRODUCTS, QUIET_PRODUCT]) {
      let quantity = initial.get(productId)!.quantity;
      for (const row of ledger.rows.filter((entry) => entry.product_id === productId)) {
        quantity += Number(row.delta);
        expect(Number(row.quantity_after)).toBe(quantity);
      }
    }
    const records = await sql.query(`select count(*)::int as open from idempotency_records where status_code = 0`);
    expect(records.rows[0]).toEqual({ open: 0 });
  });
});
