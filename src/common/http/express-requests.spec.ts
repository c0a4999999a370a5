import { Controller, Get, Module, Param, Post, Query, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type Express, type Request, type Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

@Module({ controllers: [ThingsController] })
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

  it('refuses options it does not serve rather than ignoring them', () => {
    expect(() => new ExpressRequestsAdapter(express()).initHttpServer({ httpsOptions: {} })).toThrow(/plain HTTP/);
    expect(() => new ExpressRequestsAdapter(express()).initHttpServer({ forceCloseConnections: true })).toThrow(/forceCloseConnections/);
  });
});
