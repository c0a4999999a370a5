import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { requestLogging } from './logging';

describe('requestLogging', () => {
  let server: Server;
  let lines: Array<Record<string, unknown>>;
  let port: number;

  beforeEach(async () => {
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const middleware = requestLogging(pino({ level: 'info' }, sink));
    server = createServer((request, response) =>
      middleware(request, response, () => {
        if (request.url === '/slow') {
          return; // never answered: the client gives up
        }
        response.statusCode = request.url === '/missing' ? 404 : 200;
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
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('echoes a sane X-Request-Id and mints one otherwise', async () => {
    expect((await get('/', { 'X-Request-Id': 'abc-123' })).headers.get('x-request-id')).toBe('abc-123');
    expect((await get('/', { 'X-Request-Id': 'has space' })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs a failure at warn with method, url, status and time, and nothing of the headers', async () => {
    await get('/missing', { 'X-Request-Id': 'req-404', 'X-API-Key': 'secret-key' });
    await settle();
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, reqId: 'req-404', req: { method: 'GET', url: '/missing' }, res: { statusCode: 404 }, responseTime: expect.any(Number), msg: 'request completed' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-key');
  });

  it('keeps successes at debug, below the default level, and never logs health probes', async () => {
    await get('/');
    await get('/health/live');
    await get('/health/missing');
    await settle();
    expect(lines).toEqual([]);
  });

  it('logs a request the client abandoned at error', async () => {
    await new Promise<void>((resolve) => {
      const pending = httpRequest({ port, host: '127.0.0.1', path: '/slow', headers: { 'X-Request-Id': 'req-gone' } });
      pending.on('error', () => resolve());
      pending.end();
      setTimeout(() => pending.destroy(), 50);
    });
    await settle();
    expect(lines).toEqual([expect.objectContaining({ level: 50, reqId: 'req-gone', msg: 'request aborted' })]);
  });
});
