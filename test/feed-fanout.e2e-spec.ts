import { type ClientRequest, get as httpGet } from 'node:http';
import { chainStoreId } from '../src/database/demo-data';
import { createTestStore, type TestStore } from './helpers/dialect';
import { metricSample } from './helpers/metrics';
import { type ServiceProcess, spawnService } from './helpers/service-process';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from './helpers/wait';

const STORES = 200;
const PRODUCTS = ['P-00001', 'P-00002', 'P-00003'];
const STORE_IDS = Array.from({ length: STORES }, (_, index) => chainStoreId(index));
/** Keys that see one store each, and keys that see a region of REGION_SIZE stores. */
const storeKey = (storeId: string) => `feed-${storeId}`;
const REGION_SIZE = 20;
const REGIONS = STORES / REGION_SIZE;
const regionKey = (region: number) => `feed-region-${region}`;
const regionStores = (region: number) => STORE_IDS.slice(region * REGION_SIZE, (region + 1) * REGION_SIZE);
const API_KEYS = [
  'demo:*',
  ...STORE_IDS.map((storeId) => `${storeKey(storeId)}:${storeId}`),
  ...Array.from({ length: REGIONS }, (_, region) => `${regionKey(region)}:${regionStores(region).join('|')}`),
].join(',');

/** Subscribers connecting at the same moment. */
const OPENING = 100;

/** Who subscribes and which stores' changes it must receive. */
interface SubscriberSpec {
  readonly name: string;
  readonly apiKey: string;
  /** `?storeId=` of the request, if any. */
  readonly storeId?: string;
  /** The stores whose changes it must receive, or every store. */
  readonly scope: '*' | ReadonlySet<string>;
}

interface Subscriber {
  readonly spec: SubscriberSpec;
  /** Each `change` event's id and data, in the order received. */
  readonly received: Array<{ readonly id: number; readonly data: string }>;
  /** Anything but a change, a heartbeat or the retry line; and how the stream ended, if it did. */
  readonly anomalies: string[];
  close(): void;
}

interface FeedChange {
  readonly seq: number;
  readonly storeId: string;
  readonly idempotencyKey: string | null;
}

/** 9 subscribers per store and 200 that see every store (or a region) without `?storeId=`. */
function fullSpecs(): SubscriberSpec[] {
  const specs: SubscriberSpec[] = [];
  for (const storeId of STORE_IDS) {
    const scope = new Set([storeId]);
    for (let index = 0; index < 6; index += 1) {
      specs.push({ name: `${storeId}/demo-${index}`, apiKey: 'demo', storeId, scope });
    }
    // A key scoped to the store: the key alone narrows the feed, or the key and ?storeId= together.
    specs.push({ name: `${storeId}/key-0`, apiKey: storeKey(storeId), scope });
    specs.push({ name: `${storeId}/key-1`, apiKey: storeKey(storeId), scope });
    specs.push({ name: `${storeId}/key-and-query`, apiKey: storeKey(storeId), storeId, scope });
  }
  for (let index = 0; index < 180; index += 1) {
    specs.push({ name: `all-${index}`, apiKey: 'demo', scope: '*' });
  }
  for (let index = 0; index < 20; index += 1) {
    const region = index % REGIONS;
    specs.push({ name: `region-${region}-${index}`, apiKey: regionKey(region), scope: new Set(regionStores(region)) });
  }
  return specs;
}

/** A few subscribers of each kind. */
function smallSpecs(count: number): SubscriberSpec[] {
  return Array.from({ length: count }, (_, index): SubscriberSpec => {
    const storeId = STORE_IDS[(index * 37) % STORES];
    switch (index % 3) {
      case 0:
        return { name: `all-${index}`, apiKey: 'demo', scope: '*' };
      case 1:
        return { name: `${storeId}/demo-${index}`, apiKey: 'demo', storeId, scope: new Set([storeId]) };
      default:
        return { name: `${storeId}/key-${index}`, apiKey: storeKey(storeId), scope: new Set([storeId]) };
    }
  });
}

/**
 * Opens an SSE stream with node:http and a minimal parser (cheaper than fetch for thousands of
 * connections). Resolves once the stream sent its `retry:` line, i.e. the subscriber is registered.
 */
function subscribe(baseUrl: string, spec: SubscriberSpec, after: number): Promise<Subscriber> {
  const url = new URL('/v1/changes/stream', baseUrl);
  url.searchParams.set('after', String(after));
  if (spec.storeId !== undefined) {
    url.searchParams.set('storeId', spec.storeId);
  }
  return new Promise((resolve, reject) => {
    let connected = false;
    const subscriber: Subscriber = { spec, received: [], anomalies: [], close: () => request.destroy() };
    const fail = (reason: string) => {
      if (connected) {
        subscriber.anomalies.push(reason);
      } else {
        request.destroy();
        reject(new Error(`${spec.name}: ${reason}`));
      }
    };
    const request: ClientRequest = httpGet(url, { agent: false, headers: { 'X-API-Key': spec.apiKey } }, (response) => {
      response.setEncoding('utf8');
      if (response.statusCode !== 200) {
        let body = '';
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => fail(`status ${response.statusCode}: ${body}`));
        return;
      }
      let buffer = '';
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let start = 0;
        for (let boundary = buffer.indexOf('\n\n'); boundary >= 0; boundary = buffer.indexOf('\n\n', start)) {
          const block = buffer.slice(start, boundary);
          start = boundary + 2;
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            const separator = line.indexOf(':');
            // `: heartbeat` is a comment (empty field name).
            fields.set(line.slice(0, separator), line.slice(separator + 1).trimStart());
          }
          if (fields.has('retry') && !connected) {
            connected = true;
            resolve(subscriber);
          } else if (fields.get('event') === 'change' && fields.has('id') && fields.has('data')) {
            subscriber.received.push({ id: Number(fields.get('id')), data: fields.get('data')! });
          } else if (!(fields.has('') && !fields.has('event') && !fields.has('data'))) {
            subscriber.anomalies.push(`unexpected block: ${block}`);
          }
        }
        buffer = buffer.slice(start);
      });
      response.on('end', () => fail('the stream ended'));
    });
    request.on('error', (error) => {
      if (!request.destroyed || !connected) {
        fail(`request failed: ${error.message}`);
      }
    });
  });
}

/** Opens every subscriber at `after`, OPENING at a time; on any failure closes those opened. */
async function subscribeAll(baseUrl: string, specs: readonly SubscriberSpec[], after: number): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.min(OPENING, specs.length) }, async () => {
        while (next < specs.length) {
          const spec = specs[next];
          next += 1;
          subscribers.push(await subscribe(baseUrl, spec, after));
        }
      }),
    );
  } catch (error) {
    closeAll(subscribers);
    throw error;
  }
  return subscribers;
}

function closeAll(subscribers: readonly Subscriber[]): void {
  for (const subscriber of subscribers) {
    subscriber.close();
  }
}

interface FeedCounters {
  readonly tail: number;
  readonly catchUp: number;
  readonly commits: number;
  readonly subscribers: number;
}

async function feedCounters(service: ServiceProcess): Promise<FeedCounters> {
  const response = await fetch(`${service.url}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  // A counter of a label not counted yet is absent from the exposition: zero.
  return {
    tail: metricSample(text, 'inventory_feed_reads_total', { read: 'tail' }) ?? 0,
    catchUp: metricSample(text, 'inventory_feed_reads_total', { read: 'catch_up' }) ?? 0,
    commits: metricSample(text, 'inventory_group_commit_updates_count') ?? 0,
    subscribers: metricSample(text, 'inventory_feed_subscribers') ?? 0,
  };
}

/** Every change after `after`, paging through the feed with an unscoped key, and its lastSeq. */
async function readFeed(service: ServiceProcess, after: number): Promise<{ changes: Array<FeedChange & Record<string, unknown>>; lastSeq: number }> {
  const changes: Array<FeedChange & Record<string, unknown>> = [];
  let position = after;
  for (;;) {
    const response = await fetch(`${service.url}/v1/changes?after=${position}&limit=1000`, { headers: { 'X-API-Key': 'demo' } });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { changes: Array<FeedChange & Record<string, unknown>>; lastSeq: number };
    changes.push(...page.changes);
    position = page.lastSeq;
    if (page.changes.length === 0) {
      return { changes, lastSeq: position };
    }
  }
}

interface Load {
  /** Concurrent writers; each updates the products of its own stores. */
  readonly writers: number;
  readonly updatesPerWriter: number;
  /** Called after each applied update, before the writer sends its next one. */
  readonly afterEach?: (storeId: string, idempotencyKey: string) => Promise<void>;
}

/** Eight writers, 320 updates: every store changes at least once. */
const CONCURRENT_LOAD: Load = { writers: 8, updatesPerWriter: 40 };

/**
 * Concurrent clients, each updating the products of its own stores (so versions are known without
 * reading them first) until it applied its share. Returns the idempotency keys applied.
 */
async function writeLoad(service: ServiceProcess, versions: Map<string, number>, phase: string, load: Load): Promise<string[]> {
  const applied: string[] = [];
  await Promise.all(
    Array.from({ length: load.writers }, async (_, writer) => {
      const stores = STORE_IDS.filter((_, index) => index % load.writers === writer);
      for (let update = 0; update < load.updatesPerWriter; update += 1) {
        const storeId = stores[update % stores.length];
        const productId = PRODUCTS[(update * 7 + writer) % PRODUCTS.length];
        const level = `${storeId}/${productId}`;
        const idempotencyKey = `${phase}-${writer}-${update}`;
        const response = await fetch(`${service.url}/v1/inventory/updates`, {
          method: 'POST',
          headers: { 'X-API-Key': 'demo', 'Content-Type': 'application/json' },
          body: JSON.stringify({ storeId, productId, delta: 1 + (update % 3), version: versions.get(level) ?? 0, idempotencyKey }),
        });
        const text = await response.text();
        if (response.status !== 200) {
          throw new Error(`update ${idempotencyKey}: ${response.status} ${text}`);
        }
        versions.set(level, (JSON.parse(text) as { newVersion: number }).newVersion);
        applied.push(idempotencyKey);
        await load.afterEach?.(storeId, idempotencyKey);
      }
    }),
  );
  return applied;
}

function inScope(scope: SubscriberSpec['scope'], storeId: string): boolean {
  return scope === '*' || scope.has(storeId);
}

/**
 * Writes the load while `subscribers` (opened at `start`) follow the feed; waits until each has
 * received the last change of its scope; returns the feed written and the metrics around it.
 */
async function writePhase(service: ServiceProcess, subscribers: readonly Subscriber[], start: number, versions: Map<string, number>, phase: string, load = CONCURRENT_LOAD) {
  const before = await feedCounters(service);
  const applied = await writeLoad(service, versions, phase, load);
  // Counted with the phase: served from the tail when there is one, otherwise one catch-up read.
  const feed = await readFeed(service, start);
  // The load is all there is: every applied update once, seqs gap-free from the start position.
  expect(feed.changes.map((change) => change.seq)).toEqual(feed.changes.map((_, index) => start + 1 + index));
  expect(feed.changes.map((change) => change.idempotencyKey).sort()).toEqual([...applied].sort());
  const expectedOf = (subscriber: Subscriber) => feed.changes.filter((change) => inScope(subscriber.spec.scope, change.storeId));
  const lastOf = (subscriber: Subscriber) => expectedOf(subscriber).at(-1)?.seq;
  const lastExpected = new Map(subscribers.map((subscriber) => [subscriber, lastOf(subscriber)]));
  await waitFor(
    `every subscriber to receive its scope's last change (${phase})`,
    () =>
      subscribers.every((subscriber) => {
        const last = lastExpected.get(subscriber);
        return last === undefined || (subscriber.received.at(-1)?.id ?? 0) >= last || subscriber.anomalies.length > 0;
      }),
    { timeoutMs: 120_000, intervalMs: 100 },
  );
  const after = await feedCounters(service);
  return { feed, applied, expectedOf, before, after };
}

/** What each subscriber received that differs from its scope's changes (a few, to stay readable). */
function deviations(subscribers: readonly Subscriber[], expectedOf: (subscriber: Subscriber) => ReadonlyArray<Record<string, unknown> & FeedChange>): string[] {
  const found: string[] = [];
  for (const subscriber of subscribers) {
    const expected = expectedOf(subscriber);
    const seqs = subscriber.received.map((event) => event.id);
    const expectedSeqs = expected.map((change) => change.seq);
    if (subscriber.anomalies.length > 0) {
      found.push(`${subscriber.spec.name}: ${subscriber.anomalies.slice(0, 3).join('; ')}`);
    } else if (JSON.stringify(seqs) !== JSON.stringify(expectedSeqs)) {
      found.push(`${subscriber.spec.name}: received seqs ${JSON.stringify(seqs)}, expected ${JSON.stringify(expectedSeqs)}`);
    } else {
      const differing = subscriber.received.findIndex((event, index) => canonical(JSON.parse(event.data)) !== canonical(expected[index]));
      if (differing >= 0) {
        found.push(`${subscriber.spec.name}: event ${subscriber.received[differing].data} differs from ${JSON.stringify(expected[differing])}`);
      }
    }
    if (found.length >= 5) {
      break;
    }
  }
  return found;
}

/** A flat object as JSON with its keys sorted (the feed's pages and the stream's events are both plain JSON). */
function canonical(value: object): string {
  return JSON.stringify(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}

const readsPerCommit = (before: FeedCounters, after: FeedCounters) => (after.tail - before.tail + after.catchUp - before.catchUp) / (after.commits - before.commits);

/**
 * One instance with thousands of streams open: every subscriber receives exactly its scope's
 * changes, and the ledger is read once per commit for all of them, not once per subscriber.
 */
/** The service on the chain dataset of STORES stores, with the test's keys and no rate limit. */
function spawnChainService(store: TestStore, env: Record<string, string> = {}): Promise<ServiceProcess> {
  return spawnService({
    ...store.env,
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'chain',
    SEED_CHAIN_STORES: String(STORES),
    SEED_CHAIN_PRODUCTS: String(PRODUCTS.length),
    RATE_LIMIT_PER_SECOND: '0',
    API_KEYS,
    ...env,
  });
}

describe('change feed fan-out to thousands of subscribers', () => {
  describe('with the in-memory tail', () => {
    let store: TestStore;
    let service: ServiceProcess;
    const versions = new Map<string, number>();
    let subscribers: Subscriber[] = [];

    beforeAll(async () => {
      store = await createTestStore();
      service = await spawnChainService(store);
    }, LOADED_MACHINE_TIMEOUT_MS);

    afterEach(() => {
      closeAll(subscribers);
      subscribers = [];
    });

    afterAll(async () => {
      await service?.stop('SIGKILL');
      await store?.dispose();
    });

    it(
      'reads the ledger at most once per commit with 10 subscribers, and none of them reads for itself',
      async () => {
        const { lastSeq: start } = await readFeed(service, 0);
        subscribers = await subscribeAll(service.url, smallSpecs(10), start);
        await waitFor('10 subscribers registered', async () => (await feedCounters(service)).subscribers === 10);

        const { expectedOf, before, after } = await writePhase(service, subscribers, start, versions, 'small');

        expect(deviations(subscribers, expectedOf)).toEqual([]);
        expect(after.commits - before.commits).toBeGreaterThanOrEqual(20);
        expect(after.tail - before.tail).toBeGreaterThan(0);
        expect(after.catchUp - before.catchUp).toBe(0);
        expect(readsPerCommit(before, after)).toBeLessThanOrEqual(1);
      },
      LOADED_MACHINE_TIMEOUT_MS,
    );

    it(
      'streams exactly its scope’s changes, in order, to each of 2,000 subscribers, reading the ledger at most once per commit',
      async () => {
        const { lastSeq: start } = await readFeed(service, 0);
        const specs = fullSpecs();
        expect(specs.length).toBe(2000);
        subscribers = await subscribeAll(service.url, specs, start);
        // Each sent its retry line; the instance counts them all (and no one else) before writing.
        await waitFor('2,000 subscribers registered', async () => (await feedCounters(service)).subscribers === 2000, { timeoutMs: 60_000 });

        const { feed, expectedOf, before, after } = await writePhase(service, subscribers, start, versions, 'full');

        // Every store changed, so each scoped subscriber has something to receive.
        expect(new Set(feed.changes.map((change) => change.storeId)).size).toBe(STORES);
        expect(deviations(subscribers, expectedOf)).toEqual([]);
        expect(subscribers.reduce((sum, subscriber) => sum + subscriber.received.length, 0)).toBe(
          subscribers.reduce((sum, subscriber) => sum + expectedOf(subscriber).length, 0),
        );
        expect(after.subscribers).toBe(2000);
        expect(after.commits - before.commits).toBeGreaterThanOrEqual(20);
        expect(after.tail - before.tail).toBeGreaterThan(0);
        expect(after.catchUp - before.catchUp).toBe(0);
        expect(readsPerCommit(before, after)).toBeLessThanOrEqual(1);
      },
      LOADED_MACHINE_TIMEOUT_MS,
    );
  });

  describe('without a tail (FEED_TAIL_CHANGES=0), as a control', () => {
    let store: TestStore;
    let service: ServiceProcess;
    let subscribers: Subscriber[] = [];

    beforeAll(async () => {
      store = await createTestStore();
      service = await spawnChainService(store, { FEED_TAIL_CHANGES: '0' });
    }, LOADED_MACHINE_TIMEOUT_MS);

    afterAll(async () => {
      closeAll(subscribers);
      await service?.stop('SIGKILL');
      await store?.dispose();
    });

    it(
      'reads the ledger once per subscriber and commit: the metric counts every read',
      async () => {
        const versions = new Map<string, number>();
        const { lastSeq: start } = await readFeed(service, 0);
        subscribers = await subscribeAll(service.url, smallSpecs(50), start);
        await waitFor('50 subscribers registered', async () => (await feedCounters(service)).subscribers === 50);

        // The load of the tail's measurements: commits that land while the subscribers read share a wake.
        const concurrent = await writePhase(service, subscribers, start, versions, 'control');
        expect(deviations(subscribers, concurrent.expectedOf)).toEqual([]);
        expect(concurrent.after.commits - concurrent.before.commits).toBeGreaterThanOrEqual(20);
        expect(concurrent.after.tail - concurrent.before.tail).toBe(0);
        expect(readsPerCommit(concurrent.before, concurrent.after)).toBeGreaterThan(5);

        // One commit at a time, each delivered before the next: every commit wakes every subscriber,
        // which reads the ledger once for itself.
        const lockstep = await writePhase(service, subscribers, concurrent.feed.lastSeq, versions, 'lockstep', {
          writers: 1,
          updatesPerWriter: 30,
          afterEach: (storeId, idempotencyKey) =>
            waitFor(`every subscriber of ${storeId} to receive ${idempotencyKey}`, () =>
              subscribers.every(
                (subscriber) => !inScope(subscriber.spec.scope, storeId) || subscriber.received.at(-1)?.data.includes(`"idempotencyKey":"${idempotencyKey}"`) === true,
              ),
            ).then(() => undefined),
        });
        expect(deviations(subscribers, (subscriber) => [...concurrent.expectedOf(subscriber), ...lockstep.expectedOf(subscriber)])).toEqual([]);
        expect(lockstep.after.commits - lockstep.before.commits).toBe(30);
        expect(readsPerCommit(lockstep.before, lockstep.after)).toBeGreaterThanOrEqual(25);
      },
      LOADED_MACHINE_TIMEOUT_MS,
    );
  });
});
