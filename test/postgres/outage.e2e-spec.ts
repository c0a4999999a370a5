import { Client } from 'pg';
import { createTestStore, type TestStore } from '../helpers/dialect';
import { isGapFree, seededRandom } from '../helpers/load';
import { type ServiceProcess, spawnService } from '../helpers/service-process';
import { TcpProxy } from '../helpers/tcp-proxy';

const STORE = 'store-1';
const PRODUCTS = ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005', 'SKU-007', 'SKU-008', 'SKU-009'];
const CLIENTS = 8;
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };
/** How long the database stays unreachable. */
const OUTAGE_MS = 2000;
/**
 * Most time an answer may take while the database is unreachable: connects are refused at once
 * and the pool gives up on a connect after 2 s, far below the 10 s processing timeout.
 */
const FAIL_FAST_MS = 3000;
/** Most time from the database coming back to the service working again, on its own. */
const RECOVERY_MS = 5000;

interface UpdateBody {
  readonly storeId: string;
  readonly productId: string;
  readonly delta: number;
  readonly version: number;
  readonly idempotencyKey: string;
}

interface Answer {
  /** 0 when no HTTP answer came (the request failed or timed out). */
  readonly status: number;
  readonly text: string;
  readonly contentType: string;
  readonly retryAfter: string | null;
  readonly replayed: boolean;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly error?: string;
}

interface Sent {
  readonly body: UpdateBody;
  readonly answer: Answer;
}

interface LevelRow {
  product_id: string;
  quantity: number;
  version: number;
}

interface LedgerRow {
  seq: number;
  store_id: string;
  product_id: string;
  delta: number;
  quantity_after: number;
  version_after: number;
  idempotency_key: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const elapsed = (answer: Answer) => answer.endedAt - answer.startedAt;

async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const startedAt = Date.now();
  try {
    // Far beyond any sane answer time: a hang shows up as an error, not as a stuck test.
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    return {
      status: response.status,
      text,
      contentType: response.headers.get('content-type') ?? '',
      retryAfter: response.headers.get('retry-after'),
      replayed: response.headers.get('idempotent-replayed') === 'true',
      startedAt,
      endedAt: Date.now(),
    };
  } catch (error) {
    return { status: 0, text: '', contentType: '', retryAfter: null, replayed: false, startedAt, endedAt: Date.now(), error: String(error) };
  }
}

function codeOf(answer: Answer): string | undefined {
  try {
    const parsed = JSON.parse(answer.text) as { code?: unknown };
    return typeof parsed.code === 'string' ? parsed.code : undefined;
  } catch {
    return undefined;
  }
}

/** A 409 that is an update result (a definitive, stored outcome), not a problem such as IDEMPOTENCY_KEY_IN_USE. */
const isUpdateConflict = (answer: Answer) => answer.status === 409 && !answer.contentType.includes('problem+json');
/** An answer that tells for certain whether the update was applied. */
const isDefinitive = (answer: Answer) => answer.status === 200 || answer.status === 404 || isUpdateConflict(answer);
/** The one acceptable refusal here: the database is gone, retry later, nothing changed. */
const isUnavailable = (answer: Answer) =>
  answer.status === 503 && answer.retryAfter === '1' && answer.contentType.includes('application/problem+json') && codeOf(answer) === 'DATABASE_UNAVAILABLE';

/** Measured numbers go to stderr when REPORT_METRICS=1 (jest keeps quiet otherwise). */
function report(metrics: object): void {
  if (process.env.REPORT_METRICS === '1') {
    process.stderr.write(`[outage] ${JSON.stringify(metrics)}\n`);
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * One service process whose only way to its PostgreSQL database goes through a TCP proxy. Cutting
 * the proxy drops every database connection (in-flight transactions included) and refuses new
 * ones: the service must answer 503 DATABASE_UNAVAILABLE quickly, report not ready, stay live,
 * recover on its own once the database is back, and lose or duplicate nothing.
 */
describe('a database outage (PostgreSQL connection cut)', () => {
  let store: TestStore;
  let proxy: TcpProxy;
  let service: ServiceProcess | undefined;
  let sql: Client;
  /** The levels before any update: the ledger replays from here. */
  let seeded: Map<string, LevelRow>;

  beforeAll(async () => {
    store = await createTestStore('postgres');
    const direct = new URL(store.env.DATABASE_URL);
    proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
    const proxied = new URL(store.env.DATABASE_URL);
    proxied.port = String(proxy.port);
    service = await spawnService({ ...store.env, DATABASE_URL: proxied.toString(), LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0' });
    // Straight to the database, never through the proxy.
    sql = new Client({ connectionString: store.env.DATABASE_URL });
    await sql.connect();
    seeded = await levels();
  });

  afterAll(async () => {
    await sql?.end();
    await service?.stop('SIGKILL');
    await proxy?.close();
    await store?.dispose();
  });

  async function levels(): Promise<Map<string, LevelRow>> {
    const { rows } = await sql.query<LevelRow>(`select product_id, quantity::int, version::int from stock_levels where store_id = $1`, [STORE]);
    return new Map(rows.map((row) => [row.product_id, row]));
  }

  async function ledger(): Promise<LedgerRow[]> {
    const { rows } = await sql.query<LedgerRow>(
      `select seq::int, store_id, product_id, delta::int, quantity_after::int, version_after::int, idempotency_key from ledger order by seq`,
    );
    return rows;
  }

  /** Undefined while the service process runs; else how it ended and what it printed last. */
  function death(): string | undefined {
    const { child, output } = service!;
    if (child.exitCode === null && child.signalCode === null) {
      return undefined;
    }
    // A crash prints its stack as plain text; the JSON log lines around it are mostly noise.
    const plain = output.filter((line) => !line.startsWith('{'));
    const printed = plain.length > 0 ? plain.slice(0, 20) : output.slice(-10);
    return `the service process ended (code ${child.exitCode}, signal ${child.signalCode}); it printed:\n${printed.join('\n')}`;
  }

  function expectAlive(when: string): void {
    const ended = death();
    if (ended !== undefined) {
      throw new Error(`${when}: ${ended}`);
    }
  }

  const post = (body: UpdateBody) => request(`${service!.url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
  const get = (path: string) => request(`${service!.url}${path}`, { headers: HEADERS });

  async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = await probe();
      if (result !== undefined) {
        return result;
      }
      if (Date.now() > deadline) {
        throw new Error(`${what}: not within ${timeoutMs} ms (${death() ?? 'the service process is running'})`);
      }
      await sleep(50);
    }
  }

  const untilReady = (timeoutMs: number) => waitUntil('ready', async () => ((await get('/health/ready')).status === 200 ? Date.now() : undefined), timeoutMs);

  /** Sends `body` again with its own key until the answer is definitive (after an outage). */
  async function definitiveAnswer(body: UpdateBody): Promise<Answer> {
    let last: Answer | undefined;
    for (let attempt = 0; attempt < 40; attempt += 1) {
      last = await post(body);
      if (isDefinitive(last)) {
        return last;
      }
      await sleep(100);
    }
    throw new Error(`no definitive answer for ${body.idempotencyKey}: last ${last?.status} ${last?.text} ${last?.error ?? ''}`);
  }

  it('fails a brand-new update fast while the database is unreachable, and applies it once when retried after', async () => {
    await untilReady(5000);
    const level = seeded.get('SKU-010')!;
    const body: UpdateBody = { storeId: STORE, productId: 'SKU-010', delta: 3, version: level.version, idempotencyKey: 'outage-fresh-1' };

    await proxy.cut();
    try {
      const refused = await post(body);
      expect({ status: refused.status, code: codeOf(refused), retryAfter: refused.retryAfter, error: refused.error }).toEqual({
        status: 503,
        code: 'DATABASE_UNAVAILABLE',
        retryAfter: '1',
        error: undefined,
      });
      expect(refused.contentType).toContain('application/problem+json');
      expect(elapsed(refused)).toBeLessThan(FAIL_FAST_MS);
      const read = await get(`/v1/stores/${STORE}/inventory/SKU-010`);
      expect(isUnavailable(read)).toBe(true);
      expect(elapsed(read)).toBeLessThan(FAIL_FAST_MS);
    } finally {
      await proxy.restore();
    }
    expectAlive('after a database outage without load');

    await untilReady(RECOVERY_MS);
    // The refused attempt changed nothing, so the retry with the same key is its first execution.
    const retried = await post(body);
    expect(retried.status).toBe(200);
    expect(retried.replayed).toBe(false);
    expect(JSON.parse(retried.text)).toMatchObject({ applied: true, newQuantity: level.quantity + 3, newVersion: level.version + 1 });
  });

  it('answers 503 fast during an outage under load, recovers by itself, and applies every update exactly once', async () => {
    await untilReady(5000);
    const initial = await levels();
    const initialSeq = (await ledger()).length;

    // ---- load: read-modify-write clients that take a 503 (or a failure) as "unknown, move on"
    const sent: Sent[] = [];
    const reads: Answer[] = [];
    let stopping = false;
    async function client(index: number): Promise<void> {
      const random = seededRandom(7000 + index);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
      // Versions last seen: while reads fail, the client still sends updates based on them.
      const known = new Map(PRODUCTS.map((productId) => [productId, initial.get(productId)!.version]));
      let attempt = 0;
      while (!stopping) {
        const productId = pick(PRODUCTS);
        const read = await get(`/v1/stores/${STORE}/inventory/${productId}`);
        reads.push(read);
        let version = read.status === 200 ? (JSON.parse(read.text) as { version: number }).version : known.get(productId)!;
        let delta = random() < 0.4 ? -1 - Math.floor(random() * 3) : 1 + Math.floor(random() * 5);
        while (!stopping) {
          attempt += 1;
          const body: UpdateBody = { storeId: STORE, productId, delta, version, idempotencyKey: `load-${index}-${attempt}` };
          const answer = await post(body);
          sent.push({ body, answer });
          if (answer.status === 200) {
            known.set(productId, (JSON.parse(answer.text) as { newVersion: number }).newVersion);
          }
          if (isUpdateConflict(answer)) {
            const conflict = JSON.parse(answer.text) as { code: string; currentVersion: number };
            version = conflict.currentVersion;
            known.set(productId, version);
            if (conflict.code === 'INSUFFICIENT_STOCK') {
              delta = Math.abs(delta);
            }
            continue;
          }
          if (answer.status !== 200) {
            await sleep(50);
          }
          break;
        }
      }
    }
    const load = Promise.all(Array.from({ length: CLIENTS }, (_, index) => client(index)));
    const stopLoad = async () => {
      stopping = true;
      await load;
    };

    let cutAt = 0;
    let restoreAt = 0;
    let readyAt = 0;
    let firstUpdateAt = 0;
    const readyProbes: Answer[] = [];
    const liveProbes: Answer[] = [];
    try {
      await waitUntil('warm-up updates', () => Promise.resolve(sent.filter((entry) => entry.answer.status === 200).length >= 30 ? true : undefined), 10_000);

      // ---- the outage
      cutAt = Date.now();
      await proxy.cut();
      while (Date.now() < cutAt + OUTAGE_MS) {
        const [ready, live] = await Promise.all([get('/health/ready'), get('/health/live')]);
        readyProbes.push(ready);
        liveProbes.push(live);
        await sleep(200);
      }
      restoreAt = Date.now();
      await proxy.restore();
      expectAlive('after a database outage under load');

      // ---- recovery, with the load still running
      readyAt = await untilReady(RECOVERY_MS);
      firstUpdateAt = await waitUntil(
        'an update applied after the outage',
        () => Promise.resolve(sent.find((entry) => entry.answer.startedAt >= restoreAt && entry.answer.status === 200)?.answer.endedAt),
        RECOVERY_MS,
      );
      // Back to work, not just once: the load keeps applying updates after the outage.
      await waitUntil(
        'updates applied after the outage',
        () => Promise.resolve(sent.filter((entry) => entry.answer.startedAt >= restoreAt && entry.answer.status === 200).length >= 30 ? true : undefined),
        10_000,
      );
    } finally {
      await stopLoad();
      await proxy.restore();
    }

    const overlapsOutage = (answer: Answer) => answer.endedAt >= cutAt && answer.startedAt <= restoreAt;
    const duringOutage = sent.filter((entry) => overlapsOutage(entry.answer));
    const refused = sent.filter((entry) => entry.answer.status === 503);
    const failed = sent.filter((entry) => entry.answer.status === 0);
    const outageLatencies = duringOutage.map((entry) => elapsed(entry.answer));
    report({
        updates: sent.length,
        applied: sent.filter((entry) => entry.answer.status === 200).length,
        refused503: refused.length,
        failed: failed.length,
        outageAnswers: duringOutage.length,
        outageLatencyMs: { p50: percentile(outageLatencies, 50), p99: percentile(outageLatencies, 99), max: Math.max(...outageLatencies) },
        maxUpdateLatencyMs: Math.max(...sent.map((entry) => elapsed(entry.answer))),
        readyProbeLatencyMaxMs: Math.max(...readyProbes.map(elapsed)),
        readyAfterRestoreMs: readyAt - restoreAt,
        firstUpdateAfterRestoreMs: firstUpdateAt - restoreAt,
    });

    // (a) During the outage: quick 503 DATABASE_UNAVAILABLE (with Retry-After), never a hang,
    // a 500 or a 504; not ready (database check down) but live.
    expect(failed.map((entry) => ({ key: entry.body.idempotencyKey, error: entry.answer.error }))).toEqual([]);
    const unexpected = [...sent.map((entry) => entry.answer), ...reads].filter((answer) => !isDefinitive(answer) && !isUnavailable(answer));
    expect(unexpected.map((answer) => `${answer.status} ${answer.text}`)).toEqual([]);
    const startedInOutage = duringOutage.filter((entry) => entry.answer.startedAt >= cutAt && entry.answer.endedAt <= restoreAt);
    expect(startedInOutage.length).toBeGreaterThanOrEqual(CLIENTS);
    expect(startedInOutage.filter((entry) => !isUnavailable(entry.answer)).map((entry) => entry.answer.text)).toEqual([]);
    expect(Math.max(...outageLatencies)).toBeLessThan(FAIL_FAST_MS);
    expect(reads.filter((answer) => overlapsOutage(answer)).every((answer) => elapsed(answer) < FAIL_FAST_MS)).toBe(true);

    expect(readyProbes.length).toBeGreaterThan(0);
    for (const probe of readyProbes) {
      expect(probe.status).toBe(503);
      expect(elapsed(probe)).toBeLessThan(FAIL_FAST_MS);
      const problem = JSON.parse(probe.text) as { code: string; checks?: { error?: { database?: { status: string } } } };
      expect(problem.code).toBe('NOT_READY');
      expect(problem.checks?.error?.database).toMatchObject({ status: 'down' });
    }
    expect(liveProbes.map((probe) => probe.status).every((status) => status === 200)).toBe(true);

    // (b) Back on its own, without a restart.
    expect(readyAt - restoreAt).toBeLessThan(RECOVERY_MS);
    expect(firstUpdateAt - restoreAt).toBeLessThan(RECOVERY_MS);
    expect(service!.child.exitCode).toBeNull();

    // (c) No partial change. A 503 (or a lost answer) leaves the outcome unknown — the connection
    // may have been cut after COMMIT — so each is sent again with its own key; that answer is
    // definitive: the stored outcome replayed, or a first execution.
    const definitive = new Map<string, { body: UpdateBody; answer: Answer }>();
    /** Answered 503 (or not at all), yet committed: the re-send replays the stored outcome. */
    const committedDespiteRefusal: string[] = [];
    for (const entry of sent) {
      if (isDefinitive(entry.answer)) {
        definitive.set(entry.body.idempotencyKey, entry);
      } else {
        const answer = await definitiveAnswer(entry.body);
        if (answer.replayed) {
          committedDespiteRefusal.push(`${entry.body.idempotencyKey}: ${entry.answer.status} ${entry.answer.text} → replayed ${answer.status} ${answer.text}`);
        }
        definitive.set(entry.body.idempotencyKey, { body: entry.body, answer });
      }
    }
    report({ resent: refused.length + failed.length, committedDespiteRefusal });
    const applied = [...definitive.values()].filter((entry) => entry.answer.status === 200);
    const final = await levels();
    for (const productId of PRODUCTS) {
      const mine = applied.filter((entry) => entry.body.productId === productId);
      const start = initial.get(productId)!;
      expect({ productId, quantity: final.get(productId)!.quantity }).toEqual({
        productId,
        quantity: start.quantity + mine.reduce((sum, entry) => sum + entry.body.delta, 0),
      });
      expect(final.get(productId)!.version).toBe(start.version + mine.length);
      expect(isGapFree(mine.map((entry) => (JSON.parse(entry.answer.text) as { newVersion: number }).newVersion), start.version)).toBe(true);
    }

    // (d) The ledger: exactly the applied updates, gap-free, each key once, and replaying it
    // from the seeded levels gives every level as it is now.
    const rows = await ledger();
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, index) => index + 1));
    const keys = rows.map((row) => row.idempotency_key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(
      rows
        .slice(initialSeq)
        .map((row) => row.idempotency_key)
        .sort(),
    ).toEqual(applied.map((entry) => entry.body.idempotencyKey).sort());
    const replayed = new Map([...seeded].map(([productId, row]) => [productId, { ...row }]));
    for (const row of rows) {
      expect(row.store_id).toBe(STORE);
      const level = replayed.get(row.product_id)!;
      level.quantity += row.delta;
      level.version += 1;
      expect({ seq: row.seq, quantity: row.quantity_after, version: row.version_after }).toEqual({ seq: row.seq, quantity: level.quantity, version: level.version });
    }
    expect(replayed).toEqual(final);
    const open = await sql.query<{ open: number }>(`select count(*)::int as open from idempotency_records where status_code = 0`);
    expect(open.rows[0]).toEqual({ open: 0 });
  });

  it('survives its connections being terminated (pg_terminate_backend) under load, applying every update exactly once', async () => {
    await untilReady(5000);
    const initial = await levels();
    const sent: Sent[] = [];
    let stopping = false;
    const load = Promise.all(
      Array.from({ length: CLIENTS }, async (_, index) => {
        for (let attempt = 0; !stopping; attempt += 1) {
          const productId = PRODUCTS[(index + attempt) % PRODUCTS.length];
          const read = await get(`/v1/stores/${STORE}/inventory/${productId}`);
          if (read.status !== 200) {
            await sleep(50);
            continue;
          }
          const { version } = JSON.parse(read.text) as { version: number };
          const body: UpdateBody = { storeId: STORE, productId, delta: 1, version, idempotencyKey: `terminated-${index}-${attempt}` };
          sent.push({ body, answer: await post(body) });
        }
      }),
    );
    try {
      await waitUntil('warm-up updates', () => Promise.resolve(sent.filter((entry) => entry.answer.status === 200).length >= 30 ? true : undefined), 10_000);
      // What a PostgreSQL restart or failover does to every open connection, repeatedly.
      for (let round = 0; round < 10; round += 1) {
        await sql.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and application_name like 'inventory-service%'`);
        const terminatedAt = Date.now();
        // The next round once the service works again: an update sent after this one applied.
        await waitUntil(
          `an update applied after termination round ${round + 1}`,
          () => Promise.resolve(sent.some((entry) => entry.answer.startedAt > terminatedAt && entry.answer.status === 200) ? true : undefined),
          RECOVERY_MS,
        );
        expectAlive(`after terminating the service's connections (round ${round + 1})`);
      }
      await untilReady(RECOVERY_MS);
    } finally {
      stopping = true;
      await load;
    }
    expectAlive('after the terminations');

    const unexpected = sent.map((entry) => entry.answer).filter((answer) => !isDefinitive(answer) && !isUnavailable(answer));
    expect(unexpected.map((answer) => `${answer.status} ${answer.text} ${answer.error ?? ''}`)).toEqual([]);
    const applied: Sent[] = [];
    for (const entry of sent) {
      const answer = isDefinitive(entry.answer) ? entry.answer : await definitiveAnswer(entry.body);
      if (answer.status === 200) {
        applied.push({ body: entry.body, answer });
      }
    }
    expect(applied.length).toBeGreaterThan(30);
    const final = await levels();
    for (const productId of PRODUCTS) {
      const mine = applied.filter((entry) => entry.body.productId === productId);
      expect({ productId, quantity: final.get(productId)!.quantity, version: final.get(productId)!.version }).toEqual({
        productId,
        quantity: initial.get(productId)!.quantity + mine.length,
        version: initial.get(productId)!.version + mine.length,
      });
    }
    const keys = (await ledger()).map((row) => row.idempotency_key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
