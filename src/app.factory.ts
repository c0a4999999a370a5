import type { NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import type { Server, ServerResponse } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { requestLogging, ROOT_LOGGER } from './common/logging';
import { ExpressRequestsAdapter } from './common/http/express-requests';
import { answerMalformedRequests, answerUnmetExpectations } from './common/http/malformed-request';
import { securityHeaders } from './common/http/security-headers';
import { Metrics } from './metrics/metrics';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from './idempotency/idempotency-key';
import { setupOpenApi } from './openapi';

export const APP_OPTIONS: NestApplicationOptions = {
  // JsonBodyMiddleware parses bodies inside the Nest pipeline instead.
  bodyParser: false,
  bufferLogs: true,
  abortOnError: false,
};

/**
 * The Express application Nest runs on. Paths are case-sensitive (RFC 3986): /V1/Changes is not
 * /v1/changes and answers 404. Express reads the setting when it creates its router, before Nest
 * registers anything, hence here rather than in configureApp.
 */
export function createHttpAdapter(): ExpressRequestsAdapter {
  return new ExpressRequestsAdapter(express().set('case sensitive routing', true));
}

/** Everything done to the application after it is created; shared by the process and the e2e suites. */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // First, so every answer carries X-Request-Id and every request is logged, whatever ends it.
  app.use(requestLogging(app.get(ROOT_LOGGER)));
  // Registered on Express itself, so it also covers the routes Swagger adds outside Nest's pipeline.
  app.use(securityHeaders());
  // Routes that want an ETag set a meaningful one (the version); hashing every body is waste.
  app.set('etag', false);
  // Answers of the API depend on the API key: no shared cache may keep them. A route whose answer
  // can be revalidated (a level, by its ETag) says so itself.
  app.use('/v1', (_request: unknown, response: ServerResponse, next: () => void) => {
    response.setHeader('Cache-Control', 'no-store');
    next();
  });
  const config = app.get(AppConfig);
  app.set('trust proxy', config.trustProxyHops);
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: [...config.corsOrigins],
      methods: ['GET', 'POST', 'PUT'],
      allowedHeaders: ['Content-Type', 'X-API-Key', IDEMPOTENCY_KEY_HEADER, 'X-Request-Id', 'If-Match', 'If-None-Match', 'Last-Event-ID'],
      exposedHeaders: ['X-Request-Id', IDEMPOTENT_REPLAYED_HEADER, 'ETag', 'Location', 'Allow', 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
      maxAge: 600,
    });
  }
  setupOpenApi(app);
  limitRequestTime(app.getHttpServer(), config.requestTimeoutMs);
  app.getHttpServer().on('clientError', answerMalformedRequests(app.get(ROOT_LOGGER), app.get(Metrics)));
  app.getHttpServer().on('checkExpectation', answerUnmetExpectations(app.get(ROOT_LOGGER), app.get(Metrics)));
  return app;
}

/**
 * A request not whole within `timeoutMs` is answered 408 (through the clientError handler) and
 * its connection closed. Node looks for such requests on an interval it starts when the server
 * listens (30 s by default): checked four times per timeout, the 408 comes at most a quarter late.
 * Only receiving the request is timed: a long poll or a stream, whose request is whole at once,
 * may stay open as long as it likes.
 */
function limitRequestTime(server: Server, timeoutMs: number): void {
  server.requestTimeout = timeoutMs;
  server.headersTimeout = Math.min(server.headersTimeout, timeoutMs);
  // Typed only as an option of createServer; Nest creates the server, and Node reads it at listen.
  const checked = server as Server & { connectionsCheckingInterval: number };
  checked.connectionsCheckingInterval = Math.min(checked.connectionsCheckingInterval, Math.ceil(timeoutMs / 4));
}

export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), createHttpAdapter(), APP_OPTIONS);
  return configureApp(app);
}
