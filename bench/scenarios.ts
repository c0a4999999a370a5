import autocannon from 'autocannon';
import { encodeCursor } from '../src/common/http/cursor';
import { BENCH_ADMIN_KEY, BENCH_API_KEY } from './targets';

export const STORE = 'bench';
const HEADERS = { 'Content-Type': 'application/json', 'X-API-Key': BENCH_API_KEY };
const UPDATES_PATH = '/v1/inventory/updates';
const RESERVATIONS_PATH = '/v1/reservations';
const SETTLE_MS = 1000;

/** What one scenario measured on one target. */
export interface Measurement {
  readonly requestsPerSecond: number;
  /** Stock changes applied per second (the service's answers tell; a baseline applies nothing, so it counts its 2xx). For reserve-hot: units held (201s). */
  readonly appliedPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /**
   * Latency percentiles timed by the harness itself (from building a request to reading its
   * answer, sub-millisecond; autocannon's histogram counts whole milliseconds), ms.
   */
  readonly latency: { readonly p50: number; readonly p99: number };
  /**
   * CPU time per answered request, µs: the service's (from its /metrics; absent for a baseline,
   * which has none) and the harness's own (autocannon parsing and timing the answers).
   */
  readonly cpuPerRequest: { readonly service?: number; readonly client: number };
  /** Answers by status, plus connection errors and timeouts. */
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
}

/** A load: how requests are built and what an answer applied. */
interface Load {
  readonly method: 'GET' | 'POST';
  /** Each request is built afresh (so versions and keys can follow the answers). */
  build(): { path: string; body?: string; done: (status: number, body: string) => number };
  /** Called after a run: forget the requests left in flight and learn the versions they made. */
  settle?(url: string): Promise<void>;
}

export type ScenarioName =
  | 'get-level'
  | 'update-many'
  | 'update-hot'
  | 'reserve-hot'
  | 'batch-10'
  | 'batch-100'
  | 'replay'
  | 'update-many-streams'
  | 'update-many-streams-tail-off'
  | 'list-page'
  | 'history-page';

/** Change streams held open on the service while a scenario's load runs. */
export interface StreamSetup {
  /** Streams scoped with ?storeId=, spread over `stores` in turn. */
  readonly scoped: number;
  /** Streams of every store (no storeId). */
  readonly unscoped: number;
  readonly stores: readonly string[];
}

export interface Scenario {
  readonly name: ScenarioName;
  readonly description: string;
  /** Which ceiling route the scenario is compared with. */
  readonly ceiling: 'GET' | 'POST';
  /** Levels the scenario needs created before it runs: product ids. */
  readonly products: (connections: number) => string[];
  /** The store each of those levels is in (the bench store unless given). */
  readonly storeOf?: (productId: string) => string;
  readonly load: (connections: number, runId: string) => Load;
  /**
   * Streams opened at the head before each measured run and held through it; the same load is
   * measured without them, interleaved, as the scenario's reference. Such a scenario runs at the
   * largest connection count asked for only.
   */
  readonly streams?: (count: number) => StreamSetup;
  /**
   * Service settings of its own: the scenario gets a service, and a fresh database, of its own
   * (shared with the scenarios of the same settings).
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Work on the service before the scenario runs (not measured), e.g. history to read. */
  readonly prepare?: (url: string) => Promise<string>;
  /**
   * A load on the same service measured interleaved with the scenario's (A B A B …) instead of
   * the framework's: the figure the scenario is judged against.
   */
  readonly reference?: { readonly name: string; readonly load: (connections: number) => Load };
}

/**
 * A pool of independent slots (levels, or groups of levels): a request borrows one and its answer
 * gives it back, so no two requests in flight share a level. Levels created by the admin API
 * start at version 1.
 */
class SlotPool<T> {
  private readonly free: T[];
  private readonly lent = new Set<T>();

  constructor(slots: T[]) {
    this.free = slots;
  }

  take(): T {
    // Empty only if answers were lost (timeouts, resets): share a slot, its 409s will tell the version.
    const slot = this.free.pop() ?? [...this.lent][0];
    this.lent.add(slot);
    return slot;
  }

  give(slot: T): void {
    if (this.lent.delete(slot)) {
      this.free.push(slot);
    }
  }

  /** A run ends with requests in flight whose answers are never read: their slots come back (and are returned). */
  reclaim(): T[] {
    const reclaimed = [...this.lent];
    this.free.push(...reclaimed);
    this.lent.clear();
    return reclaimed;
  }

  all(): readonly T[] {
    return [...this.free, ...this.lent];
  }
}

interface Level {
  readonly storeId: string;
  readonly productId: string;
  version: number;
}

/** A hold's one follow-up: the reservation, and whether the checkout pays or abandons. */
interface ReservationFollowUp {
  readonly id: string;
  readonly action: 'commit' | 'release';
}

let keySequence = 0;
const nextKey = (runId: string) => `${runId}-${(keySequence += 1)}`;

function levels(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
}

/** Applies an answer of a single update to a level's known version. */
function followSingle(level: Level, status: number, body: string): number {
  if (status === 200) {
    level.version = (JSON.parse(body) as { newVersion: number }).newVersion;
    return 1;
  }
  if (status === 409) {
    const conflict = JSON.parse(body) as { currentVersion?: number };
    if (conflict.currentVersion !== undefined) {
      level.version = conflict.currentVersion;
    }
  }
  return 0;
}

/**
 * Single updates of +1, each on a level no other request in flight has (4 levels a connection),
 * at the version the level is at: no conflicts.
 */
function singleUpdates(products: readonly string[], storeOf: (productId: string) => string, runId: string): Load {
  const pool = new SlotPool(products.map((productId): Level => ({ storeId: storeOf(productId), productId, version: 1 })));
  return {
    method: 'POST',
    // Only the levels of requests left in flight have versions the load did not learn from an answer.
    settle: (url) => refreshVersions(url, pool.reclaim()),
    build: () => {
      const level = pool.take();
      const body = JSON.stringify({ storeId: level.storeId, productId: level.productId, delta: 1, version: level.version, idempotencyKey: nextKey(runId) });
      return {
        path: UPDATES_PATH,
        body,
        done: (status, text) => {
          const applied = followSingle(level, status, text);
          pool.give(level);
          return applied;
        },
      };
    },
  };
}

/** The stores of a retail chain, named as the chain demo data names them (store-0001, …). */
export const CHAIN_STORES: readonly string[] = Array.from({ length: 200 }, (_, index) => `store-${String(index + 1).padStart(4, '0')}`);

/** update-many's levels, one after another in the chain's stores (C-0 in store-0001, C-1 in store-0002, …). */
const chainStoreOf = (productId: string) => CHAIN_STORES[Number(productId.slice(productId.indexOf('-') + 1)) % CHAIN_STORES.length];

/** Streams of a chain: each store's own (its tills, shelf displays) and 1 % following every store (central systems). */
function chainStreams(count: number): StreamSetup {
  const unscoped = Math.max(1, Math.round(count / 100));
  return { scoped: count - unscoped, unscoped, stores: CHAIN_STORES };
}

function streamScenario(tail: 'on' | 'off'): Scenario {
  return {
    name: tail === 'on' ? 'update-many-streams' : 'update-many-streams-tail-off',
    description:
      tail === 'on'
        ? 'update-many across a chain’s stores while change streams are open'
        : 'the same with the feed’s in-memory tail off (FEED_TAIL_CHANGES=0): every stream reads the database for itself',
    ceiling: 'POST',
    products: (connections) => levels('C', 4 * connections),
    storeOf: chainStoreOf,
    load: (connections, runId) => singleUpdates(levels('C', 4 * connections), chainStoreOf, runId),
    streams: chainStreams,
    ...(tail === 'off' ? { env: { FEED_TAIL_CHANGES: '0' } } : {}),
  };
}

function batchScenario(size: 10 | 100): Scenario {
  return {
    name: size === 10 ? 'batch-10' : 'batch-100',
    description: `batches of ${size} updates on distinct levels`,
    ceiling: 'POST',
    products: (connections) => levels(`B${size}`, 2 * connections * size),
    load: (connections, runId) => {
      const products = levels(`B${size}`, 2 * connections * size);
      const pool = new SlotPool(
        Array.from({ length: 2 * connections }, (_, group) => products.slice(group * size, (group + 1) * size).map((productId): Level => ({ storeId: STORE, productId, version: 1 }))),
      );
      return {
        method: 'POST',
        settle: async (url) => {
          pool.reclaim();
          await refreshVersions(url, pool.all().flat());
        },
        build: () => {
          const group = pool.take();
          const body = JSON.stringify({
            storeId: STORE,
            updates: group.map((level) => ({ productId: level.productId, delta: 1, version: level.version, idempotencyKey: nextKey(runId) })),
          });
          return {
            path: UPDATES_PATH,
            body,
            done: (status, text) => {
              let applied = 0;
              if (status === 200 && text.startsWith('{"results"')) {
                const results = (JSON.parse(text) as { results: Array<{ applied: boolean; newVersion?: number; currentVersion?: number }> }).results;
                results.forEach((result, index) => {
                  group[index].version = result.newVersion ?? result.currentVersion ?? group[index].version;
                  applied += result.applied ? 1 : 0;
                });
              } else if (status === 200) {
                applied = size;
              }
              pool.give(group);
              return applied;
            },
          };
        },
      };
    },
  };
}

/**
 * The chain dataset of list-page and history-page: the service seeds it when it creates its
 * database (SEED_DEMO=chain), BENCH_CHAIN_STORES × BENCH_CHAIN_PRODUCTS levels (200 × 5,000 by default).
 */
export const CHAIN_SEED = { stores: Number(process.env.BENCH_CHAIN_STORES ?? 200), products: Number(process.env.BENCH_CHAIN_PRODUCTS ?? 5000) };
const CHAIN_ENV = { SEED_DEMO: 'chain', SEED_CHAIN_STORES: String(CHAIN_SEED.stores), SEED_CHAIN_PRODUCTS: String(CHAIN_SEED.products) };
/** Levels given a long history before history-page runs: HISTORY.products in each of HISTORY.stores, HISTORY.entries updates each. */
const HISTORY = { stores: 8, products: 16, entries: 250 };
const PAGE = 100;

const chainStore = (index: number) => `store-${String(index + 1).padStart(4, '0')}`;
const chainProduct = (index: number) => `P-${String(index + 1).padStart(5, '0')}`;
const randomBelow = (count: number) => Math.floor(Math.random() * count);

/** A random level of the chain, read alone: what a page of levels or of history is compared with. */
const chainGetLevel = {
  name: 'get-level',
  load: (): Load => ({
    method: 'GET',
    build: () => ({ path: `/v1/stores/${chainStore(randomBelow(CHAIN_SEED.stores))}/inventory/${chainProduct(randomBelow(CHAIN_SEED.products))}`, done: (status) => (status === 200 ? 1 : 0) }),
  }),
};

/** The levels history-page reads: spread over the chain's stores and products. */
function historyLevels(): Array<{ storeId: string; productId: string }> {
  const levels = [];
  for (let store = 0; store < HISTORY.stores; store += 1) {
    for (let product = 0; product < HISTORY.products; product += 1) {
      levels.push({ storeId: chainStore(Math.floor((store * CHAIN_SEED.stores) / HISTORY.stores)), productId: chainProduct(Math.floor(((product + 0.5) * CHAIN_SEED.products) / HISTORY.products)) });
    }
  }
  return levels;
}

/** Each history level's seqs, oldest first (read back after the history is written). */
const historySeqs = new Map<string, number[]>();

/**
 * Writes HISTORY.entries updates on each history level through the API (batches of a store's
 * HISTORY.products levels, the stores at once), then reads every level's history back.
 */
async function writeHistory(url: string): Promise<string> {
  const started = Date.now();
  const levels = historyLevels();
  const stores = [...new Set(levels.map((level) => level.storeId))];
  await Promise.all(
    stores.map(async (storeId) => {
      const products = levels.filter((level) => level.storeId === storeId).map((level) => level.productId);
      for (let round = 0; round < HISTORY.entries; round += 1) {
        const body = JSON.stringify({ storeId, updates: products.map((productId) => ({ productId, delta: 1, version: round, idempotencyKey: `history-${storeId}-${productId}-${round}` })) });
        const response = await fetch(`${url}${UPDATES_PATH}`, { method: 'POST', headers: HEADERS, body });
        const text = await response.text();
        if (response.status !== 200 || text.includes('"applied":false')) {
          throw new Error(`writing history of ${storeId}: ${response.status} ${text.slice(0, 300)}`);
        }
      }
    }),
  );
  const written = Date.now() - started;
  historySeqs.clear();
  for (const { storeId, productId } of levels) {
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const response = await fetch(`${url}/v1/stores/${storeId}/inventory/${productId}/history?limit=${PAGE}${cursor === null ? '' : `&cursor=${cursor}`}`, { headers: HEADERS });
      const page = (await response.json()) as { items: Array<{ seq: number }>; nextCursor: string | null };
      seqs.push(...page.items.map((item) => item.seq));
      cursor = page.nextCursor;
    } while (cursor !== null);
    historySeqs.set(`${storeId}/${productId}`, seqs.reverse());
  }
  return `history: ${format(levels.length * HISTORY.entries)} updates through the API on ${levels.length} levels (${HISTORY.stores} stores × ${HISTORY.products} products, ${HISTORY.entries} each) in ${format(written / 1000, 1)} s`;
}

const format = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The chain's read scenarios: a page of levels and a page of history, each against get-level on the same service. */
const CHAIN_SCENARIOS: readonly Scenario[] = [
  {
    name: 'list-page',
    description: `a page of ${PAGE} levels of a random chain store, from a random product on`,
    ceiling: 'GET',
    products: () => [],
    env: CHAIN_ENV,
    reference: chainGetLevel,
    load: () => ({
      method: 'GET',
      build: () => {
        // The page starting at product `first` (after the one before it), a full page every time.
        const first = randomBelow(CHAIN_SEED.products - PAGE + 1);
        const cursor = first === 0 ? '' : `&cursor=${encodeCursor(chainProduct(first - 1))}`;
        return {
          path: `/v1/stores/${chainStore(randomBelow(CHAIN_SEED.stores))}/inventory?limit=${PAGE}${cursor}`,
          done: (status) => (status === 200 ? 1 : 0),
        };
      },
    }),
  },
  {
    name: 'history-page',
    description: `a page of ${PAGE} ledger entries of a random level with ${HISTORY.entries}, from a random entry on (newest first)`,
    ceiling: 'GET',
    products: () => [],
    env: CHAIN_ENV,
    prepare: writeHistory,
    reference: chainGetLevel,
    load: () => {
      const levels = historyLevels();
      return {
        method: 'GET',
        build: () => {
          const { storeId, productId } = levels[randomBelow(levels.length)];
          const seqs = historySeqs.get(`${storeId}/${productId}`) ?? [];
          // Entries before seqs[index]: index of them, at least a page; the newest page has no cursor.
          const index = PAGE + randomBelow(Math.max(seqs.length - PAGE + 1, 1));
          const cursor = index >= seqs.length ? '' : `&cursor=${encodeCursor(seqs[index])}`;
          return { path: `/v1/stores/${storeId}/inventory/${productId}/history?limit=${PAGE}${cursor}`, done: (status) => (status === 200 ? 1 : 0) };
        },
      };
    },
  },
];

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'get-level',
    description: 'GET one level',
    ceiling: 'GET',
    products: () => ['G-0'],
    load: () => ({ method: 'GET', build: () => ({ path: `/v1/stores/${STORE}/inventory/G-0`, done: (status) => (status === 200 ? 1 : 0) }) }),
  },
  {
    name: 'update-many',
    description: 'single updates, many levels, no conflicts',
    ceiling: 'POST',
    products: (connections) => levels('M', 4 * connections),
    load: (connections, runId) => singleUpdates(levels('M', 4 * connections), () => STORE, runId),
  },
  {
    name: 'update-hot',
    description: 'single updates on one hot level (conflicts, retried)',
    ceiling: 'POST',
    products: () => ['HOT-0'],
    load: (_connections, runId) => {
      const hot: Level = { storeId: STORE, productId: 'HOT-0', version: 1 };
      return {
        method: 'POST',
        build: () => ({
          path: UPDATES_PATH,
          body: JSON.stringify({ storeId: STORE, productId: hot.productId, delta: 1, version: hot.version, idempotencyKey: nextKey(runId) }),
          done: (status, text) => followSingle(hot, status, text),
        }),
      };
    },
  },
  {
    name: 'reserve-hot',
    description: 'holds of 1 unit of one hot level, each then committed or released',
    ceiling: 'POST',
    products: () => ['RH-0'],
    load: (_connections, runId) => {
      // Every hold gets exactly one follow-up, a commit or a release in turn, sent as the next
      // request the load builds. autocannon reads an answer before it builds that connection's
      // next request, so in effect each connection is a checkout that holds one unit, then pays
      // or abandons, then holds again: half the requests are holds. Follow-ups are requests like
      // any other (counted, timed, on the same connections, through the same queue) because a
      // hold nobody gives back is not a checkout, and leaving them out would let `reserved` grow
      // for the whole run; this way it stays about the number of connections, and on hand falls
      // by one unit per two holds (the level starts at a billion). The figure of merit is held
      // units per second (201s), not requests.
      const held: ReservationFollowUp[] = [];
      // Requests sent whose answers were not read (in flight when a run ended).
      const unansweredHolds = new Set<string>();
      const unansweredFollowUps = new Set<ReservationFollowUp>();
      let holds = 0;
      const followUpOf = (text: string): ReservationFollowUp => {
        holds += 1;
        return { id: (JSON.parse(text) as { reservationId: string }).reservationId, action: holds % 2 === 0 ? 'commit' : 'release' };
      };
      return {
        method: 'POST',
        // Out of band, unmeasured: every hold the run made is given back before the next run. A
        // hold whose answer was not read is asked again with its key, whose stored 201 names it
        // (or, had it never arrived, a new hold does); a follow-up is sent again as it was, which
        // answers the reservation as it is.
        settle: async (url) => {
          for (const body of unansweredHolds) {
            const response = await fetch(`${url}${RESERVATIONS_PATH}`, { method: 'POST', headers: HEADERS, body });
            const text = await response.text();
            if (response.status === 201) {
              held.push(followUpOf(text));
            }
          }
          unansweredHolds.clear();
          held.push(...unansweredFollowUps);
          unansweredFollowUps.clear();
          for (let followUp = held.shift(); followUp !== undefined; followUp = held.shift()) {
            await (await fetch(`${url}${RESERVATIONS_PATH}/${followUp.id}/${followUp.action}`, { method: 'POST', headers: HEADERS })).text();
          }
        },
        build: () => {
          const followUp = held.shift();
          if (followUp !== undefined) {
            unansweredFollowUps.add(followUp);
            return {
              path: `${RESERVATIONS_PATH}/${followUp.id}/${followUp.action}`,
              done: (status) => {
                unansweredFollowUps.delete(followUp);
                // Not given back (a 503 did nothing, a 504 may have): the same action again later.
                if (status >= 500) {
                  held.push(followUp);
                }
                return 0;
              },
            };
          }
          const body = JSON.stringify({ storeId: STORE, lines: [{ productId: 'RH-0', quantity: 1 }], idempotencyKey: nextKey(runId) });
          unansweredHolds.add(body);
          return {
            path: RESERVATIONS_PATH,
            body,
            done: (status, text) => {
              // A 504 may have held: settle asks again.
              if (status < 500) {
                unansweredHolds.delete(body);
              }
              if (status !== 201) {
                return 0;
              }
              held.push(followUpOf(text));
              return 1;
            },
          };
        },
      };
    },
  },
  batchScenario(10),
  batchScenario(100),
  {
    name: 'replay',
    description: 'idempotent replays of completed updates',
    ceiling: 'POST',
    // Levels of their own per connection count: a level another count's run already changed
    // would make a first answer 409, and replaying a 409 is not what is measured.
    products: (connections) => levels(`R${connections}`, connections),
    load: (connections, runId) => {
      // Each body is applied the first time it is sent and replayed from then on.
      const bodies = levels(`R${connections}`, connections).map((productId) => JSON.stringify({ storeId: STORE, productId, delta: 1, version: 1, idempotencyKey: `${runId}-replay-${productId}` }));
      let next = 0;
      return {
        method: 'POST',
        build: () => ({ path: UPDATES_PATH, body: bodies[(next += 1) % bodies.length], done: (status) => (status === 200 ? 1 : 0) }),
      };
    },
  },
  streamScenario('on'),
  streamScenario('off'),
  ...CHAIN_SCENARIOS,
];

/** Reads the stores' levels (list endpoint) into `levels`; a baseline has no list and keeps none. */
async function refreshVersions(url: string, levels: readonly Level[]): Promise<void> {
  for (const storeId of new Set(levels.map((level) => level.storeId))) {
    const versions = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const response = await fetch(`${url}/v1/stores/${storeId}/inventory?limit=500${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { headers: HEADERS });
      const text = await response.text();
      if (response.status !== 200 || !text.startsWith('{"items"')) {
        return;
      }
      const page = JSON.parse(text) as { items: Array<{ productId: string; version: number }>; nextCursor?: string | null };
      page.items.forEach((item) => versions.set(item.productId, item.version));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    for (const level of levels) {
      if (level.storeId === storeId) {
        level.version = versions.get(level.productId) ?? level.version;
      }
    }
  }
}

/** Creates the levels a scenario needs through the admin API (so the harness needs no database access). */
export async function createLevels(url: string, products: readonly string[], storeOf: (productId: string) => string = () => STORE): Promise<void> {
  const queue = [...products];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let productId = queue.pop(); productId !== undefined; productId = queue.pop()) {
        const response = await fetch(`${url}/v1/stores/${storeOf(productId)}/inventory/${productId}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json', 'X-API-Key': BENCH_ADMIN_KEY },
          body: JSON.stringify({ quantity: 1_000_000_000 }),
        });
        if (response.status !== 201 && response.status !== 428) {
          throw new Error(`creating ${productId}: ${response.status} ${await response.text()}`);
        }
      }
    }),
  );
}

/**
 * Drives `url` with the scenario's load for `seconds` over `connections` keep-alive connections.
 * A measured run that gets no answer fails (a hung target); a warm-up may get none (a loaded
 * machine can take longer than the warm-up to answer a round of large batches).
 */
export async function measure(url: string, load: Load, connections: number, seconds: number, purpose: 'measured' | 'warm-up' = 'measured'): Promise<Measurement> {
  let applied = 0;
  const inFlight = new WeakMap<object, (status: number, body: string) => number>();
  const sentAt = new WeakMap<object, bigint>();
  const latencies: number[] = [];
  const serviceCpuBefore = await serviceCpuSeconds(url);
  const clientCpuBefore = process.cpuUsage();
  // autocannon writes Content-Length into the headers it is given: each request gets its own copy,
  // or a POST's length would stick to the GETs of a later run (which then wait for a body forever).
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 30,
    headers: { ...HEADERS },
    requests: [
      {
        method: load.method,
        setupRequest: (request, context) => {
          const built = load.build();
          inFlight.set(context, built.done);
          sentAt.set(context, process.hrtime.bigint());
          return { ...request, method: load.method, path: built.path, headers: { ...HEADERS }, ...(built.body === undefined ? {} : { body: built.body }) };
        },
        onResponse: (status, body, context) => {
          const done = inFlight.get(context);
          inFlight.delete(context);
          const sent = sentAt.get(context);
          if (sent !== undefined && status >= 200 && status < 300) {
            latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
          }
          sentAt.delete(context);
          applied += done?.(status, body) ?? 0;
        },
      },
    ],
  });
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serviceCpuAfter = await serviceCpuSeconds(url);
  const answered = Math.max(result.requests.total, 1);
  const cpuPerRequest = {
    ...(serviceCpuBefore === undefined || serviceCpuAfter === undefined ? {} : { service: ((serviceCpuAfter - serviceCpuBefore) * 1e6) / answered }),
    client: (clientCpu.user + clientCpu.system) / answered,
  };
  // Let the target finish what the run left in flight (a queue of batches takes a while), so the
  // next run starts on an idle target that the load knows the versions of.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  await load.settle?.(url);
  if (result.requests.total === 0 && purpose === 'measured') {
    throw new Error(`${url} answered nothing in ${seconds} s (${result.errors} errors, ${result.timeouts} timeouts)`);
  }
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]));
  return {
    requestsPerSecond: result.requests.total / result.duration,
    appliedPerSecond: applied / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    latency: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
    cpuPerRequest,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** The CPU seconds a target's process has used, from its /metrics; undefined for a target without them. */
async function serviceCpuSeconds(url: string): Promise<number | undefined> {
  const response = await fetch(`${url}/metrics`).catch(() => undefined);
  if (response === undefined || !response.ok) {
    return undefined;
  }
  const value = /^process_cpu_seconds_total (\S+)$/m.exec(await response.text())?.[1];
  return value === undefined ? undefined : Number(value);
}

/** The value below which `share` of the values lie (nearest rank); 0 for none. */
function percentile(values: number[], share: number): number {
  if (values.length === 0) {
    return 0;
  }
  const sorted = values.sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))];
}

/** The seq of the last committed change (a snapshot's lastSeq). */
export async function feedHead(url: string): Promise<number> {
  const response = await fetch(`${url}/v1/stores/${CHAIN_STORES[0]}/inventory?limit=1`, { headers: { 'X-API-Key': BENCH_API_KEY } });
  const page = (await response.json()) as { lastSeq?: number };
  if (response.status !== 200 || page.lastSeq === undefined) {
    throw new Error(`no lastSeq in a snapshot: ${response.status}`);
  }
  return page.lastSeq;
}
