import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { RequestLog, requestLogging, requestLogOf } from './logging';
import { bindTracing, tracing } from './tracing/tracing';

describe('requestLogging', () => {
  let server: Server;
  let lines: Array<Record<string, unknown>>;
  let port: number;
  /** Responses that have closed, by URL: the log line of a request is written when it closes. */
  let closed: string[];
  /** Requests that reached the handler, by URL. */
  let arrived: string[];

  beforeEach(async () => {
    lines = [];
    closed = [];
    arrived = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const middleware = requestLogging(pino({ level: 'info' }, sink));
    server = createServer((request, response) =>
      middleware(request, response, () => {
        arrived.push(request.url!);
        // Registered after the middleware's own listener, so it runs after the line is written.
        response.once('close', () => closed.push(request.url!));
        if (request.url === '/slow') {
          return; // never answered: the client gives up
        }
        response.statusCode = request.url === '/missing' ? 404 : request.url === '/busy' ? 503 : request.url === '/broken' ? 500 : 200;
        response.end('{}');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}${path}`, { headers });
  /** Polls for `condition`, failing after a deadline. */
  const until = async (what: string, condition: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new Error(`${what}: not within 10 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const closedAll = (...urls: string[]) => until(`responses of ${urls.join(', ')} closed`, () => urls.every((url) => closed.includes(url)));

  it('echoes a sane X-Request-Id and mints one otherwise', async () => {
    expect((await get('/', { 'X-Request-Id': 'abc-123' })).headers.get('x-request-id')).toBe('abc-123');
    expect((await get('/', { 'X-Request-Id': 'has space' })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs a failure at warn with method, url, status and time, and nothing of the headers', async () => {
    await get('/missing', { 'X-Request-Id': 'req-404', 'X-API-Key': 'secret-key' });
    await closedAll('/missing');
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, reqId: 'req-404', req: { method: 'GET', url: '/missing' }, res: { statusCode: 404 }, responseTime: expect.any(Number), msg: 'request completed' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-key');
  });

  it('keeps successes at debug, below the default level, and never logs health probes', async () => {
    await get('/');
    await get('/health/live');
    await get('/health/missing');
    await closedAll('/', '/health/live', '/health/missing');
    expect(lines).toEqual([]);
  });

  it('logs 503 refusals at warn and other server errors at error', async () => {
    await get('/busy', { 'X-Request-Id': 'req-503' });
    await get('/broken', { 'X-Request-Id': 'req-500' });
    await closedAll('/busy', '/broken');
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, reqId: 'req-503', res: { statusCode: 503 } }),
      expect.objectContaining({ level: 50, reqId: 'req-500', res: { statusCode: 500 } }),
    ]);
  });

  it('logs a request the client abandoned at info: leaving is the client’s choice, not a failure', async () => {
    await new Promise<void>((resolve) => {
      const pending = httpRequest({ port, host: '127.0.0.1', path: '/slow', headers: { 'X-Request-Id': 'req-gone' } });
      pending.on('error', () => resolve());
      pending.end();
      // Given up once the server is working on it.
      void until('the request to reach the handler', () => arrived.includes('/slow')).then(() => pending.destroy());
    });
    await closedAll('/slow');
    expect(lines).toEqual([expect.objectContaining({ level: 30, reqId: 'req-gone', msg: 'request aborted' })]);
  });
});

describe('requestLogging with tracing', () => {
  const ids = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
  let server: Server | undefined;

  afterEach(async () => {
    bindTracing();
    server?.closeAllConnections();
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  });

  /** Serves one request that logs a line of its own, and resolves with every line written. */
  async function linesOfOneRequest(): Promise<Array<Record<string, unknown>>> {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const middleware = requestLogging(pino({ level: 'info' }, sink));
    server = createServer((request, response) =>
      middleware(request, response, () => {
        requestLogOf(request)!.info({}, 'working on it');
        response.statusCode = 404;
        response.end('{}');
      }),
    );
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/missing`, { headers: { 'X-Request-Id': 'req-traced' } });
    const deadline = Date.now() + 10_000;
    while (lines.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return lines;
  }

  it('names the trace and span current when the request arrived, in every line of the request', async () => {
    bindTracing({ ...tracing, enabled: true, currentIds: () => ids });
    const lines = await linesOfOneRequest();
    expect(lines).toEqual([
      expect.objectContaining({ reqId: 'req-traced', ...ids, msg: 'working on it' }),
      expect.objectContaining({ reqId: 'req-traced', ...ids, msg: 'request completed' }),
    ]);
  });

  it('adds nothing with tracing off', async () => {
    const lines = await linesOfOneRequest();
    expect(lines).toHaveLength(2);
    expect(lines.filter((line) => 'traceId' in line || 'spanId' in line)).toEqual([]);
  });
});

describe('RequestLog', () => {
  const sinkOf = (lines: Array<Record<string, unknown>>) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });

  it('binds the request only when a line is written, and then once', () => {
    const lines: Array<Record<string, unknown>> = [];
    const root = pino({ level: 'info' }, sinkOf(lines));
    const child = jest.spyOn(root, 'child');
    const log = new RequestLog(root, 'req-1', { reqId: 'req-1' });
    log.debug({ skipped: true }, 'below the level');
    expect(child).not.toHaveBeenCalled();
    log.info({ n: 1 }, 'first');
    log.warn({ n: 2 }, 'second');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((line) => [line.reqId, line.msg, line.n])).toEqual([
      ['req-1', 'first', 1],
      ['req-1', 'second', 2],
    ]);
  });

  it('is what requestLogging hands the request, with the id it echoes', async () => {
    const root = pino({ level: 'silent' });
    const seen: Array<RequestLog | undefined> = [];
    const middleware = requestLogging(root);
    const server = createServer((request, response) => middleware(request, response, () => (seen.push(requestLogOf(request)), response.end())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, { headers: { 'X-Request-Id': 'abc-1' } });
      expect(response.headers.get('x-request-id')).toBe('abc-1');
      expect(seen[0]?.id).toBe('abc-1');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
