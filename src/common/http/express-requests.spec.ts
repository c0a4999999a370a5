import { Controller, Get, Module, Param, Post, Query, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type Express, type Request, type Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { ExpressRequestsAdapter } from './express-requests';

@Controller('things')
class ThingsController {
  @Get(':id')
  read(@Param('id') id: string, @Query('view') view: string | undefined, @Req() request: Request): object {
    return { id, view, path: request.path, host: request.hostname, accepts: request.accepts('json') };
  }

  @Post(':id')
  write(@Param('id') id: string, @Req() request: Request, @Res() response: Response): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => response.status(201).set('X-Thing', id).json({ id, body: Buffer.concat(chunks).toString('utf8') }));
  }
}

/** Answers held until the test releases them, and a count of the requests that ran. */
const held = { release: [] as Array<() => void>, counted: 0 };
/** Connections a test opened itself: closed after it, whatever happened. */
const sockets: Socket[] = [];

@Controller('turns')
class TurnsController {
  @Get('held')
  hold(@Query('close') close: string | undefined, @Res() response: Response): void {
    held.release.push(() => {
      if (!response.headersSent) {
        response.set(close === undefined ? {} : { Connection: 'close' }).json({ held: true });
      }
    });
  }

  @Post('refuse')
  refuse(@Res() response: Response): void {
    // Refused without reading the body, as a request without a valid key is.
    response.status(401).set('Connection', 'close').json({ refused: true });
  }

  @Get('count')
  count(): object {
    held.counted += 1;
    return { counted: held.counted };
  }
}

@Module({ controllers: [ThingsController, TurnsController] })
class ThingsModule {}

describe('ExpressRequestsAdapter', () => {
  let app: NestExpressApplication;
  let url: string;
  /** For each request the server received: whether it and its response were Express's objects before Express saw them. */
  let arrived: Array<{ request: boolean; response: boolean }>;

  beforeAll(async () => {
    const adapter = new ExpressRequestsAdapter(express());
    app = await NestFactory.create<NestExpressApplication>(ThingsModule, adapter, { logger: false, bodyParser: false });
    const expressApp = adapter.getInstance<Express>();
    arrived = [];
    // Runs before Express's listener: what the server itself built.
    app.getHttpServer().prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      arrived.push({ request: Object.getPrototypeOf(request) === expressApp.request, response: Object.getPrototypeOf(response) === expressApp.response });
    });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterEach(() => {
    held.release.forEach((release) => release());
    sockets.splice(0).forEach((socket) => socket.destroy());
  });

  afterAll(async () => {
    await app.close();
  });

  it("builds every request and response on the application's Express prototypes, on one connection after another", async () => {
    for (let round = 0; round < 3; round += 1) {
      const response = await fetch(`${url}/things/t${round}?view=short`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: `t${round}`, view: 'short', path: `/things/t${round}`, host: '127.0.0.1', accepts: 'json' });
    }
    expect(arrived).toHaveLength(3);
    expect(arrived.every((seen) => seen.request && seen.response)).toBe(true);
  });

  it("keeps Node's streams and Express's response methods working: a body read, a status, a header", async () => {
    const response = await fetch(`${url}/things/t9`, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-thing')).toBe('t9');
    expect(await response.json()).toEqual({ id: 't9', body: 'x'.repeat(100_000) });
  });

  /** Sends `requests` pipelined in one write; resolves with what came back once the server closes the connection. */
  function pipelined(requests: string): { received: () => string; closed: Promise<string> } {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    sockets.push(socket);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.write(requests);
    return { received: () => text, closed: new Promise((resolve) => socket.on('close', () => resolve(text))) };
  }

  async function untilHeld(count: number): Promise<void> {
    while (held.release.length < count) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('runs a pipelined request only once the answer before it is finished', async () => {
    held.release = [];
    held.counted = 0;
    const exchange = pipelined('GET /turns/held HTTP/1.1\r\nHost: x\r\n\r\nGET /turns/count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await untilHeld(1);
    // A round trip on another connection: had the second request been run, it would have counted by now.
    expect(await (await fetch(`${url}/things/other`)).json()).toMatchObject({ id: 'other' });
    expect(held.counted).toBe(0);
    held.release[0]();
    const text = await exchange.closed;
    expect(held.counted).toBe(1);
    expect(text.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(text).toContain('{"counted":1}');
  });

  it('never runs a request pipelined behind an answer that closes the connection', async () => {
    held.release = [];
    held.counted = 0;
    const exchange = pipelined('GET /turns/held?close HTTP/1.1\r\nHost: x\r\n\r\nGET /turns/count HTTP/1.1\r\nHost: x\r\n\r\n');
    await untilHeld(1);
    held.release[0]();
    const text = await exchange.closed;
    expect(text.match(/HTTP\/1\.1 \d{3} /g)).toEqual(['HTTP/1.1 200 ']);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(held.counted).toBe(0);
  });

  it('never runs a request parsed after an answer that closed the connection, left behind an unread body', async () => {
    held.counted = 0;
    const body = '{"some":"body the refusal never reads"}';
    const text = await pipelined(`POST /turns/refuse HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}GET /turns/count HTTP/1.1\r\nHost: x\r\n\r\n`).closed;
    expect(text.match(/HTTP\/1\.1 \d{3} /g)).toEqual(['HTTP/1.1 401 ']);
    // The server has parsed and dropped the request behind by the time it closed the connection.
    expect(held.counted).toBe(0);
  });

  it('refuses options it does not serve rather than ignoring them', () => {
    expect(() => new ExpressRequestsAdapter(express()).initHttpServer({ httpsOptions: {} })).toThrow(/plain HTTP/);
    expect(() => new ExpressRequestsAdapter(express()).initHttpServer({ forceCloseConnections: true })).toThrow(/forceCloseConnections/);
  });
});
