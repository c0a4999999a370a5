import { createTestStore, type TestStore } from './helpers/dialect';
import { insertLevels, ledgerOf, levelsOf } from './helpers/direct-database';
import { type Acknowledged, isGapFree, readModifyWriteClient } from './helpers/load';
import { jsonLines, type ServiceProcess, spawnService } from './helpers/service-process';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from './helpers/wait';

/**
 * The service with WORKERS=2: a primary and two worker processes sharing the port and the
 * database. The guarantees of the single process hold whichever worker answers: concurrent
 * read-modify-write clients, identical requests landing on different workers, a worker or the
 * primary killed under load, a drain on SIGTERM. Which worker served a request is read from its
 * log line (request lines carry `worker` and the request id the test sent).
 */
const STORE = 'cluster-store';
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };
/** The head poll only every minute: a feed that wakes sooner heard of the commit from the primary. */
const CLUSTER_ENV = { WORKERS: '2', RATE_LIMIT_PER_SECOND: '0', LOG_LEVEL: 'debug', FEED_POLL_INTERVAL_MS: '60000' };

interface Cluster {
  readonly service: ServiceProcess;
  /** Worker id → pid, as each worker logged when it started listening. */
  readonly workers: Map<number, number>;
}

async function spawnCluster(store: TestStore, env: Record<string, string> = {}): Promise<Cluster> {
  const service = await spawnService({ ...store.env, ...CLUSTER_ENV, ...env });
  const workers = await waitFor('both workers listening', () => {
    const listening = new Map(jsonLines(service.output).filter((line) => line.msg === 'listening' && typeof line.worker === 'number').map((line) => [line.worker as number, line.pid as number]));
    return listening.size >= 2 && listening;
  }, { timeoutMs: 90_000 });
  return { service, workers };
}

/** The worker that served each request the test sent with an X-Request-Id, from the request lines. */
function workersByRequest(service: ServiceProcess): Map<string, number> {
  return new Map(
    jsonLines(service.output)
      .filter((line) => (line.msg === 'request completed' || line.msg === 'request aborted') && typeof line.worker === 'number')
      .map((line) => [line.reqId as string, line.worker as number]),
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Sent {
  readonly productId: string;
  readonly idempotencyKey: string;
  readonly body: string;
}

/**
 * Clients that each own a level and move it up by 1 at a time until `stopped()`; requests that
 * get no answer (cut by a kill) are kept to be resent with their key.
 */
function ownLevelClients(url: () => string, products: readonly string[], stopped: () => boolean, { timeoutMs = 60_000 } = {}) {
  const acknowledged: Sent[] = [];
  const cut: Sent[] = [];
  /** Requests that got no answer within `timeoutMs` (also resent with their key). */
  const timedOut: Sent[] = [];
  const refused: Array<{ status: number; text: string }> = [];
  const done = Promise.all(
    products.map(async (productId) => {
      for (let version = 0; !stopped(); version += 1) {
        const idempotencyKey = `${productId}-v${version}`;
        const sent = { productId, idempotencyKey, body: JSON.stringify({ storeId: STORE, productId, delta: 1, version, idempotencyKey }) };
        try {
          const response = await fetch(`${url()}/v1/inventory/updates`, { method: 'POST', headers: { ...HEADERS, 'X-Request-Id': idempotencyKey }, body: sent.body, signal: AbortSignal.timeout(timeoutMs) });
          const text = await response.text();
          if (response.status === 200) {
            acknowledged.push(sent);
            continue;
          }
          refused.push({ status: response.status, text });
        } catch (error) {
          if (error instanceof DOMException && error.name === 'TimeoutError') {
            timedOut.push(sent);
          } else {
            cut.push(sent);
          }
        }
        return;
      }
    }),
  );
  return { acknowledged, cut, timedOut, refused, done };
}

/** Resends each request with its key until it gets its definitive answer (200: applied now, or the replay of its commit). */
async function resend(url: string, sent: readonly Sent[]): Promise<void> {
  for (const request of sent) {
    const response = await fetch(`${url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body: request.body });
    expect({ key: request.idempotencyKey, status: response.status }).toEqual({ key: request.idempotencyKey, status: 200 });
  }
}

/** Each level moved exactly once per applied key, and the ledger holds one row per key. */
async function expectExactlyOnce(store: TestStore, products: readonly string[], applied: readonly Sent[]): Promise<void> {
  const levels = await levelsOf(store, STORE);
  for (const productId of products) {
    const mine = applied.filter((sent) => sent.productId === productId).length;
    expect({ productId, ...levels.get(productId) }).toEqual({ productId, quantity: mine, version: mine });
  }
  const ledger = await ledgerOf(store, STORE);
  expect(ledger.map((row) => row.idempotency_key).sort()).toEqual(applied.map((sent) => sent.idempotencyKey).sort());
}

describe('WORKERS=2', () => {
  let store: TestStore;
  let cluster: Cluster | undefined;

  beforeEach(async () => {
    store = await createTestStore();
  });

  afterEach(async () => {
    await cluster?.service.stop('SIGKILL');
    cluster?.workers.forEach((pid) => isAlive(pid) && process.kill(pid, 'SIGKILL'));
    cluster = undefined;
    await store.dispose();
  });

  it('concurrent read-modify-write clients across both workers: quantities add up, versions have no gaps', async () => {
    cluster = await spawnCluster(store);
    const { url } = cluster.service;
    const products = ['HOT-1', 'HOT-2'];
    await insertLevels(store, STORE, products, 1000);
    const stats = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        readModifyWriteClient({ baseUrls: [url], apiKey: 'demo', storeId: STORE, productIds: products, updates: 15, clientId: `client-${index}`, seed: index + 1 }),
      ),
    );
    expect(stats.flatMap((client) => client.unexpected)).toEqual([]);
    expect(stats.reduce((sum, client) => sum + client.conflicts, 0)).toBeGreaterThan(0);
    const acknowledged: Acknowledged[] = stats.flatMap((client) => client.acknowledged);
    const levels = await levelsOf(store, STORE);
    for (const productId of products) {
      const mine = acknowledged.filter((ack) => ack.productId === productId);
      expect(levels.get(productId)).toEqual({ quantity: 1000 + mine.reduce((sum, ack) => sum + ack.delta, 0), version: mine.length });
      expect(isGapFree(mine.map((ack) => ack.newVersion), 0)).toBe(true);
    }
    // Both workers took part (each logs the updates it applied).
    const applying = new Set(jsonLines(cluster.service.output).filter((line) => line.msg === 'request completed' && (line.req as { url?: string }).url === '/v1/inventory/updates').map((line) => line.worker));
    expect(applying).toEqual(new Set([1, 2]));
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('applies 20 identical concurrent requests once though they land on both workers, and answers all alike', async () => {
    cluster = await spawnCluster(store);
    const { service } = cluster;
    await insertLevels(store, STORE, ['DUP-1'], 10);
    const body = JSON.stringify({ storeId: STORE, productId: 'DUP-1', delta: -3, version: 0, idempotencyKey: 'same-key' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const response = await fetch(`${service.url}/v1/inventory/updates`, { method: 'POST', headers: { ...HEADERS, 'X-Request-Id': `dup-${index}` }, body });
        return { status: response.status, body: (await response.json()) as { newQuantity?: number; newVersion?: number } };
      }),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
    expect(answers[0].body).toMatchObject({ newQuantity: 7, newVersion: 1 });
    expect(await levelsOf(store, STORE)).toEqual(new Map([['DUP-1', { quantity: 7, version: 1 }]]));
    expect((await ledgerOf(store, STORE)).map((row) => row.idempotency_key)).toEqual(['same-key']);
    const served = await waitFor('the 20 request lines', () => {
      const byRequest = workersByRequest(service);
      const workers = Array.from({ length: 20 }, (_, index) => byRequest.get(`dup-${index}`));
      return workers.every((worker) => worker !== undefined) && workers;
    });
    expect(new Set(served)).toEqual(new Set([1, 2]));
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('wakes the change feed of one worker on the commit of the other, and /metrics counts both workers', async () => {
    cluster = await spawnCluster(store);
    const { service } = cluster;
    await insertLevels(store, STORE, ['FEED-1'], 0);
    const head = ((await (await fetch(`${service.url}/v1/changes?limit=1`, { headers: HEADERS })).json()) as { lastSeq: number }).lastSeq;
    // Long polls on new connections: the primary deals them out to both workers.
    const polls = Array.from({ length: 6 }, async (_, index) => {
      const response = await fetch(`${service.url}/v1/changes?after=${head}&waitSeconds=30`, { headers: { ...HEADERS, 'X-Request-Id': `poll-${index}` } });
      return { at: Date.now(), body: (await response.json()) as { changes: Array<{ productId: string }> } };
    });
    await waitFor('the long polls waiting', async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      return Number(/^inventory_feed_subscribers (\S+)$/m.exec(text)?.[1]) === 6;
    });
    const committedAt = Date.now();
    const update = await fetch(`${service.url}/v1/inventory/updates`, {
      method: 'POST',
      headers: { ...HEADERS, 'X-Request-Id': 'the-update' },
      body: JSON.stringify({ storeId: STORE, productId: 'FEED-1', delta: 5, version: 0, idempotencyKey: 'feed-1' }),
    });
    expect(update.status).toBe(200);
    const answered = await Promise.all(polls);
    // Every poll got the change long before the head poll (a minute) could have found it.
    for (const poll of answered) {
      expect(poll.body.changes.map((change) => change.productId)).toEqual(['FEED-1']);
      expect(poll.at - committedAt).toBeLessThan(20_000);
    }
    const served = await waitFor('the request lines', () => {
      const byRequest = workersByRequest(service);
      const polled = Array.from({ length: 6 }, (_, index) => byRequest.get(`poll-${index}`));
      const updated = byRequest.get('the-update');
      return updated !== undefined && polled.every((worker) => worker !== undefined) && { updated, polled };
    });
    // Some polls waited on the worker that did not commit the change: the primary's relay woke them.
    expect(served.polled.filter((worker) => worker !== served.updated).length).toBeGreaterThan(0);

    // Both workers counted: the six polls and the update, whoever served them.
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(Number(/^inventory_updates_total\{outcome="applied"\} (\S+)$/m.exec(metrics)?.[1])).toBe(1);
    const polls200 = Number(/^http_request_duration_seconds_count\{method="GET",route="\/v1\/changes",status_code="200"\} (\S+)$/m.exec(metrics)?.[1]);
    expect(polls200).toBeGreaterThanOrEqual(7);
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('answers /metrics with the workers that answer while another is stuck (or dying)', async () => {
    cluster = await spawnCluster(store);
    const { service, workers } = cluster;
    const stuck = workers.get(2)!;
    process.kill(stuck, 'SIGSTOP');
    try {
      // New connections are dealt to both workers: those given to the stopped one get no answer.
      const scrapes = await Promise.all(
        Array.from({ length: 4 }, async () => {
          try {
            const response = await fetch(`${service.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
            return { status: response.status, text: await response.text() };
          } catch {
            return undefined;
          }
        }),
      );
      const answered = scrapes.filter((scrape) => scrape !== undefined);
      expect(answered.length).toBeGreaterThan(0);
      for (const scrape of answered) {
        expect(scrape.status).toBe(200);
        expect(scrape.text).toContain('inventory_queue_depth');
      }
    } finally {
      process.kill(stuck, 'SIGCONT');
    }
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('replaces a worker killed (-9) under load; every acknowledged change survives and cut requests recover by key', async () => {
    cluster = await spawnCluster(store);
    const { service, workers } = cluster;
    const products = Array.from({ length: 12 }, (_, index) => `K-${String(index).padStart(2, '0')}`);
    await insertLevels(store, STORE, products);
    let killed = false;
    // A connection the primary was handing to the worker as it died stays open, unanswered (a
    // limit of node:cluster's round-robin): the client's timeout ends it, and it resends by key.
    const load = ownLevelClients(() => service.url, products, () => killed && load.acknowledged.length > 600, { timeoutMs: 15_000 });
    await waitFor('changes acknowledged before the kill', () => load.acknowledged.length >= 150 || load.refused.length > 0, { timeoutMs: 60_000 });
    const victim = workers.get(1)!;
    process.kill(victim, 'SIGKILL');
    killed = true;
    // A new worker takes its place, and the service answers throughout on the other.
    const replacement = await waitFor('a replacement worker listening', () => {
      const listening = jsonLines(service.output).filter((line) => line.msg === 'listening' && typeof line.worker === 'number' && line.worker > 2);
      return listening.length > 0 && listening[0];
    }, { timeoutMs: 90_000 }).catch((error: Error) => {
      // What the processes said, to tell a replacement never forked from one slow to start.
      throw new Error(`${error.message}; the service printed:\n${service.output.slice(-40).join('\n')}`);
    });
    expect(jsonLines(service.output).some((line) => line.msg === 'worker died; starting another' && line.signal === 'SIGKILL')).toBe(true);
    await load.done;
    expect(isAlive(victim)).toBe(false);
    expect(typeof replacement.pid).toBe('number');
    expect(load.refused).toEqual([]);
    // The kill cut the requests the victim was serving.
    expect(load.cut.length).toBeGreaterThan(0);
    await resend(service.url, [...load.cut, ...load.timedOut]);
    await expectExactlyOnce(store, products, [...load.acknowledged, ...load.cut, ...load.timedOut]);
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('takes its workers with it when the primary is killed (-9); nothing acknowledged is lost', async () => {
    cluster = await spawnCluster(store);
    const { service, workers } = cluster;
    const products = Array.from({ length: 12 }, (_, index) => `P-${String(index).padStart(2, '0')}`);
    await insertLevels(store, STORE, products);
    // The clients go on until the service fails them: the workers serve their open connections
    // until they notice the primary is gone, and exit then.
    const load = ownLevelClients(() => service.url, products, () => false);
    await waitFor('changes acknowledged before the kill', () => load.acknowledged.length >= 150 || load.refused.length > 0, { timeoutMs: 60_000 });
    service.child.kill('SIGKILL');
    await load.done;
    expect((await service.exited).signal).toBe('SIGKILL');
    await waitFor('no worker outlives the primary', () => [...workers.values()].every((pid) => !isAlive(pid)));
    expect(load.refused).toEqual([]);
    expect(load.timedOut).toEqual([]);
    expect(load.cut).toHaveLength(products.length);

    cluster = await spawnCluster(store);
    await resend(cluster.service.url, load.cut);
    await expectExactlyOnce(store, products, [...load.acknowledged, ...load.cut]);
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('drains every worker on SIGTERM to the primary: 503 for new requests, everything accepted committed, exit 0', async () => {
    cluster = await spawnCluster(store, { SHUTDOWN_GRACE_MS: '1500' });
    const { service, workers } = cluster;
    const products = Array.from({ length: 12 }, (_, index) => `S-${String(index).padStart(2, '0')}`);
    await insertLevels(store, STORE, products);
    const load = ownLevelClients(() => service.url, products, () => false);
    await waitFor('changes acknowledged before the signal', () => load.acknowledged.length >= 150 || load.refused.length > 0, { timeoutMs: 60_000 });
    service.child.kill('SIGTERM');
    await load.done;
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(load.timedOut).toEqual([]);
    expect([...workers.values()].some(isAlive)).toBe(false);
    // Each client ended on the drain's refusal (or its connection closing after it): no other failure.
    expect(load.refused.length).toBeGreaterThan(0);
    expect(load.refused.every((refusal) => refusal.status === 503 && refusal.text.includes('SHUTTING_DOWN'))).toBe(true);
    const lines = jsonLines(service.output);
    expect(lines.filter((line) => line.msg === 'shut down cleanly' && typeof line.worker === 'number')).toHaveLength(2);
    expect(lines.some((line) => line.msg === 'shut down cleanly' && line.role === 'primary')).toBe(true);
    // A refused request changed nothing; every acknowledged one is committed; a cut one is resent.
    cluster = await spawnCluster(store);
    await resend(cluster.service.url, load.cut);
    await expectExactlyOnce(store, products, [...load.acknowledged, ...load.cut]);
  }, LOADED_MACHINE_TIMEOUT_MS);
});
