import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestStore, type TestStore, TEST_DIALECT } from './helpers/dialect';
import { UPDATES_PATH } from './helpers/inventory-client';
import { type ServiceProcess, spawnService, waitForLogLine } from './helpers/service-process';
import { type CapturedSpan, spawnModuleReportingService, spawnTracedService, waitForSpans } from './helpers/trace-capture';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from './helpers/wait';
import { queueDepth, WRITE_GATE_PRELOAD, WriteGate } from './helpers/write-gate';

const SERVER = 1;
const API_KEYS = 'demo:*';
const DB_SYSTEM = TEST_DIALECT === 'postgres' ? 'postgresql' : 'sqlite';

/** A caller's trace: the service's server span joins it through the W3C `traceparent` header. */
interface CallerTrace {
  readonly traceId: string;
  readonly parentSpanId: string;
  readonly traceparent: string;
}

function callerTrace(): CallerTrace {
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');
  return { traceId, parentSpanId, traceparent: `00-${traceId}-${parentSpanId}-01` };
}

async function post(service: ServiceProcess, body: object, headers: Record<string, string> = {}): Promise<{ status: number; replayed: boolean }> {
  const response = await fetch(`${service.url}${UPDATES_PATH}`, {
    method: 'POST',
    headers: { 'X-API-Key': 'demo', 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return { status: response.status, replayed: response.headers.get('idempotent-replayed') === 'true' };
}

const linksTo = (span: CapturedSpan, target: CapturedSpan) => span.links.some((link) => link.traceId === target.traceId && link.spanId === target.spanId);

/** The spans of one request's update: its server span, its queue wait, and the group that carried it. */
interface UpdateSpans {
  readonly server: CapturedSpan;
  readonly queueWait: CapturedSpan;
  readonly group: CapturedSpan;
}

function updateSpansOf(spans: readonly CapturedSpan[], caller: CallerTrace): UpdateSpans | undefined {
  const server = spans.find((span) => span.traceId === caller.traceId && span.kind === SERVER);
  const queueWait = spans.find((span) => span.traceId === caller.traceId && span.name === 'inventory.queue.wait');
  const group = queueWait && spans.find((span) => span.name === 'inventory.group.transaction' && queueWait.links.some((link) => link.spanId === span.spanId));
  return server && queueWait && group ? { server, queueWait, group } : undefined;
}

describe(`traces of the update path (${TEST_DIALECT})`, () => {
  let store: TestStore;
  let service: ServiceProcess;
  let spans: () => Promise<readonly CapturedSpan[]>;
  let gate: WriteGate;

  beforeAll(async () => {
    store = await createTestStore();
    ({ service, spans } = await spawnTracedService({ ...store.env, API_KEYS }, { preload: [WRITE_GATE_PRELOAD] }));
    gate = new WriteGate(service.child);
  }, LOADED_MACHINE_TIMEOUT_MS);

  afterAll(async () => {
    await service?.stop();
    await store?.dispose();
  });

  it('one update: the server span links to the group transaction and parents its queue wait, which links to it too; the statements nest under the group', async () => {
    const caller = callerTrace();
    const update = { storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12, idempotencyKey: 'trace-one' };
    expect(await post(service, update, { traceparent: caller.traceparent })).toEqual({ status: 200, replayed: false });

    const all = await waitForSpans('the spans of the update', spans, (finished) => updateSpansOf(finished, caller) && finished);
    const { server, queueWait, group } = updateSpansOf(all, caller)!;

    expect(server).toMatchObject({ name: 'POST /v1/inventory/updates', parentSpanId: caller.parentSpanId, serviceName: 'inventory-service' });
    expect(server.attributes).toMatchObject({ 'http.route': '/v1/inventory/updates', 'http.response.status_code': 200 });
    // The request's own span leads to the transaction that carried it.
    expect(server.links).toEqual([{ traceId: group.traceId, spanId: group.spanId }]);

    expect(queueWait).toMatchObject({ parentSpanId: server.spanId, scope: 'inventory-service', links: [{ traceId: group.traceId, spanId: group.spanId }] });
    // From the submission to the start of the group.
    expect(queueWait.startMs).toBeGreaterThanOrEqual(server.startMs);
    expect(queueWait.endMs).toBeGreaterThanOrEqual(group.startMs);
    expect(queueWait.endMs).toBeLessThanOrEqual(group.endMs);

    // A root of its own, linked back to the request it carried; committed before the answer.
    expect(group).toMatchObject({ scope: 'inventory-service', status: 0 });
    expect(group.parentSpanId).toBeUndefined();
    expect(group.traceId).not.toBe(caller.traceId);
    expect(group.links).toEqual([{ traceId: caller.traceId, spanId: server.spanId }]);
    expect(group.attributes).toEqual({
      'inventory.group.requests': 1,
      'inventory.group.updates': 1,
      'db.system.name': DB_SYSTEM,
      'inventory.group.applied': 1,
      'inventory.group.rejected': 0,
      'inventory.group.replayed': 0,
      'inventory.group.key_reused': 0,
      'inventory.group.failed_requests': 0,
      'inventory.ledger.last_seq': expect.any(Number),
    });
    expect(group.endMs).toBeLessThanOrEqual(server.endMs);

    const statements = all.filter((span) => span.parentSpanId === group.spanId && span.name.startsWith('pg.query:')).sort((a, b) => a.startMs - b.startMs);
    const names = statements.map((span) => span.name.split(' ')[0]);
    if (TEST_DIALECT === 'postgres') {
      // Every round trip of the group's transaction, in order, as a child of the group. (The change
      // feed's read of what the group committed comes after the COMMIT, also as its child.)
      expect(names.slice(0, names.indexOf('pg.query:COMMIT') + 1)).toEqual([
        'pg.query:BEGIN',
        'pg.query:inventory-claim-keys',
        'pg.query:inventory-lock-levels',
        'pg.query:inventory-write-group',
        'pg.query:COMMIT',
      ]);
      expect(statements.every((span) => span.traceId === group.traceId && span.attributes['db.system.name'] === 'postgresql')).toBe(true);
    } else {
      // SQLite's statements take microseconds in process: no spans of their own.
      expect(all.filter((span) => span.scope.includes('instrumentation-pg'))).toEqual([]);
    }
  });

  it('a group carrying several requests links to each of them, each of them back to it, and counts their outcomes', async () => {
    await gate.close();
    const first = callerTrace();
    const held = post(service, { storeId: 'store-1', productId: 'SKU-002', delta: 1, version: 8, idempotencyKey: 'group-held' }, { traceparent: first.traceparent });
    await gate.firstHeld();

    // Queued behind the held transaction, so the next group takes them all.
    const applied = { storeId: 'store-1', productId: 'SKU-003', delta: 1, version: 15, idempotencyKey: 'group-a' };
    const requests = [
      applied,
      { storeId: 'store-1', productId: 'SKU-004', delta: 1, version: 6, idempotencyKey: 'group-b' },
      { storeId: 'store-1', productId: 'SKU-005', delta: 1, version: 999, idempotencyKey: 'group-conflict' },
      // The same key and payload as the first of them: answered from that one's outcome.
      applied,
      // The same key with another payload.
      { ...applied, delta: 2 },
    ].map((body) => ({ body, caller: callerTrace() }));
    const answers = Promise.all(requests.map(({ body, caller }) => post(service, body, { traceparent: caller.traceparent })));
    await waitFor('the requests queued behind the held transaction', async () => (await queueDepth(service)) === requests.length);
    await gate.open();
    expect(await held).toEqual({ status: 200, replayed: false });
    expect((await answers).map(({ status }) => status)).toEqual([200, 200, 409, 200, 422]);

    const all = await waitForSpans('the spans of the grouped requests', spans, (finished) => {
      const found = requests.map(({ caller }) => updateSpansOf(finished, caller));
      return found.every((spansOfOne) => spansOfOne !== undefined) && updateSpansOf(finished, first) && finished;
    });
    const grouped = requests.map(({ caller }) => updateSpansOf(all, caller)!);
    const group = grouped[0].group;
    expect(grouped.every(({ group: other }) => other.spanId === group.spanId)).toBe(true);
    expect(updateSpansOf(all, first)!.group.spanId).not.toBe(group.spanId);
    expect(group.links).toHaveLength(requests.length);
    for (const { server, queueWait } of grouped) {
      expect(linksTo(group, server)).toBe(true);
      expect(linksTo(server, group)).toBe(true);
      expect(linksTo(queueWait, group)).toBe(true);
      expect(queueWait.parentSpanId).toBe(server.spanId);
    }
    expect(group.attributes).toMatchObject({
      'inventory.group.requests': 5,
      'inventory.group.updates': 5,
      'db.system.name': DB_SYSTEM,
      'inventory.group.applied': 2,
      'inventory.group.rejected': 1,
      'inventory.group.replayed': 1,
      'inventory.group.key_reused': 1,
      'inventory.group.failed_requests': 0,
    });
  });

  it('a retry answered by the idempotency fast path: a replay span under its server span, and no queue or group', async () => {
    const update = { storeId: 'store-1', productId: 'SKU-006', delta: 1, version: 18, idempotencyKey: 'trace-replay' };
    const original = callerTrace();
    expect(await post(service, update, { traceparent: original.traceparent })).toEqual({ status: 200, replayed: false });
    const retry = callerTrace();
    expect(await post(service, update, { traceparent: retry.traceparent })).toEqual({ status: 200, replayed: true });

    const all = await waitForSpans('the spans of the retry', spans, (finished) => finished.some((span) => span.traceId === retry.traceId && span.kind === SERVER) && finished);
    const ofRetry = all.filter((span) => span.traceId === retry.traceId);
    const server = ofRetry.find((span) => span.kind === SERVER)!;
    expect(ofRetry.map((span) => span.name).sort()).toEqual(['POST /v1/inventory/updates', 'inventory.idempotency.replay']);
    expect(ofRetry.find((span) => span.name === 'inventory.idempotency.replay')).toMatchObject({
      parentSpanId: server.spanId,
      attributes: { 'inventory.idempotency.source': 'cache', 'http.response.status_code': 200 },
    });
    expect(all.some((span) => span.name === 'inventory.group.transaction' && linksTo(span, server))).toBe(false);
  });

  it('traces only the work: no span for probes and scrapes, nor for statements outside a request or group', async () => {
    const caller = callerTrace();
    for (const path of ['/health/live', '/health/ready', '/metrics']) {
      expect((await fetch(`${service.url}${path}`, { headers: { traceparent: caller.traceparent } })).status).toBe(200);
    }
    // A request after them: once its spans are in, theirs would be too.
    const marker = callerTrace();
    expect((await fetch(`${service.url}/v1/stores/store-1/inventory/SKU-001`, { headers: { 'X-API-Key': 'demo', traceparent: marker.traceparent } })).status).toBe(200);
    const all = await waitForSpans('the span of the read', spans, (finished) => finished.some((span) => span.traceId === marker.traceId && span.kind === SERVER) && finished);
    expect(all.filter((span) => span.traceId === caller.traceId)).toEqual([]);
    // The migrations at start-up, the sweepers and the feed's polls ran statements without a parent.
    expect(all.filter((span) => span.scope.includes('instrumentation-pg') && span.parentSpanId === undefined)).toEqual([]);
    if (TEST_DIALECT === 'postgres') {
      // The read's own statement is traced, under its request.
      expect(all.some((span) => span.traceId === marker.traceId && span.name.startsWith('pg.query:'))).toBe(true);
    }
  });

  it("names the request's trace in its log lines: an applied update's, a fast-path replay's, a refused request's", async () => {
    const from = service.output.length;
    const update = { storeId: 'store-1', productId: 'SKU-007', delta: 1, version: 9, idempotencyKey: 'trace-log' };
    const traceOfLine = async (body: object, requestId: string, message: string, expected: { status: number; replayed: boolean }) => {
      const caller = callerTrace();
      expect(await post(service, body, { traceparent: caller.traceparent, 'X-Request-Id': requestId })).toEqual(expected);
      const line = await waitForLogLine(service, message, (entry) => entry.reqId === requestId && entry.msg === message, { from });
      const server = await waitForSpans(`the server span of ${requestId}`, spans, (finished) => finished.find((span) => span.traceId === caller.traceId && span.kind === SERVER));
      return { line, traceId: caller.traceId, spanId: server.spanId };
    };
    // An update's own line, written by the service the request called.
    const applied = await traceOfLine(update, 'trace-log-applied', 'update applied', { status: 200, replayed: false });
    expect(applied.line).toMatchObject({ traceId: applied.traceId, spanId: applied.spanId });
    // The fast path's line, written before the request reaches the queue.
    const replayed = await traceOfLine(update, 'trace-log-replayed', 'idempotent replay', { status: 200, replayed: true });
    expect(replayed.line).toMatchObject({ traceId: replayed.traceId, spanId: replayed.spanId });
    // The request line, written as the answer ends (a refusal's is at warn).
    const refused = await traceOfLine({ ...update, idempotencyKey: 'trace-log-stale' }, 'trace-log-refused', 'request completed', { status: 409, replayed: false });
    expect(refused.line).toMatchObject({ traceId: refused.traceId, spanId: refused.spanId, res: { statusCode: 409 } });
  });
});

describe(`tracing configured by OTEL_* (${TEST_DIALECT})`, () => {
  let store: TestStore;
  let receiver: Server;
  let exports: Array<{ path: string; body: unknown }>;

  beforeAll(async () => {
    store = await createTestStore();
    exports = [];
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        exports.push({ path: request.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
    await store.dispose();
  });

  it('exports spans over OTLP to OTEL_EXPORTER_OTLP_ENDPOINT, flushing the last ones on a graceful shutdown', async () => {
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const service = await spawnService({
      ...store.env,
      API_KEYS,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'inventory-under-test',
      // Nothing is exported on a schedule within the test: what arrives was flushed at shutdown.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      SHUTDOWN_GRACE_MS: '0',
    });
    try {
      await waitForLogLine(service, 'tracing on', (line) => line.msg === 'tracing on');
      expect(service.output.some((line) => line.includes('"exporters":["otlp"]') && line.includes(`"endpoint":"${endpoint}"`))).toBe(true);
      expect((await post(service, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'otlp-1' })).status).toBe(200);
      expect(exports).toEqual([]);
    } finally {
      expect(await service.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }

    const resourceSpans = exports.filter((request) => request.path === '/v1/traces').flatMap((request) => (request.body as { resourceSpans: OtlpResourceSpans[] }).resourceSpans);
    const names = resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans.map((span) => span.name)));
    // The server span's name has the route, and PostgreSQL's statements have spans: main.ts started
    // tracing before express and pg were loaded.
    expect(names).toEqual(expect.arrayContaining(['POST /v1/inventory/updates', 'inventory.queue.wait', 'inventory.group.transaction']));
    expect(names.some((name) => name.startsWith('pg.query:COMMIT'))).toBe(TEST_DIALECT === 'postgres');
    const serviceNames = resourceSpans.map((resource) => resource.resource.attributes.find((attribute) => attribute.key === 'service.name')?.value.stringValue);
    expect(new Set(serviceNames)).toEqual(new Set(['inventory-under-test']));
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('loads no OpenTelemetry module when OTEL_* does not ask for traces', async () => {
    const { service, loadedModules } = await spawnModuleReportingService({ ...store.env, API_KEYS, OTEL_SERVICE_NAME: 'inventory-under-test' });
    try {
      const update = { storeId: 'store-1', productId: 'SKU-002', delta: 1, version: 8, idempotencyKey: 'untraced-1' };
      expect(await post(service, update)).toEqual({ status: 200, replayed: false });
      expect(await post(service, update)).toEqual({ status: 200, replayed: true });
      const modules = await loadedModules();
      // The report covers the modules of the update path, the database driver included…
      expect(modules.some((file) => file.includes('/node_modules/express/'))).toBe(true);
      expect(modules.some((file) => file.includes(TEST_DIALECT === 'postgres' ? '/node_modules/pg/' : '/node_modules/better-sqlite3/'))).toBe(true);
      expect(modules.some((file) => file.endsWith('/src/common/tracing/tracing.ts'))).toBe(true);
      // …and none of OpenTelemetry's SDK, exporters, instrumentations or their module hooks. (Its API
      // package is there, as it always was: prom-client loads it for exemplars, which are off.)
      const tracingModules = modules.filter(
        (file) => (file.includes('/@opentelemetry/') && !file.includes('/@opentelemetry/api/')) || /\/(require|import)-in-the-middle\//.test(file) || file.endsWith('/src/common/tracing/open-telemetry.ts'),
      );
      expect(tracingModules).toEqual([]);
      expect(modules.filter((file) => file.includes('/@opentelemetry/api/')).length).toBeGreaterThan(0);
    } finally {
      await service.stop();
    }
  }, LOADED_MACHINE_TIMEOUT_MS);
});

interface OtlpResourceSpans {
  readonly resource: { readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: { readonly stringValue?: string } }> };
  readonly scopeSpans: ReadonlyArray<{ readonly spans: ReadonlyArray<{ readonly name: string }> }>;
}
