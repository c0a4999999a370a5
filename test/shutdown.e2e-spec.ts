import { connect, type Socket } from 'node:net';
import { createTestStore, type TestStore } from './helpers/dialect';
import { insertLevels, levelsOf } from './helpers/direct-database';
import { jsonLines, type ServiceProcess, spawnService, waitForLogLine } from './helpers/service-process';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from './helpers/wait';
import { queueDepth, spawnGatedService } from './helpers/write-gate';

const STORE = 'drain-store';
const CLIENTS = 12;
/** Changes committed before the gate closes, so the shutdown happens in the middle of a load. */
const WARM_UP_ACKS = 60;
/** Requests sent after the signal, while the accepted ones are held. */
const LATE_REQUESTS = 4;
const SHUTDOWN_TIMEOUT_MS = 20_000;
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };

interface Sent {
  readonly productId: string;
  readonly idempotencyKey: string;
  readonly body: string;
}

interface Answered extends Sent {
  readonly status: number;
  readonly text: string;
  readonly contentType: string | null;
  readonly retryAfter: string | null;
  readonly replayed: string | null;
}

async function post(url: string, sent: Sent): Promise<Answered> {
  const response = await fetch(`${url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body: sent.body });
  const { headers } = response;
  return { ...sent, status: response.status, text: await response.text(), contentType: headers.get('content-type'), retryAfter: headers.get('retry-after'), replayed: headers.get('idempotent-replayed') };
}

function update(productId: string, version: number, idempotencyKey: string): Sent {
  return { productId, idempotencyKey, body: JSON.stringify({ storeId: STORE, productId, delta: 1, version, idempotencyKey }) };
}

/**
 * The signal arrives while requests are accepted and unanswered: the service's write transactions
 * are held before COMMIT (a gate the test controls), so at the signal one group is in its
 * transaction and the others wait in the queue. The service must refuse what comes after the
 * signal with a real 503 while it drains, then answer and commit everything it had accepted, and
 * exit 0.
 */
describe.each(['SIGTERM', 'SIGINT'] as const)('graceful shutdown on %s under load', (signal) => {
  let store: TestStore;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    store = await createTestStore();
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await store.dispose();
  });

  it('refuses new requests (503) while draining, answers and commits everything accepted, and exits 0', async () => {
    const started = await spawnGatedService({ ...store.env, LOG_LEVEL: 'info', RATE_LIMIT_PER_SECOND: '0', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    service = started.service;
    const { gate } = started;
    const running = started.service;
    const products = Array.from({ length: CLIENTS }, (_, index) => `D-${index}`);
    await insertLevels(store, STORE, [...products, 'D-late']);

    const acknowledged: Answered[] = [];
    const unexpected: string[] = [];
    /** Each client's request in flight, by product. */
    const inFlight = new Map<string, Sent>();
    let signalled = false;
    // Each client owns one level and moves it up by 1 at a time; it sends nothing after the signal.
    const clients = products.map(async (productId) => {
      for (let version = 0; !signalled; version += 1) {
        const sent = update(productId, version, `${productId}-v${version}`);
        inFlight.set(productId, sent);
        let answer: Answered;
        try {
          answer = await post(running.url, sent);
        } catch (error) {
          unexpected.push(`${sent.idempotencyKey}: no answer (${String(error)})`);
          return;
        }
        inFlight.delete(productId);
        if (answer.status !== 200) {
          unexpected.push(`${sent.idempotencyKey}: ${answer.status} ${answer.text}`);
          return;
        }
        acknowledged.push(answer);
      }
    });

    await waitFor('warm-up changes acknowledged', () => acknowledged.length >= WARM_UP_ACKS || unexpected.length > 0);
    await gate.close();
    const held = await gate.firstHeld();
    // Every client's request is accepted (in the held transaction or in the queue) before the signal.
    await waitFor('every client request accepted', async () => held.keys.length + (await queueDepth(running)) === CLIENTS);
    expect(held.keys.length).toBeGreaterThan(0);
    const accepted = [...inFlight.values()];
    expect(accepted).toHaveLength(CLIENTS);
    expect(held.keys.every((key) => accepted.some((sent) => sent.idempotencyKey === key))).toBe(true);
    const answeredBeforeSignal = acknowledged.length;

    const logFrom = running.output.length;
    signalled = true;
    running.child.kill(signal);
    await waitForLogLine(running, 'shutdown begun', (line) => line.msg === 'shutting down: refusing new requests, draining the update queue', { from: logFrom });

    // The drain cannot finish while the gate is closed: what arrives now is refused, with a real answer.
    const late: Answered[] = [];
    for (let index = 0; index < LATE_REQUESTS; index += 1) {
      late.push(await post(running.url, update('D-late', 0, `late-${index}`)));
    }
    for (const answer of late) {
      expect({ status: answer.status, contentType: answer.contentType, retryAfter: answer.retryAfter, code: (JSON.parse(answer.text) as { code?: string }).code }).toEqual({
        status: 503,
        contentType: expect.stringContaining('application/problem+json'),
        retryAfter: '1',
        code: 'SHUTTING_DOWN',
      });
    }
    // Reads are refused too: the instance takes no new work of any kind.
    const lateRead = await fetch(`${running.url}/v1/stores/${STORE}/inventory/D-late`, { headers: HEADERS, signal: AbortSignal.timeout(10_000) });
    expect({ status: lateRead.status, code: ((await lateRead.json()) as { code?: string }).code, connection: lateRead.headers.get('connection') }).toEqual({
      status: 503,
      code: 'SHUTTING_DOWN',
      connection: 'close',
    });
    // Still draining: nothing accepted was answered yet, and the process is alive.
    expect(acknowledged).toHaveLength(answeredBeforeSignal);
    expect(inFlight.size).toBe(CLIENTS);
    expect(running.child.exitCode).toBeNull();

    const openedAt = Date.now();
    await gate.open();
    await Promise.all(clients);
    const { code } = await running.exited;
    const exitedAfterMs = Date.now() - openedAt;

    // Every accepted request was answered 200.
    expect(unexpected).toEqual([]);
    expect(inFlight.size).toBe(0);
    expect(acknowledged.length).toBe(answeredBeforeSignal + CLIENTS);
    expect(code).toBe(0);
    expect(exitedAfterMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    const messages = jsonLines(running.output).map((line) => line.msg);
    expect(messages).toContain('shut down cleanly');
    expect(messages).not.toContain('shutdown did not finish in time');
    // A clean shutdown, its refusals included, is no failure of the service.
    expect(jsonLines(running.output).filter((line) => (line.level as number) >= 50)).toEqual([]);

    // Restart: every acknowledged change is committed, the refused ones were not applied.
    service = await spawnService({ ...store.env, LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0' });
    const restarted = service;
    const final = await levelsOf(store, STORE);
    for (const productId of products) {
      const mine = acknowledged.filter((answer) => answer.productId === productId).length;
      expect({ productId, ...final.get(productId) }).toEqual({ productId, quantity: mine, version: mine });
    }
    expect(final.get('D-late')).toEqual({ quantity: 0, version: 0 });
    for (const sent of accepted) {
      const replay = await post(restarted.url, sent);
      expect(replay.replayed).toBe('true');
      expect(replay.text).toBe(acknowledged.find((answer) => answer.idempotencyKey === sent.idempotencyKey)!.text);
    }
    const retried = await post(restarted.url, late[0]);
    expect(retried.status).toBe(200);
    expect(retried.replayed).toBeNull();
    expect(JSON.parse(retried.text)).toMatchObject({ productId: 'D-late', newQuantity: 1, newVersion: 1 });
  }, LOADED_MACHINE_TIMEOUT_MS);
});

/**
 * Between the signal and the closing of the listener, for SHUTDOWN_GRACE_MS, the service answers
 * every new request 503 and fails readiness: load balancers stop sending, and clients get an
 * answer instead of a refused connection.
 */
describe('shutdown grace period', () => {
  let store: TestStore;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    store = await createTestStore();
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await store.dispose();
  });

  it('answers 503 SHUTTING_DOWN, new connections included, and fails readiness until the grace is over, then exits 0', async () => {
    const graceMs = 3000;
    service = await spawnService({ ...store.env, LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: String(graceMs) });
    const running = service;
    const logFrom = running.output.length;
    const signalledAt = Date.now();
    running.child.kill('SIGTERM');
    await waitForLogLine(running, 'shutdown begun', (line) => line.msg === 'shutting down: refusing new requests, draining the update queue', { from: logFrom });

    const answers: string[] = [];
    // Well within the grace, a loaded machine included: every request gets a real answer.
    while (Date.now() - signalledAt < graceMs / 2) {
      const read = await fetch(`${running.url}/v1/stores/store-1/inventory/SKU-001`, { headers: { 'X-API-Key': 'demo' } });
      answers.push(`${read.status} ${((await read.json()) as { code?: string }).code} ${read.headers.get('connection')}`);
      const ready = await fetch(`${running.url}/health/ready`);
      answers.push(`ready ${ready.status}`);
    }
    expect(answers.length).toBeGreaterThan(2);
    expect(new Set(answers)).toEqual(new Set(['503 SHUTTING_DOWN close', 'ready 503']));

    const { code } = await running.exited;
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(graceMs);
    expect(jsonLines(running.output).filter((line) => (line.level as number) >= 50)).toEqual([]);
  }, LOADED_MACHINE_TIMEOUT_MS);

  /**
   * Connections that owe the service nothing: one that has sent nothing (a load balancer's or a
   * browser's pre-opened connection), one that has sent half its headers, one that has sent its
   * headers and part of its body. Each would hold the listener open until the shutdown deadline,
   * and the exit would be a failure (1); they are cut when the grace period ends, while a request
   * that arrived whole before the signal (a long poll) still gets its answer.
   */
  it('cuts connections that sent no whole request when the grace period ends, answers the whole request, and exits 0 long before the deadline', async () => {
    const graceMs = 1000;
    const deadlineMs = 30_000;
    service = await spawnService({ ...store.env, LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: String(graceMs), SHUTDOWN_TIMEOUT_MS: String(deadlineMs) });
    const running = service;
    const { port } = running;
    const closedAt = new Map<string, number>();
    const open = async (name: string, sent: string) => {
      const socket: Socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('close', () => closedAt.set(name, Date.now()));
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(sent);
      return socket;
    };
    await open('nothing sent', '');
    await open('half the headers', 'GET /v1/stores/store-1/inventory HTTP/1.1\r\nHost: localhost\r\n');
    await open(
      'half the body',
      'POST /v1/inventory/updates HTTP/1.1\r\nHost: localhost\r\nX-API-Key: demo\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"storeId":',
    );
    const { lastSeq } = (await (await fetch(`${running.url}/v1/changes`, { headers: { 'X-API-Key': 'demo' } })).json()) as { lastSeq: number };
    const longPoll = fetch(`${running.url}/v1/changes?after=${lastSeq}&waitSeconds=30`, { headers: { 'X-API-Key': 'demo' } });
    await waitFor('the long poll to wait', async () => {
      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      return /^inventory_feed_subscribers 1$/m.test(metrics);
    });

    const logFrom = running.output.length;
    const signalledAt = Date.now();
    running.child.kill('SIGTERM');
    const answer = await longPoll;
    expect(answer.status).toBe(200);
    const { code } = await running.exited;
    const exitedAt = Date.now();

    expect(code).toBe(0);
    expect(exitedAt - signalledAt).toBeLessThan(deadlineMs / 2);
    expect([...closedAt.keys()].sort()).toEqual(['half the body', 'half the headers', 'nothing sent']);
    for (const at of closedAt.values()) {
      expect(at - signalledAt).toBeGreaterThanOrEqual(graceMs);
    }
    const lines = jsonLines(running.output, logFrom);
    // The three, and this test's own idle keep-alive connections (fetch keeps them for reuse).
    const closed = lines.find((line) => line.msg === 'closed connections with no whole request to answer');
    expect(closed?.connections).toBeGreaterThanOrEqual(3);
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);
  }, LOADED_MACHINE_TIMEOUT_MS);
});
