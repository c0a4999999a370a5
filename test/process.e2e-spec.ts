import { createTestStore, type TestStore } from './helpers/dialect';
import { jsonLines, type ServiceProcess, spawnService, waitForLogLine } from './helpers/service-process';

describe('the service process', () => {
  let store: TestStore;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    store = await createTestStore();
  });

  afterEach(async () => {
    await service?.stop('SIGKILL');
    service = undefined;
    await store.dispose();
  });

  it('refuses to start on bad configuration, naming every bad variable', async () => {
    service = await spawnService({ ...store.env, QUEUE_CAPACITY: 'lots', API_KEYS: 'demo', LOG_LEVEL: 'chatty' }, { waitReady: false });
    const { code } = await service.exited;
    expect(code).toBe(1);
    const printed = service.output.join('\n');
    expect(printed).toContain('Invalid configuration');
    expect(printed).toContain("QUEUE_CAPACITY must be an integer from 1 to 1000000 (got 'lots')");
    expect(printed).toContain('API_KEYS entry 1 must look like key:scope');
    expect(printed).toContain('LOG_LEVEL must be one of');
    expect(printed).not.toMatch(/\n\s+at /);
  });

  it('refuses to start in production without API_KEYS, and seeds no demo data there unless asked', async () => {
    service = await spawnService({ ...store.env, NODE_ENV: 'production' }, { waitReady: false });
    expect((await service.exited).code).toBe(1);
    expect(service.output.join('\n')).toContain('API_KEYS must be set when NODE_ENV=production');

    const key = 'k-0123456789abcdef0123';
    service = await spawnService({ ...store.env, NODE_ENV: 'production', API_KEYS: `${key}:*` });
    const demo = await fetch(`${service.url}/v1/inventory/SKU-001`, { headers: { 'X-API-Key': 'demo' } });
    expect(demo.status).toBe(401);
    const level = await fetch(`${service.url}/v1/inventory/SKU-001`, { headers: { 'X-API-Key': key } });
    expect(level.status).toBe(404);
    await service.stop('SIGKILL');
  });

  it('logs structured JSON with the request id on every line, at the documented levels, and never the API key', async () => {
    const secretKey = 'sk-live-7f3a9c1e';
    service = await spawnService({ ...store.env, API_KEYS: `${secretKey}:*`, LOG_LEVEL: 'debug' });
    const post = (body: object, requestId: string) =>
      fetch(`${service!.url}/v1/inventory/updates`, {
        method: 'POST',
        headers: { 'X-API-Key': secretKey, 'Content-Type': 'application/json', 'X-Request-Id': requestId },
        body: JSON.stringify(body),
      });
    expect((await post({ storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12, idempotencyKey: 'log-1' }, 'req-applied')).status).toBe(200);
    expect((await post({ storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12, idempotencyKey: 'log-2' }, 'req-conflict')).status).toBe(409);
    expect((await post({ storeId: 'store-1', productId: 'SKU-001', delta: 'x', version: 12, idempotencyKey: 'log-3' }, 'req-invalid')).status).toBe(400);
    // A retry answered from the replay cache, and a read with a secret where a careless client put one.
    const replay = await fetch(`${service.url}/v1/inventory/updates`, {
      method: 'POST',
      headers: { 'X-API-Key': secretKey, 'Content-Type': 'application/json', 'X-Request-Id': 'req-replayed' },
      body: JSON.stringify({ storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12, idempotencyKey: 'log-1' }),
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const read = await fetch(`${service.url}/v1/stores/store-1/inventory/SKU-001?apiKey=${secretKey}`, { headers: { 'X-API-Key': secretKey, 'X-Request-Id': 'req-read' } });
    expect(read.status).toBe(200);
    // Each request's last line is written when it ends; the lines reach this process through a pipe.
    for (const requestId of ['req-applied', 'req-conflict', 'req-invalid', 'req-replayed', 'req-read']) {
      await waitForLogLine(service, `request completed of ${requestId}`, (line) => line.reqId === requestId && line.msg === 'request completed');
    }

    const lines = jsonLines(service.output);
    const of = (requestId: string) => lines.filter((line) => line.reqId === requestId);
    const levelsOf = (requestId: string) => of(requestId).map((line) => [line.level, line.msg]);
    expect(levelsOf('req-applied')).toEqual(
      expect.arrayContaining([
        [20, 'change submitted to queue'],
        [30, 'update applied'],
        [20, 'request completed'],
      ]),
    );
    expect(levelsOf('req-conflict')).toEqual(expect.arrayContaining([[40, 'update rejected'], [40, 'request completed']]));
    expect(levelsOf('req-invalid')).toEqual(expect.arrayContaining([[40, 'invalid request: delta']]));
    expect(levelsOf('req-replayed')).toEqual(expect.arrayContaining([[30, 'idempotent replay']]));
    // Logged by its path: the query string stays out of the log.
    expect(of('req-read').find((line) => line.msg === 'request completed')).toMatchObject({ req: { url: '/v1/stores/store-1/inventory/SKU-001' } });
    expect(of('req-applied').find((line) => line.msg === 'update applied')).toMatchObject({ storeId: 'store-1', productId: 'SKU-001', delta: 5 });
    expect(service.output.join('\n')).not.toContain(secretKey);
  });

  it('logs a batch as one line with its outcomes, and its items only at debug', async () => {
    const batch = (prefix: string) => ({
      storeId: 'store-1',
      updates: [
        { productId: 'SKU-002', delta: 1, version: prefix === 'info' ? 8 : 9, idempotencyKey: `${prefix}-1` },
        { productId: 'SKU-001', delta: 1, version: 1, idempotencyKey: `${prefix}-2` },
      ],
    });
    const send = (body: object, requestId: string) =>
      fetch(`${service!.url}/v1/inventory/updates`, {
        method: 'POST',
        headers: { 'X-API-Key': 'demo', 'Content-Type': 'application/json', 'X-Request-Id': requestId },
        body: JSON.stringify(body),
      });
    const linesOf = (requestId: string) => jsonLines(service!.output).filter((line) => line.reqId === requestId && line.msg !== 'change submitted to queue');

    /**
     * Sends a request that logs a warning line after the batch has been answered: output is in
     * order, so once its line is in, every line of the batch is in too.
     */
    const barrier = async (requestId: string) => {
      expect((await send({ storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 0, idempotencyKey: requestId }, requestId)).status).toBe(409);
      await waitForLogLine(service!, `the barrier request ${requestId}`, (line) => line.reqId === requestId && line.msg === 'request completed');
    };

    service = await spawnService({ ...store.env, LOG_LEVEL: 'info' });
    expect((await send(batch('info'), 'req-batch')).status).toBe(200);
    await barrier('barrier-info');
    expect(linesOf('req-batch')).toEqual([
      expect.objectContaining({ level: 40, msg: 'batch processed', storeId: 'store-1', updates: 2, atomic: false, outcomes: { applied: 1, version_conflict: 1 } }),
    ]);
    await service.stop('SIGKILL');

    service = await spawnService({ ...store.env, LOG_LEVEL: 'debug' });
    expect((await send(batch('debug'), 'req-batch-debug')).status).toBe(200);
    await barrier('barrier-debug');
    expect(linesOf('req-batch-debug').map((line) => [line.level, line.msg])).toEqual(
      expect.arrayContaining([
        [20, 'update applied'],
        [20, 'update rejected'],
        [40, 'batch processed'],
      ]),
    );
  });
});
