import { Client, type Notification } from 'pg';
import { createTestStore, type TestStore } from '../helpers/dialect';
import { metricSample } from '../helpers/metrics';
import { type ServiceProcess, spawnService, spawnServices } from '../helpers/service-process';
import { openSse, type SseConnection } from '../helpers/sse';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from '../helpers/wait';

const CHANNEL = 'inventory_changes';
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };
/** The long poll waits this long; a change must reach it far sooner, within DELIVERY_BOUND_MS. */
const WAIT_SECONDS = 20;
const DELIVERY_BOUND_MS = 5000;
const ROUNDS = 3;

async function subscribersOf(service: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  return metricSample(text, 'inventory_feed_subscribers') ?? 0;
}

/** Applies +1 to a store-1 level through `service`; returns the change's seq (from the ledger) and when it was acknowledged. */
async function commitThrough(sql: Client, service: ServiceProcess, productId: string, idempotencyKey: string): Promise<{ seq: number; acknowledgedAt: number }> {
  const level = (await (await fetch(`${service.url}/v1/stores/store-1/inventory/${productId}`, { headers: HEADERS })).json()) as { version: number };
  const response = await fetch(`${service.url}/v1/inventory/updates`, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({ storeId: 'store-1', productId, delta: 1, version: level.version, idempotencyKey }),
  });
  const acknowledgedAt = Date.now();
  expect(response.status).toBe(200);
  const { rows } = await sql.query<{ seq: string }>('select seq from ledger where idempotency_key = $1', [idempotencyKey]);
  expect(rows).toHaveLength(1);
  return { seq: Number(rows[0].seq), acknowledgedAt };
}

/** The feed's last seq, as an instance knows it. */
async function headOf(service: ServiceProcess): Promise<number> {
  const response = await fetch(`${service.url}/v1/changes?after=0&limit=1000`, { headers: HEADERS });
  expect(response.status).toBe(200);
  const page = (await response.json()) as { changes: unknown[]; lastSeq: number };
  expect(page.changes.length).toBeLessThan(1000);
  return page.lastSeq;
}

/**
 * Engines without LISTEN/NOTIFY: with FEED_NOTIFY=off an instance sends no NOTIFY and listens for
 * none, and its feed still shows another instance's commit within its head-read interval.
 */
describe('the change feed across instances without NOTIFY', () => {
  let store: TestStore;
  let writer: ServiceProcess;
  let reader: ServiceProcess;
  let control: ServiceProcess | undefined;
  let listener: Client;
  let sql: Client;
  const notifications: Notification[] = [];
  let stream: SseConnection | undefined;

  beforeAll(async () => {
    store = await createTestStore('postgres');
    [writer, reader] = await spawnServices(2, { ...store.env, LOG_LEVEL: 'warn', FEED_NOTIFY: 'off', FEED_POLL_INTERVAL_MS: '200' });
    listener = new Client({ connectionString: store.env.DATABASE_URL });
    await listener.connect();
    listener.on('notification', (notification) => notifications.push(notification));
    await listener.query(`listen ${CHANNEL}`);
    sql = new Client({ connectionString: store.env.DATABASE_URL });
    await sql.connect();
  }, LOADED_MACHINE_TIMEOUT_MS);

  afterAll(async () => {
    stream?.close();
    await listener?.end();
    await sql?.end();
    await Promise.all([writer, reader, control].flatMap((service) => (service === undefined ? [] : [service.stop('SIGKILL')])));
    await store?.dispose();
  });

  /** Instances of this database that LISTEN for commits. */
  const listeningInstances = async () =>
    (
      await sql.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'inventory-service-listener'`,
      )
    ).rows[0].n;

  it(
    'a long poll and a stream on one instance get a commit of the other within the poll interval, and nothing is notified',
    async () => {
      expect(await listeningInstances()).toBe(0);
      const start = await headOf(reader);
      stream = await openSse(`${reader.url}/v1/changes/stream?after=${start}`, { 'X-API-Key': 'demo' });
      expect(stream.status).toBe(200);
      const seqs: number[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        const position = start + round;
        const longPoll = fetch(`${reader.url}/v1/changes?after=${position}&waitSeconds=${WAIT_SECONDS}`, { headers: HEADERS }).then(async (response) => ({
          status: response.status,
          body: (await response.json()) as { changes: Array<{ seq: number; idempotencyKey: string }>; lastSeq: number },
          at: Date.now(),
        }));
        // Both wait on the reader before the writer commits.
        await waitFor('the long poll and the stream waiting on the reader', async () => (await subscribersOf(reader)) === 2);

        const { seq, acknowledgedAt } = await commitThrough(sql, writer, 'SKU-001', `quiet-${round}`);
        expect(seq).toBe(position + 1);
        seqs.push(seq);

        const polled = await longPoll;
        expect(polled.status).toBe(200);
        expect(polled.body.changes.map((change) => [change.seq, change.idempotencyKey])).toEqual([[seq, `quiet-${round}`]]);
        expect(polled.at - acknowledgedAt).toBeLessThan(DELIVERY_BOUND_MS);

        await stream.until((events) => events.some((event) => event.id === String(seq)), DELIVERY_BOUND_MS);
        expect(Date.now() - acknowledgedAt).toBeLessThan(DELIVERY_BOUND_MS);
      }
      expect(stream.events.filter((event) => event.event === 'change').map((event) => Number(event.id))).toEqual(seqs);

      // The changes reached the reader; a notification sent at their commit would have been
      // delivered to the listener before the answer to a query it sends now.
      await listener.query('select 1');
      expect(notifications).toEqual([]);
      expect(await listeningInstances()).toBe(0);
    },
    LOADED_MACHINE_TIMEOUT_MS,
  );

  it(
    'an instance with FEED_NOTIFY=on notifies each commit, which the listener receives (the check above can fail)',
    async () => {
      control = await spawnService({ ...store.env, LOG_LEVEL: 'warn' });
      await waitFor('the control instance to listen', async () => (await listeningInstances()) === 1);
      const { seq } = await commitThrough(sql, control, 'SKU-002', 'notified');
      const received = await waitFor('a notification of the control instance’s commit', () => notifications.length > 0 && notifications);
      // Only this commit was ever notified: the quiet commits before it, had they notified, would
      // have come first (notifications arrive in commit order).
      expect(received.map((notification) => [notification.channel, notification.payload])).toEqual([[CHANNEL, String(seq)]]);
    },
    LOADED_MACHINE_TIMEOUT_MS,
  );
});
