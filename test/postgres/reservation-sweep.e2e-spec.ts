import { Client } from 'pg';
import { createTestStore, type TestStore } from '../helpers/dialect';
import { seededRandom } from '../helpers/load';
import { metricSample } from '../helpers/metrics';
import { type ServiceProcess, spawnServices } from '../helpers/service-process';
import { waitFor } from '../helpers/wait';

const PRODUCTS = Array.from({ length: 24 }, (_, index) => `SWEEP-${String(index).padStart(2, '0')}`);
const ON_HAND = 1000;
const RESERVATIONS_PER_ROUND = 20;
/** Holds given back while new ones are still being made, before the rounds stop. */
const GIVEN_BACK_UNDER_LOAD = 200;
const MAX_ROUNDS = 40;
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };

interface HeldLine {
  readonly reservationId: string;
  readonly productId: string;
  readonly quantity: number;
}

/**
 * Two service processes on one PostgreSQL database, both sweeping expired holds every 100 ms,
 * while holds keep being made through both and run out a second later: every hold is given back
 * exactly once, whichever sweeper or transaction got to its level first.
 */
describe('reservation sweepers of two instances on one PostgreSQL database', () => {
  let store: TestStore;
  let services: ServiceProcess[] = [];
  let sql: Client;

  beforeAll(async () => {
    store = await createTestStore('postgres');
    // Two processes compiling and starting at once on a shared, busy machine may take a while.
    services = await spawnServices(2, { ...store.env, LOG_LEVEL: 'warn', RESERVATION_MIN_TTL_SECONDS: '1', RESERVATION_SWEEP_INTERVAL_MS: '100' }, { startTimeoutMs: 120_000 });
    sql = new Client({ connectionString: store.env.DATABASE_URL });
    await sql.connect();
    const now = new Date().toISOString();
    for (const productId of PRODUCTS) {
      await sql.query(`insert into stock_levels (store_id, product_id, quantity, reserved, version, last_updated) values ('store-1', $1, $2, 0, 0, $3)`, [productId, ON_HAND, now]);
    }
  }, 180_000);

  afterAll(async () => {
    await sql?.end();
    await Promise.all(services.map((service) => service.stop('SIGKILL')));
    await store.dispose();
  });

  const expiredBy = async (service: ServiceProcess) => metricSample(await (await fetch(`${service.url}/metrics`)).text(), 'inventory_reservation_holds_expired_total') ?? 0;

  it('gives every expired hold back exactly once, and every level ends with nothing reserved', async () => {
    const random = seededRandom(7);
    const held: HeldLine[] = [];
    const unexpected: string[] = [];

    async function hold(service: ServiceProcess, key: string): Promise<void> {
      const products = [...PRODUCTS].sort(() => random() - 0.5).slice(0, 3);
      const lines = products.map((productId) => ({ productId, quantity: 1 + Math.floor(random() * 3) }));
      const response = await fetch(`${service.url}/v1/reservations`, {
        method: 'POST',
        headers: HEADERS,
        body: JSON.stringify({ storeId: 'store-1', lines, ttlSeconds: 1, idempotencyKey: key }),
      });
      const text = await response.text();
      if (response.status !== 201) {
        unexpected.push(`${response.status} ${text}`);
        return;
      }
      const { reservationId } = JSON.parse(text) as { reservationId: string };
      held.push(...lines.map((line) => ({ reservationId, ...line })));
    }

    // Holds made through both instances, round after round, while earlier ones run out: sweepers
    // and the transactions of new holds race to give the same holds back. The rounds go on until
    // both instances have given holds back, and many were given back while holds were being made.
    const givenBack = async () => [await expiredBy(services[0]), await expiredBy(services[1])];
    for (let round = 0; ; round += 1) {
      const counts = await givenBack();
      if (counts[0] > 0 && counts[1] > 0 && counts[0] + counts[1] >= GIVEN_BACK_UNDER_LOAD) {
        break;
      }
      if (round === MAX_ROUNDS) {
        throw new Error(`after ${MAX_ROUNDS} rounds, holds given back per instance: ${counts.join(', ')}`);
      }
      await Promise.all(Array.from({ length: RESERVATIONS_PER_ROUND }, (_, index) => hold(services[index % 2], `sweep-${round}-${index}`)));
    }
    expect(unexpected).toEqual([]);

    await waitFor(
      'every hold to be given back',
      async () => {
        const { rows } = await sql.query<{ held: string; reserved: string }>(
          `select (select count(*) from reservation_lines where state = 'held') as held, (select coalesce(sum(reserved), 0) from stock_levels) as reserved`,
        );
        return Number(rows[0].held) === 0 && Number(rows[0].reserved) === 0;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    // Exactly one expire entry per line held, and none for anything else.
    const { rows: expiries } = await sql.query<{ reservation_id: string; product_id: string; entries: string }>(
      `select reservation_id, product_id, count(*) as entries from ledger where kind = 'expire' group by reservation_id, product_id`,
    );
    const expected = held.map((line) => `${line.reservationId}/${line.productId}`).sort();
    expect(expiries.map((row) => `${row.reservation_id}/${row.product_id}`).sort()).toEqual(expected);
    expect(expiries.filter((row) => Number(row.entries) !== 1)).toEqual([]);

    // Each level's ledger adds up: every entry one version on, reserved moving by exactly its hold.
    const quantities = new Map(held.map((line) => [`${line.reservationId}/${line.productId}`, line.quantity]));
    const { rows: ledger } = await sql.query<{ product_id: string; kind: string; reservation_id: string; quantity_after: string; reserved_after: string; version_after: string }>(
      `select product_id, kind, reservation_id, quantity_after, reserved_after, version_after from ledger where store_id = 'store-1' and product_id like 'SWEEP-%' order by seq`,
    );
    const walk = new Map(PRODUCTS.map((productId) => [productId, { reserved: 0, version: 0 }]));
    const broken: unknown[] = [];
    for (const entry of ledger) {
      const level = walk.get(entry.product_id)!;
      const units = quantities.get(`${entry.reservation_id}/${entry.product_id}`) ?? NaN;
      const reserved = level.reserved + (entry.kind === 'reserve' ? units : -units);
      if (Number(entry.version_after) !== level.version + 1 || Number(entry.reserved_after) !== reserved || Number(entry.quantity_after) !== ON_HAND) {
        broken.push({ entry, before: { ...level } });
      }
      walk.set(entry.product_id, { reserved: Number(entry.reserved_after), version: Number(entry.version_after) });
    }
    expect(broken).toEqual([]);
    expect(ledger).toHaveLength(held.length * 2);

    const { rows: levels } = await sql.query<{ product_id: string; quantity: string; reserved: string; version: string }>(
      `select product_id, quantity, reserved, version from stock_levels where store_id = 'store-1' and product_id like 'SWEEP-%' order by product_id`,
    );
    expect(levels.map((level) => [level.product_id, Number(level.quantity), Number(level.reserved), Number(level.version)])).toEqual(
      PRODUCTS.map((productId) => [productId, ON_HAND, 0, walk.get(productId)!.version]),
    );

    // Each instance counts the holds it gave back; together, each hold once.
    const counted = await givenBack();
    expect(counted.every((count) => count > 0)).toBe(true);
    expect(counted[0] + counted[1]).toBe(held.length);
  }, 180_000);
});
