import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { createTestStore, TEST_DIALECT, type TestStore } from './helpers/dialect';
import { jsonLines, type ServiceProcess, spawnService } from './helpers/service-process';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from './helpers/wait';

const STORE = 'store-1';
const PRODUCTS = ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004', 'SKU-005'];
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };
/**
 * Small enough that the flood overfills the queue on either database, so that it is both refused
 * and applied. A submission waits for room only while fewer than a queue's worth wait already, so
 * with more connections in flight than twice the capacity plus the group in its transaction, some
 * are refused. On SQLite, whose statements run on the event loop, a queue of 50 took almost all
 * the flood the CPU let in (at times no refusal at all): 10 there gave thousands of refusals and
 * 25–80 applied updates per run. On PostgreSQL a queue of 50 overflows already (most of the flood
 * is refused), while with 10 or 20 the refusals took the event loop from the groups' round trips
 * and only the first group or two applied in 10 s (5–10 updates): 50 there applied 30–35.
 */
const QUEUE_CAPACITY = TEST_DIALECT === 'sqlite' ? 10 : 50;
const QUEUE_SUBMIT_TIMEOUT_MS = 200;
const CONNECTIONS = 300;
const FLOOD_SECONDS = 10;
/**
 * How soon the service refuses, by its own request log (from reading a request to answering):
 * at once when the waiting room is full, else when the 200 ms submit timeout expires, plus the
 * event-loop lag of a saturated process. Measured p99 0.3–1.3 s on a 2-CPU machine that also
 * runs the load generator, the database and, at times, other test runs (load average 3–6).
 * 2 s — ten submit timeouts — is well below the 5 s default submit timeout and the 10 s
 * processing timeout that a piling-up service would run into.
 */
const REFUSAL_P99_LIMIT_MS = 2000;
/**
 * How soon a client hears a refusal on an established connection: the above plus the time its
 * request waits unread in the socket while the CPU-saturated process works through the other
 * connections — a cost of the machine more than of the service (measured p99 0.5–1.9 s under the
 * same conditions). 3 s still shows no refusal waits out a 5 s submit timeout.
 * (Accepted updates are slower under the flood — on PostgreSQL each round trip of their group
 * transaction waits behind the refusals on the event loop — and are reported, not bounded here,
 * beyond never reaching the 10 s processing timeout: no 504 is allowed.)
 */
const CLIENT_REFUSAL_P99_LIMIT_MS = 3000;
/**
 * The service's V8 heap is capped as in a memory-limited container (its live heap is ~90–125 MB,
 * the replay cache included). Uncapped, V8 sizes the heap from the machine's memory and lets
 * garbage pile up lazily: the same flood then measured +65…+170 MB RSS, almost all of it
 * collectable. Capped, RSS growth is what the flood really holds — at most a queue's worth of
 * updates queued and as many waiting, 300 connections, a bounded replay cache: measured +8…+30 MB.
 * 100 MB leaves 3× headroom; a per-request leak fills the capped heap, and either breaks this
 * bound or kills the process (checked below).
 */
const HEAP_LIMIT_MB = 256;
const RSS_GROWTH_LIMIT_MB = 100;
/** Connection-level errors (resets, refusals) tolerated over the whole flood. */
const ERROR_TOLERANCE = 3;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Resident set size of a process, in MB, from /proc (Linux). */
function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) {
    throw new Error(`no ${field} in /proc/${pid}/status`);
  }
  return Number(match[1]) / 1024;
}

/** Measured numbers go to stderr when REPORT_METRICS=1 (jest keeps quiet otherwise). */
function report(metrics: object): void {
  if (process.env.REPORT_METRICS === '1') {
    process.stderr.write(`[overload:${TEST_DIALECT}] ${JSON.stringify(metrics)}\n`);
  }
}

function pushTo(map: Map<number, number[]>, key: number, value: number): void {
  const values = map.get(key);
  if (values === undefined) {
    map.set(key, [value]);
  } else {
    values.push(value);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lines of the service's request log (at LOG_LEVEL warn: every 409 and 503) from `from` on, with their time. */
function requestLog(service: ServiceProcess, from: number): Array<{ status: number; responseTime: number }> {
  return jsonLines(service.output, from).flatMap((line) => {
    const { res, responseTime } = line as { res?: { statusCode?: unknown }; responseTime?: unknown };
    return typeof res?.statusCode === 'number' && typeof responseTime === 'number' ? [{ status: res.statusCode, responseTime }] : [];
  });
}

function header(headers: Record<string, string | string[]>, name: string): string | undefined {
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  return entry === undefined ? undefined : String(entry[1]);
}

/**
 * One service process with a small queue, flooded by 300 connections posting updates as fast as
 * it answers. Whatever it cannot take it must refuse at once (503 QUEUE_FULL with Retry-After),
 * keep answering quickly, keep applying updates, keep its memory flat, and be healthy afterwards.
 * The queue is small, so on either database the flood is partly refused and partly applied.
 */
describe('overload', () => {
  let store: TestStore;
  let service: ServiceProcess;

  beforeAll(async () => {
    store = await createTestStore();
    service = await spawnService({
      ...store.env,
      QUEUE_CAPACITY: String(QUEUE_CAPACITY),
      QUEUE_SUBMIT_TIMEOUT_MS: String(QUEUE_SUBMIT_TIMEOUT_MS),
      RATE_LIMIT_PER_SECOND: '0',
      LOG_LEVEL: 'warn',
      // As in a memory-limited container; see RSS_GROWTH_LIMIT_MB.
      NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MB}`,
    });
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await store?.dispose();
  });

  const url = (path: string) => `${service.url}${path}`;

  async function version(productId: string): Promise<number> {
    const response = await fetch(url(`/v1/stores/${STORE}/inventory/${productId}`), { headers: HEADERS });
    expect(response.status).toBe(200);
    return ((await response.json()) as { version: number }).version;
  }

  it('answers a flood only with 200, 409 or a quick 503 with Retry-After, keeps its memory flat, and stays healthy', async () => {
    const pid = service.child.pid!;

    // Warm-up: code paths compiled, pools and caches filled, before the baseline is taken.
    let warmUps = 0;
    await autocannon({
      url: service.url,
      connections: 20,
      duration: 3,
      requests: [
        { method: 'GET', path: `/v1/stores/${STORE}/inventory/SKU-001`, headers: HEADERS },
        {
          method: 'POST',
          path: '/v1/inventory/updates',
          headers: HEADERS,
          setupRequest: (request) => ({ ...request, body: JSON.stringify({ storeId: STORE, productId: 'SKU-010', delta: 1, version: 0, idempotencyKey: `warm-${(warmUps += 1)}` }) }),
        },
      ],
    });
    // A measurement settle, not a wait for an event: the warm-up's garbage is collected and its
    // buffers released before the RSS baseline is read.
    await sleep(500);
    const baselineMb = rssMb(pid);
    const logStart = service.output.length;

    // The flood: every request a new key; versions follow what the answers report, so some
    // updates apply while most lose the race (409) or are refused (503).
    const versions = new Map<string, number>();
    for (const productId of PRODUCTS) {
      versions.set(productId, await version(productId));
    }
    let sequence = 0;
    const refusals = { total: 0, withoutRetryAfter: 0, codes: new Map<string, number>() };
    const unexpected: string[] = [];
    /** Answer times on established connections, by status. */
    const latencies = new Map<number, number[]>();
    const firstLatencies: number[] = [];
    const timeouts = { established: 0, setup: 0 };
    let peakMb = baselineMb;
    const sampler = setInterval(() => {
      peakMb = Math.max(peakMb, rssMb(pid));
    }, 100);

    const result = await autocannon({
      url: service.url,
      connections: CONNECTIONS,
      duration: FLOOD_SECONDS,
      timeout: 9,
      // Per connection: its first answer also waits for the connection to be accepted, which a
      // CPU-saturated Node process does late (a bare node:http server does the same), so first
      // answers and timeouts before them are counted apart.
      setupClient: (client) => {
        let answered = 0;
        client.on('response', (status: number, _bytes: number, latencyMs: number) => {
          if (answered === 0) {
            firstLatencies.push(latencyMs);
          } else {
            pushTo(latencies, status, latencyMs);
          }
          answered += 1;
        });
        client.on('timeout', () => {
          timeouts[answered === 0 ? 'setup' : 'established'] += 1;
        });
      },
      requests: [
        {
          method: 'POST',
          path: '/v1/inventory/updates',
          headers: HEADERS,
          setupRequest: (request) => {
            sequence += 1;
            const productId = PRODUCTS[sequence % PRODUCTS.length];
            const body = { storeId: STORE, productId, delta: 1, version: versions.get(productId)!, idempotencyKey: `flood-${sequence}` };
            return { ...request, body: JSON.stringify(body) };
          },
          onResponse: (status, body, _context, headers) => {
            if (status === 503) {
              refusals.total += 1;
              if (header(headers, 'retry-after') !== '1') {
                refusals.withoutRetryAfter += 1;
              }
              const code = /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? 'none';
              refusals.codes.set(code, (refusals.codes.get(code) ?? 0) + 1);
            } else if (status === 200 || status === 409) {
              const answer = JSON.parse(body) as { productId: string; newVersion?: number; currentVersion?: number };
              const seen = answer.newVersion ?? answer.currentVersion;
              if (seen !== undefined && seen > (versions.get(answer.productId) ?? 0)) {
                versions.set(answer.productId, seen);
              }
            } else if (unexpected.length < 20) {
              unexpected.push(`${status} ${body.slice(0, 300)}`);
            }
          },
        },
      ],
    });
    clearInterval(sampler);
    peakMb = Math.max(peakMb, rssMb(pid));
    const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]));
    // The service logged every refusal a client heard (and those whose client gave up): wait for
    // those lines to come through its output before reading how long it took.
    await waitFor('the request log of the flood', () => requestLog(service, logStart).filter((line) => line.status === 503).length >= (statuses['503'] ?? 0));
    // A measurement settle for the reported RSS after the flood (not bounded), not a wait for an event.
    await sleep(1000);
    const afterMb = rssMb(pid);
    // How long the service itself took, from reading a request to answering it.
    const serviceMs = new Map<number, number[]>();
    for (const { status, responseTime } of requestLog(service, logStart)) {
      pushTo(serviceMs, status, responseTime);
    }

    report({
      requests: result.requests.total,
      perSecond: Math.round(result.requests.average),
      statuses,
      refusalCodes: Object.fromEntries(refusals.codes),
      errors: result.errors,
      timeouts,
      servedConnections: firstLatencies.length,
      clientMs: Object.fromEntries([...latencies].map(([status, times]) => [status, { n: times.length, p50: percentile(times, 50), p99: percentile(times, 99), max: percentile(times, 100) }])),
      firstAnswerMs: { p50: percentile(firstLatencies, 50), max: percentile(firstLatencies, 100) },
      autocannonMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      serviceMs: Object.fromEntries([...serviceMs].map(([status, times]) => [status, { n: times.length, p50: percentile(times, 50), p99: percentile(times, 99), max: percentile(times, 100) }])),
      rssMb: { baseline: Math.round(baselineMb), peak: Math.round(peakMb), after: Math.round(afterMb), lifetimePeak: Math.round(rssMb(pid, 'VmHWM')) },
    });

    // It kept working through the flood: some updates applied, while it refused what it could not take.
    expect(statuses['200'] ?? 0).toBeGreaterThan(0);
    expect(refusals.total).toBeGreaterThan(0);
    // Only the documented answers: applied, lost the race, or refused for now.
    expect(unexpected).toEqual([]);
    expect(Object.keys(statuses).filter((status) => !['200', '409', '503'].includes(status))).toEqual([]);
    // Every refusal says why (the queue) and when to come back.
    expect(Object.fromEntries(refusals.codes)).toEqual({ QUEUE_FULL: refusals.total });
    expect(refusals.withoutRetryAfter).toBe(0);
    // No request on an established connection went unanswered, and hardly any connection failed.
    // (A connection whose first request times out was never accepted in time: under CPU
    // saturation Node accepts new connections late — a bare node:http server does the same —
    // so those are reported, not held against the service, which never saw the request.)
    expect(timeouts.established).toBe(0);
    expect(result.errors - result.timeouts).toBeLessThanOrEqual(ERROR_TOLERANCE);
    // Quick answers: refusals are decided within the submit timeout, and clients hear back soon.
    expect(percentile(serviceMs.get(503) ?? [], 99)).toBeLessThan(REFUSAL_P99_LIMIT_MS);
    expect(percentile(latencies.get(503) ?? [], 99)).toBeLessThan(CLIENT_REFUSAL_P99_LIMIT_MS);
    // Memory stays flat under the flood.
    expect(peakMb - baselineMb).toBeLessThan(RSS_GROWTH_LIMIT_MB);

    // Healthy afterwards: live, ready again once the queue drained, and updates apply.
    expect(service.child.exitCode).toBeNull();
    expect((await fetch(url('/health/live'))).status).toBe(200);
    await waitFor('ready after the flood', async () => (await fetch(url('/health/ready'))).status === 200, { timeoutMs: 5000, intervalMs: 100 });
    const update = await fetch(url('/v1/inventory/updates'), {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({ storeId: STORE, productId: 'SKU-009', delta: 1, version: await version('SKU-009'), idempotencyKey: 'after-the-flood' }),
    });
    expect(update.status).toBe(200);
  }, LOADED_MACHINE_TIMEOUT_MS);
});
